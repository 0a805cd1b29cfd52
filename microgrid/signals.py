"""Grid signals (price and carbon intensity) on the scenario's UTC step index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from microgrid.datafiles import not_utf8_error, require_data_file
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from microgrid.scenario_fields import MAX_CARBON_G_PER_KWH, MAX_PRICE_USD_PER_MWH
from microgrid.wall_time import step_of

# A CSV's data row i (0-based) sits on file line i + 2: line 1 is the header.
_HEADER_LINES = 1
# The bounds the scenario puts on its own prices and intensities hold for file values too:
# a 1e308 price would otherwise reach the solver and fail there.
SIGNAL_BOUNDS = {
    "price_usd_per_mwh": (-MAX_PRICE_USD_PER_MWH, MAX_PRICE_USD_PER_MWH),
    "carbon_g_per_kwh": (0.0, MAX_CARBON_G_PER_KWH),
}
# An ISO 8601 time of day followed by its offset from UTC ("T05:00:00-06:00"); the time
# must be there, or the "-01" of a bare date "2023-01-01" would pass for an offset.
_HAS_OFFSET = r"[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _read_raw_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; a UTF-8 byte-order mark is skipped."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("signal file not found", path=str(path)) from None
    except UnicodeDecodeError:  # its offset counts in pandas' chunk: find the byte's line
        raise not_utf8_error(path) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path=str(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: pandas' ParserError and kin
        raise InputError(f"cannot read CSV: {exc}", path=str(path)) from None


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
            line=i + 1 + _HEADER_LINES,
            field=column,
        )
    return pd.DatetimeIndex(stamps, name="timestamp_utc").tz_convert("UTC")


def read_signal_csv(
    path: Path,
    timestamp_column: str,
    value_columns: dict[str, str],
    bounds: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Read an hourly (or finer) signal CSV into a UTC-indexed frame.

    `value_columns` maps output names to CSV columns; `bounds` maps output names to the
    (low, high) range a value may take. Errors name the file, the 1-based line and the
    column: missing columns, unparsable or naive time stamps, non-numeric, non-finite or
    out-of-range cells, duplicate time stamps and gaps in the regular time step.
    """
    raw = _read_raw_csv(path)
    for col in [timestamp_column, *value_columns.values()]:
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
            line=i + 1 + _HEADER_LINES,
            field=timestamp_column,
        )
    if len(index) > 1:
        steps = np.diff(index.asi8)
        if (steps <= 0).any():
            i = int(np.argmax(steps <= 0)) + 1
            raise InputError("time stamps out of order", path=str(path), line=i + 1 + _HEADER_LINES)
        step = int(np.min(steps))
        gap = steps != step
        if gap.any():
            i = int(np.argmax(gap))
            raise InputError(
                f"gap in time series: {index[i].isoformat()} is followed by "
                f"{index[i + 1].isoformat()} (step {pd.Timedelta(step)})",
                path=str(path),
                line=i + 2 + _HEADER_LINES,
                field=timestamp_column,
            )

    values = {
        name: _column_values(raw, path, col, (bounds or {}).get(name, (-np.inf, np.inf)))
        for name, col in value_columns.items()
    }
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
            line=i + 1 + _HEADER_LINES,
            field=col,
        )
    lo, hi = bounds
    outside = ((values < lo) | (values > hi)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise InputError(
            f"{raw[col].iloc[i]!r} is outside [{lo:g}, {hi:g}]",
            path=str(path),
            line=i + 1 + _HEADER_LINES,
            field=col,
        )
    return values.to_numpy(dtype=float)


def _source_step(frame: pd.DataFrame) -> pd.Timedelta:
    """The file's time step (one hour for a one-row file)."""
    return frame.index[1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(hours=1)


def _on_index(
    frame: pd.DataFrame, index: pd.DatetimeIndex, path: Path, edge_fill_hours: int = 0
) -> pd.DataFrame:
    """Hold each source value over its interval; fail if the horizon is not covered
    (beyond `edge_fill_hours` of the first/last value repeated)."""
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
    pos = np.clip(frame.index.searchsorted(index, side="right") - 1, 0, len(frame) - 1)
    return pd.DataFrame(frame.to_numpy()[pos], index=index, columns=frame.columns)


def _time_of_use(scenario: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Each step takes the band of the local hour it starts in (the schema has refused
    overlapping and empty bands); every local hour the period meets needs a band."""
    hours = index.tz_convert(scenario.site.timezone).hour.to_numpy()
    price = np.full(len(index), np.nan)
    carbon = np.full(len(index), np.nan)
    for band in scenario.signals.time_of_use or []:
        sel = np.isin(hours, band.hours)
        price[sel] = band.price_usd_per_mwh
        carbon[sel] = band.carbon_g_per_kwh
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
        )
        if sig.price_shift_h:
            shift = pd.Timedelta(hours=sig.price_shift_h) / _source_step(frame)
            price = frame["price_usd_per_mwh"].shift(-int(shift))
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
