"""Run the baselines on the optimizer's problem: the two rule baselines (simulations) and
`storage-optimal` (an optimisation with asap's jobs)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import optimize
from microgrid.baselines.energy import simulate_energy
from microgrid.baselines.jobs import RULE_BASELINES, job_it_mw, schedule_jobs
from microgrid.baselines.limits import limit_breaches
from microgrid.baselines.plant import build_plant
from microgrid.baselines.result import BaselineResult, plan_frame
from microgrid.baselines.storage import NAME as STORAGE_OPTIMAL
from microgrid.baselines.storage import Solve, storage_optimal
from microgrid.costs import cost_breakdown

BASELINES = (*RULE_BASELINES, STORAGE_OPTIMAL)


def simulate(
    problem: optimize.Problem,
    policy: str,
    day_of_step: np.ndarray,
    index: pd.DatetimeIndex | None = None,
    cost_problem: optimize.Problem | None = None,
) -> BaselineResult:
    """Simulate the rule baseline `policy` on `problem`; `day_of_step` is the local
    calendar day of each step (any increasing integers) for the battery's
    previous-day-mean rule; `index` the UTC time stamps (default: step numbers);
    `cost_problem` what its rows are priced on (default: `problem`; `billed_problem`)."""
    n = problem.n_steps
    day_of_step = np.asarray(day_of_step)
    if day_of_step.shape != (n,):
        raise ValueError(f"day_of_step has shape {day_of_step.shape}, expected ({n},)")
    fracs, jobs = schedule_jobs(problem, policy)
    job_mw, it_mw = job_it_mw(problem, fracs)
    plant = build_plant(problem, it_mw * problem.facility.pue)
    flows = simulate_energy(plant, problem.battery, day_of_step)
    series = {
        "grid_import_mw": flows.import_mw,
        "grid_export_mw": flows.export_mw,
        "battery_charge_mw": flows.charge_mw,
        "battery_discharge_mw": flows.discharge_mw,
        "battery_soc_mwh": flows.soc_mwh,
        "backup_gen_mw": sum(flows.gen_mw.values(), np.zeros(n)),
        "it_load_mw": it_mw,
        "facility_load_mw": plant.load_mw,
    }
    for k in plant.renewable_names:
        series[f"{k}_available_mw"] = plant.available_mw[k]
        series[f"{k}_used_mw"] = flows.used_mw[k]
    ts = plan_frame(problem, series, job_mw, flows.gen_mw)
    if index is not None:
        ts.index = index
    unfinished = sum(j["unfinished_h"] for j in jobs.values())
    costs = cost_breakdown(
        cost_problem or problem, ts, gen_mw=flows.gen_mw, unfinished_h=unfinished
    )
    where = ts.index if index is None else index
    breaches = limit_breaches(problem, ts, where, costs["emissions_t"])
    return BaselineResult(policy, ts, costs, jobs, breaches, flows.gen_mw)


def local_days(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Local calendar day number of each step."""
    local = index.tz_convert(timezone)
    return np.asarray(local.year * 10000 + local.month * 100 + local.day, dtype=np.int64)


def default_solve(problem: optimize.Problem) -> optimize.Dispatch:
    """`optimize.solve` with the default options (the pipeline passes the scenario's)."""
    return optimize.solve(problem, optimize.SolverOptions())


def billed_problem(
    problem: optimize.Problem, billing_grid: optimize.Grid | None
) -> optimize.Problem:
    """`problem` with the grid its plans are billed on (None: its own grid)."""
    return problem if billing_grid is None else dataclasses.replace(problem, grid=billing_grid)


def run_baselines(
    problem: optimize.Problem,
    index: pd.DatetimeIndex,
    timezone: str,
    price_usd_per_mwh: np.ndarray | None = None,
    solve: Solve = default_solve,
    billing_grid: optimize.Grid | None = None,
) -> dict[str, BaselineResult]:
    """All baselines on the optimizer's problem; rows on the UTC `index`.
    `price_usd_per_mwh` (the market price column of the results; default: the import
    price, adder included) only fills that column; `solve` solves storage-optimal's
    problem (the pipeline passes the optimum's way: its options and windows);
    `billing_grid`: the grid their costs are billed on, where it is not the problem's
    (operate: the real coincident-peak intervals in place of the alerts' expected
    charges, as the closed loop's own rows are billed)."""
    days = local_days(index, timezone)
    billed = billed_problem(problem, billing_grid)
    out = {name: simulate(problem, name, days, index, billed) for name in RULE_BASELINES}
    out[STORAGE_OPTIMAL] = storage_optimal(problem, out["asap"], index, solve, billed)
    if price_usd_per_mwh is not None:
        for res in out.values():
            if res.timeseries is not None:
                res.timeseries["price_usd_per_mwh"] = np.asarray(price_usd_per_mwh, dtype=float)
    return out
