"""Cost accounting of a dispatch time series, the same as the optimizer's objective.

One function, `cost_breakdown`, prices any plan (the optimum, a baseline) on the
`optimize.Problem` it was made for. It reproduces `optimize.Dispatch.costs` term by term
(tests/microgrid/test_baselines.py checks it on the optimum to 1e-6 relative):

- `bill`: the grid bill, line item + `_usd` -> USD (`optimize.bill.grid_bill`: energy price
  parts, export parts, each demand charge on its billed peak, tiered energy).
- `energy_usd`: the bill's lines other than demand charges: Σ_t step_h · (import[t] ·
  import_price[t] − export[t] · export_price[t]) plus tiered energy (negative prices mean
  paying to export).
- `demand_usd`: the bill's demand-charge lines: Σ over `Grid.peak_charges` of USD per MW ×
  billed demand (the charge's peak import, or a ratchet).
- `fuel_usd`: Σ_g fuel_usd_per_mwh_g · step_h · Σ_t gen_g[t].
- `wear_usd`: wear_usd_per_mwh · step_h · Σ_t battery_discharge[t].
- `emissions_t`: step_h · (Σ_t import[t] · carbon[t] + Σ_g,t gen_g[t] · carbon_g) / 1000.
- `carbon_usd`: carbon price × emissions_t.
- `unfinished_penalty_usd`: unfinished-work penalty × unfinished job hours (0 if unpriced).
- `dr_program_usd`: the demand-response program's penalty less its payments
  (`optimize.dr_settlement.settle`) at the plan's commitment; 0 for a plan that takes no part.

`total_cost_usd` (as in summary.json, before the tariff's fixed charge) is energy + demand
+ fuel + wear + unfinished penalty + DR program; `objective_usd` adds the carbon cost (what
the optimizer minimises).

`pct_of_cost` gives a saving or a difference between two totals as a share of one of
them, only where both are costs (the baselines' savings, operate's plan reference).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

import optimize
from optimize.bill import grid_bill, split_bill
from optimize.dr_settlement import settle

TOTAL_KEYS = (
    "energy_usd",
    "demand_usd",
    "fuel_usd",
    "wear_usd",
    "unfinished_penalty_usd",
    "dr_program_usd",
)


#: A total below this (USD) is a net revenue, not a cost.
NET_REVENUE_BELOW_USD = -1e-9


def pct_of_cost(amount_usd: float, base_usd: float, other_usd: float) -> float | None:
    """`amount_usd` (a saving or a difference between the totals `base_usd` and
    `other_usd`) in % of `base_usd`; None where no share of a cost means anything: the
    base 0, or either total a net revenue (R1's plan earns 39,841 USD net: its saving
    against asap read as "101.1 %" of asap's cost, and operate's +1,095,623 USD against it
    as "+2,750.0 %")."""
    if abs(base_usd) < 1e-9 or min(base_usd, other_usd) < NET_REVENUE_BELOW_USD:
        return None
    return 100.0 * amount_usd / base_usd


def _col(series: Mapping, name: str, n: int) -> np.ndarray:
    if name in series:
        arr = np.asarray(series[name], dtype=float)
        if arr.shape != (n,):
            raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
        return arr
    return np.zeros(n)


def generator_series(
    problem: optimize.Problem, series: Mapping, gen_mw: Mapping | None = None
) -> dict[str, np.ndarray]:
    """Per-generator MW: `gen_mw[name]` when given, else `backup_gen_mw` for one generator."""
    n = problem.n_steps
    if gen_mw is not None:
        return {g.name: _col(gen_mw, g.name, n) for g in problem.generators}
    total = _col(series, "backup_gen_mw", n)
    if not problem.generators:
        if np.any(np.abs(total) > 1e-9):
            raise ValueError("backup_gen_mw is non-zero but the problem has no generators")
        return {}
    if len(problem.generators) > 1:
        raise ValueError(
            "several generators: pass gen_mw (MW per generator) to price them separately"
        )
    return {problem.generators[0].name: total}


def step_emissions_t(problem: optimize.Problem, grid: optimize.Grid, series: Mapping) -> np.ndarray:
    """t CO2e of each step: step_h · (import[t] · carbon[t] + Σ_g gen_g[t] · carbon_g) /
    1000, the terms of `emissions_t` step by step (their sum is it, to rounding). `grid`
    gives the intensity (operate: the plant's); `series` the import and the generators'
    output (`gen_<name>_mw` per unit where it has them, else `backup_gen_mw`)."""
    n = problem.n_steps
    imp = _col(series, "grid_import_mw", n)
    g_per_kwh = imp * np.asarray(grid.carbon_g_per_kwh, dtype=float)
    per_unit = {g.name: f"gen_{g.name}_mw" for g in problem.generators}
    units = {name: series[col] for name, col in per_unit.items() if col in series}
    gens = generator_series(problem, series, units if units else None)
    for g in problem.generators:
        g_per_kwh = g_per_kwh + g.carbon_g_per_kwh * gens.get(g.name, np.zeros(n))
    return g_per_kwh * problem.step_h / 1000.0


def insert_emissions_t(ts: pd.DataFrame, problem: optimize.Problem, grid: optimize.Grid) -> None:
    """Add `step_emissions_t` of the rows `ts` as the column `emissions_t`, right after
    `carbon_g_per_kwh`, where a time series (the plan's, a baseline's) has it."""
    after_carbon = ts.columns.get_loc("carbon_g_per_kwh") + 1
    ts.insert(after_carbon, "emissions_t", step_emissions_t(problem, grid, ts))


def cost_breakdown(
    problem: optimize.Problem,
    series: Mapping,
    *,
    gen_mw: Mapping | None = None,
    unfinished_h: float = 0.0,
    dr_commit_mw: float | None = None,
) -> dict:
    """Costs of a plan: `series` maps column names (`grid_import_mw`, `grid_export_mw`,
    `battery_discharge_mw`, `backup_gen_mw`) to arrays of length `problem.n_steps` (a
    results time-series DataFrame works). Keys as `optimize.Dispatch.costs` plus
    `total_cost_usd`, `objective_usd` and `bill` (line item + `_usd` -> USD).
    `dr_commit_mw`: the plan's commitment to the problem's DR program, settled on its net
    import; None: the plan takes no part in it (`dr_program_usd` 0)."""
    n, step_h, grid = problem.n_steps, problem.step_h, problem.grid
    imp = _col(series, "grid_import_mw", n)
    exp = _col(series, "grid_export_mw", n)
    dis = _col(series, "battery_discharge_mw", n)
    gens = generator_series(problem, series, gen_mw)

    bill = grid_bill(grid, step_h, imp, exp)
    energy, demand = split_bill(grid, bill)
    fuel = 0.0
    emissions = float(np.dot(imp, grid.carbon_g_per_kwh)) * step_h / 1000.0
    for g in problem.generators:
        p = gens.get(g.name, np.zeros(n))
        fuel += g.fuel_usd_per_mwh * step_h * float(p.sum())
        emissions += g.carbon_g_per_kwh * step_h * float(p.sum()) / 1000.0
    wear = 0.0
    if problem.battery is not None:
        wear = problem.battery.wear_usd_per_mwh * step_h * float(dis.sum())
    penalty = (problem.objective.unfinished_work_penalty_usd_per_h or 0.0) * unfinished_h
    out = {
        "energy_usd": energy,
        "demand_usd": demand,
        "fuel_usd": fuel,
        "wear_usd": wear,
        "carbon_usd": problem.objective.carbon_price_usd_per_t * emissions,
        "unfinished_penalty_usd": penalty,
        "dr_program_usd": 0.0,
        "emissions_t": emissions,
    }
    if problem.dr_program is not None and dr_commit_mw is not None:
        dr = settle(problem.dr_program, step_h, imp - exp, dr_commit_mw)
        out["dr_program_usd"] = dr.net_cost_usd
        bill = {**bill, **dr.bill()}
    out["total_cost_usd"] = sum(out[k] for k in TOTAL_KEYS)
    out["objective_usd"] = out["total_cost_usd"] + out["carbon_usd"]
    out["bill"] = bill
    return out
