"""Read a result directory into a `Schedule` plus the scenario's export settings.

`load_result(result_dir)` checks the folder's marker (`.microgrid-result.json`: a run
result of the format this version reads), then reads `summary.json` (scenario name and
sha, result id), `jobs_spec.json` (each job's command, GPUs, deadline), `jobs.csv` (the run
segments, written by `microgrid.results`), the time series (each segment's power caps step
by step, `microgrid.export.power_profile`) and the result's copy of `scenario.yaml` (site
time zone and the `export` section). Every file is untrusted: a wrong shape, a non-finite
number, an unknown job, a segment whose GPUs differ from its job's, gaps or overlaps
between segments are `InputError`s naming file, line and field.
`build_schedule(result_dir)` is the schedule alone.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem, read_json_file
from microgrid.errors import InputError
from microgrid.export.power_profile import read_job_power, segment_profile
from microgrid.export.safe_io import check_job_text
from microgrid.export.schedule import (
    ScenarioRef,
    Schedule,
    ScheduledJob,
    Segment,
    check_timezone,
    parse_utc,
)
from microgrid.export.unfinished import unfinished_notes
from microgrid.resultdir import check_run_marker
from microgrid.results import JOBS_COLUMNS  # the header of jobs.csv, written there
from microgrid.scenario import validation_errors
from microgrid.scenario_settings import Export
from microgrid.yamlio import load_yaml


@dataclass(frozen=True)
class ResultInputs:
    """What the exporters need from a result directory: the schedule, the scenario's
    export settings and `notes` on the plan, one per job it leaves unfinished
    (`microgrid.export.unfinished`), which every export prints and Slurm's manifest lists."""

    schedule: Schedule
    export: Export = field(default_factory=Export)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _JobSpec:
    """One job of jobs_spec.json, checked (the fields ScheduledJob takes from it)."""

    id: str
    gpus: int
    command: str
    deadline_utc: datetime | None
    preemptible: bool
    max_interruptions: int | None
    restart_overhead_h: float


# ---------------------------------------------------------------------------- cells


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


# ---------------------------------------------------------------------------- files


def _job_spec(j: Any, i: int, path: Path, seen: set[str]) -> _JobSpec:
    """Job number `i` of jobs_spec.json, checked; its id must not be in `seen` (ids of the
    jobs before it)."""
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
    gpus = _int(j["gpus"], path=path, line=None, name=f"{i}.gpus")
    if gpus <= 0:
        raise InputError("gpus must be > 0", path=str(path), field=f"{i}.gpus")
    deadline = j.get("deadline_utc")
    mi = j.get("max_interruptions")
    return _JobSpec(
        id=j["id"],
        gpus=gpus,
        command=j["command"],
        deadline_utc=None
        if deadline is None
        else parse_utc(deadline, path=path, line=None, name=f"{i}.deadline_utc"),
        preemptible=bool(j.get("preemptible", True)),
        max_interruptions=None
        if mi is None
        else _int(mi, path=path, line=None, name=f"{i}.max_interruptions"),
        restart_overhead_h=float(j.get("restart_overhead_h") or 0.0),
    )


def _work_h(j: dict, i: int, path: Path) -> float | None:
    """Job `i`'s `work_h` (the work it needs), or None in a folder written before runs
    kept it."""
    if j.get("work_h") is None:
        return None
    h = _finite(j["work_h"], path=path, line=None, name=f"{i}.work_h")
    if h < 0:
        raise InputError("work_h must be >= 0", path=str(path), field=f"{i}.work_h")
    return h


def _read_jobs_spec(path: Path) -> tuple[list[_JobSpec], dict[str, float | None]]:
    """The jobs of jobs_spec.json, and the work each needs by id (None: not written)."""
    spec = _read_json(path)
    if not isinstance(spec, list):
        raise InputError("jobs_spec.json must be a list of job objects", path=str(path))
    seen: set[str] = set()
    out = []
    work_h = {}
    for i, j in enumerate(spec):
        job = _job_spec(j, i, path, seen)
        seen.add(job.id)
        out.append(job)
        work_h[job.id] = _work_h(j, i, path)
    return out, work_h


def read_jobs_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """jobs.csv's rows with their line: every row of the header's cells, none more, none
    fewer (a byte-order mark, as a spreadsheet's re-save adds, is read as none)."""
    if not path.is_file():
        raise InputError("jobs.csv is missing from the result directory", path=str(path))
    problem = file_problem(path, MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise InputError(problem, path=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text ({exc.reason})", path=str(path), line=line) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        missing = [c for c in JOBS_COLUMNS if c not in header]
        if missing:
            raise InputError(f"missing column(s): {', '.join(missing)}", path=str(path), line=1)
        twice = next((c for i, c in enumerate(header) if c in header[:i]), None)
        if twice is not None:
            raise InputError(f"column {twice!r} given twice", path=str(path), line=1, field=twice)
        rows, end = [], reader.line_num
        for cells in reader:
            first, end = end + 1, reader.line_num  # a quoted cell may span lines
            if cells:  # a blank line is no row
                rows.append((first, _whole(header, cells, path, first)))
        return rows
    except csv.Error as exc:  # raised before the reader counts the bad line
        raise InputError(
            f"not a valid CSV: {exc}", path=str(path), line=reader.line_num + 1
        ) from None


def _whole(header: list[str], cells: list[str], path: Path, line: int) -> dict[str, str]:
    """The row starting at `line` by column, if it has a cell for each column of the
    header and no more."""
    if len(cells) > len(header):
        message = f"{len(cells)} cells where the header has {len(header)}"
        raise InputError(message, path=str(path), line=line)
    if len(cells) < len(header):
        short = header[len(cells) :]
        raise InputError(
            f"{len(cells)} cells where the header has {len(header)}: no {', '.join(short)}",
            path=str(path),
            line=line,
            field=short[0],
        )
    return dict(zip(header, cells, strict=True))


def _read_scenario_copy(path: Path) -> tuple[str | None, Export]:
    """Site time zone and export settings from the result's copy of the scenario YAML
    (only these two sections are read: relative data paths need not resolve)."""
    if not path.is_file():
        return None, Export()
    data, lines = load_yaml(path)  # bounded: size, nesting and aliases are capped there
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", path=str(path), line=1)
    tz = (data.get("site") or {}).get("timezone")
    try:
        export = Export.model_validate(data.get("export") or {})
    except ValidationError as exc:  # the first, as the scenario's own check words it
        raise validation_errors(exc, path, lines, section="export").errors[0] from None
    return tz, export


def _read_summary(rd: Path) -> dict:
    """summary.json with its scenario name and result id checked."""
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
    return summary


def _site_timezone(rd: Path, tz: str | None, summary: dict, export: Export) -> str:
    """The site zone (the scenario copy's, else the summary's period) and the export zone,
    both checked."""
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
    return tz


# ---------------------------------------------------------------------------- segments


def parse_segment(row: dict[str, str], line: int, csv_path: Path) -> Segment:
    """One jobs.csv row as a Segment, checked."""
    start = parse_utc(row["start_utc"], path=csv_path, line=line, name="start_utc")
    end = parse_utc(row["end_utc"], path=csv_path, line=line, name="end_utc")
    if end <= start:
        raise InputError("end_utc must be after start_utc", path=str(csv_path), line=line)
    gpus = _int(row["gpus"], path=csv_path, line=line, name="gpus")
    if gpus <= 0:
        raise InputError("gpus must be > 0", path=str(csv_path), line=line, field="gpus")

    def finite(name: str) -> float:
        return _finite(row[name], path=csv_path, line=line, name=name)

    return Segment(
        segment=_int(row["segment"], path=csv_path, line=line, name="segment"),
        start_utc=start,
        end_utc=end,
        gpus=gpus,
        power_fraction_mean=finite("power_fraction_mean"),
        work_done_h=finite("work_done_h"),
        energy_mwh=finite("energy_mwh"),
    )


def _read_segments(
    csv_path: Path, spec: list[_JobSpec]
) -> tuple[dict[str, list[tuple[Segment, int]]], dict[str, bool | None]]:
    """Each job's segments with their jobs.csv line (file order), and whether it met its
    deadline. A segment runs on its job's GPUs: a different count is an error."""
    gpus = {j.id: j.gpus for j in spec}
    segs: dict[str, list[tuple[Segment, int]]] = {j.id: [] for j in spec}
    met: dict[str, bool | None] = {}
    for line, row in read_jobs_csv(csv_path):
        jid = row["job_id"]
        if jid not in segs:
            raise InputError(
                f"job {jid!r} is not in jobs_spec.json",
                path=str(csv_path),
                line=line,
                field="job_id",
            )
        seg = parse_segment(row, line, csv_path)
        if seg.gpus != gpus[jid]:
            raise InputError(
                f"job {jid!r} segment {seg.segment} has {seg.gpus} GPUs, but jobs_spec.json "
                f"gives the job {gpus[jid]}: the two files are not of one run",
                path=str(csv_path),
                line=line,
                field="gpus",
            )
        segs[jid].append((seg, line))
        met[jid] = _bool(row["deadline_met"], path=csv_path, line=line, name="deadline_met")
    return segs, met


def _ordered(
    job_id: str, segs: list[tuple[Segment, int]], csv_path: Path
) -> list[tuple[Segment, int]]:
    """The job's segments (with their jobs.csv line) sorted by number: 0..n-1 without gaps
    and without overlaps."""
    ss = sorted(segs, key=lambda s: s[0].segment)
    if [s.segment for s, _ in ss] != list(range(len(ss))):
        raise InputError(
            f"job {job_id!r}: segments must be numbered 0..{len(ss) - 1} without gaps",
            path=str(csv_path),
            field="segment",
        )
    for (a, _), (b, line) in zip(ss, ss[1:], strict=False):
        if b.start_utc < a.end_utc:
            raise InputError(
                f"job {job_id!r}: segment {b.segment} starts before segment {a.segment} ends",
                path=str(csv_path),
                line=line,
                field="start_utc",
            )
    return ss


def _with_profiles(
    rd: Path, csv_path: Path, segs: dict[str, list[tuple[Segment, int]]]
) -> dict[str, tuple[Segment, ...]]:
    """Each job's segments with their power profile from the time series (read only when
    some job ran)."""
    running = [jid for jid, ss in segs.items() if ss]
    if not running:
        return {jid: () for jid in segs}
    power = read_job_power(rd, running)
    out = {}
    for jid, ss in segs.items():
        profiles = [segment_profile(power, jid, seg, csv_path, line) for seg, line in ss]
        out[jid] = tuple(
            replace(seg, step_s=step_s, power_fraction_steps=steps)
            for (seg, _), (step_s, steps) in zip(ss, profiles, strict=True)
        )
    return out


# ---------------------------------------------------------------------------- result


def load_result(result_dir: str | Path) -> ResultInputs:
    """Read a result directory into a Schedule plus the scenario's export settings."""
    rd = Path(result_dir)
    if not rd.is_dir():
        raise InputError("result directory not found", path=str(rd))
    check_run_marker(rd)
    summary = _read_summary(rd)
    spec_path = rd / "jobs_spec.json"
    if not spec_path.is_file():
        raise InputError(
            "jobs_spec.json is missing from the result directory (it holds each job's command "
            "and deadline; re-run `microgrid run` to write it)",
            path=str(spec_path),
        )
    spec, work_h = _read_jobs_spec(spec_path)
    tz, export = _read_scenario_copy(rd / "scenario.yaml")
    tz = _site_timezone(rd, tz, summary, export)
    csv_path = rd / "jobs.csv"
    rows, met = _read_segments(csv_path, spec)
    segs = _with_profiles(
        rd, csv_path, {jid: _ordered(jid, rs, csv_path) for jid, rs in rows.items()}
    )
    jobs = tuple(
        ScheduledJob(**vars(j), deadline_met=met.get(j.id), segments=segs[j.id]) for j in spec
    )
    sc = summary["scenario"]
    schedule = Schedule(
        scenario=ScenarioRef(
            name=sc["name"],
            path=None if sc.get("path") is None else str(sc.get("path")),
            sha256=None if sc.get("sha256") is None else str(sc.get("sha256")),
        ),
        result_id=str(summary["result_id"]),
        site_timezone=tz,
        jobs=jobs,
    )
    notes = tuple(unfinished_notes(schedule, work_h))
    return ResultInputs(schedule=schedule, export=export, notes=notes)


def build_schedule(result_dir: str | Path) -> Schedule:
    return load_result(result_dir).schedule
