"""The schedule: a versioned JSON (and CSV) export of when each training job runs.

The JSON format (`schema_version` "1.0", JSON Schema in `schedule.schema.json` beside this
module, documented in docs/exports.md) is the contract the Slurm and Kubernetes exports
derive from. All times are UTC, written `YYYY-MM-DDTHH:MM:SSZ`.

`build_schedule(result_dir)` reads a result directory (`jobs.csv`, `jobs_spec.json`,
`summary.json`, `scenario.yaml`); `write_schedule` / `read_schedule` round-trip it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem, read_json_file
from microgrid.errors import InputError
from microgrid.export.safe_io import atomic_write_text, check_job_text
from microgrid.results import JOBS_COLUMNS
from microgrid.scenario import Export, known_timezone
from microgrid.yamlio import load_yaml

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).with_name("schedule.schema.json")
JOBS_CSV_COLUMNS = JOBS_COLUMNS  # written by microgrid.results
CSV_COLUMNS = (
    "job_id",
    "segment",
    "start_utc",
    "end_utc",
    "duration_h",
    "gpus",
    "power_fraction_mean",
    "work_done_h",
    "energy_mwh",
    "deadline_utc",
    "deadline_met",
    "command",
    "scenario_name",
    "scenario_sha256",
    "result_id",
)


@dataclass(frozen=True)
class Segment:
    """One contiguous run of a job: [start_utc, end_utc) at a mean power fraction."""

    segment: int
    start_utc: datetime
    end_utc: datetime
    gpus: int
    power_fraction_mean: float
    work_done_h: float
    energy_mwh: float

    @property
    def duration(self) -> timedelta:
        return self.end_utc - self.start_utc

    @property
    def duration_h(self) -> float:
        return self.duration.total_seconds() / 3600.0


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    gpus: int
    command: str
    deadline_utc: datetime | None
    deadline_met: bool | None
    preemptible: bool
    max_interruptions: int | None
    restart_overhead_h: float
    segments: tuple[Segment, ...] = ()

    @property
    def work_done_h(self) -> float:
        return math.fsum(s.work_done_h for s in self.segments)

    @property
    def energy_mwh(self) -> float:
        return math.fsum(s.energy_mwh for s in self.segments)


@dataclass(frozen=True)
class ScenarioRef:
    name: str
    path: str | None
    sha256: str | None


@dataclass(frozen=True)
class Schedule:
    scenario: ScenarioRef
    result_id: str
    site_timezone: str
    jobs: tuple[ScheduledJob, ...] = ()
    schema_version: str = SCHEMA_VERSION

    def job(self, job_id: str) -> ScheduledJob:
        for j in self.jobs:
            if j.id == job_id:
                return j
        raise KeyError(job_id)

    @property
    def n_segments(self) -> int:
        return sum(len(j.segments) for j in self.jobs)


@dataclass(frozen=True)
class ResultInputs:
    """What the exporters need from a result directory."""

    schedule: Schedule
    export: Export = field(default_factory=Export)


# ---------------------------------------------------------------------------- times


def format_utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: object, *, path: Path | str, line: int | None, name: str) -> datetime:
    """An ISO 8601 time with an explicit offset (`Z` or `+00:00`) as an aware UTC datetime."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("expected an ISO 8601 UTC time", path=str(path), line=line, field=name)
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        raise InputError(
            f"not an ISO 8601 time: {text!r}", path=str(path), line=line, field=name
        ) from None
    if t.tzinfo is None:
        raise InputError(
            f"time {text!r} has no UTC offset (write it with Z)",
            path=str(path),
            line=line,
            field=name,
        )
    return t.astimezone(timezone.utc)


# ---------------------------------------------------------------------------- dict form


def _segment_to_dict(s: Segment) -> dict[str, Any]:
    return {
        "segment": s.segment,
        "start_utc": format_utc(s.start_utc),
        "end_utc": format_utc(s.end_utc),
        "duration_h": s.duration_h,
        "gpus": s.gpus,
        "power_fraction_mean": s.power_fraction_mean,
        "work_done_h": s.work_done_h,
        "energy_mwh": s.energy_mwh,
    }


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON document (schema 1.0) for a schedule."""
    return {
        "schema_version": schedule.schema_version,
        "scenario": {
            "name": schedule.scenario.name,
            "path": schedule.scenario.path,
            "sha256": schedule.scenario.sha256,
        },
        "result_id": schedule.result_id,
        "site_timezone": schedule.site_timezone,
        "jobs": [
            {
                "id": j.id,
                "gpus": j.gpus,
                "command": j.command,
                "deadline_utc": None if j.deadline_utc is None else format_utc(j.deadline_utc),
                "deadline_met": j.deadline_met,
                "preemptible": j.preemptible,
                "max_interruptions": j.max_interruptions,
                "restart_overhead_h": j.restart_overhead_h,
                "work_done_h": j.work_done_h,
                "energy_mwh": j.energy_mwh,
                "segments": [_segment_to_dict(s) for s in j.segments],
            }
            for j in schedule.jobs
        ],
    }


def schedule_from_dict(doc: Any, *, path: Path | str = "<schedule>") -> Schedule:
    """The inverse of `schedule_to_dict`; InputError on a wrong version or shape."""
    if not isinstance(doc, dict):
        raise InputError("a schedule must be a JSON object", path=str(path))
    version = doc.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"unsupported schedule schema_version {version!r} (this reader: {SCHEMA_VERSION})",
            path=str(path),
            field="schema_version",
        )
    try:
        sc = doc["scenario"]
        jobs = []
        for ji, j in enumerate(doc["jobs"]):
            segs = tuple(
                Segment(
                    segment=int(s["segment"]),
                    start_utc=parse_utc(
                        s["start_utc"], path=path, line=None, name=f"jobs.{ji}.start_utc"
                    ),
                    end_utc=parse_utc(
                        s["end_utc"], path=path, line=None, name=f"jobs.{ji}.end_utc"
                    ),
                    gpus=int(s["gpus"]),
                    power_fraction_mean=float(s["power_fraction_mean"]),
                    work_done_h=float(s["work_done_h"]),
                    energy_mwh=float(s["energy_mwh"]),
                )
                for s in j["segments"]
            )
            deadline = j.get("deadline_utc")
            check_job_text(str(j["id"]), str(j["command"]), path=str(path), field=f"jobs.{ji}")
            jobs.append(
                ScheduledJob(
                    id=str(j["id"]),
                    gpus=int(j["gpus"]),
                    command=str(j["command"]),
                    deadline_utc=None
                    if deadline is None
                    else parse_utc(deadline, path=path, line=None, name=f"jobs.{ji}.deadline_utc"),
                    deadline_met=j.get("deadline_met"),
                    preemptible=bool(j["preemptible"]),
                    max_interruptions=j.get("max_interruptions"),
                    restart_overhead_h=float(j["restart_overhead_h"]),
                    segments=segs,
                )
            )
        return Schedule(
            scenario=ScenarioRef(
                name=str(sc["name"]), path=sc.get("path"), sha256=sc.get("sha256")
            ),
            result_id=str(doc["result_id"]),
            site_timezone=str(doc["site_timezone"]),
            jobs=tuple(jobs),
            schema_version=version,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"malformed schedule: {exc!r}", path=str(path)) from None


def schedule_json(schedule: Schedule) -> str:
    return json.dumps(schedule_to_dict(schedule), indent=2, ensure_ascii=False) + "\n"


def schedule_csv(schedule: Schedule) -> str:
    """One row per segment (jobs without segments get no row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for j in schedule.jobs:
        for s in j.segments:
            w.writerow(
                [
                    j.id,
                    s.segment,
                    format_utc(s.start_utc),
                    format_utc(s.end_utc),
                    repr(s.duration_h),
                    s.gpus,
                    repr(s.power_fraction_mean),
                    repr(s.work_done_h),
                    repr(s.energy_mwh),
                    "" if j.deadline_utc is None else format_utc(j.deadline_utc),
                    "" if j.deadline_met is None else str(j.deadline_met).lower(),
                    j.command,
                    schedule.scenario.name,
                    schedule.scenario.sha256 or "",
                    schedule.result_id,
                ]
            )
    return buf.getvalue()


def write_schedule(schedule: Schedule, path: str | Path) -> Path:
    """Write the JSON schedule atomically."""
    path = Path(path)
    atomic_write_text(path, schedule_json(schedule))
    return path


def write_schedule_csv(schedule: Schedule, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, schedule_csv(schedule))
    return path


def read_schedule(path: str | Path) -> Schedule:
    path = Path(path)
    return schedule_from_dict(read_json_file(path), path=path)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- result dir


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"{path.name} is missing from the result directory", path=str(path))
    return read_json_file(path)


def _finite(value: str, *, path: Path, line: int, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"not a number: {value!r}", path=str(path), line=line, field=name
        ) from None
    if not math.isfinite(x):
        raise InputError(f"not a finite number: {value!r}", path=str(path), line=line, field=name)
    return x


def _int(value: object, *, path: Path, line: int | None, name: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"not an integer: {value!r}", path=str(path), line=line, field=name)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"not an integer: {value!r}", path=str(path), line=line, field=name
        ) from None
    if not x.is_integer():
        raise InputError(f"not an integer: {value!r}", path=str(path), line=line, field=name)
    return int(x)


def _bool(value: str, *, path: Path, line: int, name: str) -> bool | None:
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    if v in ("", "nan", "none"):
        return None
    raise InputError(f"not a boolean: {value!r}", path=str(path), line=line, field=name)


def _read_jobs_spec(path: Path) -> list[dict[str, Any]]:
    spec = _read_json(path)
    if not isinstance(spec, list):
        raise InputError("jobs_spec.json must be a list of job objects", path=str(path))
    seen: set[str] = set()
    out = []
    for i, j in enumerate(spec):
        if not isinstance(j, dict):
            raise InputError("each job must be an object", path=str(path), field=f"{i}")
        for key in ("id", "gpus", "command"):
            if key not in j:
                raise InputError("required field is missing", path=str(path), field=f"{i}.{key}")
        if not isinstance(j["id"], str) or not j["id"]:
            raise InputError("job id must be a non-empty string", path=str(path), field=f"{i}.id")
        if not isinstance(j["command"], str):
            raise InputError("command must be a string", path=str(path), field=f"{i}.command")
        check_job_text(j["id"], j["command"], path=str(path), field=str(i))
        if j["id"] in seen:
            raise InputError(f"duplicate job id {j['id']!r}", path=str(path), field=f"{i}.id")
        seen.add(j["id"])
        gpus = _int(j["gpus"], path=path, line=None, name=f"{i}.gpus")
        if gpus <= 0:
            raise InputError("gpus must be > 0", path=str(path), field=f"{i}.gpus")
        deadline = j.get("deadline_utc")
        mi = j.get("max_interruptions")
        out.append(
            {
                "id": j["id"],
                "gpus": gpus,
                "command": j["command"],
                "deadline_utc": None
                if deadline is None
                else parse_utc(deadline, path=path, line=None, name=f"{i}.deadline_utc"),
                "preemptible": bool(j.get("preemptible", True)),
                "max_interruptions": None
                if mi is None
                else _int(mi, path=path, line=None, name=f"{i}.max_interruptions"),
                "restart_overhead_h": float(j.get("restart_overhead_h") or 0.0),
            }
        )
    return out


def _read_jobs_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise InputError("jobs.csv is missing from the result directory", path=str(path))
    problem = file_problem(path, MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise InputError(problem, path=str(path))
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in JOBS_CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing column(s): {', '.join(missing)}", path=str(path), line=1)
            return [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    except csv.Error as exc:  # raised before the reader counts the bad line
        raise InputError(
            f"not a valid CSV: {exc}", path=str(path), line=reader.line_num + 1
        ) from None


def _read_scenario_copy(path: Path) -> tuple[str | None, Export]:
    """Site time zone and export settings from the result's copy of the scenario YAML
    (only these two sections are read: relative data paths need not resolve)."""
    if not path.is_file():
        return None, Export()
    data, _ = load_yaml(path)  # bounded: size, nesting and aliases are capped there
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", path=str(path), line=1)
    tz = (data.get("site") or {}).get("timezone")
    try:
        export = Export.model_validate(data.get("export") or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = "export." + ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], path=str(path), field=loc) from None
    return tz, export


def check_timezone(name: str, *, path: Path | str | None = None, field: str | None = None) -> str:
    """`name` if it is a zone the scenario would accept (zoneinfo and pandas: not
    `localtime`, not an over-long or path-like name), else an InputError naming `field`."""
    try:
        return known_timezone(name)
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc), path=None if path is None else str(path), field=field) from None


def load_result(result_dir: str | Path) -> ResultInputs:
    """Read a result directory into a Schedule plus the scenario's export settings."""
    rd = Path(result_dir)
    if not rd.is_dir():
        raise InputError("result directory not found", path=str(rd))
    summary = _read_json(rd / "summary.json")
    if not isinstance(summary, dict):
        raise InputError("summary.json must be a JSON object", path=str(rd / "summary.json"))
    sc = summary.get("scenario")
    if not isinstance(sc, dict) or not isinstance(sc.get("name"), str):
        raise InputError(
            "summary.json has no scenario.name", path=str(rd / "summary.json"), field="scenario"
        )
    if "result_id" not in summary:
        raise InputError(
            "summary.json has no result_id", path=str(rd / "summary.json"), field="result_id"
        )
    spec_path = rd / "jobs_spec.json"
    if not spec_path.is_file():
        raise InputError(
            "jobs_spec.json is missing from the result directory (it holds each job's command "
            "and deadline; re-run `microgrid run` to write it)",
            path=str(spec_path),
        )
    spec = _read_jobs_spec(spec_path)
    tz, export = _read_scenario_copy(rd / "scenario.yaml")
    if tz is None:
        tz = (summary.get("period") or {}).get("timezone")
    if not isinstance(tz, str):
        raise InputError(
            "cannot find the site time zone (scenario.yaml site.timezone)",
            path=str(rd / "scenario.yaml"),
        )
    check_timezone(tz, path=rd / "scenario.yaml", field="site.timezone")
    if export.slurm.timezone is not None:
        check_timezone(
            export.slurm.timezone, path=rd / "scenario.yaml", field="export.slurm.timezone"
        )

    csv_path = rd / "jobs.csv"
    segs: dict[str, list[Segment]] = {j["id"]: [] for j in spec}
    met: dict[str, bool | None] = {}
    for line, row in _read_jobs_csv(csv_path):
        jid = row["job_id"]
        if jid not in segs:
            raise InputError(
                f"job {jid!r} is not in jobs_spec.json",
                path=str(csv_path),
                line=line,
                field="job_id",
            )
        start = parse_utc(row["start_utc"], path=csv_path, line=line, name="start_utc")
        end = parse_utc(row["end_utc"], path=csv_path, line=line, name="end_utc")
        if end <= start:
            raise InputError("end_utc must be after start_utc", path=str(csv_path), line=line)
        gpus = _int(row["gpus"], path=csv_path, line=line, name="gpus")
        if gpus <= 0:
            raise InputError("gpus must be > 0", path=str(csv_path), line=line, field="gpus")
        segs[jid].append(
            Segment(
                segment=_int(row["segment"], path=csv_path, line=line, name="segment"),
                start_utc=start,
                end_utc=end,
                gpus=gpus,
                power_fraction_mean=_finite(
                    row["power_fraction_mean"], path=csv_path, line=line, name="power_fraction_mean"
                ),
                work_done_h=_finite(
                    row["work_done_h"], path=csv_path, line=line, name="work_done_h"
                ),
                energy_mwh=_finite(row["energy_mwh"], path=csv_path, line=line, name="energy_mwh"),
            )
        )
        met[jid] = _bool(row["deadline_met"], path=csv_path, line=line, name="deadline_met")

    jobs = []
    for j in spec:
        ss = sorted(segs[j["id"]], key=lambda s: s.segment)
        if [s.segment for s in ss] != list(range(len(ss))):
            raise InputError(
                f"job {j['id']!r}: segments must be numbered 0..{len(ss) - 1} without gaps",
                path=str(csv_path),
                field="segment",
            )
        for a, b in zip(ss, ss[1:], strict=False):
            if b.start_utc < a.end_utc:
                raise InputError(
                    f"job {j['id']!r}: segment {b.segment} starts before segment {a.segment} ends",
                    path=str(csv_path),
                    field="start_utc",
                )
        jobs.append(ScheduledJob(**j, deadline_met=met.get(j["id"]), segments=tuple(ss)))

    schedule = Schedule(
        scenario=ScenarioRef(
            name=sc["name"],
            path=None if sc.get("path") is None else str(sc.get("path")),
            sha256=None if sc.get("sha256") is None else str(sc.get("sha256")),
        ),
        result_id=str(summary["result_id"]),
        site_timezone=tz,
        jobs=tuple(jobs),
    )
    return ResultInputs(schedule=schedule, export=export)


def build_schedule(result_dir: str | Path) -> Schedule:
    return load_result(result_dir).schedule
