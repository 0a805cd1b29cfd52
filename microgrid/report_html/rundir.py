"""Read a run's result folder for the report: summary, time series, job segments and the
mode's extra tables. Every file is untrusted: a missing folder, a folder that is not a
`microgrid run` result, or a file that does not parse is one `InputError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem, read_json_file
from microgrid.errors import InputError
from microgrid.resultdir import read_marker
from microgrid.scenario import Network
from microgrid.yamlio import load_yaml

SEGMENT_COLUMNS = ("job_id", "segment", "start_utc", "end_utc")
SEGMENT_NUMBERS = ("segment", "gpus", "power_fraction_mean", "work_done_h", "energy_mwh")
SUMMARY_KEYS = ("total_cost_usd", "emissions_t", "solver", "period", "scenario")
SECTIONS = ("solver", "period", "scenario", "jobs", "baselines", "operate", "powerflow")
FIGURE_SUFFIXES = ("_usd", "_t", "_mwh", "_mw", "_share")  # top-level numbers in summary
# a parquet file is binary and column-compressed: a week at 15 min is ~100 kB, a year ~5 MB
MAX_PARQUET_BYTES = 64 * MAX_DATA_FILE_BYTES


@dataclass(frozen=True)
class NetworkLimits:
    """The AC limits the power flow was checked against (scenario.yaml's `network`, else
    the schema's defaults when the folder has no scenario copy)."""

    vm_min_pu: float
    vm_max_pu: float
    max_loading_pct: float
    from_scenario: bool


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
    marker = read_marker(folder)
    if marker is not None and marker.get("kind") != "run":
        raise _not_run_folder(folder, f"it holds a {marker.get('kind')} result")
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
    d = summary.get("demand_charge")
    if d is not None:
        months = d.get("months") if isinstance(d, dict) else None
        if not isinstance(months, list) or not all(isinstance(m, dict) for m in months):
            raise InputError("must hold a list of months", path=str(path), field="demand_charge")
        _number_or_none(d.get("usd_per_kw_month"), path, "demand_charge.usd_per_kw_month")
        for i, m in enumerate(months):
            for key in ("share_billed", "peak_import_mw"):
                _number_or_none(m.get(key), path, f"demand_charge.months.{i}.{key}", none=False)


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
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        raise InputError(f"not a valid CSV: {' '.join(str(exc).split())}", path=str(path)) from None


def _utc(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    if column not in frame:
        raise InputError("missing column", path=str(path), field=column)
    try:
        return pd.to_datetime(frame[column], utc=True, format="ISO8601")
    except (ValueError, TypeError):
        raise InputError("not an ISO 8601 time", path=str(path), field=column) from None


def read_timeseries(folder: Path) -> pd.DataFrame:
    """timeseries.parquet (fast), else timeseries.csv, indexed by UTC step start."""
    parquet = folder / "timeseries.parquet"
    if parquet.is_file() and parquet.stat().st_size <= MAX_PARQUET_BYTES:
        path = parquet
        try:
            frame = pd.read_parquet(parquet)
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise InputError(f"not a valid parquet file: {exc}", path=str(parquet)) from None
    else:
        path = folder / "timeseries.csv"
        if not path.is_file():
            raise _not_run_folder(folder, "timeseries.csv is missing")
        frame = _csv(path)
    if not len(frame):
        raise InputError("no time steps", path=str(path))
    frame.index = pd.DatetimeIndex(_utc(frame, "timestamp_utc", path), name="timestamp_utc")
    frame = frame.drop(columns="timestamp_utc")
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        raise InputError("not a number in every row", path=str(path), field=str(text[0]))
    return frame


def read_segments(folder: Path) -> pd.DataFrame:
    """jobs.csv with its times parsed (empty when the folder has none)."""
    path = folder / "jobs.csv"
    if not path.is_file():
        return pd.DataFrame(columns=list(SEGMENT_COLUMNS))
    frame = _csv(path)
    for column in ("start_utc", "end_utc"):
        frame[column] = _utc(frame, column, path)
    if "job_id" not in frame:
        raise InputError("missing column", path=str(path), field="job_id")
    frame["job_id"] = frame["job_id"].astype(str)
    for column in SEGMENT_NUMBERS:
        if len(frame) and column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            raise InputError("not a number in every row", path=str(path), field=column)
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
                try:
                    pd.Timestamp(job[key])
                except (TypeError, ValueError):
                    raise InputError("not a time", path=str(path), field=f"{i}.{key}") from None
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


def read_run(folder: str | Path) -> RunData:
    """Every file of a run's result folder that the report shows."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("result folder not found", path=str(folder))
    summary = read_summary(folder)
    period = summary["period"]
    tz = period.get("timezone") if isinstance(period, dict) else None
    if not isinstance(tz, str):
        raise InputError("no site time zone", path=str(folder / "summary.json"), field="period")
    minutes = period.get("step_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
        raise InputError(
            "step_minutes must be a positive number",
            path=str(folder / "summary.json"),
            field="period.step_minutes",
        )
    try:
        pd.Timestamp("2000-01-01", tz=tz)
    except Exception:  # zoneinfo and pytz raise different types for an unknown zone
        raise InputError(
            f"unknown time zone {tz!r}", path=str(folder / "summary.json"), field="period.timezone"
        ) from None
    pva = _optional_csv(folder, "planned_vs_actual.csv")
    if pva is not None:
        pva.index = pd.DatetimeIndex(_utc(pva, "timestamp_utc", folder / "planned_vs_actual.csv"))
    return RunData(
        folder=folder,
        summary=summary,
        timeseries=read_timeseries(folder),
        segments=read_segments(folder),
        jobs_spec=read_jobs_spec(folder),
        timezone=tz,
        step=pd.Timedelta(minutes=float(minutes)),
        limits=read_limits(folder),
        planned_vs_actual=pva,
        events=_optional_csv(folder, "events.csv"),
    )
