"""Readers for weather files: TMY2/TMY3/EPW (via pvlib.iotools) and Open-Meteo site CSVs.

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

import codecs
import contextlib
import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from pvlib import iotools

from weather.epw_text import EPW_ENCODING, check_epw_text
from weather.errors import WeatherDataError
from weather.limits import WEATHER_RANGES, first_outside
from weather.location import check_location

#: Bytes read at a time to find the line of a byte that is not UTF-8.
_DECODE_CHUNK_BYTES = 1 << 20

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


# --------------------------------------------------------------------------- site CSV


# pandas' words for a row with too many cells ("... in line 42, saw 5")
_RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv_cells(path: str | os.PathLike, **options) -> pd.DataFrame:
    """Every cell of a CSV as text (a UTF-8 byte-order mark skipped), blank and
    whitespace-only lines left out, and ``attrs["file_lines"]``: each row's 1-based line
    in the file (pandas skips blank lines itself and would shift every later line number;
    a quoted cell over several lines still counts as one). pandas' errors pass through:
    ``csv_parse_problem`` words its parser's."""
    raw = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skip_blank_lines=False,
        **options,
    )
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    lines = np.flatnonzero(~blank) + 2  # line 1 is the header
    kept = raw[~blank].reset_index(drop=True)
    kept.attrs["file_lines"] = lines
    kept.attrs["repeated_columns"] = _repeated_header_cells(path)
    return kept


def _repeated_header_cells(path: str | os.PathLike) -> list[str]:
    """Names the header line gives more than once (pandas renames the second ``x`` to
    ``x.1``, so a reader would quietly take the first)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    names = [cell.strip() for cell in header]
    return sorted({name for name in names if names.count(name) > 1})


def csv_parse_problem(exc: BaseException) -> tuple[int | None, str]:
    """pandas' parser error as (file line or None, one short line of text)."""
    ragged = _RAGGED_ROW.search(str(exc))
    if ragged is not None:
        want, line, saw = ragged.groups()
        return int(line), f"{saw} cells where the header has {want}"
    return None, f"cannot read CSV: {_short(exc)}".replace("\n", " ").strip()


def _read_text_csv(path: str | os.PathLike) -> pd.DataFrame:
    """``read_csv_cells``; any reason the file cannot be read is a WeatherDataError."""
    try:
        return read_csv_cells(path, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        # pandas decodes in chunks: its error knows neither the line nor the file offset
        byte, reason, line = _first_non_utf8(path) or (exc.object[exc.start], exc.reason, None)
        raise WeatherDataError(
            f"not UTF-8 text (byte 0x{byte:02x}: {reason})", path=path, line=line
        ) from None
    except pd.errors.EmptyDataError:
        raise WeatherDataError("file is empty", path=path) from None
    except (OSError, ValueError) as exc:  # ValueError: pandas' ParserError and kin
        line, text = csv_parse_problem(exc)
        raise WeatherDataError(text, path=path, line=line) from None


def _first_non_utf8(path: str | os.PathLike) -> tuple[int, str, int] | None:
    """The first byte of the file that is not UTF-8, why, and its 1-based line; None if
    there is none, or the file cannot be read again. Read in chunks (a sequence split
    between two is carried over)."""
    line, carry = 1, b""
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        while chunk := fh.read(_DECODE_CHUNK_BYTES):
            data = carry + chunk
            try:
                _, used = codecs.utf_8_decode(data, "strict", False)
            except UnicodeDecodeError as exc:
                return data[exc.start], exc.reason, line + data.count(b"\n", 0, exc.start)
            line += data.count(b"\n", 0, used)
            carry = data[used:]
        if carry:  # a sequence cut short by the end of the file
            return carry[0], "unexpected end of data", line
    return None


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception as bounded text: parsers may quote a whole binary buffer."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    raw = _read_text_csv(path)
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


# --------------------------------------------------------------------------- TMY / EPW


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
        raise WeatherDataError(f"cannot read {kind} file: {_short(exc)}", path=path) from None


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
