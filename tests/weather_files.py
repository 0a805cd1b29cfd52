"""Small synthetic EPW files for the weather tests: a typical year of hour-ending records in
local standard time, with the values each test sets (the EPW field order of
``pvlib.iotools.read_epw``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HEADER = (
    "LOCATION,{name},NA,XXX,test,000000,{lat},{lon},{tz},{alt}\n"
    "DESIGN CONDITIONS,0\n"
    "TYPICAL/EXTREME PERIODS,0\n"
    "GROUND TEMPERATURES,0\n"
    "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0\n"
    "COMMENTS 1,synthetic\n"
    "COMMENTS 2,synthetic\n"
    "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31\n"
)
FLAGS = "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9*9*9"
# file line of the first record (eight header lines)
FIRST_RECORD_LINE = 9
# 0-based position of each field in a record
FIELD = {
    "month": 1,
    "day": 2,
    "hour": 3,
    "temp_air": 6,
    "relative_humidity": 8,
    "pressure": 9,
    "ghi": 13,
    "wind": 21,
}


def record_starts(year: int = 1999) -> pd.DatetimeIndex:
    """Local standard-time starts of the 8760 hours of a non-leap typical year."""
    return pd.date_range(f"{year}-01-01", periods=8760, freq="h")


def epw_records(
    *, temp_air_c=None, ghi_w_per_m2=None, pressure_pa=None, wind_m_per_s=None, year=1999
) -> list[list[str]]:
    """8760 records (lists of text fields); each value array has 8760 entries or is None
    (temperature = the hour of the year / 1000 so every hour is told apart, GHI 0,
    101325 Pa, 5 m/s)."""
    n = 8760
    temp = np.arange(n) / 1000.0 if temp_air_c is None else np.asarray(temp_air_c, float)
    ghi = np.zeros(n) if ghi_w_per_m2 is None else np.asarray(ghi_w_per_m2, float)
    pres = np.full(n, 101325.0) if pressure_pa is None else np.asarray(pressure_pa, float)
    wind = np.full(n, 5.0) if wind_m_per_s is None else np.asarray(wind_m_per_s, float)
    rows = []
    for i, start in enumerate(record_starts(year)):
        # hour-ending: the hour that starts at 23:00 is hour 24 of the same day
        day, hour = start, start.hour + 1
        rows.append(
            [str(day.year), str(day.month), str(day.day), str(hour), "60", FLAGS]
            + [f"{temp[i]:.3f}", "10.0", "60", f"{pres[i]:.0f}", "0", "0", "300"]
            + [f"{ghi[i]:.0f}", f"{ghi[i] * 0.5:.0f}", f"{ghi[i] * 0.5:.0f}"]
            + ["0", "0", "0", "0", "180", f"{wind[i]:.1f}", "0", "0", "20", "77777", "9"]
            + ["999999999", "10", "0.1", "0", "88", "0.2", "0", "1"]
        )
    return rows


def write_epw(
    path: Path,
    rows: list[list[str]] | None = None,
    *,
    lat: float = -33.87,
    lon: float = 151.21,
    tz_h: float = 10.0,
    alt: float = 40.0,
) -> Path:
    """Write ``rows`` (default :func:`epw_records`) under an EPW header."""
    rows = epw_records() if rows is None else rows
    head = HEADER.format(name="synthetic", lat=lat, lon=lon, tz=tz_h, alt=alt)
    path.write_text(head + "\n".join(",".join(r) for r in rows) + "\n")
    return path
