"""Wall time at a site and UTC: the scenario's and its data files' times, and the steps
of a regular UTC index. UTC inside; a naive time is wall time in the site's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from microgrid.scenario_checks import local_time_problem


def known_timezone(name: str) -> str:
    """An IANA zone that both zoneinfo and pandas accept (pandas refuses `localtime`)."""
    try:
        ZoneInfo(name)
        pd.Timestamp("2000-01-01").tz_localize(name)
    except (ZoneInfoNotFoundError, KeyError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as UTC)") from None
    return name


def check_order(start: datetime, end: datetime) -> None:
    """End after start; both local (no offset) or both with an offset, so they compare."""
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError("give start and end both with a UTC offset or both without")
    if end <= start:
        raise ValueError("end must be after start")


def wall_time_utc(t: datetime, zone: str, offset_allowed: bool = True) -> pd.Timestamp:
    """`t` as UTC; a naive `t` is wall time in `zone`. ValueError in the words the YAML's
    own times get (`local_time_problem`) when that wall time falls in a DST gap or overlap."""
    why = local_time_problem(pd.Timestamp(t).to_pydatetime(warn=False), zone, offset_allowed)
    if why:
        raise ValueError(why)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize(zone)
    return ts.tz_convert("UTC")


def parse_time_utc(text: str, zone: str, offset_allowed: bool = True) -> pd.Timestamp:
    """An ISO 8601 time from a data file as UTC; without an offset it is wall time in
    `zone`. ValueError naming the text when it is no time or no single instant."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"not a time: {text!r} ({exc})") from None
    if pd.isna(ts):
        raise ValueError(f"not a time: {text!r} (ISO 8601, such as 2023-08-25T19:00)")
    return wall_time_utc(ts, zone, offset_allowed)


def step_of(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The step of a regular UTC index (its freq, else its first difference, else 1 h)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq)
    return index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)


def overlap_mask(
    index: pd.DatetimeIndex, start_utc: pd.Timestamp, end_utc: pd.Timestamp
) -> np.ndarray:
    """bool per step of a regular UTC index: the step overlaps [start_utc, end_utc)."""
    step = step_of(index)
    return np.asarray((index < end_utc) & (index + step > start_utc))


def local_minute_label(t_utc: pd.Timestamp, zone: str) -> str:
    """`t_utc` as local wall time to the minute with its UTC offset,
    "2023-11-05T01:00-05:00": the offset tells apart the two readings of an hour the
    clocks repeat, so a label made of it names one instant."""
    return t_utc.tz_convert(zone).isoformat(timespec="minutes")


def local_time_text(t_utc: pd.Timestamp, zone: str) -> str:
    """`t_utc` as the site's wall time with its zone's name, "2023-08-02 00:00 EDT", as
    messages give times (a user writes local times)."""
    return f"{t_utc.tz_convert(zone):%Y-%m-%d %H:%M %Z}"


def demand_interval(
    index: pd.DatetimeIndex, timezone: str, step_h: float, window_minutes: float | None
) -> tuple[int, int]:
    """``(interval_steps, interval_phase)`` of ``optimize.PeakCharge`` for a demand window of
    ``window_minutes`` at these steps: ``(1, 0)`` where the window is no longer than a
    step (None: the step); else the window in steps, its intervals following one another
    on the local clock (the phase: steps of the first interval before step 0). The window
    must divide the hour, so that its intervals meet the clock's hours on every day and
    across a clock change. ValueError where the steps cannot meet the window."""
    step_min = round(step_h * 60)
    window = window_minutes or 0
    if window <= step_min or len(index) == 0:
        return 1, 0
    if window % step_min or 60 % window:
        # a window that divides the hour stays on the local clock across a clock change
        # (whole hours) and from one day to the next; a 105- or 120-minute one would not
        raise ValueError(
            f"a demand window of {window:g} minutes must divide the hour and be a whole "
            f"number of the {step_min}-minute steps"
        )
    first = index[0].tz_convert(timezone)
    offset_min = (first.hour * 60 + first.minute) % int(window)
    if offset_min % step_min:
        raise ValueError(
            f"the {step_min}-minute steps start {offset_min} minutes into a {window:g}-minute "
            "demand window of the local clock; the steps must meet its boundaries"
        )
    return int(window) // step_min, offset_min // step_min
