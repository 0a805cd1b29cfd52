"""The schedule: a versioned JSON (and CSV) export of when each training job runs.

The JSON format (`schema_version` "1.1", JSON Schema in `schedule.schema.json` beside this
module, documented in docs/exports.md) is the contract the Slurm and Kubernetes exports
derive from. All times are UTC, written `YYYY-MM-DDTHH:MM:SSZ`. Version 1.1 added each
segment's step-by-step power caps (`step_s`, `power_fraction_steps`) and each job's
`progress_h`; `read_schedule` reads any 1.x (a 1.0 document's segments have no profile).

This module is the model (`Schedule`, `ScheduledJob`, `Segment`) and its codec:
`schedule_to_dict` / `schedule_from_dict`, `write_schedule` / `read_schedule` (JSON),
`schedule_csv`. `microgrid.export.result_reader` builds a Schedule from a result directory.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.export.safe_io import atomic_write_text, check_job_text
from microgrid.wall_time import known_timezone

SCHEMA_VERSION = "1.1"
SCHEMA_PATH = Path(__file__).with_name("schedule.schema.json")
_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)$")
# power fractions (caps) are rounded to this many decimals, and written with all of them
FRACTION_DECIMALS = 6
#: What a power fraction is a fraction of, as the exports say beside it: the plan scales a
#: job's whole IT power per GPU (kw_per_gpu: the GPU and its server's share), so a GPU
#: cap of TDP x fraction leaves the server's share at full draw (an audit: 700 W drawn
#: where the plan counted 588 W per GPU at 0.6)
POWER_FRACTION_OF = (
    "the job's IT power at full power, gpus x kw_per_gpu (each GPU with its server's "
    "share), not of the GPU's power limit: planned IT W per GPU = fraction x kw_per_gpu x "
    "1000, and a GPU power cap that keeps to it is that less the server's non-GPU W per "
    "GPU (docs/exports.md)"
)
# the columns of a schema 1.0 CSV; 1.1 appended the power profile, so 1.0 readers that
# take columns by name or position still work
CSV_COLUMNS_1_0 = (
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
CSV_COLUMNS = (*CSV_COLUMNS_1_0, "step_s", "power_fraction_steps")


@dataclass(frozen=True)
class Segment:
    """One contiguous run of a job: [start_utc, end_utc), its power cap step by step.

    `power_fraction_steps[i]` is the planned GPU power fraction from
    `start_utc + i * step_s` seconds for `step_s` seconds (None, with `step_s`, for a
    segment read from a schema 1.0 schedule, which has no profile). `work_done_h` is gross
    throughput: it includes the restart overhead spent resuming (see
    `ScheduledJob.progress_h`).
    """

    segment: int
    start_utc: datetime
    end_utc: datetime
    gpus: int
    power_fraction_mean: float
    work_done_h: float
    energy_mwh: float
    step_s: int | None = None
    power_fraction_steps: tuple[float, ...] | None = None

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
        """Gross throughput: the sum of the segments' work_done_h (restart overhead in)."""
        return math.fsum(s.work_done_h for s in self.segments)

    @property
    def progress_h(self) -> float:
        """The job's progress (net work), as the optimizer counts a job's work done
        (`optimize.jobs.job_results`): gross throughput minus `restart_overhead_h` for each
        segment after the first (each is a restart)."""
        restarts = max(0, len(self.segments) - 1)
        return self.work_done_h - self.restart_overhead_h * restarts

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


def _utc_cell(cell: object, *, path: Path | str, name: str) -> datetime:
    """A time column's cell as an aware UTC datetime: a timestamp (timeseries.parquet since
    it stores parquet's UTC timestamps), or ISO 8601 text (CSV; parquet of older runs). A
    timestamp without a time zone is not guessed to be UTC, as text without an offset."""
    if not isinstance(cell, datetime):
        return parse_utc(cell, path=path, line=None, name=name)
    if cell != cell:  # pandas' NaT (a missing timestamp) is a datetime unequal to itself
        raise InputError("expected a UTC time, the cell is empty", path=str(path), field=name)
    if cell.tzinfo is None:
        raise InputError(
            f"timestamp {cell} has no time zone (a run writes UTC)", path=str(path), field=name
        )
    return cell.astimezone(timezone.utc)


def utc_times(cells, path: Path | str, name: str, row_error) -> list[datetime]:
    """Each cell of a time column as an aware UTC datetime (timestamps, or text read by
    ``parse_utc``); the first bad one is raised as ``row_error(message, row)`` (row 0-based:
    the reader knows its line or parquet row)."""
    times = []
    for row, cell in enumerate(cells):
        try:
            times.append(_utc_cell(cell, path=path, name=name))
        except InputError as exc:
            raise row_error(exc.message, row) from None
    return times


def check_timezone(name: str, *, path: Path | str | None = None, field: str | None = None) -> str:
    """`name` if it is a zone the scenario would accept (zoneinfo and pandas: not
    `localtime`, not an over-long or path-like name), else an InputError naming `field`."""
    try:
        return known_timezone(name)
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc), path=None if path is None else str(path), field=field) from None


# ---------------------------------------------------------------------------- power caps


def format_fraction(x: float) -> str:
    """A power fraction as every export writes it in text: FRACTION_DECIMALS decimals."""
    return f"{x:.{FRACTION_DECIMALS}f}"


def profile_text(steps: tuple[float, ...]) -> str:
    """A power profile as one comma-separated line (CSV cell, environment, annotation)."""
    return ",".join(format_fraction(x) for x in steps)


def _check_profile(
    steps: object, step_s: object, duration: timedelta, *, path: Path | str, field: str
) -> tuple[int, tuple[float, ...]]:
    """`step_s` and `power_fraction_steps` of a segment as read: a whole number of seconds,
    and one fraction in (0, 1] per step of the segment's `duration`."""
    if isinstance(step_s, bool) or not isinstance(step_s, int) or step_s <= 0:
        raise InputError("must be a positive integer", path=str(path), field=f"{field}.step_s")
    name = f"{field}.power_fraction_steps"
    if not isinstance(steps, list) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= 1 for x in steps
    ):
        raise InputError("must be a list of numbers in (0, 1]", path=str(path), field=name)
    if len(steps) * step_s != duration.total_seconds():
        raise InputError(
            f"{len(steps)} steps of {step_s} s do not cover the segment ({duration})",
            path=str(path),
            field=name,
        )
    return step_s, tuple(float(x) for x in steps)


# ---------------------------------------------------------------------------- dict form


def _segment_to_dict(s: Segment) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "segment": s.segment,
        "start_utc": format_utc(s.start_utc),
        "end_utc": format_utc(s.end_utc),
        "duration_h": s.duration_h,
        "gpus": s.gpus,
        "power_fraction_mean": s.power_fraction_mean,
        "work_done_h": s.work_done_h,
        "energy_mwh": s.energy_mwh,
    }
    if s.power_fraction_steps is not None:  # absent only in a schedule read from 1.0
        doc["step_s"] = s.step_s
        doc["power_fraction_steps"] = list(s.power_fraction_steps)
    return doc


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON document (schema 1.1) for a schedule."""
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
                "progress_h": j.progress_h,
                "energy_mwh": j.energy_mwh,
                "segments": [_segment_to_dict(s) for s in j.segments],
            }
            for j in schedule.jobs
        ],
    }


def _segment_from_dict(s: Any, field: str, path: Path | str, profiled: bool) -> Segment:
    """Segment `field` (`jobs.I.segments.K`); `profiled`: the document's version has the
    power profile (1.1 and later), so it is required."""
    seg = Segment(
        segment=int(s["segment"]),
        start_utc=parse_utc(s["start_utc"], path=path, line=None, name=f"{field}.start_utc"),
        end_utc=parse_utc(s["end_utc"], path=path, line=None, name=f"{field}.end_utc"),
        gpus=int(s["gpus"]),
        power_fraction_mean=float(s["power_fraction_mean"]),
        work_done_h=float(s["work_done_h"]),
        energy_mwh=float(s["energy_mwh"]),
    )
    if not profiled and "power_fraction_steps" not in s:
        return seg
    for key in ("step_s", "power_fraction_steps"):
        if key not in s:
            raise InputError(
                "required field is missing (schema 1.1 and later)",
                path=str(path),
                field=f"{field}.{key}",
            )
    step_s, steps = _check_profile(
        s.get("power_fraction_steps"), s.get("step_s"), seg.duration, path=path, field=field
    )
    return replace(seg, step_s=step_s, power_fraction_steps=steps)


def _job_from_dict(j: Any, ji: int, path: Path | str, profiled: bool) -> ScheduledJob:
    segs = tuple(
        _segment_from_dict(s, f"jobs.{ji}.segments.{si}", path, profiled)
        for si, s in enumerate(j["segments"])
    )
    deadline = j.get("deadline_utc")
    check_job_text(str(j["id"]), str(j["command"]), path=str(path), field=f"jobs.{ji}")
    return ScheduledJob(
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


def _minor_version(version: object, path: Path | str) -> int:
    """The minor version of a `1.x` schema_version; InputError for any other."""
    m = _VERSION.match(version) if isinstance(version, str) else None
    if m is None or m.group(1) != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"unsupported schedule schema_version {version!r} (this reader: {SCHEMA_VERSION}, "
            "reads any 1.x)",
            path=str(path),
            field="schema_version",
        )
    return int(m.group(2))


def schedule_from_dict(doc: Any, *, path: Path | str = "<schedule>") -> Schedule:
    """The inverse of `schedule_to_dict`; InputError on a wrong version or shape. A 1.0
    document reads with no power profiles; later 1.x must have them."""
    if not isinstance(doc, dict):
        raise InputError("a schedule must be a JSON object", path=str(path))
    version = doc.get("schema_version")
    profiled = _minor_version(version, path) >= 1
    try:
        sc = doc["scenario"]
        jobs = [_job_from_dict(j, ji, path, profiled) for ji, j in enumerate(doc["jobs"])]
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


def _csv_row(schedule: Schedule, j: ScheduledJob, s: Segment) -> list[object]:
    steps = s.power_fraction_steps
    return [
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
        "" if steps is None else s.step_s,
        "" if steps is None else profile_text(steps),
    ]


def schedule_csv(schedule: Schedule) -> str:
    """One row per segment (jobs without segments get no row); the power profile is one
    quoted cell of comma-separated fractions, `step_s` seconds each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for j in schedule.jobs:
        for s in j.segments:
            w.writerow(_csv_row(schedule, j, s))
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
