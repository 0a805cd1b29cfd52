"""A warning where a demand charge's window is shorter than the run's step.

A utility bills demand on the highest average import over its demand window (URDB's
`demandwindow`, the scenario's `grid.demand_window_minutes`). The model has one value per
step, so a window shorter than the step is billed on the step's average, which is at
most the highest window average inside that step and usually below it: the bill and the
plan's demand cost are too low, by an amount the model cannot see (docs/tariffs.md).
`validate` and `run` print it as a `warning:` line; summary.json keeps it under
`warnings`. The text names the rate file by its name only, as summary.json names the
scenario (no user's folders).
"""

from __future__ import annotations

from pathlib import Path

from microgrid.scenario import Scenario
from microgrid.tariffs import scenario_rate
from microgrid.tariffs.to_grid import has_demand_charges


def _warning(source: str, window_min: float, step_min: int, what: str) -> str:
    return (
        f"{source} is {window_min:g} minutes but the steps are {step_min} minutes: {what} "
        f"billed on each step's average import, which can be below the highest "
        f"{window_min:g}-minute average a meter bills (an under-bill the model cannot see); "
        f"steps of {window_min:g} minutes or a divisor of it bill the meter's intervals"
    )


def demand_window_warnings(scenario: Scenario) -> list[str]:
    """One warning per demand charge whose window is shorter than the step: the flat
    monthly charge's `grid.demand_window_minutes` and the tariff's `demandwindow`, where
    they bill a demand charge at all."""
    step_min = scenario.period.step_minutes
    g = scenario.grid
    out = []
    window = g.demand_window_minutes
    if g.demand_charge_usd_per_kw_month > 0 and window and window < step_min:
        what = "the monthly demand charge is"
        out.append(_warning("grid.demand_window_minutes", window, step_min, what))
    rate = scenario_rate(scenario)
    if rate is not None and has_demand_charges(rate):
        window = rate.demandwindow
        if window and window < step_min:
            source = f"the tariff's demandwindow ({Path(rate.path).name})"
            out.append(_warning(source, window, step_min, "its demand charges are"))
    return out
