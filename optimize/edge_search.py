"""Edge search: a HiGHS sub-MIP that moves the edges of a job schedule's runs.

Price-fix's schedule (``optimize.price_fix``) has nearly the shape of the best schedules
HiGHS finds: on B5's slow weeks those keep every run of every job and move its edges (the
steps where a job switches on or off) by 1 to 5 steps, several jobs together, so that
their runs stop stacking on the hours that set the monthly peak. Price-fix prices one job
at a time and cannot make such joint moves; HiGHS's own heuristics did not find them
within 60 s (docs/model_jobs_history.md).

The search is a MILP over a neighbourhood of the schedule ``x`` (on/off ``x[j,t]``): with
``E_j`` the steps ``t`` where ``x[j,t] != x[j,t+1]`` (an edge between ``t`` and ``t+1``),

    on[j,t] = x[j,t]   unless   e - k < t <= e + k   for some e in E_j,

so each edge may move up to ``k`` steps either way (``2k`` free columns per edge; about
150 of a week's 998 binaries at ``k = 2``). Everything else stays free: power fractions,
starts, battery, grid, and the binaries of jobs the schedule leaves without a column.
Every schedule of the neighbourhood is a schedule of the full model (only column bounds
change), so what it returns is feasible there.

It runs on the caller's ``Highs`` object from ``x`` as the MIP start and stops at the first
of: an incumbent within ``rel_gap`` of ``bound_usd``, a proven bound of the full model (HiGHS's
callbacks: where HiGHS finds that incumbent depends on its search alone, not on the clock,
so the stop is the same on every machine), the sub-MIP proven within ``abs_gap_usd``, or
``node_limit`` nodes. A ``prove`` callback may raise that bound for an incumbent as it is
found (``optimize.start_probe.ProbeIncumbents``: the probe over nodes against the incumbent's
own target); the search then stops there, and returns the raised bound. On return ``h``
holds its own bounds and options again.

Rounds (``recentred_edge_search``): the neighbourhood's best schedule is often not the
week's, and the next is around it (full-month CAISO 2023-06-19: one search from the
restart's 436,578 USD ends its root at 426,708 USD, the neighbourhood's optimum; searched
again from each answer, 426,431 then 426,000 USD, which the LP proves within 1 %). A
whole root per round is too slow for that (4.7-5 s each), so each round stops at its
first incumbent cheaper than its start and the next searches around that one: 426,942
USD after 1.4 s, 426,262 USD after 3.0 s. A round that finds nothing still runs its whole
root. ``optimize.solving`` runs the rounds on the first restart's schedule only where
they end proven (docs/model_jobs_history.md, forty-first session).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from optimize.answer_cost import cost_above_reported_usd
from optimize.callbacks import subscribed
from optimize.fixer import job_columns
from optimize.highs import StopAtGap, cheaper, gap_basis_usd, relative_gap, set_start
from optimize.price_fix import PriceFixResult
from optimize.progress import run_with_progress

# the options the search sets on the caller's Highs object (restored afterwards)
_OPTIONS = ("mip_rel_gap", "mip_abs_gap", "mip_max_nodes", "time_limit")


def edge_steps(on: np.ndarray, k: int) -> np.ndarray:
    """True at the steps within ``k`` steps of an edge of ``on`` (bool per step): the
    steps ``t`` with ``e - k < t <= e + k`` for an edge between steps ``e`` and ``e + 1``."""
    on = np.asarray(on, dtype=bool)
    near = np.zeros(len(on), dtype=bool)
    for e in np.flatnonzero(on[1:] != on[:-1]):
        near[max(0, e - k + 1) : e + k + 1] = True
    return near


def _fix_far_from_edges(h, jobs: list, values, k: int) -> np.ndarray:
    """Fix the on/off columns of ``jobs`` (``fixer.job_columns``) more than ``k``
    steps from an edge of ``values``; return the fixed columns."""
    cols, vals = [], []
    for jc in jobs:
        on = np.asarray(values)[jc.on] > 0.5
        far = ~edge_steps(on, k)
        cols.append(jc.on[far])
        vals.append(on[far].astype(float))
    fixed, at = np.concatenate(cols).astype(np.int32), np.concatenate(vals)
    h.changeColsBounds(len(fixed), fixed, at, at)
    return fixed


def edge_search(
    h,
    cm,
    m,
    values: np.ndarray,
    objective_usd: float,
    *,
    k: int,
    bound_usd: float,
    rel_gap: float,
    abs_gap_usd: float,
    node_limit: int,
    time_limit_s: float | None = None,
    prove=None,
    first_cheaper: bool = False,
) -> PriceFixResult:
    """Search the edges of schedule ``values`` (objective ``objective_usd``) ``k`` steps
    either way on ``h`` (holding the compiled ``cm`` of model ``m``); see the module
    docstring; ``bound_usd`` is a lower bound of the full model (the answer's gap is
    measured against it). ``time_limit_s``: a wall-clock limit of the search (None: none).
    ``prove``: see the module docstring (``optimize.highs.StopAtGap``). ``first_cheaper``:
    stop at the first incumbent cheaper than ``values`` too (``recentred_edge_search``).

    Returns a schedule cheaper than ``values`` (``values`` None if none was found) and the
    search's seconds; its ``bound_usd`` is a bound of the full model that ``prove`` raised
    above ``bound_usd`` (None where it raised none)."""
    t0 = time.perf_counter()
    jobs = job_columns(m, cm)
    if not jobs:  # every job's columns were removed by the compiler: nothing to move
        return PriceFixResult(None, None, None, time.perf_counter() - t0)
    saved = {name: h.getOptionValue(name)[1] for name in _OPTIONS}
    cols = _fix_far_from_edges(h, jobs, values, k)
    stop = StopAtGap(cm, bound_usd, rel_gap, prove, objective_usd if first_cheaper else None)
    try:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", float(abs_gap_usd))
        h.setOptionValue("mip_max_nodes", int(node_limit))
        if time_limit_s is not None:
            h.setOptionValue("time_limit", max(1.0, float(time_limit_s)))
        set_start(h, values)
        basis_usd = gap_basis_usd(cm, values, objective_usd)
        stops = (h.cbMipImprovingSolution, stop.improving), (h.cbMipInterrupt, stop.interrupt)
        with subscribed(h, *stops):
            # progress lines: the bound is the neighbourhood's, not the model's
            run_with_progress(h, "edge search (its neighbourhood)", gap_basis_usd=basis_usd)
        best, obj = _found(h, cm)
        better = best is not None and cheaper(obj, than_usd=objective_usd)
        best = best if better else None
        raised = stop.bound_usd if stop.bound_usd != bound_usd else None
        return PriceFixResult(best, obj if better else None, raised, time.perf_counter() - t0)
    finally:
        h.changeColsBounds(len(cols), cols, cm.col_lower[cols], cm.col_upper[cols])
        for name, value in saved.items():
            h.setOptionValue(name, value)


def _found(h, cm) -> tuple[np.ndarray | None, float]:
    """The search's schedule and its objective, (None, nan) without one. HiGHS may value
    its start below the start's cost and return the start's columns as found (a cheaper
    schedule in name only: ``optimize.answer_cost``); those columns get their cost."""
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return None, float("nan")
    x = np.asarray(h.getSolution().col_value)
    reported = float(info.objective_function_value)
    cost = cost_above_reported_usd(cm, x, reported)
    return x, reported if cost is None else cost


def recentred_edge_search(
    h,
    cm,
    m,
    values: np.ndarray,
    objective_usd: float,
    *,
    k: int,
    rounds: int,
    bound_usd: float,
    rel_gap: float,
    abs_gap_usd: float,
    time_limit_s: float | None = None,
    prove=None,
) -> PriceFixResult:
    """``edge_search`` (one node; ``time_limit_s`` each) in at most ``rounds`` rounds,
    each stopped at its first incumbent cheaper than its start, the next searching around
    that incumbent; it ends at a round that finds nothing or at a schedule proven within
    ``rel_gap`` (of ``bound_usd`` or a bound ``prove`` raised). See the module docstring,
    "Rounds".
    Returns the last round's schedule (``values`` None if the first found none), its
    bound as ``edge_search`` does, and the rounds' seconds."""
    t0 = time.perf_counter()
    best = PriceFixResult(None, None, None, 0.0)
    bound = bound_usd
    for _ in range(rounds):
        es = edge_search(
            h, cm, m, values, objective_usd, k=k, bound_usd=bound, rel_gap=rel_gap,
            abs_gap_usd=abs_gap_usd, node_limit=1, time_limit_s=time_limit_s, prove=prove,
            first_cheaper=True,
        )  # fmt: skip
        bound = bound if es.bound_usd is None else max(bound, es.bound_usd)
        if es.values is None:
            break
        best, values, objective_usd = es, es.values, es.objective_usd
        if relative_gap(objective_usd, bound, gap_basis_usd(cm, values, objective_usd)) <= rel_gap:
            break
    raised = bound if bound > bound_usd else None
    return dataclasses.replace(best, bound_usd=raised, seconds=time.perf_counter() - t0)
