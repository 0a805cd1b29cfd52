"""Physical ranges of weather values and the checks of numbers given as parameters.

One place for the ranges the file readers (:mod:`weather.io`, :mod:`weather.site_csv`) and
:class:`weather.ResourceChain` both apply: a DataFrame given to the chain directly skipped
the readers' checks, and a NaN temperature gave 0 MW of PV, a negative wind speed a
negative hub speed, without a word.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from weather.errors import WeatherDataError

#: (lowest, highest) physically possible value of each standard weather column, in the
#: unit its name gives; beyond them (or NaN) the data are corrupt, not weather.
WEATHER_RANGES = {
    "ghi_w_per_m2": (0.0, 2000.0),
    "dni_w_per_m2": (0.0, 2000.0),
    "dhi_w_per_m2": (0.0, 2000.0),
    # the coldest and hottest air ever measured, with a margin
    "temp_air_c": (-90.0, 70.0),
    "wind_speed_10m_m_per_s": (0.0, 120.0),
    # the lowest surface pressure on land is about 33 kPa (Everest's summit), the highest
    # recorded 108.4 kPa; pressure sets the air density, so a bad one scales wind power
    "pressure_pa": (30_000.0, 110_000.0),
    "relative_humidity_pct": (0.0, 100.0),
    "cloud_cover_pct": (0.0, 100.0),
}


def first_outside(values: np.ndarray, bounds: tuple[float, float]) -> int | None:
    """Position of the first value that is NaN, infinite or outside ``bounds`` (closed);
    None when all lie within."""
    lo, hi = bounds
    bad = ~np.isfinite(values) | (values < lo) | (values > hi)
    return int(np.argmax(bad)) if bad.any() else None


def check_weather_values(frame: pd.DataFrame, columns, source=None) -> None:
    """Raise :class:`WeatherDataError` naming the column, the first bad UTC stamp of
    ``frame`` (a UTC DatetimeIndex) and the value, for the first of ``columns`` holding a
    value outside its :data:`WEATHER_RANGES` range, infinite or NaN (a missing value:
    the models would turn it into 0 MW or NaN)."""
    for col in columns:
        lo, hi = WEATHER_RANGES[col]
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise WeatherDataError(
                f"not numbers (dtype {frame[col].dtype})", path=source, field=col
            )
        values = frame[col].to_numpy(dtype=float)
        i = first_outside(values, (lo, hi))
        if i is not None:
            at = f"{frame.index[i]:%Y-%m-%d %H:%M} UTC"
            if np.isnan(values[i]):
                msg = f"missing value (NaN) at {at}; a value in [{lo:g}, {hi:g}] is needed"
            else:
                msg = f"value {values[i]:g} at {at} outside [{lo:g}, {hi:g}]"
            raise WeatherDataError(msg, path=source, field=col)


def _real(label: str, name: str, value) -> float:
    """``value`` as a finite float, or :class:`WeatherDataError` naming ``label``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WeatherDataError(f"{label} must be a number (got {value!r})", field=name)
    if not math.isfinite(value):
        raise WeatherDataError(f"{label} must be a finite number (got {value!r})", field=name)
    return float(value)


def check_range(
    label: str,
    name: str,
    value,
    bounds: tuple[float, float],
    unit: str,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise :class:`WeatherDataError` (field ``name``) unless ``value`` is a finite
    number within ``bounds`` (closed unless ``low_open``/``high_open``), in ``unit``;
    ``label`` names the parameter in the message, e.g. ``"PVSystem.tilt_deg"``."""
    x = _real(label, name, value)
    lo, hi = bounds
    below = x <= lo if low_open else x < lo
    above = x >= hi if high_open else x > hi
    if below or above:
        span = f"{'(' if low_open else '['}{lo:g}, {hi:g}{')' if high_open else ']'}"
        raise WeatherDataError(f"{label} {value!r} outside {span} {unit}".rstrip(), field=name)


def check_whole(label: str, name: str, value) -> None:
    """Raise :class:`WeatherDataError` (field ``name``) unless ``value`` is a whole
    number >= 0 (a count: 2.0 is one, 2.5 and NaN are not)."""
    x = _real(label, name, value)
    if x < 0 or not x.is_integer():
        raise WeatherDataError(f"{label} must be a whole number >= 0 (got {value!r})", field=name)
