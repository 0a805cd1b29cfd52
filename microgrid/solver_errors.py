"""Solver failures caused by input numbers, as one-line input errors naming the field.

``optimize`` reports where an out-of-range number sits in the model (a Pyomo component,
``optimize.NumericRangeError``) or which components hold the largest numbers when HiGHS
fails without an answer (``SolveError.suspects``); this module names the scenario fields
that feed those components.
"""

from __future__ import annotations

import pandas as pd

import optimize
from microgrid.errors import InputError
from microgrid.scenario import Scenario

# Pyomo component (variable or constraint) -> the scenario field whose numbers it carries
COMPONENT_FIELDS = {
    "grid_import_mw": "grid.import_adder_usd_per_mwh",
    "grid_export_mw": "grid.export_adder_usd_per_mwh",
    "grid_peak_import_mw": "grid.demand_charge_usd_per_kw_month",
    "grid_peak_def": "grid.import_max_mw",
    "grid_ramp_up": "grid.ramp_mw_per_h",
    "grid_ramp_down": "grid.ramp_mw_per_h",
    "grid_dr_cap": "events.demand_response",
    "battery_charge_mw": "battery.power_mw",
    "battery_discharge_mw": "battery.power_mw",
    "battery_soc_mwh": "battery.energy_mwh",
    "battery_soc_balance": "battery.charge_efficiency",
    "battery_soc_final": "battery.soc_final_frac",
    "gen_mw": "generators",
    "carbon_budget": "objective.carbon_budget_t",
    "power_balance": "datacenter",
    "facility_it_capacity": "datacenter.it_capacity_mw",
    "network_cut": "network",
}

# a cost (objective coefficient) on these variables comes from another field
COST_FIELDS = {
    "grid_import_mw": "signals.price_column",
    "grid_export_mw": "signals.price_column",
    "battery_charge_mw": "battery.wear_usd_per_mwh",
    "battery_discharge_mw": "battery.wear_usd_per_mwh",
    "job_unfinished_h": "objective.unfinished_work_penalty_usd_per_h",
}
# what a cost on these variables is made of, for the message
COST_NOTE = {
    "grid_import_mw": "the import price (signals price column + grid.import_adder_usd_per_mwh)",
    "grid_export_mw": "the export price (signals price column + grid.export_adder_usd_per_mwh)",
}


def field_of(component: str, index=None, part: str = "") -> str:
    """The scenario field (dotted path) that feeds a Pyomo component of the model
    (``part="cost"``: the field its objective coefficient comes from)."""
    if part == "cost" and component in COST_FIELDS:
        return COST_FIELDS[component]
    if component == "renewable_used_mw" and isinstance(index, tuple):
        return str(index[0])  # "pv" or "wind"
    if component.startswith("job_"):
        return "jobs"
    return COMPONENT_FIELDS.get(component, "")


def _when(index, times: pd.DatetimeIndex | None, tz: str) -> str:
    """' at <local time>' for a step index of a time-indexed component, else ''."""
    step = index[-1] if isinstance(index, tuple) else index
    if times is None or not isinstance(step, int) or not 0 <= step < len(times):
        return ""
    return f" at {times[step].tz_convert(tz):%Y-%m-%d %H:%M %Z}"


# a solver stop without any schedule: status -> (solver field, what it is, its unit)
_LIMITS = {
    "time_limit": ("time_limit_s", "time limit", "s"),
    "node_limit": ("node_limit", "node limit", "nodes"),
}


def solver_failure(
    scenario: Scenario, exc: optimize.SolveError, times: pd.DatetimeIndex | None = None
) -> InputError:
    """An input error for a solver failure, on the field most likely to cause it;
    ``times``: the step start times (UTC), to say when an out-of-range number occurs."""
    if isinstance(exc, optimize.NumericRangeError):
        field = field_of(exc.component, exc.index, exc.part)
        what = COST_NOTE.get(exc.component, "") if exc.part == "cost" else ""
        when = _when(exc.index, times, scenario.site.timezone)
        return scenario.error(
            f"a number is beyond what the solver can handle{when}: {exc}"
            + (f"; it is {what}" if what else "")
            + " (check the value and its units)",
            field=field or None,
        )
    if exc.status in _LIMITS:
        name, what, unit = _LIMITS[exc.status]
        return scenario.error(
            f"no feasible plan found within the solver's {what} "
            f"({getattr(scenario.solver, name)} {unit}): raise it or shorten the period",
            field=f"solver.{name}",
        )
    suspects = [s for s in exc.suspects if field_of(s.component, s.index, s.part)]
    if not suspects:
        return scenario.error(f"the solver failed: {exc}")
    big = max(suspects, key=lambda s: abs(s.value))
    field = field_of(big.component, big.index, big.part)
    return scenario.error(
        f"the solver failed ({exc}); the largest {big.part} in the model is "
        f"{big.value:.6g} on {big.component}: check this field's value and units",
        field=field,
    )
