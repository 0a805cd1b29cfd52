"""The `storage-optimal` baseline: the jobs run exactly as in `asap`, the battery,
curtailment, generators and grid exchange are optimised.

`optimize` has no way to pin a job's power per step, so the asap job power becomes fixed
IT load: a copy of the problem with no jobs whose inference IT load is inference plus
the asap jobs (MW). The optimizer's facility load is `(inference + jobs) × PUE` either
way, so the accounting is identical; costs come from `cost_breakdown` on the original
problem, with asap's unfinished work priced as in asap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

import optimize
from microgrid.baselines.limits import limit_breaches
from microgrid.baselines.result import BaselineResult, plan_frame
from microgrid.costs import cost_breakdown
from microgrid.results import solver_zeros_cleared

NAME = "storage-optimal"
Solve = Callable[[optimize.Problem], optimize.Dispatch]


def fixed_jobs_problem(problem: optimize.Problem, it_mw: np.ndarray) -> optimize.Problem:
    """`problem` with no jobs and the IT load `it_mw` (MW per step: inference + jobs) as
    the facility's fixed IT load."""
    facility = optimize.Facility(inference_it_mw=it_mw, pue=problem.facility.pue)
    return dataclasses.replace(problem, jobs=(), facility=facility)


def storage_optimal(
    problem: optimize.Problem,
    asap: BaselineResult,
    index: pd.DatetimeIndex,
    solve: Solve,
    cost_problem: optimize.Problem | None = None,
) -> BaselineResult:
    """Optimise everything but the jobs, which run as in `asap` (its rows give the job
    MW); its rows are priced on `cost_problem` (default: `problem`). An infeasible copy
    (asap's load cannot be served within the limits) gives a result with status
    "infeasible" and no rows ("failed" if the solver fails)."""
    job_mw = {j.id: asap.timeseries[f"job_{j.id}_mw"].to_numpy() for j in problem.jobs}
    it_mw = asap.timeseries["it_load_mw"].to_numpy()
    try:
        d = solve(fixed_jobs_problem(problem, it_mw))
    except optimize.Infeasible as exc:
        why = infeasible_reason(problem, exc)
        return BaselineResult(NAME, None, {}, asap.jobs, {}, status="infeasible", reason=why)
    except optimize.SolveError as exc:  # a numerical failure: the run goes on without it
        return BaselineResult(NAME, None, {}, asap.jobs, {}, status="failed", reason=str(exc))
    # the solver's round-off (-8e-11 MW) cleared, as in the optimum's rows
    series = {k: solver_zeros_cleared(v) for k, v in d.series.items() if not k.startswith("job_")}
    gen_mw = {g.name: series[f"gen_{g.name}_mw"] for g in problem.generators}
    ts = plan_frame(problem, series, job_mw, gen_mw)
    ts.index = index
    unfinished = sum(j["unfinished_h"] for j in asap.jobs.values())
    costs = _costs(cost_problem or problem, ts, d, gen_mw, unfinished)
    breaches = limit_breaches(problem, ts, index, costs["emissions_t"])
    return BaselineResult(NAME, ts, costs, asap.jobs, breaches, gen_mw, status=d.status)


def infeasible_reason(problem: optimize.Problem, exc: optimize.Infeasible) -> str:
    """Why asap's jobs have no storage-optimal plan, in a planner's words: the carbon
    budget where it alone is the reason (the diagnosis relaxes it last,
    `optimize.diagnosis`), with the least emissions asap's jobs allow, else the limits the
    diagnosis relaxed."""
    slacks = exc.diagnosis
    budget_t = problem.objective.carbon_budget_t
    if budget_t is not None and slacks and all(s.kind == "carbon_budget" for s in slacks):
        over_t = max(s.amount for s in slacks)
        return (
            f"asap's jobs cannot run within the carbon budget (objective.carbon_budget_t) of "
            f"{budget_t:,.1f} t: the least emissions found with them are "
            f"{budget_t + over_t:,.1f} t, {over_t:,.1f} t over"
        )
    limits = "; ".join(str(s) for s in slacks)
    return "asap's jobs cannot run within the limits" + (f" ({limits})" if limits else "")


def _costs(
    problem: optimize.Problem,
    ts: pd.DataFrame,
    d: optimize.Dispatch,
    gen_mw: dict[str, np.ndarray],
    unfinished_h: float,
) -> dict[str, float]:
    """`cost_breakdown` of the rows, each generator priced on its own MW (`gen_mw`)."""
    # storage-optimal takes part in a DR program as its LP chose (the rule baselines do not)
    dr = {"unfinished_h": unfinished_h, "dr_commit_mw": d.dr_commit_mw}
    return cost_breakdown(problem, ts, gen_mw=gen_mw, **dr)
