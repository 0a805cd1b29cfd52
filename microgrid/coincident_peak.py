"""Coincident-peak charges (ERCOT 4CP, PJM 5CP): the grid's section `coincident_peaks`.

A transmission (4CP) or capacity (5CP) charge allocated on the site's demand in the `n`
system-peak intervals of a season. With interval i's demand D_i (MW), the tag and the
charge are

    tag_mw = Σ_i D_i / n            charge_usd = usd_per_mw_year × tag_mw

(only the intervals inside the horizon count; the others are listed as not covered).
D_i is the grid import averaged over the interval: step t holds the weight

    w_it = overlap(step t, interval i) / length(interval i)      D_i = Σ_t w_it · import[t]

so an interval shorter than a step is billed on that step's average import (the model
has nothing finer), and one longer than a step on the average of its steps.

Known intervals (mode "known", planning in hindsight): the charge is linear in import,
an import price part "coincident_peak" of

    (usd_per_mw_year / n) · Σ_i w_it / step_h     USD/MWh at step t.

Alerts (mode "alerts", risk-aware): only a daily alert (probability p, local window) is
known; each alert day is an `optimize.PeakCharge` on its window's peak import at the
expected rate p · usd_per_mw_year / n (line item "coincident_peak_expected", key
"cp_alert@YYYY-MM-DD"), seen by the operate controller only `alert_notice_hours` before
its window starts. The expected charges are what the plan minimises, not money: the bill
(`summary["bill"]`, `hindsight_grid`; `cp_summary`) prices the real intervals in
hindsight and shows the alerts' expected charge beside it as a planning estimate.

Files: the intervals CSV has one column `interval_start_local`; the alerts CSV has
`date, probability, window_start_local, window_end_local` (YYYY-MM-DD, then local HH:MM
without an offset; the end may be 24:00). Lines starting with `#` are comments. Local
times are in `site.timezone`; one in a DST gap or overlap is refused, as in the YAML.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import optimize
from microgrid.datafiles import read_small_csv
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from microgrid.scenario_grid import CoincidentPeaks
from microgrid.wall_time import (
    demand_interval,
    local_minute_label,
    overlap_mask,
    parse_time_utc,
    step_of,
)
from optimize.problem import PeakCharge

PRICE_PART = "coincident_peak"
EXPECTED_LINE = "coincident_peak_expected"
INTERVAL_COLUMNS = ("interval_start_local",)
ALERT_COLUMNS = ("date", "probability", "window_start_local", "window_end_local")
# An alert's date and its window's local clock times (no offset: the columns are local)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2})?")


@dataclass(frozen=True)
class CpInterval:
    """One coincident-peak interval [start_utc, end_utc)."""

    label: str  # local start with its offset, "2023-08-25T19:00-05:00"
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp


@dataclass(frozen=True)
class CpAlert:
    """One day's peak alert: probability that its window holds a coincident peak."""

    day: str  # local date, "2023-08-25"
    probability: float
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    notice_utc: pd.Timestamp  # when the alert becomes known

    @property
    def key(self) -> str:
        return f"cp_alert@{self.day}"


@dataclass(frozen=True)
class CoincidentPeakCase:
    """The scenario's coincident-peak section with its files read, times in UTC."""

    usd_per_mw_year: float
    n_peaks: int
    interval_minutes: int
    mode: str  # "known" or "alerts"
    timezone: str
    intervals: tuple[CpInterval, ...]
    alerts: tuple[CpAlert, ...]

    @property
    def usd_per_mw_interval(self) -> float:
        """USD per MW of demand in one interval: usd_per_mw_year / n_peaks."""
        return self.usd_per_mw_year / self.n_peaks


@dataclass(frozen=True)
class _Source:
    """Where a value came from, for errors: the scenario's field or a CSV file's line."""

    scenario: Scenario
    field: str
    path: Path | None = None

    def error(self, message: str, line: int | None = None, column: str | None = None):
        if self.path is None:
            return self.scenario.error(message, self.field)
        return InputError(message, path=str(self.path), line=line, field=column)


def load_coincident_peaks(scenario: Scenario) -> CoincidentPeakCase | None:
    """The section with its files read and checked; None when the scenario has none."""
    cp = scenario.grid.coincident_peaks
    if cp is None:
        return None
    years = scenario.local_years()
    intervals = _intervals(scenario, cp, years)
    alerts = _alerts(scenario, cp, years) if cp.mode == "alerts" else ()
    return CoincidentPeakCase(
        usd_per_mw_year=cp.usd_per_mw_year,
        n_peaks=cp.n_peaks,
        interval_minutes=cp.interval_minutes,
        mode=cp.mode,
        timezone=scenario.site.timezone,
        intervals=intervals,
        alerts=alerts,
    )


def _local_time(
    text: str, tz: str, src: _Source, line=None, column=None, offset_allowed: bool = True
) -> pd.Timestamp:
    """A local wall time (or, where `offset_allowed`, one with an offset) as UTC."""
    try:
        return parse_time_utc(text, tz, offset_allowed)
    except ValueError as exc:
        raise src.error(str(exc), line, column) from None


def _interval_texts(scenario: Scenario, cp: CoincidentPeaks):
    """(where, CSV line or None, local start text) of each listed interval."""
    if cp.intervals_csv is None:
        field = "grid.coincident_peaks.intervals"
        return [(_Source(scenario, f"{field}.{i}"), None, t.isoformat())
                for i, t in enumerate(cp.intervals)]  # fmt: skip
    path = scenario.resolve(cp.intervals_csv)
    src = _Source(scenario, "grid.coincident_peaks.intervals_csv", path)
    rows = read_small_csv(scenario, path, src.field, INTERVAL_COLUMNS)
    return [(src, line, row[INTERVAL_COLUMNS[0]]) for line, row in rows]


def _intervals(scenario: Scenario, cp: CoincidentPeaks, years: set[int]):
    tz = scenario.site.timezone
    length = pd.Timedelta(minutes=cp.interval_minutes)
    out = {}
    for src, line, text in _interval_texts(scenario, cp):
        start = _local_time(text, tz, src, line, INTERVAL_COLUMNS[0])
        local = start.tz_convert(tz)
        if local.year not in years:
            raise src.error(
                f"coincident-peak interval {text} is outside the period's year(s) "
                f"{', '.join(str(y) for y in sorted(years))}",
                line,
                INTERVAL_COLUMNS[0],
            )
        if start in out:
            raise src.error(
                f"coincident-peak interval {text} is listed twice", line, INTERVAL_COLUMNS[0]
            )
        clash = next(
            (iv for iv in out.values() if iv.start_utc < start + length and start < iv.end_utc),
            None,
        )
        if clash is not None:  # its minutes would count twice in the tag
            raise src.error(
                f"coincident-peak interval {text} overlaps the one at {clash.label} "
                f"({cp.interval_minutes}-minute intervals)",
                line,
                INTERVAL_COLUMNS[0],
            )
        if sum(k.tz_convert(tz).year == local.year for k in out) == cp.n_peaks:
            raise src.error(
                f"coincident-peak interval {text} is one more than n_peaks ({cp.n_peaks}) in "
                f"{local.year} (the tag is the intervals' demand summed over n_peaks: more "
                "intervals than that inflate it)",
                line,
                INTERVAL_COLUMNS[0],
            )
        out[start] = CpInterval(local_minute_label(start, tz), start, start + length)
    return tuple(out[k] for k in sorted(out))


def _alerts(scenario: Scenario, cp: CoincidentPeaks, years: set[int]) -> tuple[CpAlert, ...]:
    tz = scenario.site.timezone
    path = scenario.resolve(cp.alerts_csv)
    src = _Source(scenario, "grid.coincident_peaks.alerts_csv", path)
    notice = pd.Timedelta(hours=cp.alert_notice_hours)
    out = []
    for line, row in read_small_csv(scenario, path, src.field, ALERT_COLUMNS):
        day = row["date"]
        _check_clock_texts(row, src, line)
        p = _probability(row["probability"], src, line)
        start = _local_time(
            f"{day}T{row['window_start_local']}", tz, src, line, "window_start_local", False
        )
        end = _window_end(day, row["window_end_local"], tz, src, line)
        if start.tz_convert(tz).year not in years:
            raise src.error(f"alert date {day} is outside the period's year(s)", line, "date")
        if end <= start:
            message = "window_end_local must be after window_start_local"
            raise src.error(message, line, "window_end_local")
        alert = CpAlert(start.tz_convert(tz).strftime("%Y-%m-%d"), p, start, end, start - notice)
        if any(a.day == alert.day for a in out):
            raise src.error(f"a second alert for {alert.day} (one a day)", line, "date")
        out.append(alert)
    return tuple(sorted(out, key=lambda a: a.start_utc))


def _check_clock_texts(row: dict[str, str], src: _Source, line: int) -> None:
    """The date is YYYY-MM-DD and the window's times local HH:MM (no offset such as Z:
    the columns are local wall time at the site)."""
    if not _DATE.fullmatch(row["date"]):
        raise src.error(f"date {row['date']!r} is not YYYY-MM-DD", line, "date")
    try:  # 2023-02-30 matches the pattern; blamed on its window otherwise
        date.fromisoformat(row["date"])
    except ValueError as exc:
        raise src.error(
            f"date {row['date']!r} is not a calendar day ({exc})", line, "date"
        ) from None
    for column in ("window_start_local", "window_end_local"):
        if not _CLOCK.fullmatch(row[column]):
            raise src.error(
                f"{row[column]!r} is not a local time of day HH:MM (no offset: the window is "
                "local wall time at the site)",
                line,
                column,
            )


def _probability(text: str, src: _Source, line: int) -> float:
    try:
        p = float(text)
    except ValueError:
        raise src.error(f"probability {text!r} is not a number", line, "probability") from None
    if not 0.0 <= p <= 1.0:
        raise src.error(f"probability {text} must lie in [0, 1]", line, "probability")
    return p


def _window_end(day: str, text: str, tz: str, src: _Source, line: int) -> pd.Timestamp:
    """The window's end; "24:00" is the next day's midnight."""
    if text in ("24:00", "24:00:00"):
        next_day = (pd.Timestamp(day) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        return _local_time(f"{next_day}T00:00", tz, src, line, "window_end_local", False)
    return _local_time(f"{day}T{text}", tz, src, line, "window_end_local", False)


def overlap_weights(index: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp):
    """Per step: the share of [start, end) that the step covers (see the module header)."""
    step = step_of(index)
    lo = np.maximum(index.asi8, start.value)
    hi = np.minimum((index + step).asi8, end.value)
    return np.clip(hi - lo, 0, None) / float(end.value - start.value)


def covered(case: CoincidentPeakCase, index: pd.DatetimeIndex) -> list[bool]:
    """Per interval: does the horizon hold it whole (only those are priced and billed)."""
    if len(index) == 0:
        return [False] * len(case.intervals)
    end = index[-1] + step_of(index)
    return [iv.start_utc >= index[0] and iv.end_utc <= end for iv in case.intervals]


def interval_weights(case: CoincidentPeakCase, index: pd.DatetimeIndex) -> np.ndarray:
    """Σ_i w_it over the covered intervals (per step)."""
    w = np.zeros(len(index))
    for iv, inside in zip(case.intervals, covered(case, index), strict=True):
        if inside:
            w += overlap_weights(index, iv.start_utc, iv.end_utc)
    return w


def cp_price_usd_per_mwh(case: CoincidentPeakCase, index: pd.DatetimeIndex, step_h: float):
    """The known intervals' import price part (USD/MWh per step)."""
    return case.usd_per_mw_interval * interval_weights(case, index) / step_h


def alert_charges(case: CoincidentPeakCase, index: pd.DatetimeIndex):
    """One expected-cost PeakCharge per alert whose window overlaps the horizon."""
    out = []
    step_h = step_of(index) / pd.Timedelta(hours=1) if len(index) else 1.0
    # the window's peak is of the import averaged over the CP intervals (a 60-minute
    # interval at 15-minute steps: the hour's mean)
    steps_per, phase = demand_interval(index, case.timezone, step_h, case.interval_minutes)
    for a in case.alerts:
        steps = overlap_mask(index, a.start_utc, a.end_utc)
        if steps.any():
            usd_per_mw = a.probability * case.usd_per_mw_interval
            out.append(
                PeakCharge(
                    a.key,
                    EXPECTED_LINE,
                    usd_per_mw,
                    steps,
                    interval_steps=steps_per,
                    interval_phase=phase,
                )
            )
    return tuple(out)


def alert_visible_from_step(case: CoincidentPeakCase | None, index: pd.DatetimeIndex):
    """Alert key -> first step at whose start the alert is known (its notice time)."""
    if case is None:
        return {}
    return {a.key: int(index.searchsorted(a.notice_utc, side="left")) for a in case.alerts}


def add_coincident_peaks(
    scenario: Scenario, index: pd.DatetimeIndex, grid: optimize.Grid
) -> optimize.Grid:
    """`grid` with the scenario's coincident-peak charges (none: unchanged): known
    intervals as the import price part "coincident_peak", alerts as peak charges."""
    case = load_coincident_peaks(scenario)
    if case is None:
        return grid
    if case.mode == "alerts":
        return dataclasses.replace(
            grid, peak_charges=grid.peak_charges + alert_charges(case, index)
        )
    return _with_interval_prices(grid, case, index, scenario.step_h)


def hindsight_grid(
    scenario: Scenario, index: pd.DatetimeIndex, grid: optimize.Grid
) -> optimize.Grid:
    """The grid a run is billed on: in mode "alerts" the alert days' expected charges
    give way to the real intervals' charge (the price part "coincident_peak"); otherwise
    `grid` itself (known intervals are already priced). A grid that already has the part
    is returned as it is (the closed loop bills on this grid, and the bill calls this
    again): the intervals are priced once."""
    case = load_coincident_peaks(scenario)
    if case is None or case.mode != "alerts" or PRICE_PART in (grid.import_price_parts or {}):
        return grid
    billed = tuple(c for c in grid.peak_charges if c.line_item != EXPECTED_LINE)
    grid = dataclasses.replace(grid, peak_charges=billed)
    return _with_interval_prices(grid, case, index, scenario.step_h)


def _with_interval_prices(
    grid: optimize.Grid, case: CoincidentPeakCase, index: pd.DatetimeIndex, step_h: float
) -> optimize.Grid:
    """`grid` with the known intervals' charge as the import price part "coincident_peak"."""
    part = cp_price_usd_per_mwh(case, index, step_h)
    export_parts = grid.export_price_parts
    if grid.import_price_parts is None and export_parts is None:
        # export revenue stays in the one "energy" line, as without parts
        export_parts = {"energy": grid.export_price_usd_per_mwh}
    parts = dict(grid.import_price_parts or {"energy": grid.import_price_usd_per_mwh})
    parts[PRICE_PART] = parts.get(PRICE_PART, 0.0) + part
    return dataclasses.replace(
        grid,
        import_price_usd_per_mwh=grid.import_price_usd_per_mwh + part,
        import_price_parts=parts,
        export_price_parts=export_parts,
    )
