"""A ``highspy.Highs`` that misvalues its MIP start the way HiGHS 1.16 does on some models
(``optimize.answer_cost``): a run from a start returns the start's own columns as
"optimal", valued ``below`` under what they cost, and nothing the run found instead.

Real HiGHS does this only on models whose presolve trips it (the reproducer in
``tests/optimize/test_answer_cost.py``); this wrapper lets a test put any solve that hands
HiGHS a start in that situation, to check that its answer is valued at its columns."""

from __future__ import annotations

import highspy
import numpy as np


class MisvaluingHighs:
    """Wraps a configured ``highspy.Highs`` (``h``); every call not named here passes
    through. ``clearSolver`` drops the start, as on HiGHS."""

    def __init__(self, h: highspy.Highs, below: float) -> None:
        self._h = h
        self._below = below
        self._start: np.ndarray | None = None
        self._misvalued = False
        self.misvalued_runs = 0

    def __getattr__(self, name: str):
        return getattr(self._h, name)

    def setSolution(self, solution: highspy.HighsSolution):
        self._start = np.asarray(solution.col_value, dtype=float)
        return self._h.setSolution(solution)

    def clearSolver(self):
        self._start, self._misvalued = None, False
        return self._h.clearSolver()

    def run(self):
        status = self._h.run()
        self._misvalued = self._start is not None
        self.misvalued_runs += self._misvalued
        return status

    def getModelStatus(self):
        if self._misvalued:
            return highspy.HighsModelStatus.kOptimal
        return self._h.getModelStatus()

    def getSolution(self) -> highspy.HighsSolution:
        solution = self._h.getSolution()
        if self._misvalued:
            solution.col_value = list(self._start)
        return solution

    def getInfo(self):
        info = self._h.getInfo()
        if self._misvalued:
            lp = self._h.getLp()
            cost = float(np.dot(lp.col_cost_, self._start)) + float(lp.offset_)
            info.objective_function_value = cost - self._below
            info.mip_dual_bound = min(float(info.mip_dual_bound), cost - self._below)
            info.mip_gap = 0.0
            info.primal_solution_status = 2
        return info
