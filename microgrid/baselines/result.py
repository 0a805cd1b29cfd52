"""A baseline's result and its rows in the optimum's columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import optimize
from microgrid.baselines.limits import breach_columns
from microgrid.costs import insert_emissions_t
from microgrid.results import POWERFLOW_COLUMNS, TIMESERIES_COLUMNS


@dataclass
class BaselineResult:
    """One baseline: its rows (`plan_frame`: the optimum's columns, then the limit
    breaches; tz-aware UTC index; None when it has no plan), costs
    (`microgrid.costs.cost_breakdown` keys, before the tariff's fixed charge, which
    summary.json's totals add), jobs (per job `work_done_h`, `unfinished_h`, `restarts`,
    `deadline_met`), limit breaches (`limits.limit_breaches`), generator MW by name, and
    `status`: "simulated" (a rule baseline), the solver's status (storage-optimal) or
    "infeasible" / "failed" (no rows; `reason` says why)."""

    name: str
    timeseries: pd.DataFrame | None
    costs: dict[str, float]
    jobs: dict[str, dict]
    breaches: dict
    gen_mw: dict[str, np.ndarray] = field(default_factory=dict)
    status: str = "simulated"
    reason: str = ""

    def __repr__(self) -> str:
        """One line (the dataclass's printed the table and every array whole)."""
        rows = "no rows" if self.timeseries is None else f"{len(self.timeseries)} steps"
        total = self.costs.get("total_cost_usd")
        cost = "" if total is None else f", total_cost_usd {total:,.2f}"
        why = f", reason {self.reason!r}" if self.reason else ""
        return f"<BaselineResult {self.name!r}: status {self.status}, {rows}{cost}{why}>"


def plan_frame(
    problem: optimize.Problem,
    series: dict[str, np.ndarray],
    job_mw: dict[str, np.ndarray],
    gen_mw: dict[str, np.ndarray],
) -> pd.DataFrame:
    """A plan's rows with the optimum's columns, in its order: `series` maps column names
    to MW (MWh for the state of charge) per step, `job_mw` job id -> IT MW, `gen_mw`
    generator name -> MW; the prices, carbon and facility come from `problem`. Like the
    optimum's, `emissions_t` (each step's t CO2e) follows the carbon intensity and one
    `gen_<name>_mw` per generator the job columns; the power-flow columns are NaN
    (baselines get no AC check). Then `<limit>_breach_mw` (`limits.breach_columns`)."""
    n, grid, fac = problem.n_steps, problem.grid, problem.facility
    gens = {f"gen_{g.name}_mw": np.asarray(gen_mw[g.name], dtype=float) for g in problem.generators}
    series = {
        "price_usd_per_mwh": grid.import_price_usd_per_mwh,
        "carbon_g_per_kwh": grid.carbon_g_per_kwh,
        **series,
    }
    cols = {
        c: series.get(c, np.full(n, np.nan) if c in POWERFLOW_COLUMNS else np.zeros(n))
        for c in TIMESERIES_COLUMNS
    }
    # all columns at once: one insert per job (416 in a year) fragments the frame
    cols |= {f"job_{jid}_mw": job_mw[jid] for jid in sorted(job_mw)}
    cols |= gens
    cols["inference_it_mw"] = fac.inference_it_mw
    cols["pue"] = fac.pue
    cols |= breach_columns(problem, cols)
    frame = pd.DataFrame(cols)
    insert_emissions_t(frame, problem, grid)  # where the pipeline puts the optimum's
    return frame
