"""The start's proof split on a demand-charge peak: two HiGHS MILPs from the start, one with
the peak at most ``θ*``, one with it at least ``θ*``, each with the start's target as its
cutoff, run side by side.

Why. Where the demand charge is billed for the whole month, the LP relaxation holds the
import flat under a peak no schedule reaches ("Where the remaining gap is",
docs/model_jobs.md), and HiGHS's MILP closes the last tenths of a per cent of that gap
slowly: on full-month PJM 2023-03-06 a run from the start with the start's target as its
cutoff takes 30.2 s and 251 nodes. Split on the peak halfway between the LP's and the
start's, each half is proven at its root: the half above in 1.8 s (the demand charge alone
lifts its LP), the half below in 8.5 s (the cap and the cutoff leave the energy no room).
The same on full-month ERCOT 2023-02-13 (34.8 s whole; 8.9 and 7.1 s), CAISO 2023-07-24
(23.0 s; 8.0 and 0.6 s) and CAISO 2023-09-04 (10.2 s; 6.5 and 0.4 s at a third of the
way; docs/model_jobs_history.md, forty-ninth session). HiGHS never branches on the peak:
it is a continuous column.

Where. Only where the chosen peak's rise from the LP relaxation to the start costs at least
``SPLIT_MIN_SHARE`` of the start's gap (its cost less its bound): elsewhere the gap lies in
other rows (R1's Pareto points: the carbon budget's), the halves' bounds barely move, and
their nodes are lost time.

Equations. With ``θ_LP`` and ``θ_s`` the chosen charge's peak (MW) in the LP relaxation
and in the start ``s`` (cost ``U``, gap basis ``B``), ``θ* = θ_LP + SPLIT_SHARE ·
(θ_s − θ_LP)`` and the target ``T = U − (1 − ε) · gap · B`` (``cutoff_target_usd``):
- below: the model with ``θ ≤ θ*``, HiGHS's cutoff (``objective_bound``) at ``T``;
- above: the model with ``θ ≥ θ*``, the same cutoff, the start as its MIP start; HiGHS's
  root heuristics on here only (``HALF_HEURISTICS_OFF``), and only where the start lies
  more than ``ABOVE_SEARCH_GAPS`` x the gap above its bound.
Each half runs until its own incumbent is within the gap of its bound
(``AbsGapOfIncumbent``), or its node limit (``SPLIT_NODES``).

Why the bound is valid. Every schedule has ``θ ≤ θ*`` or ``θ ≥ θ*``, so it lies in a half.
A half's run with cutoff ``T`` keeps every node whose bound is below ``T`` until it is
explored or pruned by an incumbent, so ``min(L, T)`` bounds every schedule in it, ``L``
HiGHS's dual bound at the end whatever the status (``optimize.cutoff_restart``); a half
found infeasible under the cutoff has none below ``T``. The model's bound is the smaller of
the two halves' (and never below the bound proven before). The answer is the cheapest of the
start and the halves' incumbents; where its gap is not within ``mip_rel_gap``, the solve
goes on as without the split, from that schedule and that bound.

Deterministic: each half is a HiGHS run of its own with its inputs fixed before it starts,
and the answer is taken after both have ended, whichever ends first.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimize.callbacks import subscribed
from optimize.cutoff_restart import cutoff_target_usd
from optimize.highs import (
    CompiledModel,
    cheaper,
    highest_bound,
    run_highs,
    second_highs,
    set_start,
)
from optimize.incumbent_gap import AbsGapOfIncumbent
from optimize.on_thread import OnThread
from optimize.peak_cap import peak_columns
from optimize.price_fix import PriceFixResult, start_gap
from optimize.probe_beside import Incumbent
from optimize.solve_clock import capped_s
from optimize.solver_options import SolverOptions

# θ* lies this share of the way from the LP relaxation's peak to the start's
SPLIT_SHARE = 0.5
# HiGHS nodes each half may take; a half still open there leaves its bound to the MILP
# after it (both halves of the weeks measured were proven at their roots)
SPLIT_NODES = 200
# the least rise of the peak from the LP to the start (MW) worth a split
MIN_RISE_MW = 1e-3
# the least share of the start's gap (its cost less its bound, USD) that the peak's rise
# from the LP relaxation to the start costs for a split: where the peak explains less, the
# halves' bounds barely move and their nodes are lost time. Full-month B5 weeks split at
# shares 0.50-2.71, 13 of 18 proven by the halves; R1's Pareto front's budget
# points at 0.04 and 0.08 (e4: 17.5 -> 29.4 s with the split, not proven), full-month
# ERCOT 2023-10-09 at 0.24 (55.9 -> 73.6 s; docs/model_jobs_history.md, fiftieth session)
SPLIT_MIN_SHARE = 0.4
# the split runs only for gaps above this: at 0.1 % a half seldom ends proven within its
# nodes, and the halves took the time the steps after need (pro-rated weeks 0, 13, 26 and
# 39 within 0.1 % in 60 s: 1 of 12 with the split, 5 of 12 without; forty-ninth session)
SPLIT_MIN_GAP = 0.002
# The half below wants a proof, not a schedule: HiGHS's root sub-MIP heuristics took most
# of its time (full-month ERCOT 2023-05-01: 12.9 of 15.9 s) and found nothing under the
# cutoff; without them 2.5 s, the same bound (forty-ninth session). The half above holds
# the start and keeps them: there they found full-month CAISO 2023-07-03's schedule 1.05 %
# cheaper than the start and proved it (the node limit at 2.14 % without them), for 9 s
# more over all 156 full-month weeks (docs/model_jobs_history.md, fiftieth session)
HALF_HEURISTICS_OFF = (
    ("mip_heuristic_effort", 0.0),
    ("mip_heuristic_run_rins", False),
    ("mip_heuristic_run_rens", False),
    ("mip_heuristic_run_root_reduced_cost", False),
    ("mip_heuristic_run_feasibility_jump", False),
)
# The half above searches for schedules (HiGHS's root heuristics on) only where the start
# lies more than this many times ``mip_rel_gap`` above its bound: there a cheaper schedule
# may be in the heuristics' reach (full-month CAISO 2023-07-03, 2.65 % at the split, its
# schedule 1.05 % cheaper found and proven). Nearer, the half needs only a proof, and the
# heuristics found nothing on 18 full-month weeks at 0.87-1.56 % while taking most of its
# time (ERCOT 2023-08-07 8.2 against 1.0 s, 04-10 6.8 against 1.3 s, the same proofs;
# docs/model_jobs_history.md, fifty-fourth session)
ABOVE_SEARCH_GAPS = 2.0


@dataclass(frozen=True)
class Half:
    """One half's run: its bound (USD, valid for every schedule in it) and its cheapest
    schedule below the target (None: none)."""

    bound_usd: float
    incumbent: Incumbent | None


def split_point(m, cm: CompiledModel, pf: PriceFixResult) -> tuple[int, float] | None:
    """The peak column to split on and ``θ*`` (MW): of the charges whose peak costs
    something, the one whose rise from the LP relaxation to the start costs most. None
    where no peak rose, where that rise costs less than ``SPLIT_MIN_SHARE`` of the start's
    gap in USD, or without the LP's values."""
    if pf.values is None or pf.lp_values is None:
        return None
    cols = peak_columns(m, cm)
    if not len(cols):
        return None
    rise = np.asarray(pf.values)[cols] - np.asarray(pf.lp_values)[cols]
    worth = np.where(rise > MIN_RISE_MW, rise * np.asarray(cm.col_cost)[cols], 0.0)
    k = int(np.argmax(worth))
    if worth[k] <= 0.0 or worth[k] < _least_worth_usd(pf):
        return None
    return int(cols[k]), float(pf.lp_values[cols[k]] + SPLIT_SHARE * rise[k])


def _least_worth_usd(pf: PriceFixResult) -> float:
    """The least cost (USD) of the peak's rise worth a split: ``SPLIT_MIN_SHARE`` of the
    start's gap (0 without a bound)."""
    if pf.bound_usd is None:
        return 0.0
    return SPLIT_MIN_SHARE * max(pf.objective_usd - pf.bound_usd, 0.0)


def peak_split(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start ``pf`` (not proven within ``mip_rel_gap``) split on its peak and both
    halves run (side by side with two threads): the start after the split (the cheapest
    schedule found, the bound raised, its time added), ``pf`` where no peak is worth a
    split. A start it proves is the answer as any proven start is (``optimize.solving``)."""
    point = split_point(m, cm, pf)
    if point is None:
        return pf
    t0 = time.perf_counter()
    basis, gap = start_gap(cm, pf)
    start = Incumbent(pf.objective_usd, basis, np.asarray(pf.values, dtype=float))
    target = cutoff_target_usd(start, options.mip_rel_gap)
    limit_s = options.time_limit_s  # the steps before and the halves share the limit
    limit_s = None if limit_s is None else max(1.0, limit_s - pf.seconds)
    limit_s = capped_s(limit_s)  # and no later than the solve's deadline
    searches = _above_searches(gap, options.mip_rel_gap)
    halves = _halves(h, cm, point, target, start, options.mip_rel_gap, limit_s, searches)
    return _after_split(pf, start, _run_both(halves, options.second_thread), t0)


def _above_searches(gap: float, rel_gap: float) -> bool:
    """Whether the half above runs HiGHS's root heuristics: the start more than
    ``ABOVE_SEARCH_GAPS`` x ``rel_gap`` above its bound (``gap``, its proven gap:
    ``start_steps.start_gap``)."""
    return gap > ABOVE_SEARCH_GAPS * rel_gap


def _halves(
    h, cm: CompiledModel, point, target_usd: float, start, rel_gap: float, limit_s, searches
):
    """The runs of the half below ``θ*`` and of the half above (from ``start``; HiGHS's
    root heuristics on where it ``searches``), each on a ``Highs`` of its own made here, on
    the caller's thread (``second_highs``)."""
    col, theta = point
    below = _half_highs(h, cm, col, (0.0, theta), limit_s)
    above = _half_highs(h, cm, col, (theta, np.inf), limit_s, searches=searches)
    return (
        functools.partial(_run_half, below, cm, target_usd, None, rel_gap, f"≤ {theta:.3f}"),
        functools.partial(_run_half, above, cm, target_usd, start, rel_gap, f"≥ {theta:.3f}"),
    )


def _run_both(halves: tuple[Callable[[], Half], Callable[[], Half]], side_by_side: bool):
    """Both halves' runs: the one below on a second thread where ``side_by_side``."""
    below, above = halves
    if not side_by_side:
        return below(), above()
    beside = OnThread(below, "peak-split")
    try:
        other = above()
    finally:
        beside.wait()
    return beside.outcome(), other


def _half_highs(
    h, cm: CompiledModel, col: int, bounds: tuple[float, float], limit_s, searches: bool = False
):
    """A ``Highs`` of ``h``'s model and options with column ``col`` in ``bounds``, at most
    ``SPLIT_NODES`` nodes and ``limit_s`` seconds (None: ``h``'s limit); HiGHS's root
    heuristics off unless it ``searches`` for schedules."""
    lo, hi = bounds
    half = second_highs(h, cm)
    half.changeColBounds(col, max(lo, float(cm.col_lower[col])), min(hi, float(cm.col_upper[col])))
    half.setOptionValue("mip_max_nodes", SPLIT_NODES)
    if limit_s is not None:
        half.setOptionValue("time_limit", float(limit_s))
    if not searches:
        for name, value in HALF_HEURISTICS_OFF:
            half.setOptionValue(name, value)
    return half


def _run_half(half, cm: CompiledModel, target_usd: float, start, rel_gap: float, side: str) -> Half:
    """One half run with the cutoff at ``target_usd`` (from ``start`` where given) until its
    incumbent is within ``rel_gap`` of its bound; see the module docstring for its bound.
    ``side``: the half's peak range as its progress lines name it (``≤ 31.200``, MW)."""
    half.setOptionValue("objective_bound", target_usd)
    if start is not None:
        set_start(half, start.values)
    follow = AbsGapOfIncumbent(half, cm, rel_gap, 0.0, None)
    events = ((half.cbMipImprovingSolution, follow), (half.cbMipInterrupt, follow.interrupt))
    with subscribed(half, *events):
        res = run_highs(half, True, cm, label=f"peak split (half with peak {side} MW)")
    no_bound = res.bound is None or np.isnan(res.bound)  # e.g. infeasible under the cutoff
    bound = target_usd if no_bound else min(res.bound, target_usd)
    found = None
    if res.has_solution and cheaper(res.objective, than_usd=target_usd):
        values = np.asarray(half.getSolution().col_value, dtype=float)
        found = Incumbent(res.objective, res.gap_basis, values)
    return Half(bound, found)


def _after_split(pf: PriceFixResult, start: Incumbent, halves: tuple[Half, Half], t0: float):
    """The start after both halves: the cheapest schedule, and the bound the smaller of
    the halves' (never below ``pf``'s); the time since ``t0`` added."""
    bound = highest_bound(min(half.bound_usd for half in halves), pf.bound_usd)
    found = [half.incumbent for half in halves if half.incumbent is not None]
    best = min([start, *found], key=lambda x: x.objective_usd)
    return dataclasses.replace(
        pf,
        values=best.values,
        objective_usd=best.objective_usd,
        bound_usd=bound,
        seconds=pf.seconds + time.perf_counter() - t0,
    )
