"""The limits a plan breaks, measured on its rows: the same keys as the closed loop's
`summary["operate"]["limit_breaches"]` (`microgrid/operate/record.py`), so one CLI
formatter prints both.

Per limit `name` in `import` (the import limit, 0 in an outage), `ramp` (on net import,
step 0 against the initial net import when given), `dr_cap` (the demand-response cap
on net import) and `it_capacity` (IT load above the campus's installed IT capacity: a rule
starts each job at its release whatever else runs): the fields of
`microgrid.breaches.breach_fields`; `import_breach_mwh` (energy over the limit: load a
site in an outage could not serve), `dr_cap_breach_mwh` (energy imported above the
demand-response caps), and `soc_final_short_mwh` (stored
energy below the final state of charge the optimizer must reach; 0 when kept or when the
scenario sets none), and with a carbon budget (`objective.carbon_budget_t`)
`carbon_budget_over_t` (the plan's emissions above it, t; 0 when kept): a plan over the
budget does not keep every limit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

import optimize
from microgrid.breaches import breach_fields

#: Excess below this (MW, MWh) is rounding, not a breach: the optimizer's own tolerance.
TOL = 1e-6
#: The limits measured step by step (`excess_mw`), in the order of the summary's fields.
LIMITS = ("import", "ramp", "dr_cap", "it_capacity")


def excess_mw(problem: optimize.Problem, rows: Mapping) -> dict[str, np.ndarray]:
    """Per step, how far the plan goes beyond each limit (MW; 0 where kept)."""
    grid, step_h = problem.grid, problem.step_h
    imp = np.asarray(rows["grid_import_mw"], dtype=float)
    net = imp - np.asarray(rows["grid_export_mw"], dtype=float)
    out = {"import": np.maximum(imp - grid.import_max_mw, 0.0)}
    ramp = np.zeros_like(net)
    if grid.ramp_mw_per_h is not None:
        before = np.concatenate(([np.nan if grid.initial_net_import_mw is None
                                  else grid.initial_net_import_mw], net[:-1]))  # fmt: skip
        jump = np.nan_to_num(np.abs(net - before), nan=0.0)
        ramp = np.maximum(jump - grid.ramp_mw_per_h * step_h, 0.0)
    out["ramp"] = ramp
    cap = grid.net_import_cap_mw
    dr = np.zeros_like(net)
    if cap is not None:
        dr = np.where(np.isnan(cap), 0.0, np.maximum(net - np.nan_to_num(cap), 0.0))
    out["dr_cap"] = dr
    cap_mw = problem.facility.it_capacity_mw
    if cap_mw is not None and "it_load_mw" in rows:  # jobs a rule starts beside the others
        out["it_capacity"] = np.maximum(np.asarray(rows["it_load_mw"], dtype=float) - cap_mw, 0.0)
    return {k: np.where(v > TOL, v, 0.0) for k, v in out.items()}


def breach_columns(problem: optimize.Problem, rows: Mapping) -> dict[str, np.ndarray]:
    """Each limit's excess per step (`excess_mw`) as the column `<limit>_breach_mw` (MW;
    0 where kept or where the scenario sets no such limit): a baseline's rows carry all
    four, so every baseline's file has the same columns."""
    excess = excess_mw(problem, rows)
    n = problem.n_steps
    return {f"{name}_breach_mw": excess.get(name, np.zeros(n)) for name in LIMITS}


def soc_final_short_mwh(problem: optimize.Problem, rows: Mapping) -> float:
    """Stored energy (MWh) below the final state of charge at the end (0 when kept)."""
    b = problem.battery
    if b is None or b.soc_final_frac is None:
        return 0.0
    soc = np.asarray(rows["battery_soc_mwh"], dtype=float)
    short = b.soc_final_frac * b.energy_mwh - float(soc[-1])
    return short if short > TOL else 0.0


def carbon_budget_over_t(problem: optimize.Problem, emissions_t: float) -> float:
    """Emissions (t) above the carbon budget (0 when kept, within the solver's relative
    tolerance, or with no budget)."""
    budget_t = problem.objective.carbon_budget_t
    if budget_t is None:
        return 0.0
    over = emissions_t - budget_t
    return over if over > TOL * max(1.0, abs(budget_t)) else 0.0


def limit_breaches(
    problem: optimize.Problem,
    rows: Mapping,
    index: pd.DatetimeIndex,
    emissions_t: float | None = None,
) -> dict:
    """The breaches of a plan (`rows`: column -> array, a results frame works) as in the
    module text; `index` the UTC time stamps of the steps; `emissions_t` the plan's
    emissions (`cost_breakdown`'s), measured against the carbon budget if there is one."""
    out: dict = {}
    for name, excess in excess_mw(problem, rows).items():
        out.update(breach_fields(name, excess, index))
        if name in ("import", "dr_cap"):
            out[f"{name}_breach_mwh"] = float(excess.sum() * problem.step_h)
    out["soc_final_short_mwh"] = soc_final_short_mwh(problem, rows)
    if problem.objective.carbon_budget_t is not None:
        if emissions_t is None:
            raise ValueError("a plan under a carbon budget needs its emissions_t")
        out["carbon_budget_over_t"] = carbon_budget_over_t(problem, emissions_t)
    return out


def keeps_all(breaches: Mapping) -> bool:
    """True when a plan breaks no limit."""
    steps = sum(int(v) for k, v in breaches.items() if k.endswith("_breach_steps"))
    short = breaches.get("soc_final_short_mwh", 0.0)
    return steps == 0 and short == 0.0 and breaches.get("carbon_budget_over_t", 0.0) == 0.0
