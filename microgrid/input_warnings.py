"""What a run's figures cannot show, as warnings: a demand window, coincident-peak
interval or alert window shorter than the step, billed or priced on the step's average.
`validate` and `run` print each as a `warning:` line; summary.json keeps them under
`warnings`."""

from __future__ import annotations

from microgrid.coincident_peak_warning import coincident_peak_warnings
from microgrid.demand_window_warning import demand_window_warnings
from microgrid.scenario import Scenario


def input_warnings(scenario: Scenario) -> list[str]:
    """The demand windows' warnings, then the coincident peaks'."""
    return demand_window_warnings(scenario) + coincident_peak_warnings(scenario)
