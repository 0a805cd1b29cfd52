"""Warnings where a coincident-peak interval or alert window is shorter than the step.

The tag of a 4CP or 5CP charge is the site's import averaged over each system-peak
interval (ERCOT: 15 minutes; PJM: an hour). The model has one value per step, so an
interval shorter than the step takes the average of the step that holds it
(microgrid/coincident_peak.py): a spike inside the interval is billed at the step's
mean (an under-bill), and a curtailment for the interval alone earns no credit. The
two differ by what the load does inside the step, which the model cannot see. An alert
window shorter than a step prices, and asks the plan to curtail, the whole steps it
meets. `validate` and `run` print these as `warning:` lines beside the demand windows'
(microgrid/demand_window_warning.py); summary.json keeps them under `warnings`. Files
are named by their name only, as summary.json names the scenario.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from microgrid.coincident_peak import CpAlert, load_coincident_peaks
from microgrid.scenario import Scenario


def _interval_warning(interval_min: int, step_min: int, mode: str) -> str:
    text = (
        f"grid.coincident_peaks.interval_minutes is {interval_min} minutes but the steps "
        f"are {step_min} minutes: each coincident-peak interval is billed on the import "
        f"averaged over the step that holds it, not over its own {interval_min} minutes, "
        f"so the tag and the charge can differ either way from a meter's (a spike inside "
        f"the interval is billed at the step's mean, an under-bill; a curtailment for the "
        f"interval alone earns no credit)"
    )
    if mode == "alerts":
        text += (
            f"; each alert day's expected charge is likewise on the window's highest "
            f"{step_min}-minute average, at most its highest {interval_min}-minute one"
        )
    return text + f"; steps of {interval_min} minutes or a divisor of it bill the intervals"


def _window_text(alert: CpAlert, timezone: str) -> str:
    start, end = (t.tz_convert(timezone) for t in (alert.start_utc, alert.end_utc))
    return f"{alert.day} {start:%H:%M}-{end:%H:%M}"


def _alert_window_warning(short: list[CpAlert], step_min: int, file_name: str, tz: str) -> str:
    shortest_min = min((a.end_utc - a.start_utc) / pd.Timedelta(minutes=1) for a in short)
    many = len(short) > 1
    return (
        f"{len(short)} alert window{'s' if many else ''} in {file_name} "
        f"{'are' if many else 'is'} shorter than the {step_min}-minute steps (the first "
        f"{_window_text(short[0], tz)}, the shortest {shortest_min:g} minutes): an alert's "
        f"expected charge is on the import of the whole steps its window meets, so the "
        f"plan prices and curtails whole steps for a shorter window; steps of at most "
        f"{shortest_min:g} minutes that meet the windows' times keep to them"
    )


def coincident_peak_warnings(scenario: Scenario) -> list[str]:
    """A warning where `grid.coincident_peaks.interval_minutes` is shorter than the step,
    and one for the alert windows (mode "alerts") shorter than a step."""
    cp = scenario.grid.coincident_peaks
    if cp is None:
        return []
    step_min = scenario.period.step_minutes
    out = []
    if cp.interval_minutes < step_min:
        out.append(_interval_warning(cp.interval_minutes, step_min, cp.mode))
    if cp.mode == "alerts":
        case = load_coincident_peaks(scenario)
        step = pd.Timedelta(minutes=step_min)
        short = [a for a in case.alerts if a.end_utc - a.start_utc < step]
        if short:
            name = Path(cp.alerts_csv).name
            out.append(_alert_window_warning(short, step_min, name, case.timezone))
    return out
