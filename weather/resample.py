"""Map hourly resource series onto a scenario's UTC step index (1 h or a divisor of 1 h).

Hourly rows are averages over the hour that starts at their stamp, so an hourly value
belongs to the hour's *mid-point*. For sub-hourly steps each column is interpolated
linearly between hour mid-points and read at the mid-point of each step (held flat
beyond the first/last mid-point). Weather *inputs* (temperature, wind, cloud cover,
clear-sky index) are interpolated this way and power is computed afterwards, rather
than repeating an hourly power value four times. For 1 h steps on hourly data stamped
on the whole hour the mapping is the identity (a selection of rows).

Hourly data may be stamped off the whole hour (a file in a half-hour zone such as
UTC+9:30 or UTC-2:30 gives stamps at :30 UTC; UTC+5:45 at :15). All their stamps share
one offset from the whole hour, the *phase*; their hours are that grid's, and every step
is interpolated between their mid-points, 1 h steps too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from weather.errors import WeatherDataError
from weather.limits import check_whole

HOUR = pd.Timedelta(hours=1)


def check_index(index_utc: pd.DatetimeIndex, step: pd.Timedelta | None = None) -> pd.Timedelta:
    """Validate a target index (tz-aware UTC, uniform step dividing 1 h) and return its step.

    ``step`` is needed only for a one-element index without ``freq``.
    """
    if not isinstance(index_utc, pd.DatetimeIndex) or index_utc.tz is None:
        raise WeatherDataError("target index must be a tz-aware DatetimeIndex in UTC")
    if str(index_utc.tz) != "UTC":
        raise WeatherDataError(f"target index must be in UTC, not {index_utc.tz}")
    if len(index_utc) == 0:
        raise WeatherDataError("target index is empty")
    if step is None:
        if len(index_utc) > 1:
            steps = np.unique(np.diff(index_utc.asi8))
            if steps.size != 1:
                raise WeatherDataError("target index must have one uniform step")
            step = pd.Timedelta(int(steps[0]), unit="ns")
        elif index_utc.freq is not None:
            step = pd.Timedelta(index_utc.freq)
        else:
            raise WeatherDataError("cannot infer the step of a one-element index; pass step")
    step = pd.Timedelta(step)
    if step <= pd.Timedelta(0) or step > HOUR or HOUR % step != pd.Timedelta(0):
        raise WeatherDataError(f"step {step} must divide one hour (e.g. 1 h or 15 min)")
    if ((index_utc - index_utc.floor("h")) % step != pd.Timedelta(0)).any():
        raise WeatherDataError(f"target stamps are not aligned to the {step} step")
    return step


def hour_phase(hourly_index_utc: pd.DatetimeIndex, source=None) -> pd.Timedelta:
    """The offset of hourly stamps from the whole hour (0 for on-the-hour data, 30 min
    for a half-hour zone); raises :class:`WeatherDataError` if the stamps do not share
    one (naming the first stamp off the first one's grid)."""
    if len(hourly_index_utc) == 0:
        return pd.Timedelta(0)
    phase = hourly_index_utc - hourly_index_utc.floor("h")
    off = np.flatnonzero(phase != phase[0])
    if off.size:
        raise WeatherDataError(
            f"time stamp {hourly_index_utc[off[0]]:%Y-%m-%d %H:%M} UTC is off the hourly grid"
            f" of {hourly_index_utc[0]:%Y-%m-%d %H:%M} UTC (hourly rows expected)",
            path=source,
        )
    return phase[0]


def _source_hours(
    index_utc: pd.DatetimeIndex, step: pd.Timedelta, phase: pd.Timedelta
) -> pd.DatetimeIndex:
    """Stamps of the source hours (on the grid of ``phase``) that the steps overlap."""
    first = (index_utc - phase).floor("h") + phase
    last = (index_utc + step - pd.Timedelta(1, unit="ns") - phase).floor("h") + phase
    return pd.DatetimeIndex(first.append(last)).unique().sort_values()


def select_period(
    hourly: pd.DataFrame,
    index_utc: pd.DatetimeIndex,
    *,
    edge_fill_hours: int = 0,
    step: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Hourly rows covering every hour touched by ``index_utc`` (plus one neighbour hour
    each side when present, for interpolation). Hours are those of the data's own grid
    (see :func:`hour_phase`): a step 00:00-01:00 touches the :30 rows 23:30 and 00:30.

    Missing hours raise :class:`WeatherDataError` naming the first one and the source's
    coverage. ``edge_fill_hours`` (a whole number >= 0) allows that many missing hours at
    either end of the request, filled by holding the nearest available row (e.g. a
    local-calendar year needs one hour more than a file that is a fixed-offset year).
    ``step``: only for a one-element index without freq.
    """
    # -1 was taken as given (and 1.5 hours compared as such)
    check_whole("edge_fill_hours", "edge_fill_hours", edge_fill_hours)
    if not isinstance(hourly.index, pd.DatetimeIndex) or str(hourly.index.tz) != "UTC":
        raise WeatherDataError("weather data must have a UTC DatetimeIndex")
    if hourly.index.has_duplicates:
        dup = hourly.index[hourly.index.duplicated()][0]
        raise WeatherDataError(
            f"duplicate time stamp {dup:%Y-%m-%d %H:%M} UTC in weather data",
            path=hourly.attrs.get("source"),
        )
    if not hourly.index.is_monotonic_increasing:
        hourly = hourly.sort_index()
    step = check_index(index_utc, step)
    hours = _source_hours(index_utc, step, hour_phase(hourly.index, hourly.attrs.get("source")))
    wanted = pd.date_range(hours[0] - HOUR, hours[-1] + HOUR, freq="h")
    have = hourly.reindex(wanted)
    inner = have.iloc[1:-1]
    missing = inner.index[inner.isna().all(axis=1).to_numpy()]
    missing = missing[missing.isin(hours)]
    if len(missing):
        head = missing[missing < hours[0] + edge_fill_hours * HOUR]
        tail = missing[missing > hours[-1] - edge_fill_hours * HOUR]
        inside = missing.difference(head).difference(tail)
        covered = len(hours) - len(missing)
        if len(inside) or covered == 0:
            first = (inside if len(inside) else missing)[0]
            src = hourly.attrs.get("source")
            span = (
                f"{hourly.index[0]:%Y-%m-%d %H:%M} .. {hourly.index[-1]:%Y-%m-%d %H:%M} UTC"
                if len(hourly)
                else "nothing"
            )
            raise WeatherDataError(
                f"weather data do not cover the requested period: hour {first:%Y-%m-%d %H:%M}"
                f" UTC is missing ({len(missing)} of {len(hours)} hours; the data cover "
                f"{span})",
                path=src,
            )
        have = have.ffill().bfill()  # only the allowed edge hours are empty here
    # neighbour rows outside the request stay only if the source has them
    keep = have.notna().any(axis=1).to_numpy()
    out = have[keep]
    out.attrs = dict(hourly.attrs)
    return out


def to_step(
    hourly: pd.DataFrame,
    index_utc: pd.DatetimeIndex,
    *,
    edge_fill_hours: int = 0,
    step: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Hourly weather columns on the target index (see module docstring).

    For 1 h steps on on-the-hour data the rows are selected as they are; otherwise each
    column is interpolated between hour mid-points and read at each step's mid-point.
    Raises :class:`WeatherDataError` if the source does not cover the requested hours.
    """
    step = check_index(index_utc, step)
    src = select_period(hourly, index_utc, edge_fill_hours=edge_fill_hours, step=step)
    if step == HOUR and hour_phase(src.index) == pd.Timedelta(0):
        out = src.reindex(index_utc)
    else:
        x_src = (src.index + HOUR / 2).asi8.astype(float)
        x_dst = (index_utc + step / 2).asi8.astype(float)
        out = pd.DataFrame(
            {c: np.interp(x_dst, x_src, src[c].to_numpy(float)) for c in src.columns},
            index=index_utc,
        )
    out.attrs = dict(hourly.attrs)
    return out
