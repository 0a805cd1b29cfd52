"""Readers for weather files: TMY2/TMY3/EPW here (via pvlib.iotools); Open-Meteo site CSVs in
``weather.site_csv``.

Every reader returns a DataFrame with

* a tz-aware UTC ``DatetimeIndex`` of **hour-start** stamps (the row holds the average, or
  the hourly total in Wh/m2 = average W/m2, over the hour that starts at the stamp);
* standard columns (only those the file has): ``ghi_w_per_m2``, ``dni_w_per_m2``,
  ``dhi_w_per_m2``, ``temp_air_c``, ``wind_speed_10m_m_per_s``, ``pressure_pa``,
  ``relative_humidity_pct``, ``cloud_cover_pct``;
* ``df.attrs``: ``latitude_deg``, ``longitude_deg``, ``altitude_m``, ``timezone`` and
  ``utc_offset_seconds`` (the fixed offset used to map the file's stamps to UTC), ``source``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from pvlib import iotools

from weather.csv_text import short_error
from weather.epw_text import EPW_ENCODING, check_epw_text
from weather.errors import WeatherDataError
from weather.limits import WEATHER_RANGES, first_outside
from weather.location import check_location

#: Standard column names, in output order.
COLUMNS = (
    "ghi_w_per_m2",
    "dni_w_per_m2",
    "dhi_w_per_m2",
    "temp_air_c",
    "wind_speed_10m_m_per_s",
    "pressure_pa",
    "relative_humidity_pct",
    "cloud_cover_pct",
)


def read_tmy(
    path: str | os.PathLike,
    *,
    coerce_year: int | None = None,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Read a TMY2 (``.tm2``), TMY3 (``.csv``) or EPW (``.epw``) file via ``pvlib.iotools``.

    Time stamps: the files hold hour-*ending* records in local standard time (a fixed
    offset, no DST). pvlib already relabels TMY2 and EPW records to the hour start; TMY3
    records are moved back by one hour here, so every row is stamped at the start of the
    hour it describes. Stamps are then converted to UTC with the file's fixed offset.

    ``coerce_year``: a TMY is a *typical* year stitched from months of different years
    (e.g. January 1988, February 1981), so its raw stamps are not a calendar. With
    ``coerce_year=Y`` every record keeps its local month/day/hour and gets year ``Y``; if
    ``Y`` is a leap year, 29 February repeats 28 February. After conversion to UTC, the
    few hours that spill into the neighbouring year (e.g. 31 Dec 19:00-23:00 local at
    UTC-5 become 1 Jan 00:00-04:00 of ``Y+1``) are wrapped round to the other end of year
    ``Y``, so the result covers exactly the UTC calendar year ``Y`` (8760 or 8784 hours,
    sorted). Without ``coerce_year`` the original mixed-year stamps are kept in file
    order (not monotonic), which is only useful for inspection.

    ``years=(first, last)``: the typical year is laid on every year from ``first`` to
    ``last`` (inclusive) of the file's local standard time, one after the other, then
    converted to UTC without any wrapping: the result covers local 1 January ``first``
    00:00 to 31 December ``last`` 24:00, so it serves any period inside that span,
    a local calendar year at any offset or one crossing the new year alike (29 February
    repeats 28 February in leap years). Give either ``coerce_year`` or ``years``.

    Returns the standard columns the file has (irradiance in W/m2, ``temp_air_c``,
    ``wind_speed_10m_m_per_s``, ``pressure_pa``, ``relative_humidity_pct``,
    ``cloud_cover_pct`` from total sky cover in tenths, NaN where missing) and metadata in
    ``attrs``.
    """
    path = Path(path)
    kind = _TMY_KINDS.get(path.suffix.lower())
    if kind is None:
        raise WeatherDataError(
            f"unknown TMY format {path.suffix.lower()!r} (expected .tm2, .csv (TMY3) or .epw)",
            path=path,
        )
    # pvlib parses trusted files; on a broken or hostile one it fails in many ways
    try:
        df, meta, lines = _TMY_READERS[kind](path)
        return _tmy_on_utc(df, meta, lines, path, kind, coerce_year, years)
    except WeatherDataError:
        raise
    except UnicodeDecodeError:
        raise WeatherDataError(f"not a valid {kind} file: not text", path=path) from None
    except KeyError as exc:
        raise WeatherDataError(
            f"not a valid {kind} file: no {exc.args[0]!r} field", path=path
        ) from None
    except (OSError, ValueError, IndexError, TypeError, AttributeError, OverflowError) as exc:
        raise WeatherDataError(f"cannot read {kind} file: {short_error(exc)}", path=path) from None


def _cloud_cover_pct(tenths: pd.Series) -> pd.Series:
    """Total sky cover (tenths, 0..10) in %; the formats' missing codes (99 in EPW and
    TMY2, -9900 in TMY3) and any other value outside 0..10 are NaN. Only a file without
    GHI would model irradiance from it (`weather.chain`), and every TMY has GHI."""
    tenths = pd.to_numeric(tenths, errors="coerce").astype(float)
    return (tenths * 10.0).where((tenths >= 0.0) & (tenths <= 10.0))


def _read_tmy2(path: Path) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """The TMY2 at ``path``: standard columns, pvlib's metadata, each record's file line."""
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().split()  # as pvlib splits it: on white space
    # pvlib fixes the index to the time zone before the rest can be checked
    check_location({"time zone": header[3] if len(header) > 3 else ""}, path, "TMY2 header")
    data, meta = iotools.read_tmy2(str(path))
    check_location(
        {name: str(meta[key]) for name, key in _PVLIB_LOCATION_KEYS.items()}, path, "TMY2 header"
    )
    df = pd.DataFrame(
        {
            "ghi_w_per_m2": data["GHI"],
            "dni_w_per_m2": data["DNI"],
            "dhi_w_per_m2": data["DHI"],
            # TMY2 stores temperature and wind in tenths
            "temp_air_c": data["DryBulb"] / 10.0,
            "wind_speed_10m_m_per_s": data["Wspd"] / 10.0,
            "pressure_pa": data["Pressure"] * 100.0,  # mbar
            "relative_humidity_pct": data["RHum"],
            "cloud_cover_pct": _cloud_cover_pct(data["TotCld"]),
        }
    )
    return df, meta, _TMY_FIRST_LINE["TMY2"] + np.arange(len(df))


def _read_epw(path: Path) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """The EPW at ``path``: standard columns, pvlib's metadata, each record's file line."""
    lines = check_epw_text(path)  # pvlib names no line, or takes a bad record silently
    # pvlib is given the text the check read: by its own open() a byte-order mark would
    # be part of the LOCATION line
    with open(path, encoding=EPW_ENCODING) as fh:
        data, meta = iotools.read_epw(fh)
    if len(data) != len(lines):  # the check and pandas split the file differently
        raise WeatherDataError(
            f"pvlib read {len(data)} records where the file has {len(lines)}", path=path
        )
    df = pd.DataFrame(
        {
            "ghi_w_per_m2": data["ghi"],
            "dni_w_per_m2": data["dni"],
            "dhi_w_per_m2": data["dhi"],
            "temp_air_c": data["temp_air"],
            "wind_speed_10m_m_per_s": data["wind_speed"],
            "pressure_pa": data["atmospheric_pressure"],  # already Pa
            "relative_humidity_pct": data["relative_humidity"],
            "cloud_cover_pct": _cloud_cover_pct(data["total_sky_cover"]),
        }
    )
    return df, meta, lines


def _read_tmy3(path: Path) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """The TMY3 at ``path``: standard columns, pvlib's metadata, each record's file line."""
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split(",")  # as pvlib splits it: no quoting
    # checked before pvlib, which fixes the index to the time zone
    check_location(
        {name: header[pos] if len(header) > pos else "" for name, pos in _TMY3_LOCATION.items()},
        path,
        "TMY3 header",
    )
    data, meta = iotools.read_tmy3(str(path), map_variables=True)
    df = pd.DataFrame(
        {
            "ghi_w_per_m2": data["ghi"],
            "dni_w_per_m2": data["dni"],
            "dhi_w_per_m2": data["dhi"],
            "temp_air_c": data["temp_air"],
            "wind_speed_10m_m_per_s": data["wind_speed"],
            "pressure_pa": data["pressure"] * 100.0,  # mbar
            "relative_humidity_pct": data["relative_humidity"],
            "cloud_cover_pct": _cloud_cover_pct(data["TotCld (tenths)"]),
        }
    )
    # Rebuild the stamps from the raw columns: hour h (1..24) of a date covers
    # [h-1, h). pvlib's own index moves "02/28/1996 24:00" to 1 March.
    day = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    hour = data["Time (HH:MM)"].str.split(":").str[0].astype(int)
    df.index = pd.DatetimeIndex(day + pd.to_timedelta(hour - 1, unit="h"))
    return df, meta, _TMY_FIRST_LINE["TMY3"] + np.arange(len(df))


_TMY_KINDS = {".tm2": "TMY2", ".csv": "TMY3", ".epw": "EPW"}
# 0-based cells of a TMY3's first line (USAF, name, state, TZ, latitude, longitude, altitude)
_TMY3_LOCATION = {"time zone": 3, "latitude": 4, "longitude": 5, "elevation": 6}
# pvlib's metadata keys of the header values weather.location checks
_PVLIB_LOCATION_KEYS = {
    "latitude": "latitude",
    "longitude": "longitude",
    "time zone": "TZ",
    "elevation": "altitude",
}
_TMY_READERS = {"TMY2": _read_tmy2, "TMY3": _read_tmy3, "EPW": _read_epw}
# File line of the first record (header lines + 1): a TMY2/TMY3 record's line is this
# plus its row (an EPW's come from weather.epw_text, which counts blank lines).
_TMY_FIRST_LINE = {"TMY2": 2, "TMY3": 3}
# Physically possible values of the columns the models use; beyond them (or NaN, a missing
# value) the file is corrupt, and a huge value would otherwise reach the optimizer.
_TMY_RANGES = {
    col: WEATHER_RANGES[col]
    for col in (
        "ghi_w_per_m2",
        "dni_w_per_m2",
        "dhi_w_per_m2",
        "temp_air_c",
        "wind_speed_10m_m_per_s",
    )
}


# Surface pressure (Pa), checked after the format's missing-value code is filled.
_PRESSURE_RANGE_PA = WEATHER_RANGES["pressure_pa"]
# Each format's missing-value code of the pressure field as written (NREL's format
# manuals), and the file's unit in Pa: messages quote the file, the reader gives Pa.
_PRESSURE_MISSING = {"EPW": 999_999.0, "TMY3": -9900.0, "TMY2": 9999.0}
_PRESSURE_UNIT_PA = {"EPW": ("Pa", 1.0), "TMY3": ("mbar", 100.0), "TMY2": ("mbar", 100.0)}


def _fill_missing_pressure(
    df: pd.DataFrame, lines: np.ndarray, path: Path, kind: str, altitude_m: float
) -> None:
    """Pressure the file marks missing (its format's code) becomes the standard atmosphere
    at the file's altitude (``pvlib.atmosphere.alt2pres``), as when a file has no pressure
    at all; any other value outside the surface range is refused naming its line."""
    p = df["pressure_pa"].to_numpy()
    unit, unit_pa = _PRESSURE_UNIT_PA[kind]
    code = _PRESSURE_MISSING[kind]
    p = np.where(p == code * unit_pa, pvlib.atmosphere.alt2pres(altitude_m), p)
    lo, hi = _PRESSURE_RANGE_PA
    i = first_outside(p, _PRESSURE_RANGE_PA)
    if i is not None:
        written = "" if unit == "Pa" else f" ({p[i] / unit_pa:g} {unit})"
        raise WeatherDataError(
            f"value {p[i]:g} Pa{written} outside [{lo:g}, {hi:g}] (missing is marked "
            f"{code:g} {unit})",
            path=path,
            line=int(lines[i]),
            field="pressure_pa",
        )
    df["pressure_pa"] = p


def _check_tmy_values(df: pd.DataFrame, lines: np.ndarray, path: Path) -> None:
    """Each modelled column within its physical range; ``lines`` are the records' file lines."""
    for col, (lo, hi) in _TMY_RANGES.items():
        values = df[col].to_numpy()
        i = first_outside(values, (lo, hi))
        if i is not None:
            raise WeatherDataError(
                f"value {values[i]} outside [{lo:g}, {hi:g}]",
                path=path,
                line=int(lines[i]),
                field=col,
            )


def _tmy_on_utc(
    df: pd.DataFrame,
    meta: dict,
    lines: np.ndarray,
    path: Path,
    kind: str,
    coerce_year: int | None,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Checked values on UTC stamps with the metadata in attrs (see read_tmy)."""
    df = df.astype(float)
    _check_tmy_values(df, lines, path)
    _fill_missing_pressure(df, lines, path, kind, float(meta["altitude"]))
    offset_s = int(round(float(meta["TZ"]) * 3600))
    local = df.index
    if local.tz is not None:
        local = local.tz_localize(None)  # fixed-offset local standard time
    if coerce_year is not None and years is not None:
        raise WeatherDataError("give coerce_year or years, not both", path=path)
    if years is not None:
        df = _typical_years(df, local, years, offset_s, path)
    elif coerce_year is not None:
        df = _coerce_year(df, local, coerce_year, offset_s, path)
    else:
        df.index = (local - pd.Timedelta(seconds=offset_s)).tz_localize("UTC")
    df.index.name = "time_utc"
    df.attrs = {
        "latitude_deg": float(meta["latitude"]),
        "longitude_deg": float(meta["longitude"]),
        "altitude_m": float(meta["altitude"]),
        "timezone": _fixed_offset_zone(offset_s),
        "utc_offset_seconds": offset_s,
        "source": os.fspath(path),
    }
    return df


def _typical_local(df: pd.DataFrame, local: pd.DatetimeIndex, year: int, path: Path):
    """The typical year's records on local standard time of ``year``, sorted; in a leap
    year 29 February repeats 28 February."""
    parts = pd.DataFrame({"year": year, "month": local.month, "day": local.day})
    parts["hour"] = local.hour
    feb29 = (parts["month"] == 2) & (parts["day"] == 29)
    keep = ~feb29.to_numpy()  # a TMY has no 29 Feb; drop one if a file has it
    df, parts = df[keep], parts[keep]
    new_local = pd.DatetimeIndex(pd.to_datetime(parts))
    df = df.set_axis(new_local).sort_index()
    if df.index.has_duplicates:
        raise WeatherDataError("duplicate month/day/hour in typical year", path=path)
    if pd.Timestamp(year=year, month=3, day=1).is_leap_year:
        feb28 = df[(df.index.month == 2) & (df.index.day == 28)]
        df = pd.concat([df, feb28.set_axis(feb28.index + pd.Timedelta(days=1))]).sort_index()
    return df


def _coerce_year(df: pd.DataFrame, local: pd.DatetimeIndex, year: int, offset_s: int, path):
    """Stamp a typical year onto ``year`` and wrap the UTC spill-over (see read_tmy)."""
    df = _typical_local(df, local, year, path)
    utc = df.index - pd.Timedelta(seconds=offset_s)
    utc = utc.where(utc.year <= year, utc - pd.DateOffset(years=1))  # west of Greenwich
    utc = utc.where(utc.year >= year, utc + pd.DateOffset(years=1))  # east of Greenwich
    df = df.set_axis(utc.tz_localize("UTC")).sort_index()
    return df


def _typical_years(
    df: pd.DataFrame, local: pd.DatetimeIndex, years: tuple[int, int], offset_s: int, path
) -> pd.DataFrame:
    """The typical year on each local year ``years[0]..years[1]`` in turn, on UTC
    stamps: no wrap is needed, the neighbouring year supplies the spill-over."""
    first, last = (int(y) for y in years)
    # pandas' nanosecond stamps span 1677-09-21 .. 2262-04-11
    if not 1678 <= first <= last <= 2261:
        raise WeatherDataError(f"years {years}: need first <= last within 1678..2261", path=path)
    tiled = pd.concat([_typical_local(df, local, y, path) for y in range(first, last + 1)])
    utc = tiled.index - pd.Timedelta(seconds=offset_s)
    return tiled.set_axis(utc.tz_localize("UTC"))


def _fixed_offset_zone(offset_s: int) -> str:
    """IANA name of a whole-hour fixed offset (note the inverted sign of Etc/GMT zones)."""
    if offset_s % 3600:
        return f"UTC{offset_s / 3600:+g}"
    hours = -offset_s // 3600
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{hours:+d}"
