"""The text of an EPW file checked before pvlib parses it, so that a bad file is refused
with its line and field: pvlib raises pandas' own words for a record at hour 25 or month
13 (no line), takes a duplicated or 30-minute record without a word, and names no line
for a text cell.

The file is read as pvlib is given it (UTF-8, a byte-order mark skipped, any line ending),
one physical line at a time, so every line number is the one an editor shows: blank lines
(pandas skips them) are counted, and a quote is never let run past its line.

Checked: the LOCATION line's latitude, longitude, time zone and elevation are finite and in
range (``weather.location``); the seven header lines after it are there and close every
quote they open (pandas reads on past an open quote in search of its end: pvlib then read
no records at all); every record closes its quotes and has at most 35 cells and at least
the 23 the readers read; its year, month, day, hour and minute are whole numbers in range
(hourly records: minute 0 or 60); the records are consecutive hours (29 February may be
left out) of one whole typical year from 1 January hour 1; the value fields the readers use
are numbers or empty (an empty one is refused later, with its line, as missing).
"""

from __future__ import annotations

import csv
import os

import numpy as np
import pandas as pd

from weather.errors import WeatherDataError
from weather.location import check_location

#: File line of the first record: eight header lines precede the data.
FIRST_RECORD_LINE = 9
#: Encoding pvlib must be given the file in too: a byte-order mark is not part of LOCATION.
EPW_ENCODING = "utf-8-sig"
# 0-based positions (EnergyPlus Auxiliary Programs, "EnergyPlus Weather File Data Dictionary")
_LOCATION_FIELDS = {"latitude": 6, "longitude": 7, "time zone": 8, "elevation": 9}
_DATE_FIELDS = {"year": 0, "month": 1, "day": 2, "hour": 3, "minute": 4}
_VALUE_FIELDS = {
    "temp_air_c": 6,
    "relative_humidity_pct": 8,
    "pressure_pa": 9,
    "ghi_w_per_m2": 13,
    "dni_w_per_m2": 14,
    "dhi_w_per_m2": 15,
    "wind_speed_10m_m_per_s": 21,
    "cloud_cover_pct": 22,
}
# a record has 35 fields (pandas refuses more, with a line of its own count); fewer are
# filled with NaN, which is harmless only past the last field the readers use
_RECORD_CELLS = 35
_RECORD_CELLS_READ = max(_VALUE_FIELDS.values()) + 1
# pandas' nanosecond stamps span the years 1678..2261
_DATE_RANGES = {
    "year": (1678, 2261),
    "month": (1, 12),
    "day": (1, 31),
    "hour": (1, 24),
    "minute": (0, 60),
}
# days before each month in a leap year: a record's hour of the year without its year
_DAYS_BEFORE = np.cumsum([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DAYS_IN_MONTH = np.diff(_DAYS_BEFORE)
_FEB29_HOURS = 24


def check_epw_text(path: str | os.PathLike) -> np.ndarray:
    """Raise :class:`WeatherDataError` (path, line, field) for the first problem found in
    the EPW at ``path`` (see the module docstring); for a good file return the file line
    of each record, in order (pvlib's rows, since pandas skips the blank lines too)."""
    lines = _physical_lines(path)
    _check_location(lines[0] if lines else "", path)
    _check_header_lines(lines, path)
    records = [
        (n, _cells(line, n, path))
        for n, line in enumerate(lines[FIRST_RECORD_LINE - 1 :], start=FIRST_RECORD_LINE)
        if line.strip()  # pandas skips blank and whitespace-only lines
    ]
    if not records:
        raise WeatherDataError(
            "no data records (a typical year has 8760)", path=path, line=FIRST_RECORD_LINE
        )
    for n, row in records:
        _check_cell_count(row, n, path)
    lines_no = np.array([n for n, _ in records])
    cells = {
        name: pd.Series([row[pos].strip() if len(row) > pos else "" for _, row in records])
        for name, pos in {**_DATE_FIELDS, **_VALUE_FIELDS}.items()
    }
    dates = {name: _whole_numbers(cells[name], lines_no, name, path) for name in _DATE_FIELDS}
    for name in _VALUE_FIELDS:
        _numbers_or_empty(cells[name], lines_no, name, path)
    _check_sequence(dates, lines_no, path)
    return lines_no


def _physical_lines(path: str | os.PathLike) -> list[str]:
    """The file's lines as pvlib reads them (``EPW_ENCODING``, universal newlines),
    without their line ends; no trailing empty line for the file's last line end."""
    with open(path, encoding=EPW_ENCODING) as fh:
        text = fh.read()
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _cells(line: str, n: int, path) -> list[str]:
    """The comma-separated cells of file line ``n`` as pandas splits them (a cell that
    starts with a quote ends at its closing quote)."""
    row = next(csv.reader([line + "\n"]), [])
    # an unclosed quote keeps the line end in its cell: pandas would read on into the
    # next lines in search of its end, swallowing them into this cell
    if any("\n" in cell for cell in row):
        raise WeatherDataError(
            "a quote opened on this line is never closed: pvlib would read the rest of the "
            "file as one cell",
            path=path,
            line=n,
        )
    return row


def _check_location(line: str, path) -> None:
    """The LOCATION line's coordinates, time zone and elevation are finite and in range."""
    location = line.split(",")  # as pvlib splits it: no quoting
    if location[0].strip().upper() != "LOCATION":
        raise WeatherDataError(
            "not a valid EPW file: line 1 is not its LOCATION line", path=path, line=1
        )
    texts = {
        name: location[pos] if len(location) > pos else "" for name, pos in _LOCATION_FIELDS.items()
    }
    check_location(texts, path, "LOCATION")


def _check_header_lines(lines: list[str], path) -> None:
    """Lines 2..8 are there, not blank, and close their quotes: pvlib skips six and takes
    the seventh as pandas' header, so a missing one shifts the records."""
    for n in range(2, FIRST_RECORD_LINE):
        if n > len(lines) or not lines[n - 1].strip():
            raise WeatherDataError(
                f"line {n} is {'missing' if n > len(lines) else 'blank'}: an EPW has eight "
                "header lines (LOCATION to DATA PERIODS) before its records",
                path=path,
                line=n,
            )
        _cells(lines[n - 1], n, path)


def _check_cell_count(row: list[str], n: int, path) -> None:
    """A record has at most 35 cells and at least the fields the readers use."""
    if not _RECORD_CELLS_READ <= len(row) <= _RECORD_CELLS:
        raise WeatherDataError(
            f"{len(row)} cells: an EPW record has {_RECORD_CELLS} (at least the first "
            f"{_RECORD_CELLS_READ}, to total sky cover, are read)",
            path=path,
            line=n,
        )


def _whole_numbers(text: pd.Series, lines: np.ndarray, name: str, path) -> np.ndarray:
    """A date field as integers, each a whole number within its range."""
    num = pd.to_numeric(text, errors="coerce").to_numpy(float)
    lo, hi = _DATE_RANGES[name]
    bad = ~np.isfinite(num) | (num != np.round(num)) | (num < lo) | (num > hi)
    if name == "minute":
        bad |= ~np.isin(num, (0, 60))  # sub-hourly records are not a typical year's hours
    if bad.any():
        i = int(np.argmax(bad))
        want = "0 or 60 (hourly records)" if name == "minute" else f"a whole number {lo}..{hi}"
        raise WeatherDataError(
            f"{name} {text[i]!r}: expected {want}", path=path, line=int(lines[i]), field=name
        )
    return num.astype(int)


def _numbers_or_empty(text: pd.Series, lines: np.ndarray, name: str, path) -> None:
    """A value field holds numbers (an empty cell is missing, refused later)."""
    bad = pd.to_numeric(text, errors="coerce").isna().to_numpy() & (text != "").to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise WeatherDataError(
            f"not a number: {text[i]!r}", path=path, line=int(lines[i]), field=name
        )


def _check_sequence(dates: dict[str, np.ndarray], lines: np.ndarray, path) -> None:
    """Records are the consecutive hours of one typical year from 1 January hour 1."""
    year, month, day, hour = dates["year"], dates["month"], dates["day"], dates["hour"]
    leap_year = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    over = (day > _DAYS_IN_MONTH[month - 1]) | ((month == 2) & (day == 29) & ~leap_year)
    if over.any():
        i = int(np.argmax(over))
        raise WeatherDataError(
            f"day {day[i]} of month {month[i]} does not exist in {year[i]}",
            path=path,
            line=int(lines[i]),
            field="day",
        )
    hours = (_DAYS_BEFORE[month - 1] + day - 1) * 24 + hour - 1  # hour of a leap year
    step = np.diff(hours, prepend=-1)
    skips_feb29 = (step == 1 + _FEB29_HOURS) & (hours == _DAYS_BEFORE[2] * 24)
    bad = (step != 1) & ~skips_feb29
    if bad.any():
        i = int(np.argmax(bad))
        raise WeatherDataError(
            _sequence_problem(dates, lines, i), path=path, line=int(lines[i]), field="hour"
        )
    leap = bool((month == 2).any() and (day[month == 2] == 29).any())
    if len(hours) != 8760 + leap * _FEB29_HOURS:
        raise WeatherDataError(
            f"{len(hours)} hourly records end at {month[-1]}/{day[-1]} hour {hour[-1]}: a "
            "typical year has 8760 (8784 with 29 February)",
            path=path,
            line=int(lines[-1]),
            field="hour",
        )


def _sequence_problem(dates: dict[str, np.ndarray], lines: np.ndarray, i: int) -> str:
    """Words for record ``i`` that is not the hour after record ``i - 1``."""
    m, d, h = (int(dates[k][i]) for k in ("month", "day", "hour"))
    if i == 0:
        return f"the first record is {m}/{d} hour {h}; a typical year starts at 1/1 hour 1"
    pm, pd_, ph = (int(dates[k][i - 1]) for k in ("month", "day", "hour"))
    if (m, d, h) == (pm, pd_, ph):
        return f"duplicate record {m}/{d} hour {h} (line {lines[i - 1]} has it too)"
    return f"record {m}/{d} hour {h} follows {pm}/{pd_} hour {ph} (consecutive hours expected)"
