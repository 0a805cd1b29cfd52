"""Benders cuts over the sizes: the loop ``optimize/sizing_parts.py`` runs over its parts.

Per part ``k`` and sizes ``x`` (``size_added``, MW or MWh above the existing fleet):
``v_k(x)`` = the part's LP optimum with the sizes fixed at ``x``, capacity cost left out.
``v_k`` is convex in ``x`` (the sizes only bound other columns), and the LP's reduced cost
of each size column is a subgradient ``g_k``.

Master (a small LP): ``min Σ_a c_a · x_a + Σ_k θ_k`` over ``x`` in its box, with
``θ_k >= v_k(x^i) + g_k^i · (x − x^i)`` for every point ``x^i`` evaluated so far (θ is
free: with ``x`` in its box the cuts bound it). Its optimum is a lower bound of
``min_x c · x + Σ_k v_k(x)``; each evaluated point gives an upper bound
``c · x^i + Σ_k v_k(x^i)``. The next point is ``α · x_best + (1 − α) · x_master`` (in-out
stabilisation, α = 0.5) until the bounds meet within ``rel_tol`` of the upper bound's gross
cost (capacity + every part's cost counted positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from optimize.highs import new_highs

_STABILISE = 0.5  # in-out: the next point is halfway between the best and the master's


@dataclass
class PartLP:
    """One part's LP in HiGHS and where its columns are."""

    h: highspy.Highs
    cols: np.ndarray  # HiGHS column of each sized asset's size_added, in sizing order
    unserved: np.ndarray  # HiGHS columns of the unserved-load generator
    imports: np.ndarray  # HiGHS columns of grid_import_mw


@dataclass
class Point:
    """The parts evaluated at sizes ``x``: each part's LP cost and subgradient."""

    x: np.ndarray
    costs_usd: np.ndarray  # per part
    grads: np.ndarray  # per part × asset: USD per unit of size
    unserved_mwh: float
    imports_mw: list[np.ndarray]  # per part: its grid import (MW per step)

    @property
    def peak_import_mw(self) -> float:
        """The highest grid import over every part (MW; 0 without any)."""
        return max((float(mw.max()) for mw in self.imports_mw if len(mw)), default=0.0)


def evaluate(parts: list[PartLP], x: np.ndarray, step_h: float) -> Point:
    """Every part's LP at sizes ``x``: cost, subgradient, unserved load and import."""
    costs, grads, unserved, imports = [], [], 0.0, []
    for p in parts:
        p.h.changeColsBounds(len(p.cols), p.cols, x, x)
        p.h.run()
        if p.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"a part's LP ended {p.h.modelStatusToString(p.h.getModelStatus())}")
        sol = p.h.getSolution()
        costs.append(p.h.getInfo().objective_function_value)
        grads.append(np.asarray(sol.col_dual)[p.cols])
        values = np.asarray(sol.col_value)
        unserved += float(values[p.unserved].sum()) * step_h
        imports.append(values[p.imports])
    return Point(x.copy(), np.array(costs), np.array(grads), unserved, imports)


def upper_usd(pt: Point, c: np.ndarray) -> float:
    """The point's capacity cost plus its parts' LP costs (USD): an upper bound."""
    return float(c @ pt.x + pt.costs_usd.sum())


def gross_usd(pt: Point, c: np.ndarray) -> float:
    """The same with every part's cost counted positive: the basis of the tolerance."""
    return float(c @ pt.x + np.abs(pt.costs_usd).sum())


def bounds_met(best: Point, c: np.ndarray, bound: float, rel_tol: float) -> bool:
    """Whether ``bound`` is within ``rel_tol`` of the best point's cost (on its gross basis)."""
    ub = upper_usd(best, c)
    return ub - bound <= rel_tol * max(abs(ub), gross_usd(best, c))


class _Master:
    """``min c·x + Σ θ_k`` with the cuts so far (HiGHS LP: columns x then θ)."""

    def __init__(self, c: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_parts: int):
        self.n_x, self.n_parts = len(c), n_parts
        self.h = new_highs()
        cost = np.concatenate([c, np.ones(self.n_parts)])
        lower = np.concatenate([lo, np.full(n_parts, -highspy.kHighsInf)])
        upper = np.concatenate([hi, np.full(self.n_parts, highspy.kHighsInf)])
        self.h.addVars(len(cost), lower, upper)
        self.h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)

    def add_cuts(self, pt: Point) -> None:
        """``θ_k − g_k · x >= v_k − g_k · x^i`` for each part ``k``."""
        idx = np.arange(self.n_x + 1, dtype=np.int32)
        for k in range(self.n_parts):
            g = pt.grads[k]
            idx[-1] = self.n_x + k
            vals = np.concatenate([-g, [1.0]])
            self.h.addRow(pt.costs_usd[k] - float(g @ pt.x), highspy.kHighsInf, len(idx), idx, vals)

    def solve(self) -> tuple[np.ndarray, float]:
        self.h.run()
        sol = self.h.getSolution()
        return np.asarray(sol.col_value)[: self.n_x], self.h.getInfo().objective_function_value


@dataclass
class BendersResult:
    best: Point  # the cheapest point evaluated
    bound_usd: float  # the master's last optimum: a lower bound of min c·x + Σ v_k(x)
    iterations: int  # points evaluated
    converged: bool  # the bounds met within rel_tol


def benders(
    parts: list[PartLP],
    box: tuple[np.ndarray, np.ndarray, np.ndarray],
    x0: np.ndarray,
    step_h: float,
    rel_tol: float,
    max_iter: int,
) -> BendersResult:
    """``min c · x + Σ_k v_k(x)`` over ``lo <= x <= hi`` (``box = (c, lo, hi)``), the first
    point evaluated at ``x0``."""
    c, lo, hi = box
    best = evaluate(parts, x0, step_h)
    master = _Master(c, lo, hi, len(parts))
    master.add_cuts(best)
    bound, iterations = -np.inf, 1
    while iterations < max_iter:
        x_master, bound = master.solve()
        if bounds_met(best, c, bound, rel_tol):
            break
        x = np.clip(_STABILISE * best.x + (1 - _STABILISE) * x_master, lo, hi)
        pt = evaluate(parts, x, step_h)
        iterations += 1
        master.add_cuts(pt)
        if upper_usd(pt, c) < upper_usd(best, c):
            best = pt
    return BendersResult(best, float(bound), iterations, bounds_met(best, c, bound, rel_tol))
