"""Read a run's result folder for the report: summary, time series, job segments and the
mode's extra tables. Every file is untrusted: a missing folder, a folder that is not a
`microgrid run` result (its marker names another kind or a format version this code does
not read), a missing file a run always writes, or a file that does not parse is one
`InputError` naming it. Times must carry their offset (`Z`), numbers must be numbers, and
the time series must hold every step of summary.json's period, so a damaged file is
refused with its line and field instead of drawn wrong. jobs.csv is checked row by row
with the export's checks (microgrid.export.result_reader): the same file, the same rules.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem, not_utf8_error, read_json_file
from microgrid.errors import InputError
from microgrid.export.result_reader import parse_segment, read_jobs_csv
from microgrid.export.schedule import format_utc, parse_utc, utc_times
from microgrid.parquet_files import read_parquet
from microgrid.result_files import (
    MAX_PARQUET_BYTES,
    TIME_COLUMN,
    TIMESERIES_CSV,
    TIMESERIES_PARQUET,
)
from microgrid.resultdir import check_run_marker
from microgrid.scenario_settings import Network
from microgrid.yamlio import load_yaml

# the fields of a jobs.csv segment (microgrid.export.schedule.Segment) the Gantt chart shows
SEGMENT_FIELDS = (
    "segment",
    "start_utc",
    "end_utc",
    "gpus",
    "power_fraction_mean",
    "work_done_h",
    "energy_mwh",
)
SUMMARY_KEYS = ("total_cost_usd", "emissions_t", "solver", "period", "scenario")
SECTIONS = ("solver", "period", "scenario", "jobs", "baselines", "operate", "powerflow")
FIGURE_SUFFIXES = ("_usd", "_t", "_mwh", "_mw", "_share")  # top-level numbers in summary
MAX_STEP_MINUTES = 24 * 60


@dataclass(frozen=True)
class NetworkLimits:
    """The AC limits the power flow was checked against (scenario.yaml's `network`, else
    the schema's defaults when the folder has no scenario copy)."""

    vm_min_pu: float
    vm_max_pu: float
    max_loading_pct: float
    from_scenario: bool


@dataclass(frozen=True)
class Period:
    """summary.json's period, checked: the steps the run's time series covers."""

    start_utc: datetime
    end_utc: datetime
    step: pd.Timedelta  # the length of a step (power values are averages over it)
    n_steps: int
    timezone: str  # the site's, for local-time axes


@dataclass(frozen=True)
class RunData:
    """What the report shows of one result folder. Frames have tz-aware UTC times."""

    folder: Path
    summary: dict  # summary.json as written (a document, not state)
    timeseries: pd.DataFrame  # index: UTC step start
    segments: pd.DataFrame  # jobs.csv: one row per run segment of a job
    jobs_spec: list[dict]  # jobs_spec.json: id, release_utc, deadline_utc, ...
    timezone: str  # the site's, for local-time axes
    step: pd.Timedelta  # the length of a step (power values are averages over it)
    limits: NetworkLimits
    planned_vs_actual: pd.DataFrame | None  # operate mode only
    events: pd.DataFrame | None  # operate mode only


def _not_run_folder(folder: Path, why: str) -> InputError:
    return InputError(f"not a `microgrid run` result folder ({why})", path=str(folder))


def read_summary(folder: Path) -> dict:
    """summary.json, checked to be a run's (the keys the report cannot do without)."""
    check_run_marker(folder)
    path = folder / "summary.json"
    if not path.is_file():
        raise _not_run_folder(folder, "summary.json is missing")
    summary = read_json_file(path)
    if not isinstance(summary, dict):
        raise InputError("summary.json must be a JSON object", path=str(path))
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise InputError(f"missing key(s): {', '.join(missing)}", path=str(path))
    _check_shapes(summary, path)
    return summary


def _check_shapes(summary: dict, path: Path) -> None:
    """The summary's sections are objects and its top-level figures numbers, so a damaged
    file is one error line naming the field, not a crash half-way through the page."""
    for key, value in summary.items():
        if key in SECTIONS and not isinstance(value, dict):
            raise InputError("must be a JSON object", path=str(path), field=key)
        if key.endswith(FIGURE_SUFFIXES) and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            raise InputError("must be a number", path=str(path), field=key)
    for name, b in (summary.get("baselines") or {}).items():
        if not isinstance(b, dict):
            raise InputError("must be a JSON object", path=str(path), field=f"baselines.{name}")
    solver = summary["solver"]
    for key in ("mip_gap", "bound_usd", "gap_basis_usd"):
        _number_or_none(solver.get(key), path, f"solver.{key}")
    _check_bill(summary.get("bill"), path)
    _check_demand_charge(summary.get("demand_charge"), path)
    _check_missed(summary.get("jobs"), path)


def _check_missed(jobs: dict | None, path: Path) -> None:
    """summary["jobs"]["missed_deadlines"] (absent in older folders): a list of objects,
    each with the numbers its deadlines card and CLI line print."""
    missed = (jobs or {}).get("missed_deadlines", [])
    field = "jobs.missed_deadlines"
    if not isinstance(missed, list) or not all(isinstance(m, dict) for m in missed):
        raise InputError("must be a list of objects", path=str(path), field=field)
    for i, m in enumerate(missed):
        for key in ("work_done_h", "work_h"):
            _number_or_none(m.get(key), path, f"{field}.{i}.{key}", none=False)


# the numbers of a month's demand charge (summary["demand_charge"]["months"][i]["charges"])
_CHARGE_NUMBERS = ("usd_per_mw", "peak_import_mw", "billed_demand_mw", "charge_usd")


def _check_demand_charge(d: object, path: Path) -> None:
    """summary["demand_charge"]: a list of months, each with its share, peak and charges."""
    if d is None:
        return
    months = d.get("months") if isinstance(d, dict) else None
    if not isinstance(months, list) or not all(isinstance(m, dict) for m in months):
        raise InputError("must hold a list of months", path=str(path), field="demand_charge")
    _number_or_none(d.get("charge_usd"), path, "demand_charge.charge_usd")
    for i, m in enumerate(months):
        field = f"demand_charge.months.{i}"
        for key in ("share_billed", "peak_import_mw"):
            _number_or_none(m.get(key), path, f"{field}.{key}", none=False)
        charges = m.get("charges", [])
        if not isinstance(charges, list) or not all(isinstance(c, dict) for c in charges):
            raise InputError("must be a list of objects", path=str(path), field=f"{field}.charges")
        for j, c in enumerate(charges):
            for key in _CHARGE_NUMBERS:
                _number_or_none(c.get(key), path, f"{field}.charges.{j}.{key}", none=False)
            rate = "usd_per_kw_month"  # None for an alert day's charge (per MW, not month)
            _number_or_none(c.get(rate), path, f"{field}.charges.{j}.{rate}")


def _check_bill(bill: object, path: Path) -> None:
    """summary["bill"]: numbers for lines and totals, a label per line, a list of months."""
    if bill is None:
        return
    ok = isinstance(bill, dict) and isinstance(bill.get("months"), list)
    ok = ok and all(isinstance(bill.get(k), dict) for k in ("lines", "labels"))
    if not ok:
        raise InputError("must hold lines, labels and months", path=str(path), field="bill")
    _number_or_none(bill.get("total_usd"), path, "bill.total_usd", none=False)
    for key, usd in bill["lines"].items():
        _number_or_none(usd, path, f"bill.lines.{key}", none=False)
        if key not in bill["labels"]:
            raise InputError("has no label", path=str(path), field=f"bill.lines.{key}")
    estimates = bill.get("estimates", {})
    if not isinstance(estimates, dict):
        raise InputError("must be a JSON object", path=str(path), field="bill.estimates")
    for key, usd in estimates.items():
        _number_or_none(usd, path, f"bill.estimates.{key}", none=False)
        if key not in bill["labels"]:
            raise InputError("has no label", path=str(path), field=f"bill.estimates.{key}")
    for i, m in enumerate(bill["months"]):
        if not (isinstance(m, dict) and isinstance(m.get("lines"), dict)):
            raise InputError("must hold lines", path=str(path), field=f"bill.months.{i}")
        _number_or_none(m.get("total_usd"), path, f"bill.months.{i}.total_usd", none=False)
        for key, usd in m["lines"].items():
            _number_or_none(usd, path, f"bill.months.{i}.lines.{key}", none=False)


def _number_or_none(value: object, path: Path, field: str, none: bool = True) -> None:
    if value is None and none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError("must be a number", path=str(path), field=field)


def _csv(path: Path) -> pd.DataFrame:
    problem = file_problem(path, MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise InputError(problem, path=str(path))
    try:
        return pd.read_csv(path)
    except UnicodeDecodeError:  # its offset is into a chunk of the file: name the line
        raise not_utf8_error(path) from None
    except ValueError as exc:  # pandas' ParserError is a ValueError
        raise InputError(f"not a valid CSV: {' '.join(str(exc).split())}", path=str(path)) from None


def _data_line(path: Path, row: int) -> int | None:
    """The line (1-based) where data row `row` (0-based, as pandas counts) of the CSV file
    `path` starts: pandas skips blank lines and a quoted field may span lines, so this
    reads the file again (only to name the line of an error). None for a parquet file."""
    if path.suffix != ".csv":
        return None
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        start, seen = 1, -2  # the header is row -1
        for record in reader:
            if record:
                seen += 1
                if seen == row:
                    return start
            start = reader.line_num + 1
    return None


def _cell_error(message: str, path: Path, row: int, field: str) -> InputError:
    """An error in data row `row` of `path`: its line for a CSV file, its row for parquet."""
    line = _data_line(path, row)
    where = "" if line is not None else f" (row {row + 1})"
    return InputError(message + where, path=str(path), line=line, field=field)


def _utc_index(frame: pd.DataFrame, path: Path) -> pd.DatetimeIndex:
    """The frame's `timestamp_utc` column as UTC times (the export's `utc_times`), as a run
    writes them: ISO 8601 text with its offset (the CSV, older parquet files) or parquet's
    tz-aware timestamps; a time without a zone is not guessed to be UTC."""
    if TIME_COLUMN not in frame:
        raise InputError("missing column", path=str(path), field=TIME_COLUMN)

    def row_error(message: str, row: int) -> InputError:
        return _cell_error(message, path, row, TIME_COLUMN)

    times = utc_times(frame[TIME_COLUMN], path, TIME_COLUMN, row_error)
    return pd.DatetimeIndex(times, name=TIME_COLUMN)


def _numbers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Every column as numbers (an empty cell is a missing value, NaN); the first cell that
    is not a number is an error naming its line and column."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce")
            bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
            if bad.size:
                row = int(bad[0])
                message = f"not a number: {values.iloc[row]!r}"
                raise _cell_error(message, path, row, str(column))
            values = numbers
        out[column] = values
    return pd.DataFrame(out, index=frame.index)


def _time_table(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A table of one row per step (timeseries, planned_vs_actual), indexed by UTC step
    start, its other columns numbers."""
    index = _utc_index(frame, path)
    return _numbers(frame.drop(columns=TIME_COLUMN).set_index(index), path)


def _check_steps(index: pd.DatetimeIndex, period: Period, path: Path) -> None:
    """The time series holds every step of summary.json's period, in order, and no other:
    a file cut short or with a wrong step would otherwise be drawn as if it were the run."""
    expected = pd.date_range(period.start_utc, periods=len(index), freq=period.step)
    wrong = np.flatnonzero(index[: period.n_steps] != expected[: period.n_steps])
    if wrong.size:
        row = int(wrong[0])
        message = (
            f"time {format_utc(index[row])} is not step {row + 1} of summary.json's period "
            f"({format_utc(expected[row])}: from {format_utc(period.start_utc)} every "
            f"{period.step})"
        )
        raise _cell_error(message, path, row, TIME_COLUMN)
    if len(index) > period.n_steps:
        message = f"is past the end of summary.json's period ({format_utc(period.end_utc)})"
        raise _cell_error(message, path, period.n_steps, TIME_COLUMN)
    if len(index) < period.n_steps:
        message = (
            f"the time series stops after {len(index)} of the {period.n_steps} steps of "
            f"summary.json's period (to {format_utc(period.end_utc)}): the file is cut short"
        )
        raise _cell_error(message, path, len(index) - 1, TIME_COLUMN)


def read_timeseries(folder: Path, period: Period) -> pd.DataFrame:
    """timeseries.parquet (fast), else timeseries.csv, indexed by UTC step start: one row
    per step of the period."""
    parquet = folder / TIMESERIES_PARQUET
    if parquet.is_file() and parquet.stat().st_size <= MAX_PARQUET_BYTES:
        path = parquet
        try:
            frame = read_parquet(parquet)
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise InputError(f"not a valid parquet file: {exc}", path=str(parquet)) from None
    else:
        path = folder / TIMESERIES_CSV
        if not path.is_file():
            raise _not_run_folder(folder, f"{TIMESERIES_CSV} is missing")
        frame = _csv(path)
    if not len(frame):
        raise InputError("no time steps", path=str(path))
    frame = _time_table(frame, path)
    _check_steps(frame.index, period, path)
    return frame


def read_segments(folder: Path) -> pd.DataFrame:
    """jobs.csv (a run always writes it, with a header only when no job ran), each row
    checked as `microgrid export` checks it; times are UTC."""
    path = folder / "jobs.csv"
    if not path.is_file():
        raise _not_run_folder(folder, "jobs.csv is missing")
    rows = []
    for line, row in read_jobs_csv(path):
        seg = parse_segment(row, line, path)
        rows.append([str(row["job_id"]), *(getattr(seg, name) for name in SEGMENT_FIELDS)])
    frame = pd.DataFrame(rows, columns=["job_id", *SEGMENT_FIELDS])
    for column in ("start_utc", "end_utc"):  # typed even when empty: the Gantt converts them
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def read_jobs_spec(folder: Path) -> list[dict]:
    """jobs_spec.json: a list of job objects, each with an `id` (empty when absent)."""
    path = folder / "jobs_spec.json"
    if not path.is_file():
        return []
    spec = read_json_file(path)
    if not isinstance(spec, list) or not all(
        isinstance(j, dict) and isinstance(j.get("id"), str) for j in spec
    ):
        raise InputError("must be a list of job objects, each with an id", path=str(path))
    for i, job in enumerate(spec):
        for key in ("release_utc", "deadline_utc"):
            if job.get(key) is not None:
                parse_utc(job[key], path=path, line=None, name=f"{i}.{key}")
    return spec


def read_limits(folder: Path) -> NetworkLimits:
    """The voltage band and loading limit of the result's scenario copy (defaults if none)."""
    path = folder / "scenario.yaml"
    data: object = {}
    if path.is_file():
        data, _ = load_yaml(path)  # bounded: size, nesting and aliases are capped there
    section = data.get("network") if isinstance(data, dict) else None
    try:
        net = Network.model_validate(section or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "network." + ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], path=str(path), field=field) from None
    return NetworkLimits(net.vm_min_pu, net.vm_max_pu, net.max_loading_pct, path.is_file())


def _optional_csv(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    return _csv(path) if path.is_file() else None


def read_planned_vs_actual(folder: Path) -> pd.DataFrame | None:
    """operate's planned_vs_actual.csv indexed by UTC step start (None outside operate)."""
    path = folder / "planned_vs_actual.csv"
    return _time_table(_csv(path), path) if path.is_file() else None


def read_period(summary: dict, path: Path) -> Period:
    """summary.json's period: a known site time zone, UTC start and end with their offset,
    and a step of whole minutes that divides the period into whole steps."""
    period = summary["period"]
    tz = period.get("timezone")
    if not isinstance(tz, str):
        raise InputError("no site time zone", path=str(path), field="period")
    try:
        pd.Timestamp("2000-01-01", tz=tz)
    except Exception:  # zoneinfo and pytz raise different types for an unknown zone
        raise InputError(
            f"unknown time zone {tz!r}", path=str(path), field="period.timezone"
        ) from None
    minutes = period.get("step_minutes")
    # whole minutes, at most a day: JSON may hold 1e-300, 1e308 or Infinity, which no step is
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, (int, float))
        or not 1 <= minutes <= MAX_STEP_MINUTES
        or not float(minutes).is_integer()
    ):
        raise InputError(
            f"step_minutes must be a whole number of minutes from 1 to {MAX_STEP_MINUTES}",
            path=str(path),
            field="period.step_minutes",
        )
    start = parse_utc(period.get("start_utc"), path=path, line=None, name="period.start_utc")
    end = parse_utc(period.get("end_utc"), path=path, line=None, name="period.end_utc")
    step = pd.Timedelta(minutes=float(minutes))
    n_steps = (end - start) / step
    if not (n_steps >= 1 and float(n_steps).is_integer()):
        raise InputError(
            f"is not a whole number of {minutes}-minute steps after period.start_utc",
            path=str(path),
            field="period.end_utc",
        )
    return Period(start, end, step, int(n_steps), tz)


def read_run(folder: str | Path) -> RunData:
    """Every file of a run's result folder that the report shows."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("result folder not found", path=str(folder))
    summary = read_summary(folder)
    period = read_period(summary, folder / "summary.json")
    return RunData(
        folder=folder,
        summary=summary,
        timeseries=read_timeseries(folder, period),
        segments=read_segments(folder),
        jobs_spec=read_jobs_spec(folder),
        timezone=period.timezone,
        step=period.step,
        limits=read_limits(folder),
        planned_vs_actual=read_planned_vs_actual(folder),
        events=_optional_csv(folder, "events.csv"),
    )
