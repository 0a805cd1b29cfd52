"""The hours a rate's TOU period covers, in words, for the bill's line labels.

A bill line `energy_period_<n>` or `demand_tou_<n>` is URDB period n - 1 (URDB numbers
periods from 0 in its schedules and structures). A rate file has no name for a period
(no on-peak or off-peak field), so the label says when the period applies instead: the
local hours of its weekday and weekend schedules in the months the run covers, e.g.
"weekdays 14:00-19:00" or "Jun-Sep: weekdays 12:00-18:00; Oct: weekdays 17:00-21:00".
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from microgrid.tariffs.urdb import Schedule, UrdbRate

HOURS_PER_DAY = 24


def hour_ranges_text(hours: list[int]) -> str:
    """Sorted local hours (0-23) as clock ranges, end exclusive: [14..18] -> "14:00-19:00",
    all 24 -> "all day"; the night as its two ranges ("00:00-06:00, 22:00-24:00")."""
    if len(hours) == HOURS_PER_DAY:
        return "all day"
    runs: list[list[int]] = []
    for h in hours:
        if runs and runs[-1][1] == h:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    return ", ".join(f"{a:02d}:00-{b:02d}:00" for a, b in runs)


def _days_text(weekday: list[int], weekend: list[int]) -> str:
    """The hours of both day types in words ("" when neither has any)."""
    if weekday == weekend:
        if len(weekday) == HOURS_PER_DAY:
            return "all hours"
        return f"every day {hour_ranges_text(weekday)}" if weekday else ""
    parts = [f"weekdays {hour_ranges_text(weekday)}"] if weekday else []
    if weekend:
        parts.append(f"weekends {hour_ranges_text(weekend)}")
    return ", ".join(parts)


def _months_text(months0: list[int]) -> str:
    """Calendar months (0-based, sorted) as abbreviations, runs joined: "Jan-May, Oct"."""
    runs: list[list[int]] = []
    for m in months0:
        if runs and runs[-1][1] == m - 1:
            runs[-1][1] = m
        else:
            runs.append([m, m])
    names = calendar.month_abbr
    return ", ".join(names[a + 1] if a == b else f"{names[a + 1]}-{names[b + 1]}" for a, b in runs)


def period_hours_text(weekday: Schedule, weekend: Schedule, period: int, months0: list[int]) -> str:
    """When 0-based `period` applies in the calendar months `months0` (0 = January): one
    text where those months agree, else per group of months ("Jul: ...; Aug: ...")."""
    groups: dict[str, list[int]] = {}
    for m in sorted(set(months0)):
        wd = [h for h in range(HOURS_PER_DAY) if weekday[m][h] == period]
        we = [h for h in range(HOURS_PER_DAY) if weekend[m][h] == period]
        text = _days_text(wd, we)
        if text:
            groups.setdefault(text, []).append(m)
    if not groups:
        return "no hours in the run's months"
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(set(months0)):
        return next(iter(groups))
    return "; ".join(f"{_months_text(ms)}: {text}" for text, ms in groups.items())


def period_line_hours(rate: UrdbRate, index: pd.DatetimeIndex, timezone: str) -> dict[str, str]:
    """Bill line item (`energy_period_<n>`, `demand_tou_<n>`, n = URDB period + 1) -> the
    hours its period covers in the local calendar months of `index`, for every energy
    and demand period of the rate."""
    months0 = np.unique(np.asarray(index.tz_convert(timezone).month) - 1).tolist()
    out = {}
    pairs = (
        ("energy_period", rate.energyweekdayschedule, rate.energyweekendschedule,
         rate.energyratestructure),
        ("demand_tou", rate.demandweekdayschedule, rate.demandweekendschedule,
         rate.demandratestructure),
    )  # fmt: skip
    for line, weekday, weekend, structure in pairs:
        if weekday is None or weekend is None:
            continue
        for p in range(len(structure)):
            out[f"{line}_{p + 1}"] = period_hours_text(weekday, weekend, p, months0)
    return out
