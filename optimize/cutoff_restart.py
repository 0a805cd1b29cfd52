"""HiGHS's MILP at a tight gap, run again from each incumbent that moves the target, with
that incumbent's target as HiGHS's cutoff (``objective_bound``).

Why. From its incumbent ``U``, HiGHS keeps two limits (``computeNewUpperLimit`` in
HiGHS's ``HighsMipSolverData.cpp``): ``upper_limit``, ``U`` less a feasibility tolerance,
which every node's LP, the reduced-cost fixing and the propagation of the objective cut
against; and ``optimality_limit``, ``U`` less the gap (``mip_abs_gap``, ``mip_rel_gap``),
which only drops open nodes from the queue. So the gap asked for never tightens the
search itself. The option ``objective_bound`` sets both limits to its value ``T`` when a
run starts; an incumbent lowers them only once it is below ``T``. From a schedule within
the gap of the optimum, a run with ``T = U - gap x basis`` proves it sooner: pro-rated
CAISO 2023-04-03 at 0.1 %, from its optimum, 34.6 s and 1,191 nodes with ``T`` against
55.1 s and 763 nodes without (docs/model_jobs_history.md, forty-sixth session).

How. HiGHS reads the option once per run. So the MILP after the start runs as before
(``optimize.milp_from_start``) but stops at its first incumbent cheaper than the start
and found near the bound (within ``NEAR_GAPS`` times the gap), and HiGHS runs again from
that incumbent with ``T`` at its target (``cutoff_target_usd``). A run that finds an
incumbent below ``T``, near the bound, stops there and runs again from it, at most
``MAX_CUTOFF_RUNS`` runs after the first; the last one is not stopped. Every run pays
its presolve and root again, which the proof wins back only where it is long: at gaps up
to ``CUTOFF_MAX_GAP`` (at 1 %, full-month ERCOT 2023-10-09 lost about 5 s). The runs share
the MILP's time limit (``SharedTime``). Each has the node limit, as each of the runs of
``optimize.milp_from_start.run_to_gap`` has: a shared one left the proof of pro-rated
CAISO 2023-04-03 too few nodes after a first run that took most of them to find its
incumbent. The work stays bounded (at most ``1 + MAX_CUTOFF_RUNS`` times the node limit),
and every stop depends on HiGHS's search alone, not on the clock.

Why the bound is valid. A run with cutoff ``T`` keeps every node whose bound is below
``T`` until it is explored or pruned by an incumbent. Where it ends with no incumbent
below ``T``, no schedule costs less than ``T`` except inside nodes still open, whose
bounds HiGHS's dual bound ``L`` covers; so ``min(L, T)`` is a lower bound of the optimum
whatever the run's status. HiGHS reports ``L`` up to its incumbent where the cutoff empties
the tree, which is why the minimum is taken. Bounds proven before (the LP's, the probes',
each earlier run's) stay valid: the answer carries the largest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize.callbacks import subscribed
from optimize.highs import (
    CompiledModel,
    HighsResult,
    StopAtGap,
    cheaper,
    highest_bound,
    relative_gap,
    run_highs,
    set_start,
)
from optimize.incumbent_gap import AbsGapOfIncumbent, stopped_proven
from optimize.probe_beside import Incumbent

# The largest ``mip_rel_gap`` the runs with a cutoff are used at (0.1 % and 0.2 %; the
# default 1 % keeps one run)
CUTOFF_MAX_GAP = 0.002
# HiGHS runs with a cutoff after the first MILP run, at most
MAX_CUTOFF_RUNS = 3
# A run stops at a cheaper incumbent only where, at the first interrupt callback after
# HiGHS found it, it lies within this many times ``mip_rel_gap`` of the bound (HiGHS's
# dual bound then, or the bound found before). A cutoff proves an incumbent near the
# optimum sooner; one found far from the bound gains nothing from it and pays a root
# (random cases at 0.1 %: first incumbents at 0.4-5 % lost 1-11 s to the restarts).
# Nor does a run stop later, when its bound has risen under an older incumbent: that
# rise is the run's own tree, which a new run loses (pro-rated ERCOT 2023-01-02 and
# 04-03, PJM 04-03 at 0.1 % without a clock: stopped as their gaps crossed 0.3 %, the
# runs with a cutoff reached the node limit with 0.29-0.30 % against 0.13-0.28 % for
# the one run). The two B5 weeks the cutoff proves found theirs at 0.26 % and 0.17 %.
NEAR_GAPS = 3.0
# ``T`` lies this share of the gap above ``U - gap x basis``, so that an answer proven at
# ``T`` reports a gap within ``mip_rel_gap`` after rounding
TARGET_SLACK = 1e-6


def wanted(rel_gap: float) -> bool:
    """Whether the MILP at ``rel_gap`` runs again with cutoffs (0 < gap <= 0.2 %). At 0
    the target is the incumbent itself, which HiGHS cuts against already."""
    return 0.0 < rel_gap <= CUTOFF_MAX_GAP


def below_within(rel_gap: float) -> float:
    """The gap within which a cheaper incumbent stops a run (``NEAR_GAPS``)."""
    return NEAR_GAPS * rel_gap


def cutoff_target_usd(incumbent: Incumbent, rel_gap: float) -> float:
    """The bound that proves ``incumbent`` within ``rel_gap`` of its gap basis (USD)."""
    return incumbent.objective_usd - (1.0 - TARGET_SLACK) * rel_gap * incumbent.basis_usd


@dataclass
class SharedTime:
    """The time limit (s) the MILP's first run was given, shared by the runs after it:
    each gets what the runs before left (HiGHS's ``time_limit``; inf: none)."""

    limit_s: float
    spent_s: float = 0.0

    @classmethod
    def of(cls, h) -> SharedTime:
        return cls(float(h.getOptionValue("time_limit")[1]))

    def left_s(self) -> float:
        return self.limit_s - self.spent_s

    def restore(self, h) -> None:
        h.setOptionValue("time_limit", self.limit_s)


def runs_with_cutoff(
    h,
    cm: CompiledModel,
    rel_gap: float,
    first: HighsResult,
    values: np.ndarray,
    shared_time: SharedTime,
) -> tuple[HighsResult, np.ndarray]:
    """HiGHS run again from ``first``'s incumbent (columns ``values``), a run that stopped
    at it, with the cutoff at its target, until the answer is proven within ``rel_gap``,
    a limit binds or ``MAX_CUTOFF_RUNS`` runs are spent. Returns the answer, its bound the
    largest proven (see the module docstring), and its columns."""
    shared_time.spent_s += first.solve_s
    answer = Incumbent(first.objective, first.gap_basis, np.asarray(values, dtype=float))
    bound, status, solve_s = first.bound, first.status, first.solve_s
    for run in range(MAX_CUTOFF_RUNS + 1):
        if relative_gap(answer.objective_usd, bound, answer.basis_usd) <= rel_gap:
            status = "optimal"
            break
        if run == MAX_CUTOFF_RUNS or status in ("time_limit", "node_limit"):
            break
        if shared_time.left_s() <= 0.0:
            status = "time_limit"
            break
        last = run == MAX_CUTOFF_RUNS - 1
        res, target_usd = _run_with_cutoff(h, cm, rel_gap, answer, bound, shared_time, last)
        solve_s += res.solve_s
        bound = highest_bound(bound, None if res.bound is None else min(res.bound, target_usd))
        if res.has_solution and cheaper(res.objective, than_usd=answer.objective_usd):
            values = np.asarray(h.getSolution().col_value, dtype=float)
            answer = Incumbent(res.objective, res.gap_basis, values)
        status = res.status
    out = HighsResult(status, answer.objective_usd, 0.0, True, solve_s, bound)
    out.gap_basis = answer.basis_usd
    out.mip_gap = relative_gap(out.objective, bound, answer.basis_usd)
    return out, answer.values


def _run_with_cutoff(
    h,
    cm: CompiledModel,
    rel_gap: float,
    answer: Incumbent,
    bound_usd: float | None,
    shared_time: SharedTime,
    last: bool,
) -> tuple[HighsResult, float]:
    """One run of HiGHS from ``answer`` with ``objective_bound`` at its target (returned
    with the result): stopped at an incumbent ``bound_usd`` proves, and, unless ``last``,
    at the first incumbent below the target near the bound (``below_within``), in the time
    ``shared_time`` leaves."""
    target_usd = cutoff_target_usd(answer, rel_gap)
    below_usd = None if last else target_usd
    stop = StopAtGap(cm, bound_usd, rel_gap, None, below_usd, below_within(rel_gap))
    follow = AbsGapOfIncumbent(h, cm, rel_gap, 0.0, None, stop)
    h.setOptionValue("time_limit", shared_time.left_s())
    h.setOptionValue("mip_abs_gap", rel_gap * answer.basis_usd)
    h.setOptionValue("objective_bound", target_usd)
    set_start(h, answer.values)
    try:
        with subscribed(
            h, (h.cbMipImprovingSolution, follow), (h.cbMipInterrupt, follow.interrupt)
        ):
            res = run_highs(
                h, True, cm, gap_basis_hint_usd=answer.basis_usd, label="cutoff restart"
            )
    finally:
        h.setOptionValue("objective_bound", float("inf"))
    shared_time.spent_s += res.solve_s
    if stopped_proven(h, follow, res, rel_gap):
        res.status = "optimal"
    return res, target_usd
