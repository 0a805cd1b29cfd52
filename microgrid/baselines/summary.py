"""The baselines' figures in summary.json: each baseline's costs, limit breaches and the
optimum's savings against it (`summary["baselines"]`), and what storage and job
flexibility are worth (`summary["value_of"]`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize
from microgrid.baselines.limits import keeps_all
from microgrid.baselines.result import BaselineResult
from microgrid.baselines.run import STORAGE_OPTIMAL, run_baselines
from microgrid.baselines.storage import Solve
from microgrid.costs import pct_of_cost

#: Relative difference that is solver rounding, not a gap (HiGHS's feasibility tolerance).
_ROUNDING = 1e-6


def _pct(base: float, opt: float) -> float | None:
    """Saving of `opt` against `base` in % of `base`; 0 when both are 0; None where no
    share means anything (`costs.pct_of_cost`: the baseline 0, or a net revenue)."""
    if abs(base) < 1e-9 and abs(opt) < 1e-9:
        return 0.0
    return pct_of_cost(base - opt, base, opt)


def _jobs(result: BaselineResult) -> dict:
    return {
        "n_jobs": len(result.jobs),
        "deadlines_met": sum(1 for j in result.jobs.values() if j["deadline_met"]),
        "restarts": sum(j["restarts"] for j in result.jobs.values()),
    }


def _energies_mwh(ts: pd.DataFrame, step_h: float) -> dict[str, float]:
    """The plan's energy totals (MWh) under the optimum's keys (`results.summarize`)."""
    return {
        "facility_energy_mwh": float(ts["facility_load_mw"].sum()) * step_h,
        "grid_import_mwh": float(ts["grid_import_mw"].sum()) * step_h,
        "grid_export_mwh": float(ts["grid_export_mw"].sum()) * step_h,
    }


def baseline_summary(
    result: BaselineResult, optimum: dict, fixed_usd: float = 0.0, *, step_h: float
) -> dict:
    """One baseline's figures for summary.json (USD, t, MWh, MW), with the optimum's
    savings against it; a baseline without a plan gives its status and reason only.
    `fixed_usd`: the tariff's fixed charge, which every plan pays (in the optimum's total
    too); `step_h`: the step's length (h)."""
    if result.timeseries is None:
        return {"status": result.status, "reason": result.reason, "jobs": _jobs(result)}
    c = dict(result.costs)
    c["total_cost_usd"] += fixed_usd
    c["objective_usd"] += fixed_usd
    opt_total = optimum["total_cost_usd"]
    opt_objective = opt_total + optimum.get("carbon_cost_usd", 0.0)
    return {
        "status": result.status,
        "total_cost_usd": c["total_cost_usd"],
        "energy_cost_usd": c["energy_usd"],
        "demand_cost_usd": c["demand_usd"],
        "fuel_cost_usd": c["fuel_usd"],
        "wear_cost_usd": c["wear_usd"],
        "carbon_cost_usd": c["carbon_usd"],
        # the rest of total_cost_usd, under the optimum's keys: the lines sum to it
        "unfinished_penalty_usd": c["unfinished_penalty_usd"],
        "dr_program_usd": c["dr_program_usd"],
        "fixed_cost_usd": fixed_usd,
        "objective_usd": c["objective_usd"],
        "emissions_t": c["emissions_t"],
        "cost_saving_usd": c["total_cost_usd"] - opt_total,
        "cost_saving_pct": _pct(c["total_cost_usd"], opt_total),
        "emissions_saving_t": c["emissions_t"] - optimum["emissions_t"],
        "emissions_saving_pct": _pct(c["emissions_t"], optimum["emissions_t"]),
        "objective_saving_pct": _pct(c["objective_usd"], opt_objective),
        **_energies_mwh(result.timeseries, step_h),
        "peak_import_mw": float(result.timeseries["grid_import_mw"].max()),
        "jobs": _jobs(result),
        "keeps_all_limits": keeps_all(result.breaches),
        "limit_breaches": result.breaches,
    }


def value_of(baselines: dict[str, dict], optimum: dict) -> dict | None:
    """What storage buys (asap -> storage-optimal) and what job flexibility buys on top
    (storage-optimal -> optimum), in USD of total cost and t of CO2e; None when
    storage-optimal has no plan. `job_flexibility_within_gap`: the difference in objective
    is within the optimum's proven MIP gap (USD), so its size is not resolved."""
    asap, store = baselines["asap"], baselines[STORAGE_OPTIMAL]
    if "total_cost_usd" not in store:
        return None
    solver = optimum.get("solver", {})
    gap_usd = (solver.get("mip_gap") or 0.0) * (solver.get("gap_basis_usd") or 0.0)
    opt_objective = optimum["total_cost_usd"] + optimum.get("carbon_cost_usd", 0.0)
    return {
        "storage_usd": asap["total_cost_usd"] - store["total_cost_usd"],
        "job_flexibility_usd": store["total_cost_usd"] - optimum["total_cost_usd"],
        "storage_emissions_t": asap["emissions_t"] - store["emissions_t"],
        "job_flexibility_emissions_t": store["emissions_t"] - optimum["emissions_t"],
        "optimum_gap_usd": gap_usd,
        "job_flexibility_within_gap": abs(store["objective_usd"] - opt_objective)
        <= gap_usd + _ROUNDING * max(1.0, abs(opt_objective)),
        "asap_keeps_all_limits": asap["keeps_all_limits"],
    }


def add_baselines(
    summary: dict,
    problem: optimize.Problem,
    index: pd.DatetimeIndex,
    timezone: str,
    price_usd_per_mwh: np.ndarray | None = None,
    solve: Solve | None = None,
    fixed_usd: float = 0.0,
    billing_grid: optimize.Grid | None = None,
) -> dict[str, BaselineResult]:
    """Run every baseline against the optimum `summary` and add `summary["baselines"]`
    and `summary["value_of"]` (when storage-optimal has a plan); returns the results.
    `fixed_usd`: the tariff's fixed charge, added to each baseline's total as it is to
    the optimum's; `billing_grid`: the grid the baselines are billed on where the
    optimum's total is not billed on the problem's (`run_baselines`)."""
    kwargs = {} if solve is None else {"solve": solve}
    results = run_baselines(
        problem, index, timezone, price_usd_per_mwh, billing_grid=billing_grid, **kwargs
    )
    summary["baselines"] = {
        name: baseline_summary(r, summary, fixed_usd, step_h=problem.step_h)
        for name, r in results.items()
    }
    value = value_of(summary["baselines"], summary)
    if value is not None:
        summary["value_of"] = value
    return results
