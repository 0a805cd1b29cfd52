"""Where the report's time axes put UTC instants, and how they name local time.

Plotly's date axes know no time zones: a date is drawn where its digits say. Local
wall-clock times cannot be the x values: when the clocks go back an hour repeats
(2023-11-05 01:00 in Chicago is first CDT, then CST) and would be drawn with zero width,
and when they go forward an hour is skipped and would leave a gap. So a figure's x values
are its UTC instants shifted by ONE UTC offset, the site's offset for most of the period:
they increase with time, each step is as wide as it lasts, and for a period without a
clock change they are exactly the site's wall-clock time. Where the clocks change inside
the period, a dotted line marks the instant, labelled with the clock before and after, and
the hover gives each step's wall-clock time with its zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# hover and tick format of an axis time (d3-time-format): weekday, date, hour and minute
HOVER_FORMAT = "%a %Y-%m-%d %H:%M"
CHANGE_LINE = {"color": "#555555", "dash": "dot", "width": 1}


def offset_text(offset: pd.Timedelta) -> str:
    """A UTC offset as "UTC-05:00" ("UTC" for zero)."""
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "UTC"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"UTC{'-' if seconds < 0 else '+'}{hours:02d}:{minutes:02d}"


def zone_label(local: pd.Timestamp) -> str:
    """The zone a tz-aware local time is in: "CDT (UTC-05:00)"; the offset alone where
    the zone has no letter abbreviation (tz database names such as "-03"), "UTC" for UTC."""
    offset = offset_text(local.utcoffset())
    abbreviation = local.tzname() or ""
    if abbreviation[:1].isalpha() and abbreviation != offset:
        return f"{abbreviation} ({offset})"
    return offset


def short_zone(local: pd.Timestamp) -> str:
    """ "CDT", or the offset where the zone has no letter abbreviation."""
    abbreviation = local.tzname() or ""
    return abbreviation if abbreviation[:1].isalpha() else offset_text(local.utcoffset())


@dataclass(frozen=True)
class ClockChange:
    """The instant the site's clocks change, and their reading just before and after."""

    at_utc: pd.Timestamp
    before: str  # "02:00 CDT": the clock's reading the instant before (old offset)
    after: str  # "01:00 CST"
    forward: bool  # the clocks go forward (spring) or back (autumn)

    @property
    def text(self) -> str:
        return (
            f"clocks go {'forward' if self.forward else 'back'}: {self.before} \u2192 {self.after}"
        )


@dataclass(frozen=True)
class TimeAxis:
    """The time axis of the report's figures for one site and period (`time_axis`)."""

    timezone: str
    offset: pd.Timedelta  # axis time = UTC + offset
    label: str  # the zone of the axis offset: "CDT (UTC-05:00)"
    short: str  # "CDT": after the axis time in the hover title
    changes: tuple[ClockChange, ...]  # the clock changes inside the period, in order

    def x(self, times_utc: pd.Series | pd.DatetimeIndex) -> list[str]:
        """UTC instants as this axis' x values (ISO 8601 without zone, as plotly reads)."""
        shifted = pd.DatetimeIndex(times_utc).tz_convert("UTC").tz_localize(None) + self.offset
        return [t.isoformat() for t in shifted]

    def clock(self, times_utc: pd.Series | pd.DatetimeIndex) -> list[str]:
        """Each instant's wall-clock time with its zone: "Sun 2023-11-05 01:00 CDT"."""
        local = pd.DatetimeIndex(times_utc).tz_convert(self.timezone)
        return [f"{t:%a %Y-%m-%d %H:%M} {short_zone(t)}" for t in local]

    @property
    def title(self) -> str:
        """The axis title: the zone and, with a clock change, that the axis keeps one offset."""
        if not self.changes:
            zone = "" if self.label == self.timezone else f", {self.label}"  # "UTC, UTC"
            return f"local time ({self.timezone}{zone})"
        return (
            f"{self.timezone} time on one offset, {self.label}, throughout "
            "(the clocks change at the dotted line; hover for wall-clock time)"
        )

    @property
    def hover_title(self) -> str:
        """plotly's unified hover title: the axis time and the zone of its offset."""
        return f"%{{x|{HOVER_FORMAT}}} {self.short}"


def _offsets_s(times_utc: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The site's UTC offset at each instant, in seconds."""
    local = times_utc.tz_convert(timezone).tz_localize(None)
    return ((local - times_utc.tz_localize(None)) / pd.Timedelta(seconds=1)).to_numpy()


def _offset_at(t: pd.Timestamp, timezone: str) -> pd.Timedelta:
    return t.tz_convert(timezone).utcoffset()


def _change_between(lo: pd.Timestamp, hi: pd.Timestamp, timezone: str) -> ClockChange:
    """The clock change in (lo, hi], where the offset at `lo` differs from that at `hi`:
    bisected to the second, since a step may be longer than the hour a change moves."""
    old = _offset_at(lo, timezone)
    second = pd.Timedelta(seconds=1)
    while hi - lo > second:
        mid = lo + ((hi - lo) // second // 2) * second  # whole seconds: changes are on them
        lo, hi = (mid, hi) if _offset_at(mid, timezone) == old else (lo, mid)
    before = (hi + old).tz_localize(None)
    zone_before = short_zone(lo.tz_convert(timezone))
    after = hi.tz_convert(timezone)
    return ClockChange(
        at_utc=hi,
        before=f"{before:%H:%M} {zone_before}",
        after=f"{after:%H:%M} {short_zone(after)}",
        forward=after.utcoffset() > old,
    )


def time_axis(index: pd.DatetimeIndex, step: pd.Timedelta, timezone: str) -> TimeAxis:
    """The axis for a period of UTC step starts `index` with steps of `step`: on the
    offset most of the steps have (the first one's on a tie), with every clock change
    between the first step's start and the last step's end."""
    bounds = index.append(pd.DatetimeIndex([index[-1] + step])).tz_convert("UTC")
    offsets = _offsets_s(bounds, timezone)
    values, first, counts = np.unique(offsets[:-1], return_index=True, return_counts=True)
    most = values[np.lexsort((first, -counts))[0]]
    at = bounds[int(np.flatnonzero(offsets == most)[0])].tz_convert(timezone)
    changed = np.flatnonzero(offsets[1:] != offsets[:-1])
    return TimeAxis(
        timezone=timezone,
        offset=pd.Timedelta(seconds=float(most)),
        label=zone_label(at),
        short=short_zone(at),
        changes=tuple(_change_between(bounds[i], bounds[i + 1], timezone) for i in changed),
    )
