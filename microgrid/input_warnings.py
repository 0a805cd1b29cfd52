"""What a run's figures cannot show, as warnings: a demand window, coincident-peak
interval or alert window shorter than the step, billed or priced on the step's average;
carbon so small it may be in kg/kWh; a weekly job none of whose weeks lies inside the
period. `validate` and `run` print each as a `warning:`
line; summary.json keeps them under `warnings`."""

from __future__ import annotations

import numpy as np

from microgrid.assemble import Inputs
from microgrid.carbon_units import looks_like_kg_per_kwh, too_low_warning
from microgrid.coincident_peak_warning import coincident_peak_warnings
from microgrid.demand_window_warning import demand_window_warnings
from microgrid.scenario import Scenario
from microgrid.wall_time import local_time_text

# Weekly jobs named in one warning; the rest are counted
_NAMED_JOBS = 5


def input_warnings(scenario: Scenario, inputs: Inputs) -> list[str]:
    """The demand windows' warnings, the coincident peaks', the carbon's, then the
    weekly jobs'."""
    carbon = inputs.frame["carbon_g_per_kwh"].to_numpy()
    return (
        demand_window_warnings(scenario)
        + coincident_peak_warnings(scenario)
        + carbon_unit_warnings(scenario, carbon)
        + unplaced_weekly_warnings(scenario, inputs)
    )


def unplaced_weekly_warnings(scenario: Scenario, inputs: Inputs) -> list[str]:
    """A warning naming the `repeat: weekly` jobs of which no week's window lies wholly
    inside the period: they are not planned at all, where a once-job would be refused."""
    if scenario.jobs.repeat != "weekly":
        return []
    placed = {inst.spec.id for inst in inputs.jobs}
    missing = [job_id for job_id in inputs.job_ids if job_id not in placed]
    if not missing:
        return []
    named = ", ".join(repr(job_id) for job_id in missing[:_NAMED_JOBS])
    more = f" and {len(missing) - _NAMED_JOBS:,} more" if len(missing) > _NAMED_JOBS else ""
    tz = scenario.site.timezone
    start, end = scenario.to_utc(scenario.period.start), scenario.to_utc(scenario.period.end)
    period = f"the period {local_time_text(start, tz)} to {local_time_text(end, tz)}"
    if len(missing) == 1:
        return [
            f"the weekly job {named} has no week whose window lies wholly inside {period}: "
            "it is not planned; move its window or the period"
        ]
    return [
        f"{len(missing):,} of the weekly jobs ({named}{more}) have no week whose window lies "
        f"wholly inside {period}: they are not planned; move their windows or the period"
    ]


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
