"""Grid signals (price and carbon intensity) on the scenario's UTC step index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from microgrid.carbon_units import series_problem
from microgrid.datafiles import not_utf8_error, require_data_file
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from microgrid.scenario_fields import MAX_PRICE_USD_PER_MWH
from microgrid.wall_time import step_of
from weather.csv_text import csv_parse_problem, read_csv_cells

# The bounds the scenario puts on its own prices and intensities hold for file values too:
# a 1e308 price would otherwise reach the solver and fail there. Carbon's upper bound is
# the magnitude check's ceiling (SIGNAL_CHECKS), which says which unit the values look in.
SIGNAL_BOUNDS = {
    "price_usd_per_mwh": (-MAX_PRICE_USD_PER_MWH, MAX_PRICE_USD_PER_MWH),
    "carbon_g_per_kwh": (0.0, np.inf),
}
# A column's values as a whole -> (data row, why) where they look like another unit
ValueCheck = Callable[[np.ndarray], tuple[int, str] | None]
SIGNAL_CHECKS: dict[str, ValueCheck] = {"carbon_g_per_kwh": series_problem}
# An ISO 8601 time of day followed by its offset from UTC ("T05:00:00-06:00"); the time
# must be there, or the "-01" of a bare date "2023-01-01" would pass for an offset.
_HAS_OFFSET = r"[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _read_raw_csv(path: Path) -> pd.DataFrame:
    """Every cell as text, with each row's file line (`read_csv_cells`)."""
    try:
        return read_csv_cells(path)
    except FileNotFoundError:
        raise InputError("signal file not found", path=str(path)) from None
    except UnicodeDecodeError:  # its offset counts in pandas' chunk: find the byte's line
        raise not_utf8_error(path) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path=str(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: pandas' ParserError and kin
        line, text = csv_parse_problem(exc)
        raise InputError(text, path=str(path), line=line) from None


def _line(raw: pd.DataFrame, row: int) -> int:
    """The file line of data row `row` (0-based)."""
    return int(raw.attrs["file_lines"][row])


def _without_offset(text: pd.Series) -> np.ndarray:
    """Rows whose time stamp gives no offset (pandas would read them as UTC)."""
    naive = ~text.str.endswith("Z").to_numpy()
    if naive.any():  # the regular expression only where needed: it is the slow part
        naive[naive] = ~text[naive].str.contains(_HAS_OFFSET, regex=True).to_numpy()
    return naive


def _utc_stamps(raw: pd.DataFrame, path: Path, column: str) -> pd.DatetimeIndex:
    """The time stamp column as UTC; each stamp must carry its own offset (or Z), which may
    differ between rows (local time across a DST change)."""
    text = raw[column].str.strip()
    naive = _without_offset(text)
    stamps = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = stamps.isna().to_numpy() | naive
    if bad.any():
        i = int(np.argmax(bad))
        what = (
            "time stamps need an explicit offset or Z (UTC)"
            if not pd.isna(stamps.iloc[i])
            else "not a time stamp (ISO 8601 with offset, years 1678-2261)"
        )
        raise InputError(
            f"{what}: {raw[column].iloc[i]!r}",
            path=str(path),
            line=_line(raw, i),
            field=column,
        )
    return pd.DatetimeIndex(stamps, name="timestamp_utc").tz_convert("UTC")


def read_signal_csv(
    path: Path,
    timestamp_column: str,
    value_columns: dict[str, str],
    bounds: dict[str, tuple[float, float]] | None = None,
    checks: dict[str, ValueCheck] | None = None,
) -> pd.DataFrame:
    """Read an hourly (or finer) signal CSV into a UTC-indexed frame.

    `value_columns` maps output names to CSV columns; `bounds` maps output names to the
    (low, high) range a value may take; `checks` to a check of the whole column (every
    row of the file, not only the period's: a unit is the file's). Errors name the file,
    the 1-based line and the column: missing columns, unparsable or naive time stamps,
    non-numeric, non-finite or out-of-range cells, values in another unit, duplicate time
    stamps and gaps in the regular time step.
    """
    raw = _read_raw_csv(path)
    for col in [timestamp_column, *value_columns.values()]:
        if col in raw.attrs["repeated_columns"]:
            raise InputError(f"column {col!r} appears twice", path=str(path), line=1, field=col)
        if col not in raw.columns:
            raise InputError(
                f"missing column {col!r} (columns: {', '.join(raw.columns)})",
                path=str(path),
                line=1,
                field=col,
            )
    if raw.empty:
        raise InputError("no data rows", path=str(path), line=2)

    index = _utc_stamps(raw, path, timestamp_column)

    dup = index.duplicated()
    if dup.any():
        i = int(np.argmax(dup))
        raise InputError(
            f"duplicate time stamp {index[i].isoformat()}",
            path=str(path),
            line=_line(raw, i),
            field=timestamp_column,
        )
    if len(index) > 1:
        steps = np.diff(index.asi8)
        if (steps <= 0).any():
            i = int(np.argmax(steps <= 0)) + 1
            raise InputError(
                "time stamps out of order",
                path=str(path),
                line=_line(raw, i),
                field=timestamp_column,
            )
        step = int(np.min(steps))
        gap = steps != step
        if gap.any():
            i = int(np.argmax(gap))
            raise InputError(
                f"gap in time series: {index[i].isoformat()} is followed by "
                f"{index[i + 1].isoformat()} (step {pd.Timedelta(step)})",
                path=str(path),
                line=_line(raw, i + 1),
                field=timestamp_column,
            )

    values = {
        name: _column_values(raw, path, col, (bounds or {}).get(name, (-np.inf, np.inf)))
        for name, col in value_columns.items()
    }
    for name, check in (checks or {}).items():
        problem = check(values[name])
        if problem is not None:
            row, message = problem
            col = value_columns[name]
            raise InputError(message, path=str(path), line=_line(raw, row), field=col)
    return pd.DataFrame(values, index=index)


def _column_values(
    raw: pd.DataFrame, path: Path, col: str, bounds: tuple[float, float]
) -> np.ndarray:
    """A column as finite numbers within `bounds` (low, high)."""
    values = pd.to_numeric(raw[col], errors="coerce")
    bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"not a number: {raw[col].iloc[i]!r}",
            path=str(path),
            line=_line(raw, i),
            field=col,
        )
    lo, hi = bounds
    outside = ((values < lo) | (values > hi)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise InputError(
            f"{raw[col].iloc[i]!r} is outside [{lo:g}, {hi:g}]",
            path=str(path),
            line=_line(raw, i),
            field=col,
        )
    return values.to_numpy(dtype=float)


def _source_step(frame: pd.DataFrame) -> pd.Timedelta:
    """The file's time step (one hour for a one-row file)."""
    return frame.index[1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(hours=1)


def _on_index(
    frame: pd.DataFrame, index: pd.DatetimeIndex, path: Path, edge_fill_hours: int = 0
) -> pd.DataFrame:
    """Each step's mean of the file's values over it: the value of the row it lies in
    (a file as coarse as the step and on its grid), else the rows it meets weighted by
    the time each holds within it (a finer file, or one off the step grid). Fail if the
    horizon is not covered (beyond `edge_fill_hours` of the first/last value repeated)."""
    src_step = _source_step(frame)
    fill = pd.Timedelta(hours=edge_fill_hours)
    step = step_of(index)
    if index[0] < frame.index[0] - fill or index[-1] >= frame.index[-1] + src_step + fill:
        raise InputError(
            f"signals cover {frame.index[0].isoformat()} to "
            f"{(frame.index[-1] + src_step).isoformat()}, but the period needs "
            f"{index[0].isoformat()} to {(index[-1] + step).isoformat()}"
            + (f" (edge_fill_hours={edge_fill_hours})" if edge_fill_hours else ""),
            path=str(path),
        )
    top = len(frame) - 1
    first = np.clip(frame.index.searchsorted(index, side="right") - 1, 0, top)
    last = np.clip(frame.index.searchsorted(index + step, side="left") - 1, 0, top)
    values = frame.to_numpy()[first]
    meets = last > first  # steps that meet more than one row
    if meets.any():
        values[meets] = _time_weighted(frame, index[meets], step, first[meets], last[meets])
    return pd.DataFrame(values, index=index, columns=frame.columns)


def _time_weighted(
    frame: pd.DataFrame,
    index: pd.DatetimeIndex,
    step: pd.Timedelta,
    first: np.ndarray,
    last: np.ndarray,
) -> np.ndarray:
    """The mean over each step [t, t + step) of `index` of rows `first`..`last`, each
    weighted by the time it holds within the step (the first row holds from before the
    file, the last beyond it: the edge fill)."""
    starts = frame.index.asi8.copy()
    ends = np.append(starts[1:], np.iinfo(np.int64).max)
    starts[0] = np.iinfo(np.int64).min
    a = index.asi8
    b = a + step.value
    rows = frame.to_numpy()
    mean = np.zeros((len(index), rows.shape[1]))
    for offset in range(int((last - first).max()) + 1):
        k = np.minimum(first + offset, last)
        held = np.minimum(b, ends[k]) - np.maximum(a, starts[k])
        weight = np.where(first + offset <= last, np.maximum(held, 0), 0) / step.value
        mean += rows[k] * weight[:, None]
    return mean


def _shift_rows(scenario: Scenario, frame: pd.DataFrame) -> int:
    """`signals.price_shift_h` in rows of the file (refused unless a whole number)."""
    shift_h = scenario.signals.price_shift_h
    rows = pd.Timedelta(hours=shift_h) / _source_step(frame)
    if rows != int(rows):
        raise scenario.error(
            f"price_shift_h ({shift_h} h) is not a whole number of the signal file's "
            f"{_source_step(frame) / pd.Timedelta(hours=1):g} h steps",
            "signals.price_shift_h",
        )
    return int(rows)


def _time_of_use(scenario: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Each step takes the band of the local hour it starts in (the schema has refused
    overlapping and empty bands); every local hour the period meets needs a band."""
    hours = index.tz_convert(scenario.site.timezone).hour.to_numpy()
    price = np.full(len(index), np.nan)
    carbon = np.full(len(index), np.nan)
    sig = scenario.signals
    for band in sig.time_of_use or []:
        sel = np.isin(hours, band.hours)
        price[sel] = band.price_usd_per_mwh
        carbon[sel] = sig.band_carbon_g_per_kwh(band)
    if np.isnan(price).any():
        missing = sorted(set(hours[np.isnan(price)].tolist()))
        raise scenario.error(
            f"the bands do not cover local hour(s) {missing} of the period: every hour "
            "needs a band (one through midnight starts after it ends, e.g. 22 to 6)",
            "signals.time_of_use",
        )
    return pd.DataFrame({"price_usd_per_mwh": price, "carbon_g_per_kwh": carbon}, index=index)


def load_signals(scenario: Scenario, index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Price (USD/MWh) and carbon intensity (g/kWh) on the scenario's UTC step index."""
    index = scenario.index() if index is None else index
    sig = scenario.signals
    if sig.csv is not None:
        path = scenario.resolve(sig.csv)
        require_data_file(scenario, path, "signals.csv")
        frame = read_signal_csv(
            path,
            sig.timestamp_column,
            {"price_usd_per_mwh": sig.price_column, "carbon_g_per_kwh": sig.carbon_column},
            SIGNAL_BOUNDS,
            SIGNAL_CHECKS,
        )
        if sig.price_shift_h:
            price = frame["price_usd_per_mwh"].shift(-_shift_rows(scenario, frame))
            frame["price_usd_per_mwh"] = price.ffill().bfill()
        return _on_index(frame, index, path, sig.edge_fill_hours)
    if sig.time_of_use is not None:
        return _time_of_use(scenario, index)
    return pd.DataFrame(
        {
            "price_usd_per_mwh": np.full(len(index), float(sig.price_usd_per_mwh)),
            "carbon_g_per_kwh": np.full(len(index), float(sig.carbon_g_per_kwh)),
        },
        index=index,
    )
