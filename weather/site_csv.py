"""Open-Meteo site CSVs (``time_local, temp_air_c, relative_humidity_pct,
cloud_cover_pct, wind_speed_10m_kmh``): the shipped files' metadata and the reader, which
returns the standard frame of ``weather.io`` (UTC hour-start stamps, standard columns,
``attrs``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from weather.csv_text import read_text_csv
from weather.errors import WeatherDataError
from weather.limits import WEATHER_RANGES

#: Metadata of the shipped Open-Meteo site CSVs (the files drop it; from the Open-Meteo
#: export of HewlettPackard/green-dcc). ``utc_offset_seconds`` is the single fixed offset
#: Open-Meteo applied to the whole series (see :func:`read_site_csv`).
SITE_METADATA: dict[str, dict] = {
    "dallas-2023.csv": {
        "latitude_deg": 32.7944,
        "longitude_deg": -96.8215,
        "altitude_m": 142.0,
        "timezone": "America/Chicago",
        "utc_offset_seconds": -18000,
    },
    "california-2023.csv": {
        "latitude_deg": 37.4341,
        "longitude_deg": -121.9548,
        "altitude_m": 7.0,
        "timezone": "America/Los_Angeles",
        "utc_offset_seconds": -25200,
    },
    "pjm-2023.csv": {
        "latitude_deg": 39.9648,
        "longitude_deg": -75.1676,
        "altitude_m": 23.0,
        "timezone": "America/New_York",
        "utc_offset_seconds": -14400,
    },
}


def site_metadata(path: str | os.PathLike) -> dict:
    """Metadata of a shipped site CSV, looked up by file name (directory ignored).

    Returns a copy of the :data:`SITE_METADATA` entry: ``latitude_deg``, ``longitude_deg``,
    ``altitude_m`` (m above sea level), ``timezone`` (IANA name) and ``utc_offset_seconds``.
    Raises :class:`WeatherDataError` for an unknown file name.
    """
    name = Path(path).name
    if name not in SITE_METADATA:
        raise WeatherDataError(
            f"no site metadata for {name!r}; known: {', '.join(sorted(SITE_METADATA))}; "
            "pass timezone and utc_offset_seconds explicitly",
            path=path,
        )
    return dict(SITE_METADATA[name])


#: Mean Earth radius (km, IUGG), for distances between a site and its weather file.
EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Great-circle distance (km) between points given in degrees (haversine)."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, float)) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg)
    )
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


_SITE_CSV_COLUMNS = (
    "time_local",
    "temp_air_c",
    "relative_humidity_pct",
    "cloud_cover_pct",
    "wind_speed_10m_kmh",
)
# physically possible ranges; values outside are corrupt input, not weather
_SITE_CSV_RANGES = {
    "temp_air_c": (-90.0, 60.0),
    "relative_humidity_pct": WEATHER_RANGES["relative_humidity_pct"],
    "cloud_cover_pct": WEATHER_RANGES["cloud_cover_pct"],
    "wind_speed_10m_kmh": (0.0, 400.0),
}
_KMH_TO_M_PER_S = 1000.0 / 3600.0


#: What a site CSV's row may hold (``read_site_csv``'s ``values``), and how far before its
#: stamp the mean of the hour it stands for starts.
SITE_CSV_VALUES = {"hour_mean": pd.Timedelta(0), "instant": pd.Timedelta(minutes=30)}


def read_site_csv(
    path: str | os.PathLike,
    *,
    timezone: str | None = None,
    utc_offset_seconds: int | None = None,
    values: str = "hour_mean",
) -> pd.DataFrame:
    """Read an Open-Meteo site CSV (``time_local, temp_air_c, relative_humidity_pct,
    cloud_cover_pct, wind_speed_10m_kmh``).

    Time stamps: ``time_local`` is mapped to UTC with **one fixed offset for the whole
    file**: ``utc = time_local - utc_offset_seconds``. Open-Meteo does not apply daylight
    saving time inside a series; it resolves the requested zone to the offset valid on the
    day of the request and applies it to every stamp (its maintainers say so in
    open-meteo/open-meteo issues #261, #488 and #1255). The data agree: 8760 consecutive
    hours with no spring gap or autumn repeat, and the hour of the mean daily temperature
    maximum does not jump at the DST changes (Dallas: about 16:00-17:00 file time in every
    month, i.e. 2.2-3.4 h after solar noon with the offset -5 h; read as UTC it would
    come before solar noon). The shipped files carry the
    summer (DST) offset, e.g. -18000 s (UTC-5) for Dallas in America/Chicago.

    Parameters
    ----------
    path : path of the CSV.
    timezone : IANA zone name, kept in ``attrs`` for local-calendar work by callers.
    utc_offset_seconds : the fixed offset of ``time_local`` from UTC in seconds.
        When both are None they come from :data:`SITE_METADATA` by file name.
    values : what a row holds. ``"hour_mean"``: the mean of the hour its stamp starts,
        as a TMY's rows are. ``"instant"``: the value at its stamp, as Open-Meteo gives
        temperature, humidity, cloud cover and wind (its "instant" variables); the row is
        then stamped half an hour earlier, as the mean of the hour centred on the
        instant, so an hour's mean becomes the mean of its two ends
        (:mod:`weather.resample` places rows at their mid-points).

    Returns
    -------
    DataFrame on a UTC index of whole hours (half past with ``values="instant"``) with
    ``temp_air_c`` (deg C), ``relative_humidity_pct`` (%), ``cloud_cover_pct`` (%),
    ``wind_speed_10m_m_per_s`` (m/s, converted from km/h) and the site metadata (and
    ``values``) in ``attrs``.

    Raises
    ------
    WeatherDataError naming the path, 1-based file line and column for a missing column,
    an empty or non-numeric cell, a bad or out-of-range value, a gap or a duplicate stamp.
    """
    meta: dict = {}
    if timezone is None and utc_offset_seconds is None:
        meta = site_metadata(path)
        timezone, utc_offset_seconds = meta["timezone"], meta["utc_offset_seconds"]
    elif utc_offset_seconds is None:
        raise WeatherDataError("utc_offset_seconds is required with timezone", path=path)

    if values not in SITE_CSV_VALUES:
        raise WeatherDataError(
            f"values must be one of {', '.join(SITE_CSV_VALUES)} (got {values!r})", path=path
        )
    raw = read_text_csv(path)
    raw.columns = [c.strip() for c in raw.columns]
    _check_site_columns(raw, path)
    stamps = _site_stamps(raw, path)
    columns = _site_values(raw, path)
    index = pd.DatetimeIndex(stamps - pd.Timedelta(seconds=utc_offset_seconds)).tz_localize("UTC")
    df = _site_frame(columns, index - SITE_CSV_VALUES[values])
    df.attrs.update(meta)
    df.attrs.update(
        {
            "timezone": timezone,
            "utc_offset_seconds": int(utc_offset_seconds),
            "values": values,
            "source": os.fspath(path),
        }
    )
    return df


def _site_frame(values: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.DataFrame:
    """The standard columns of a site CSV's values on the UTC ``index`` (wind in m/s)."""
    df = pd.DataFrame(
        {
            "temp_air_c": values["temp_air_c"],
            "wind_speed_10m_m_per_s": values["wind_speed_10m_kmh"] * _KMH_TO_M_PER_S,
            "relative_humidity_pct": values["relative_humidity_pct"],
            "cloud_cover_pct": values["cloud_cover_pct"],
        },
        index=index,
    )
    df.index.name = "time_utc"
    return df


def _check_site_columns(raw: pd.DataFrame, path: str | os.PathLike) -> None:
    """Every column of a site CSV is there, and at least one data row."""
    for col in _SITE_CSV_COLUMNS:
        if col in raw.attrs["repeated_columns"]:
            raise WeatherDataError(f"column {col!r} appears twice", path=path, line=1, field=col)
        if col not in raw.columns:
            raise WeatherDataError(
                f"missing column {col!r} (have: {', '.join(raw.columns)})",
                path=path,
                line=1,
                field=col,
            )
    if raw.empty:
        raise WeatherDataError("no data rows", path=path, line=2)


def _row_error(
    path: str | os.PathLike, raw: pd.DataFrame, row: int, col: str, msg: str
) -> WeatherDataError:
    """The error of data row ``row`` (0-based) of ``raw`` (``read_csv_cells``: its file
    line is in ``attrs``) in column ``col``."""
    return WeatherDataError(msg, path=path, line=int(raw.attrs["file_lines"][row]), field=col)


def _site_stamps(raw: pd.DataFrame, path: str | os.PathLike) -> pd.Series:
    """The ``time_local`` stamps, checked to be consecutive hours."""
    stamps = pd.to_datetime(raw["time_local"], format="%Y-%m-%dT%H:%M", errors="coerce")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        i = bad[0]
        raise _row_error(
            path, raw, i, "time_local", f"not a time (YYYY-MM-DDTHH:MM): {raw['time_local'][i]!r}"
        )
    step = stamps.diff().to_numpy()[1:]
    wrong = np.flatnonzero(step != np.timedelta64(1, "h"))
    if wrong.size:
        i = wrong[0] + 1
        prev, this = raw["time_local"][i - 1], raw["time_local"][i]
        if step[i - 1] == np.timedelta64(0, "h"):
            msg = f"duplicate time stamp {this!r}"
        elif step[i - 1] < np.timedelta64(0, "h"):
            msg = f"time stamp {this!r} is not after {prev!r} (duplicate or out of order)"
        else:
            msg = f"gap: {this!r} follows {prev!r} (hourly rows expected)"
        raise _row_error(path, raw, i, "time_local", msg)
    return stamps


def _site_values(raw: pd.DataFrame, path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The numeric columns as floats (file units), each checked against its range."""
    values = {}
    for col, (lo, hi) in _SITE_CSV_RANGES.items():
        text = raw[col]
        num = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if bad.size:
            i = bad[0]
            what = "empty cell" if text[i].strip() == "" else f"not a number: {text[i]!r}"
            raise _row_error(path, raw, i, col, what)
        out = np.flatnonzero(((num < lo) | (num > hi)).to_numpy())
        if out.size:
            i = out[0]
            raise _row_error(path, raw, i, col, f"value {num[i]} outside [{lo:g}, {hi:g}]")
        values[col] = num.to_numpy(dtype=float)
    return values
