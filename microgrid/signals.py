"""Grid signals (price and carbon intensity) on the scenario's UTC step index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from microgrid.errors import InputError
from microgrid.scenario import Scenario, Signals, step_of

# A CSV's data row i (0-based) sits on file line i + 2: line 1 is the header.
_HEADER_LINES = 1


def read_signal_csv(
    path: Path, timestamp_column: str, value_columns: dict[str, str]
) -> pd.DataFrame:
    """Read an hourly (or finer) signal CSV into a UTC-indexed frame.

    `value_columns` maps output names to CSV columns. Errors name the file, the 1-based
    line and the column: missing columns, unparsable or naive time stamps, non-numeric
    cells, duplicate time stamps and gaps in the regular time step.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError("signal file not found", path=str(path)) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV: {exc}", path=str(path)) from None
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

    stamps = pd.to_datetime(raw[timestamp_column], utc=False, errors="coerce", format="ISO8601")
    bad = stamps.isna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise InputError(
            f"not a time stamp: {raw[timestamp_column].iloc[i]!r}",
            path=str(path),
            line=i + 1 + _HEADER_LINES,
            field=timestamp_column,
        )
    if getattr(stamps.dt, "tz", None) is None:
        raise InputError(
            "time stamps need an explicit offset or Z (UTC)",
            path=str(path),
            line=1 + _HEADER_LINES,
            field=timestamp_column,
        )
    index = pd.DatetimeIndex(stamps.dt.tz_convert("UTC"), name="timestamp_utc")

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

    out = {}
    for name, col in value_columns.items():
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
        out[name] = values.to_numpy(dtype=float)
    return pd.DataFrame(out, index=index)


def _on_index(
    frame: pd.DataFrame, index: pd.DatetimeIndex, path: Path, edge_fill_hours: int = 0
) -> pd.DataFrame:
    """Hold each source value over its interval; fail if the horizon is not covered
    (beyond `edge_fill_hours` of the first/last value repeated)."""
    src_step = frame.index[1] - frame.index[0] if len(frame) > 1 else pd.Timedelta(hours=1)
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


def _time_of_use(signals: Signals, index: pd.DatetimeIndex, tz: str) -> pd.DataFrame:
    hours = index.tz_convert(tz).hour.to_numpy()
    price = np.full(len(index), np.nan)
    carbon = np.full(len(index), np.nan)
    for band in signals.time_of_use or []:
        sel = (hours >= band.start_hour) & (hours < band.end_hour)
        price[sel] = band.price_usd_per_mwh
        carbon[sel] = band.carbon_g_per_kwh
    if np.isnan(price).any():
        missing = sorted(set(hours[np.isnan(price)].tolist()))
        raise InputError(
            f"time_of_use does not cover local hour(s) {missing}", field="signals.time_of_use"
        )
    return pd.DataFrame({"price_usd_per_mwh": price, "carbon_g_per_kwh": carbon}, index=index)


def load_signals(scenario: Scenario, index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Price (USD/MWh) and carbon intensity (g/kWh) on the scenario's UTC step index."""
    index = scenario.index() if index is None else index
    sig = scenario.signals
    if sig.csv is not None:
        path = scenario.resolve(sig.csv)
        frame = read_signal_csv(
            path,
            sig.timestamp_column,
            {"price_usd_per_mwh": sig.price_column, "carbon_g_per_kwh": sig.carbon_column},
        )
        if sig.price_shift_h:
            shift = pd.Timedelta(hours=sig.price_shift_h) / (frame.index[1] - frame.index[0])
            price = frame["price_usd_per_mwh"].shift(-int(shift))
            frame["price_usd_per_mwh"] = price.ffill().bfill()
        return _on_index(frame, index, path, sig.edge_fill_hours)
    if sig.time_of_use is not None:
        return _time_of_use(sig, index, scenario.site.timezone)
    return pd.DataFrame(
        {
            "price_usd_per_mwh": np.full(len(index), float(sig.price_usd_per_mwh)),
            "carbon_g_per_kwh": np.full(len(index), float(sig.carbon_g_per_kwh)),
        },
        index=index,
    )
