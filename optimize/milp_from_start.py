"""HiGHS's MILP from a start schedule, run until the gap is within ``mip_rel_gap`` of the
answer's gap basis, and stopped where a bound proven before it (the LP's, the probe's)
proves an incumbent; with two threads, beside the last probe (``optimize.probe_beside``).
At a tight gap (``optimize.cutoff_restart.wanted``) the run stops at its first incumbent
cheaper than the start, and HiGHS runs again from it with a cutoff at its target.

Used by ``optimize.solving.solve_compiled`` once price-fix, the edge search, the probes
and the peak-capped restart leave the start unproven.
"""

from __future__ import annotations

import highspy
import numpy as np

from optimize import cutoff_restart
from optimize.callbacks import subscribed
from optimize.highs import (
    CompiledModel,
    HighsResult,
    StopAtGap,
    relative_gap,
    run_highs,
    set_start,
)
from optimize.incumbent_gap import AbsGapOfIncumbent, stopped_proven
from optimize.probe_beside import HistoryStop, ProbeBeside
from optimize.solve_clock import capped_s
from optimize.solver_options import SolverOptions

# The status of a run stopped at its first incumbent cheaper than ``below_usd``
STOPPED_CHEAPER = "stopped_cheaper"
# the least time limit of the MILP after the steps (HiGHS reads 0 as no time at all)
MIN_RUN_S = 0.1


def run_to_gap(
    h,
    cm: CompiledModel,
    rel_gap: float,
    pf,
    basis,
    abs_gap0: float,
    beside: ProbeBeside | None = None,
    below_usd: float | None = None,
) -> tuple[HighsResult | None, np.ndarray | None]:
    """Run HiGHS until the gap is within ``rel_gap`` of the gap basis (the start's, then
    each incumbent's: ``AbsGapOfIncumbent``). An answer left above ``rel_gap`` all the
    same (a rounding of HiGHS's last bound) runs on from that answer. The bound found
    before (``pf.bound_usd``: the LP relaxation's, or the probe's) is valid too: the better
    of the two counts, and an incumbent within ``rel_gap`` of it stops HiGHS.

    ``beside``: the last probe, running beside the first run (``optimize.probe_beside``);
    its bound then counts from where a run with it from the start would have stopped.
    ``below_usd``: also stop at the first incumbent cheaper than it and near the bound
    (``optimize.cutoff_restart.below_within``), with status ``STOPPED_CHEAPER`` unless
    proven. Returns the result and the answer's columns where they are not ``h``'s
    solution (an incumbent the history gave); ``(None, None)`` where the probe beside
    proved the start or found a schedule (the run's work does not count)."""
    spent_s = 0.0
    stop = None if beside is None else HistoryStop(cm, pf.bound_usd, rel_gap, beside)
    follow = AbsGapOfIncumbent(h, cm, rel_gap, abs_gap0, pf.bound_usd, stop)
    if below_usd is not None:
        follow.stop.below_usd = below_usd
        follow.stop.below_within = cutoff_restart.below_within(rel_gap)
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
            elif _stopped_cheaper(h, follow.stop):
                # HiGHS's dual bound at the stop's callback, as the history records it
                res.status, res.bound = STOPPED_CHEAPER, follow.stop.dual_bound_at_below_stop
                _count_bound(res, follow.stop.bound_usd)
                res.mip_gap = relative_gap(res.objective, res.bound, res.gap_basis)
            if res.status != "optimal" or res.gap_basis is None or res.mip_gap <= rel_gap:
                return res, None
            spent_s, basis = res.solve_s, res.gap_basis
            set_start(h, h.getSolution().col_value)
        return res, None


def _stopped_cheaper(h, stop: StopAtGap) -> bool:
    """Whether ``stop``'s stop below its ``below_usd`` interrupted HiGHS."""
    interrupted = h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    return interrupted and stop.dual_bound_at_below_stop is not None


def _count_bound(res: HighsResult, bound_usd: float | None) -> None:
    """Raise ``res``'s bound to ``bound_usd`` (proven before the MILP) where it is higher,
    and its gap with it."""
    if bound_usd is not None and (res.bound is None or bound_usd > res.bound):
        res.bound = bound_usd
        if res.gap_basis is not None:
            res.mip_gap = relative_gap(res.objective, res.bound, res.gap_basis)


def _from_history(stop: HistoryStop, solve_s: float):
    """The answer where a run with the probe's bound from the start stopped (the
    incumbent and HiGHS's dual bound recorded at that interrupt callback, the probe's
    bound counted): proven, or ``STOPPED_CHEAPER`` where the stop was at an incumbent
    cheaper than ``stop.below_usd``. ``(None, None)`` where the probe beside left the run
    nothing to answer."""
    if stop.dropped:
        return None, None
    incumbent, dual_bound_usd = stop.stopped()
    res = HighsResult("optimal", incumbent.objective_usd, 0.0, True, solve_s, dual_bound_usd)
    res.gap_basis = incumbent.basis_usd
    res.mip_gap = relative_gap(res.objective, res.bound, res.gap_basis)
    _count_bound(res, stop.bound_usd)
    if res.mip_gap > stop.rel_gap:
        res.status = STOPPED_CHEAPER
    return res, incumbent.values


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
    answer this is (with ``beside``, the last probe beside it). At a tight gap the run
    stops at its first incumbent cheaper than the start, and the runs with a cutoff
    (``optimize.cutoff_restart``) go on from it, sharing its time limit."""
    if options.time_limit_s is not None:  # the steps before and the MILP share the limit
        left_s = capped_s(options.time_limit_s - pf.seconds)  # and the solve's clock
        h.setOptionValue("time_limit", max(MIN_RUN_S, left_s))
    abs_gap0 = float(h.getOptionValue("mip_abs_gap")[1])
    rel_gap = options.mip_rel_gap
    shared_time = cutoff_restart.SharedTime.of(h)
    below_usd = pf.objective_usd if cutoff_restart.wanted(rel_gap) else None
    try:
        res, values = run_to_gap(h, cm, rel_gap, pf, basis, abs_gap0, beside, below_usd)
        if res is not None and res.status == STOPPED_CHEAPER:
            if values is None:
                values = np.asarray(h.getSolution().col_value)
            res, values = cutoff_restart.runs_with_cutoff(h, cm, rel_gap, res, values, shared_time)
    finally:
        h.setOptionValue("mip_abs_gap", abs_gap0)
        shared_time.restore(h)
        if options.time_limit_s is not None:
            h.setOptionValue("time_limit", float(options.time_limit_s))
    if res is not None:
        res.solve_s += pf.seconds
    return res, values
