"""HiGHS's MILP from a start schedule, run until the gap is within ``mip_rel_gap`` of the
answer's gap basis, and stopped where a bound proven before it (the LP's, the probe's)
proves an incumbent; with two threads, beside the last probe (``optimize.probe_beside``).

Used by ``optimize.solving.solve_compiled`` once price-fix, the edge search, the probes
and the peak-capped restart leave the start unproven.
"""

from __future__ import annotations

import highspy
import numpy as np

from optimize import progress
from optimize.callbacks import subscribed
from optimize.highs import (
    CompiledModel,
    HighsResult,
    StopAtGap,
    gap_basis_usd,
    relative_gap,
    run_highs,
    set_start,
)
from optimize.probe_beside import HistoryStop, ProbeBeside
from optimize.problem import SolverOptions


class AbsGapOfIncumbent:
    """HiGHS's improving-solution callback that sets ``mip_abs_gap`` to ``rel_gap`` of
    each new incumbent's gap basis. HiGHS reads the option when it takes the incumbent
    (the callback runs first) and prunes every node that cannot beat it by more: the
    search stops once the gap is within ``rel_gap`` of the basis the answer reports.
    Without it the abs gap stays the start's, and a cheaper incumbent with a smaller
    basis stopped HiGHS short of the gap, costing a second run from scratch (R1's Pareto
    point at 3,194.5 t: 13.5 s, then 22.2 s more).

    ``bound_usd``: a bound proven before the MILP (the LP's, or the probe's, often above
    HiGHS's own root bound). An incumbent within ``rel_gap`` of it is proven already: the
    MIP-interrupt callback (``interrupt``, ``optimize.highs.StopAtGap``) then stops HiGHS
    (``proven``). ``stop``: that stop (a ``StopAtGap`` of ``bound_usd`` where None)."""

    def __init__(
        self,
        h,
        cm: CompiledModel,
        rel_gap: float,
        abs_gap0: float,
        bound_usd: float | None,
        stop: StopAtGap | None = None,
    ) -> None:
        self.h, self.cm, self.rel_gap, self.abs_gap0 = h, cm, rel_gap, abs_gap0
        self.stop = stop if stop is not None else StopAtGap(cm, bound_usd, rel_gap)
        self.interrupt = self.stop.interrupt

    @property
    def proven(self) -> bool:
        return self.stop.reached

    def __call__(self, e) -> None:
        d = e.data_out
        objective = float(d.objective_function_value)
        basis = gap_basis_usd(self.cm, d.mip_solution, objective)
        self.h.setOptionValue("mip_abs_gap", max(self.abs_gap0, self.rel_gap * basis))
        progress.follow_gap_basis(self.h, basis)  # the progress lines report the same gap
        self.stop.mark(objective, basis, d.mip_solution)


def run_to_gap(
    h,
    cm: CompiledModel,
    rel_gap: float,
    pf,
    basis,
    abs_gap0: float,
    beside: ProbeBeside | None = None,
) -> tuple[HighsResult | None, np.ndarray | None]:
    """Run HiGHS until the gap is within ``rel_gap`` of the gap basis (the start's, then
    each incumbent's: ``AbsGapOfIncumbent``). An answer left above ``rel_gap`` all the
    same (a rounding of HiGHS's last bound) runs on from that answer. The bound found
    before (``pf.bound_usd``: the LP relaxation's, or the probe's) is valid too: the better
    of the two counts, and an incumbent within ``rel_gap`` of it stops HiGHS.

    ``beside``: the last probe, running beside the first run (``optimize.probe_beside``);
    its bound then counts from where a run with it from the start would have stopped.
    Returns the result and the answer's columns where they are not ``h``'s solution (an
    incumbent the history gave); ``(None, None)`` where the probe beside proved the start
    or found a schedule (the run's work does not count)."""
    spent_s = 0.0
    stop = None if beside is None else HistoryStop(cm, pf.bound_usd, rel_gap, beside)
    follow = AbsGapOfIncumbent(h, cm, rel_gap, abs_gap0, pf.bound_usd, stop)
    with subscribed(h, (h.cbMipImprovingSolution, follow), (h.cbMipInterrupt, follow.interrupt)):
        for _ in range(3):
            if basis is not None:
                h.setOptionValue("mip_abs_gap", max(abs_gap0, rel_gap * basis))
            res = run_highs(h, True, cm, gap_basis_hint_usd=basis)
            res.solve_s += spent_s
            if stop is not None:  # the first run, beside the probe
                stop.settle()
                if stop.dropped or stop.stopped() is not None:
                    return _from_history(stop, res.solve_s)
                stop = None
            _count_bound(res, follow.stop.bound_usd)
            if stopped_proven(h, follow, res, rel_gap):
                res.status = "optimal"
            if res.status != "optimal" or res.gap_basis is None or res.mip_gap <= rel_gap:
                return res, None
            spent_s, basis = res.solve_s, res.gap_basis
            set_start(h, h.getSolution().col_value)
        return res, None


def _count_bound(res: HighsResult, bound_usd: float | None) -> None:
    """Raise ``res``'s bound to ``bound_usd`` (proven before the MILP) where it is higher,
    and its gap with it."""
    if bound_usd is not None and (res.bound is None or bound_usd > res.bound):
        res.bound = bound_usd
        if res.gap_basis is not None:
            res.mip_gap = relative_gap(res.objective, res.bound, res.gap_basis)


def _from_history(stop: HistoryStop, solve_s: float):
    """The answer where a run with the probe's bound from the start stopped (the
    incumbent and HiGHS's dual bound recorded at that interrupt callback, the probe's bound
    counted), or ``(None, None)`` where the probe beside left the run nothing to answer."""
    if stop.dropped:
        return None, None
    incumbent, dual_bound_usd = stop.stopped()
    res = HighsResult("optimal", incumbent.objective_usd, 0.0, True, solve_s, dual_bound_usd)
    res.gap_basis = incumbent.basis_usd
    res.mip_gap = relative_gap(res.objective, res.bound, res.gap_basis)
    _count_bound(res, stop.bound_usd)
    return res, incumbent.values


def stopped_proven(h, follow: AbsGapOfIncumbent, res: HighsResult, rel_gap: float) -> bool:
    """Whether ``follow`` stopped HiGHS at an answer proven within ``rel_gap`` by the bound
    found before the MILP (its status is then HiGHS's "interrupted")."""
    interrupted = h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    return interrupted and follow.proven and res.gap_basis is not None and res.mip_gap <= rel_gap


def milp_after_start(
    h,
    cm: CompiledModel,
    options: SolverOptions,
    pf,
    basis,
    beside: ProbeBeside | None = None,
) -> tuple[HighsResult | None, np.ndarray | None]:
    """HiGHS's MILP from the start ``pf`` (set in ``h`` already): the time limit is
    shared with the steps before, and HiGHS also stops once the gap is within
    ``mip_rel_gap`` of its incumbent's gap basis (``mip_abs_gap``, the start's and then
    each incumbent's), or at an incumbent the bound before proves: ``run_to_gap``, whose
    answer this is (with ``beside``, the last probe beside it)."""
    if options.time_limit_s is not None:  # the steps before and the MILP share the limit
        h.setOptionValue("time_limit", max(1.0, options.time_limit_s - pf.seconds))
    abs_gap0 = float(h.getOptionValue("mip_abs_gap")[1])
    try:
        res, values = run_to_gap(h, cm, options.mip_rel_gap, pf, basis, abs_gap0, beside)
    finally:
        h.setOptionValue("mip_abs_gap", abs_gap0)
        if options.time_limit_s is not None:
            h.setOptionValue("time_limit", float(options.time_limit_s))
    if res is not None:
        res.solve_s += pf.seconds
    return res, values
