"""Training jobs: read from the scenario and CSV files, expand weekly templates, and map
their hours onto the optimizer's step indices."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

import optimize
from microgrid.errors import InputError
from microgrid.scenario import Job, Scenario, step_of

_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def read_jobs_csv(path: Path) -> list[Job]:
    """One job per row; columns are the `Job` fields. Errors name file, line and column."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputError("jobs file not found", path=str(path)) from None
    jobs = []
    for i, row in enumerate(rows):
        line = i + 2  # header is line 1
        if None in row:
            raise InputError("more cells than header columns", path=str(path), line=line)
        data: dict[str, object] = {}
        for key, cell in row.items():
            cell = (cell or "").strip()
            if cell == "":
                continue  # empty cell: the field's default (e.g. unlimited interruptions)
            if key == "preemptible":
                if cell.lower() not in _BOOL:
                    raise InputError(
                        f"not a boolean: {cell!r}", path=str(path), line=line, field=key
                    )
                data[key] = _BOOL[cell.lower()]
            else:
                data[key] = cell
        try:
            jobs.append(Job.model_validate(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            msg = "unknown column" if err["type"] == "extra_forbidden" else err["msg"]
            raise InputError(
                msg.removeprefix("Value error, "), path=str(path), line=line, field=field
            ) from None
    return jobs


def scenario_jobs(scenario: Scenario) -> list[Job]:
    """The scenario's job list: YAML items followed by CSV rows; ids must be unique."""
    jobs = list(scenario.jobs.items)
    if scenario.jobs.csv is not None:
        jobs += read_jobs_csv(scenario.resolve(scenario.jobs.csv))
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            raise InputError(f"duplicate job id {job.id!r}", field="jobs")
        seen.add(job.id)
    return jobs


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
        for inst in placed:
            if inst.release_utc < start or inst.deadline_utc > end:
                raise InputError(
                    f"job {inst.id!r} window {inst.release_utc.isoformat()} to "
                    f"{inst.deadline_utc.isoformat()} is outside the period",
                    field="jobs",
                )
        return placed, 0

    placed, dropped = [], 0
    n_weeks = math.ceil((end - job_anchor(scenario)) / pd.Timedelta(weeks=1)) + 1
    for week in range(n_weeks):
        for job in jobs:
            inst = place(job, week, f"{job.id}@w{week:02d}")
            if inst.release_utc >= start and inst.deadline_utc <= end:
                placed.append(inst)
            elif inst.deadline_utc > start and inst.release_utc < end:
                dropped += 1
    return placed, dropped


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
