"""What a run's figures cannot show, as warnings: a demand window, coincident-peak
interval or alert window shorter than the step, billed or priced on the step's average;
carbon so small it may be in kg/kWh. `validate` and `run` print each as a `warning:`
line; summary.json keeps them under `warnings`."""

from __future__ import annotations

import numpy as np

from microgrid.carbon_units import looks_like_kg_per_kwh, too_low_warning
from microgrid.coincident_peak_warning import coincident_peak_warnings
from microgrid.demand_window_warning import demand_window_warnings
from microgrid.scenario import Scenario


def input_warnings(scenario: Scenario, carbon_g_per_kwh: np.ndarray) -> list[str]:
    """The demand windows' warnings, the coincident peaks', then the carbon's;
    `carbon_g_per_kwh`: the grid's intensity at each step of the period."""
    return (
        demand_window_warnings(scenario)
        + coincident_peak_warnings(scenario)
        + carbon_unit_warnings(scenario, carbon_g_per_kwh)
    )


def carbon_unit_warnings(scenario: Scenario, carbon_g_per_kwh: np.ndarray) -> list[str]:
    """A warning for the grid's carbon over the period, and for each generator's, whose
    largest value looks like kg/kWh (`carbon_units`). Warned, not refused: real g/kWh
    can be that small."""
    found = []
    grid = np.asarray(carbon_g_per_kwh, dtype=float)
    if len(grid) and looks_like_kg_per_kwh(float(grid.max())):
        found.append(too_low_warning(_grid_carbon_source(scenario), float(grid.max())))
    for i, gen in enumerate(scenario.generators):
        if looks_like_kg_per_kwh(gen.carbon_g_per_kwh):
            found.append(too_low_warning(f"generators.{i}.carbon_g_per_kwh", gen.carbon_g_per_kwh))
    return found


def _grid_carbon_source(scenario: Scenario) -> str:
    """Where the grid's carbon comes from: the file's column (its name alone, as
    summary.json names files), the time-of-use bands or the constant."""
    signals = scenario.signals
    if signals.csv is not None:
        return f"{signals.csv.name}, column {signals.carbon_column}"
    if signals.time_of_use is not None:
        return "signals.time_of_use (carbon_g_per_kwh)"
    return "signals.carbon_g_per_kwh"
