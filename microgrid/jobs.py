"""Training jobs: read from the scenario and CSV files, expand weekly templates, and map
their hours onto the optimizer's step indices."""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

import optimize
from microgrid.datafiles import require_data_file
from microgrid.errors import InputError, InputErrors
from microgrid.scenario import MAX_JOBS, Job, Scenario, step_of
from microgrid.scenario_checks import curve_problem

_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_TEXT_COLUMNS = {"id", "command"}


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    """(file line, row) of every data row. A UTF-8 byte-order mark (Excel's "CSV UTF-8")
    is skipped; more than MAX_JOBS rows, a repeated column and bad CSV are refused."""
    where = {"path": str(path)}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            twice = sorted({c for c in header if header.count(c) > 1})
            if twice:
                raise InputError(f"column {twice[0]!r} appears twice", **where, line=1)
            rows = []
            for row in reader:
                if len(rows) == MAX_JOBS:
                    raise InputError(f"more than {MAX_JOBS:,} jobs", **where, line=reader.line_num)
                rows.append((reader.line_num, row))
    except FileNotFoundError:
        raise InputError("jobs file not found", **where) from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise InputError(
            f"not UTF-8 text (byte 0x{byte:02x}: {exc.reason}); save it as UTF-8", **where
        ) from None
    except csv.Error as exc:  # raised before the reader counts the bad line
        raise InputError(f"not a valid CSV: {exc}", **where, line=reader.line_num + 1) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", **where) from None
    return rows


def _row_data(row: dict, path: Path, line: int) -> dict[str, object]:
    """The row's non-empty cells as Job fields; booleans parsed, numbers finite."""
    if None in row:
        raise InputError("more cells than header columns", path=str(path), line=line)
    data: dict[str, object] = {}
    for key, cell in row.items():
        cell = (cell or "").strip()
        if cell == "":
            continue  # empty cell: the field's default (e.g. unlimited interruptions)
        if key == "preemptible":
            if cell.lower() not in _BOOL:
                raise InputError(f"not a boolean: {cell!r}", path=str(path), line=line, field=key)
            data[key] = _BOOL[cell.lower()]
        elif key not in _TEXT_COLUMNS and not _finite_or_text(cell):
            raise InputError(f"not a finite number: {cell!r}", path=str(path), line=line, field=key)
        else:
            data[key] = cell
    return data


def _finite_or_text(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return True  # not a number at all: the schema names the expected type


def read_jobs_csv(
    path: Path,
    known_ids: Collection[str] = (),
    default_curve: list[tuple[float, float]] | None = None,
) -> list[Job]:
    """One job per row; columns are the `Job` fields. Errors name file, line and column.
    Ids must differ from each other and from `known_ids` (the scenario's YAML list); with
    `default_curve` (the scenario's), a row's `f_min` must lie on its throughput curve."""
    jobs = []
    line_of_id: dict[str, int] = {}
    for line, row in _csv_rows(path):
        try:
            job = Job.model_validate(_row_data(row, path, line))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            msg = "unknown column" if err["type"] == "extra_forbidden" else err["msg"]
            raise InputError(
                msg.removeprefix("Value error, "), path=str(path), line=line, field=field
            ) from None
        if job.id in known_ids or job.id in line_of_id:
            first = line_of_id.get(job.id)
            also = f"first on line {first}" if first else "already in the scenario's jobs list"
            raise InputError(
                f"duplicate job id {job.id!r} ({also})", path=str(path), line=line, field="id"
            )
        curve = job.throughput_curve or default_curve
        why = curve_problem(job.f_min, curve) if curve else None
        if why:
            raise InputError(f"job {job.id!r}: {why}", path=str(path), line=line, field="f_min")
        line_of_id[job.id] = line
        jobs.append(job)
    return jobs


def scenario_jobs(scenario: Scenario) -> list[Job]:
    """The scenario's job list: YAML items followed by CSV rows; ids must be unique."""
    jobs = list(scenario.jobs.items)  # checked with the scenario (scenario_checks.py)
    if scenario.jobs.csv is None:
        return jobs
    path = scenario.resolve(scenario.jobs.csv)
    require_data_file(scenario, path, "jobs.csv")
    known = {job.id for job in jobs}
    return jobs + read_jobs_csv(path, known, scenario.datacenter.throughput_curve)


@dataclass(frozen=True)
class JobInstance:
    """A job placed in time: its template, an instance id, and UTC release/deadline."""

    spec: Job
    id: str
    release_utc: pd.Timestamp
    deadline_utc: pd.Timestamp


def job_anchor(scenario: Scenario) -> pd.Timestamp:
    """Monday 00:00 local of the week holding the period start, as UTC."""
    start = scenario.to_utc(scenario.period.start).tz_convert(scenario.site.timezone)
    monday = (start - pd.Timedelta(days=start.weekday())).normalize()
    return monday.tz_convert("UTC")


def job_instances(scenario: Scenario) -> tuple[list[JobInstance], int]:
    """Jobs placed in the horizon, and how many weekly instances fell outside it.

    Hours count in local wall-clock time from the anchor (so a week across a DST change
    still starts on Monday 00:00 local). A `once` job whose window leaves the horizon is an
    error; a `weekly` template keeps only the weeks whose whole window is inside.
    """
    jobs = scenario_jobs(scenario)
    if len(jobs) > MAX_JOBS:
        raise scenario.error(f"{len(jobs):,} jobs, more than the cap of {MAX_JOBS:,}", "jobs")
    tz = scenario.site.timezone
    start, end = scenario.to_utc(scenario.period.start), scenario.to_utc(scenario.period.end)
    anchor_local = job_anchor(scenario).tz_convert(tz).tz_localize(None)

    def place(job: Job, week: int, instance_id: str) -> JobInstance:
        base = anchor_local + pd.Timedelta(weeks=week)
        rel = (base + pd.Timedelta(hours=job.release_h)).tz_localize(
            tz, nonexistent="shift_forward", ambiguous=True
        )
        ddl = (base + pd.Timedelta(hours=job.deadline_h)).tz_localize(
            tz, nonexistent="shift_forward", ambiguous=True
        )
        return JobInstance(job, instance_id, rel.tz_convert("UTC"), ddl.tz_convert("UTC"))

    if scenario.jobs.repeat == "once":
        placed = [place(j, 0, j.id) for j in jobs]
        outside = [
            _outside_period(scenario, i, inst, start, end)
            for i, inst in enumerate(placed)
            if inst.release_utc < start or inst.deadline_utc > end
        ]
        if outside:
            raise InputErrors(outside)
        return placed, 0

    placed, dropped = [], 0
    n_weeks = math.ceil((end - job_anchor(scenario)) / pd.Timedelta(weeks=1)) + 1
    if len(jobs) * n_weeks > MAX_JOBS:  # bounds the time and memory of placing and solving
        raise scenario.error(
            f"{len(jobs)} weekly jobs over {n_weeks} weeks make {len(jobs) * n_weeks:,} job "
            f"instances, more than the cap of {MAX_JOBS:,}: shorten the period or the job list",
            "jobs.repeat",
        )
    for week in range(n_weeks):
        for job in jobs:
            inst = place(job, week, f"{job.id}@w{week:02d}")
            if inst.release_utc >= start and inst.deadline_utc <= end:
                placed.append(inst)
            elif inst.deadline_utc > start and inst.release_utc < end:
                dropped += 1
    return placed, dropped


def _outside_period(
    scenario: Scenario, i: int, inst: JobInstance, start: pd.Timestamp, end: pd.Timestamp
) -> InputError:
    """The error for job `i` (YAML items first, then CSV rows) whose window leaves the period."""
    field = "release_h" if inst.release_utc < start else "deadline_h"
    msg = (
        f"job {inst.id!r} window {inst.release_utc.isoformat()} to "
        f"{inst.deadline_utc.isoformat()} is outside the period {start.isoformat()} to "
        f"{end.isoformat()} (hours count from Monday 00:00 local of the first week)"
    )
    if i < len(scenario.jobs.items):
        return scenario.error(msg, f"jobs.items.{i}.{field}")
    return InputError(msg, path=str(scenario.resolve(scenario.jobs.csv)), field=field)


def to_optimize_jobs(
    scenario: Scenario, instances: list[JobInstance], index: pd.DatetimeIndex
) -> tuple[optimize.Job, ...]:
    """Map job instances onto step indices: the job may run in steps whose whole interval
    lies in [release, deadline)."""
    step = step_of(index)
    start = index[0]
    dc = scenario.datacenter
    out = []
    for inst in instances:
        job = inst.spec
        release_step = math.ceil((inst.release_utc - start) / step)
        deadline_step = math.floor((inst.deadline_utc - start) / step)
        kw = job.kw_per_gpu if job.kw_per_gpu is not None else dc.kw_per_gpu
        curve = job.throughput_curve or dc.throughput_curve
        curve = tuple((float(f), float(w)) for f, w in curve if f >= job.f_min - 1e-12)
        out.append(
            optimize.Job(
                id=inst.id,
                full_power_it_mw=job.gpus * kw / 1000.0,
                work_h=job.work_h,
                release_step=release_step,
                deadline_step=deadline_step,
                preemptible=job.preemptible,
                max_interruptions=0 if not job.preemptible else job.max_interruptions,
                restart_overhead_h=job.restart_overhead_h,
                f_min=job.f_min,
                throughput_curve=curve,
                running_at_start=False,
            )
        )
    return tuple(out)
