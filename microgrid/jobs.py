"""Training jobs: read from the scenario and CSV files, expand weekly templates, and map
their hours onto the optimizer's step indices."""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

import optimize
from microgrid.datafiles import not_utf8_error, require_data_file
from microgrid.errors import InputError, InputErrors
from microgrid.scenario import Scenario, field_message
from microgrid.scenario_checks import curve_problem
from microgrid.scenario_demand import Job
from microgrid.scenario_fields import MAX_JOB_HOURS, MAX_JOBS
from microgrid.wall_time import local_time_text, step_of

_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_TEXT_COLUMNS = {"id", "command"}
#: Job fields no CSV cell holds (a list of points), and what to do instead
_YAML_ONLY_COLUMNS = {
    "throughput_curve": "a throughput curve (a list of points) cannot be a CSV column: give "
    "this job in jobs.items, or the curve of every job in datacenter.throughput_curve",
}
#: The jobs CSV's columns, in the reference's order (docs/scenario-reference.md)
CSV_COLUMNS = tuple(name for name in Job.model_fields if name not in _YAML_ONLY_COLUMNS)
_COLUMNS = frozenset(CSV_COLUMNS)
_REQUIRED_COLUMNS = tuple(name for name, f in Job.model_fields.items() if f.is_required())
#: A job's deadline: deadline_h, or deadline_at instead (`Job`)
_DEADLINE_COLUMNS = ("deadline_h", "deadline_at")


def _missing_columns(header: list[str]) -> list[str]:
    """The required columns the header lacks: `deadline_h` where it has no deadline."""
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    if not any(name in header for name in _DEADLINE_COLUMNS):
        missing.append("deadline_h")
    return missing


def _as_row(header: list[str], record: list[str]) -> dict:
    """A record as `csv.DictReader` gives it: cells beyond the header under None, the
    header's columns the record lacks as None."""
    row: dict = dict(zip(header, record, strict=False))  # lengths checked below
    row.update((name, None) for name in header[len(record) :])
    if len(record) > len(header):
        row[None] = record[len(header) :]
    return row


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the (file line, row) of every data row. A UTF-8 byte-order mark
    (Excel's "CSV UTF-8") is skipped; more than MAX_JOBS rows, a repeated column and bad
    CSV are refused."""
    where = {"path": str(path)}
    start = 1  # the first line of the record being read (a quoted cell may span lines)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, strict=True)  # an unterminated quote is bad CSV
            header = next(reader, [])
            twice = sorted({c for c in header if header.count(c) > 1})
            if twice:
                raise InputError(f"column {twice[0]!r} appears twice", **where, line=1)
            rows = []
            start = reader.line_num + 1
            for record in reader:
                if record:  # a blank line is no row
                    if len(rows) == MAX_JOBS:
                        raise InputError(f"more than {MAX_JOBS:,} jobs", **where, line=start)
                    rows.append((start, _as_row(header, record)))
                start = reader.line_num + 1
    except FileNotFoundError:
        raise InputError("jobs file not found", **where) from None
    except UnicodeDecodeError:
        raise not_utf8_error(path) from None  # the decoder saw a chunk: no line of its own
    except csv.Error as exc:
        raise InputError(f"not a valid CSV: {exc}", **where, line=start) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", **where) from None
    return list(header), rows


def _header_errors(header: list[str], path: Path, has_rows: bool) -> list[InputError]:
    """The header line's problems: each unknown column (even one whose cells are all
    empty), and each required column missing when rows follow. A column without a name
    (a trailing comma, as spreadsheets write) may stay: its cells must be empty."""
    where = {"path": str(path), "line": 1}
    unknown = f"unknown column (the columns: {', '.join(CSV_COLUMNS)})"
    errors = [
        InputError(_YAML_ONLY_COLUMNS.get(name, unknown), **where, field=name)
        for name in header
        if name.strip() and name not in _COLUMNS
    ]
    if has_rows:
        errors += [
            InputError("required column is missing", **where, field=name)
            for name in _missing_columns(header)
        ]
    return errors


def _row_data(row: dict, path: Path, line: int) -> tuple[dict[str, object], list[InputError]]:
    """The row's non-empty cells of known columns as Job fields (booleans parsed, numbers
    finite), and an error for each cell that cannot be one (unknown columns are the
    header's errors)."""
    data: dict[str, object] = {}
    errors = []
    for key, cell in row.items():
        cell = (cell or "").strip()
        if cell == "":
            continue  # empty cell: the field's default (e.g. unlimited interruptions)
        if key.strip() and key not in _COLUMNS:
            continue  # an unknown column: the header's error
        where = {"path": str(path), "line": line, "field": key.strip() or None}
        if not key.strip():
            errors.append(InputError(f"a value ({cell!r}) in a column without a name", **where))
        elif key == "preemptible" and cell.lower() not in _BOOL:
            errors.append(InputError(f"not a boolean: {cell!r}", **where))
        elif key == "preemptible":
            data[key] = _BOOL[cell.lower()]
        elif key not in _TEXT_COLUMNS and not _finite_or_text(cell):
            errors.append(InputError(f"not a finite number: {cell!r}", **where))
        else:
            data[key] = cell
    return data, errors


def _finite_or_text(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return True  # not a number at all: the schema names the expected type


def _row_job(
    row: dict, path: Path, line: int, missing: set[str]
) -> tuple[Job | None, list[InputError]]:
    """The row's job, or None and every problem of the row. Columns in `missing` are the
    header's errors; once a cell is refused, the row-wide checks (the window) are left out:
    they would judge the field's default instead of the cell."""
    if None in row:  # DictReader's key for the cells past the header's columns
        return None, [InputError("more cells than header columns", path=str(path), line=line)]
    data, errors = _row_data(row, path, line)
    try:
        job = Job.model_validate(data)
    except ValidationError as exc:
        refused = missing | {e.field for e in errors}
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or None
            if (err["loc"] and err["loc"][0] in refused) or (field is None and errors):
                continue
            errors.append(InputError(field_message(err), path=str(path), line=line, field=field))
        return None, errors
    return (None if errors else job), errors


def read_jobs_csv(
    path: Path,
    known_ids: Collection[str] = (),
    default_curve: list[tuple[float, float]] | None = None,
) -> list[tuple[int, Job]]:
    """(file line, job) of each row; columns are the `Job` fields. Ids must differ from
    each other and from `known_ids` (the scenario's YAML list); with `default_curve` (the
    scenario's), a row's `f_min` must lie on its throughput curve.

    InputErrors lists every problem, each naming file, line and column: the header's
    (line 1), then each bad row's. A file the reader cannot go through (not UTF-8, bad
    CSV, a repeated column, too many rows) is one InputError.
    """
    header, rows = _csv_rows(path)
    errors = _header_errors(header, path, bool(rows))
    missing = set(_missing_columns(header))
    if "deadline_h" in missing:  # a row's missing deadline, whichever form, is the header's
        missing.update(_DEADLINE_COLUMNS)
    jobs: list[tuple[int, Job]] = []
    line_of_id: dict[str, int] = {}
    for line, row in rows:
        job, row_errors = _row_job(row, path, line, missing)
        errors += row_errors
        if job is None:
            continue
        problem = _id_or_curve_problem(job, line_of_id.get(job.id), known_ids, default_curve)
        if problem is not None:
            errors.append(InputError(problem[1], path=str(path), line=line, field=problem[0]))
        line_of_id.setdefault(job.id, line)
        jobs.append((line, job))
    if errors:
        raise InputErrors(errors)
    return jobs


def _id_or_curve_problem(
    job: Job,
    first_line: int | None,
    known_ids: Collection[str],
    default_curve: list[tuple[float, float]] | None,
) -> tuple[str, str] | None:
    """(field, message) when the job's id is taken (by the YAML list, or by the row on
    `first_line`) or its f_min lies below its throughput curve; None when neither."""
    if job.id in known_ids:
        return "id", f"duplicate job id {job.id!r} (already in the scenario's jobs list)"
    if first_line is not None:
        return "id", f"duplicate job id {job.id!r} (first on line {first_line})"
    curve = job.throughput_curve or default_curve
    why = curve_problem(job.f_min, curve) if curve else None
    return ("f_min", f"job {job.id!r}: {why}") if why else None


def scenario_jobs(scenario: Scenario) -> tuple[list[Job], list[int]]:
    """The scenario's job list, YAML items followed by CSV rows (ids unique), and the file
    line of each CSV row's job."""
    jobs = list(scenario.jobs.items)  # checked with the scenario (scenario_checks.py)
    if scenario.jobs.csv is None:
        return jobs, []
    path = scenario.resolve(scenario.jobs.csv)
    require_data_file(scenario, path, "jobs.csv")
    known = {job.id for job in jobs}
    rows = read_jobs_csv(path, known, scenario.datacenter.throughput_curve)
    return jobs + [job for _, job in rows], [line for line, _ in rows]


@dataclass(frozen=True)
class JobInstance:
    """A job placed in time: its template, an instance id, and UTC release/deadline."""

    spec: Job
    id: str
    release_utc: pd.Timestamp
    deadline_utc: pd.Timestamp


def job_anchor_local(scenario: Scenario) -> pd.Timestamp:
    """Monday 00:00 local (naive wall-clock time) of the week holding the period start:
    jobs' hours count from it on the wall clock. The days are counted on the local
    calendar, not in 24 h steps, which land an hour off across a DST change between that
    Monday and the start (Asia/Jerusalem from Saturday 2023-03-25 00:00: Sunday 23:00,
    which gave Sunday 03-19 as the week's start). It stays 00:00 where the clocks skip
    that midnight (Asia/Tehran, Monday 2021-03-22): hour 24 is Tuesday 00:00 there too,
    not 01:00 (the anchor once took the 01:00 the clocks jump to)."""
    tz = scenario.site.timezone
    start = scenario.to_utc(scenario.period.start).tz_convert(tz).tz_localize(None)
    return (start - pd.Timedelta(days=start.weekday())).normalize()


def job_anchor(scenario: Scenario) -> pd.Timestamp:
    """`job_anchor_local` as UTC; a midnight the clocks skip is the change."""
    return wall_clock_utc(job_anchor_local(scenario), scenario.site.timezone)


def wall_clock_utc(local: pd.Timestamp, tz: str) -> pd.Timestamp:
    """A local wall-clock time (naive) in zone `tz` as UTC, as jobs are placed: a time the
    clocks skip moves forward to the change, a repeated one is its first occurrence."""
    return local.tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def job_time_utc(t: datetime, week: int, tz: str) -> pd.Timestamp:
    """A job's `release_at` or `deadline_at` moved `week` whole weeks later, as UTC. Week 0
    of a time with an offset is that instant; a time without one, and every later week,
    is wall time in `tz`, placed as hours are (`wall_clock_utc`): a weekly job keeps its
    wall-clock hour across a clock change, as one given in hours does."""
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        if week == 0:
            return ts.tz_convert("UTC")
        ts = _local_wall(ts, tz)
    return wall_clock_utc(ts + pd.Timedelta(weeks=week), tz)


def _local_wall(t: datetime, tz: str) -> pd.Timestamp:
    """`t` as naive wall time in `tz`: a time without an offset as it is."""
    ts = pd.Timestamp(t)
    return ts if ts.tzinfo is None else ts.tz_convert(tz).tz_localize(None)


@dataclass(frozen=True)
class _Placing:
    """What placing a job takes from the scenario: the site's zone, the job anchor (naive
    local time) and the period start as written (a job's `release_at` by default)."""

    tz: str
    anchor_local: pd.Timestamp
    period_start: datetime

    def release_at(self, job: Job) -> datetime:
        return job.release_at if job.release_at is not None else self.period_start

    def window(self, job: Job, week: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """UTC release and deadline of `job` moved `week` whole weeks."""
        if not job.given_as_times:
            base = self.anchor_local + pd.Timedelta(weeks=week)
            rel = wall_clock_utc(base + pd.Timedelta(hours=job.release_h), self.tz)
            ddl = wall_clock_utc(base + pd.Timedelta(hours=job.deadline_h), self.tz)
            return rel, ddl
        rel = job_time_utc(self.release_at(job), week, self.tz)
        return rel, job_time_utc(job.deadline_at, week, self.tz)

    def clock_h(self, job: Job) -> float:
        """The window's length on the wall clock (h), as the user gave it."""
        if not job.given_as_times:
            return job.deadline_h - job.release_h
        release = _local_wall(self.release_at(job), self.tz)
        return (_local_wall(job.deadline_at, self.tz) - release) / pd.Timedelta(hours=1)

    def week_shift(self, job: Job) -> int:
        """Whole weeks from the anchor's week back to a job dated before it (else 0): its
        repeat in the period's first week is `<id>@w<shift>`, as its repeats count from
        its own times."""
        if not job.given_as_times:
            return 0
        release = _local_wall(self.release_at(job), self.tz)
        return max(0, -((release - self.anchor_local) // pd.Timedelta(weeks=1)))


def job_instances(scenario: Scenario) -> tuple[list[JobInstance], int]:
    """The scenario's jobs (`scenario_jobs`) placed in the horizon (`place_jobs`)."""
    return place_jobs(scenario, *scenario_jobs(scenario))


def place_jobs(
    scenario: Scenario, jobs: list[Job], csv_lines: list[int]
) -> tuple[list[JobInstance], int]:
    """`jobs` (`scenario_jobs`: YAML items, then CSV rows at `csv_lines`) placed in the
    horizon, and how many weekly instances fell outside it.

    Hours count in local wall-clock time from the anchor (so a week across a DST change
    still starts on Monday 00:00 local); date-times are their own (see `Jobs`). A `once`
    job whose window leaves the horizon is an error; a `weekly` template keeps only the
    weeks whose whole window is inside.
    """
    if len(jobs) > MAX_JOBS:
        raise scenario.error(f"{len(jobs):,} jobs, more than the cap of {MAX_JOBS:,}", "jobs")
    tz = scenario.site.timezone
    placing = _Placing(tz, job_anchor_local(scenario), scenario.period.start)
    found = [_times_error(scenario, placing, i, job, csv_lines) for i, job in enumerate(jobs)]
    errors = [e for e in found if e is not None]
    if errors:
        raise InputErrors(errors)
    if scenario.jobs.repeat == "once":
        return _placed_once(scenario, placing, jobs, csv_lines), 0
    return _placed_weekly(scenario, placing, jobs, csv_lines)


def _placed_once(
    scenario: Scenario, placing: _Placing, jobs: list[Job], csv_lines: list[int]
) -> list[JobInstance]:
    """Each job at its own window, which must lie wholly inside the period and hold its
    work; InputErrors listing every job that does not."""
    start, end = scenario.to_utc(scenario.period.start), scenario.to_utc(scenario.period.end)
    placed = [JobInstance(j, j.id, *placing.window(j, 0)) for j in jobs]
    outside = [
        _outside_period(scenario, i, inst, start, end, csv_lines)
        for i, inst in enumerate(placed)
        if inst.release_utc < start or inst.deadline_utc > end
    ]
    short = [
        _short_window(scenario, placing, i, inst, start, csv_lines) for i, inst in enumerate(placed)
    ]
    errors = outside + [e for e in short if e is not None]
    if errors:
        raise InputErrors(errors)
    return placed


def _placed_weekly(
    scenario: Scenario, placing: _Placing, jobs: list[Job], csv_lines: list[int]
) -> tuple[list[JobInstance], int]:
    """The jobs repeated weekly (`Jobs`), the instances wholly inside the period, and how
    many more overlap it in part (left out). Week by week from the anchor's, and from the
    week before it for a job dated before it, whose repeat there may overlap the start.
    InputErrors names each template with a week its work does not fit, at the first such
    week (the first alone had been named: validate lists every error)."""
    start, end = scenario.to_utc(scenario.period.start), scenario.to_utc(scenario.period.end)
    n_weeks = math.ceil((end - job_anchor(scenario)) / pd.Timedelta(weeks=1)) + 1
    if len(jobs) * n_weeks > MAX_JOBS:  # bounds the time and memory of placing and solving
        raise scenario.error(
            f"{len(jobs)} weekly jobs over {n_weeks} weeks make {len(jobs) * n_weeks:,} job "
            f"instances, more than the cap of {MAX_JOBS:,}: shorten the period or the job list",
            "jobs.repeat",
        )
    shifts = [placing.week_shift(job) for job in jobs]
    placed, dropped = [], 0
    short: dict[int, InputError] = {}  # template -> its first week that cannot hold its work
    for week in range(-1, n_weeks):
        for i, job in enumerate(jobs):
            k = week + shifts[i]  # whole weeks after the job's own window
            if k < 0:
                continue
            inst = JobInstance(job, f"{job.id}@w{k:02d}", *placing.window(job, k))
            if inst.release_utc >= start and inst.deadline_utc <= end:
                error = _short_window(scenario, placing, i, inst, start, csv_lines)
                if error is not None:
                    short.setdefault(i, error)
                placed.append(inst)
            elif inst.deadline_utc > start and inst.release_utc < end:
                dropped += 1
    if short:
        raise InputErrors(list(short.values()))
    return placed, dropped


def _times_error(
    scenario: Scenario, placing: _Placing, i: int, job: Job, csv_lines: list[int]
) -> InputError | None:
    """The error for job `i` given by date-times whose deadline is not after its release
    in real time (a release left to the period's start, times with and without an offset,
    ends in a clock change: what the schema alone cannot compare), or whose window is
    longer than one in hours may be; None when neither, and for a job in hours."""
    if not job.given_as_times:
        return None
    rel, ddl = placing.window(job, 0)
    tz = scenario.site.timezone
    release = "release_at" if job.release_at is not None else "its release, the period's start,"
    if ddl <= rel:
        msg = (
            f"job {job.id!r}: deadline_at {local_time_text(ddl, tz)} is not after {release} "
            f"{local_time_text(rel, tz)}"
        )
    elif ddl - rel > pd.Timedelta(hours=MAX_JOB_HOURS):
        msg = (
            f"job {job.id!r}: its window {_span(rel, ddl, tz)} is longer than "
            f"{MAX_JOB_HOURS:g} h, the longest period plus a week"
        )
    else:
        return None
    return _job_error(scenario, i, csv_lines, msg, "deadline_at")


def _outside_period(
    scenario: Scenario,
    i: int,
    inst: JobInstance,
    start: pd.Timestamp,
    end: pd.Timestamp,
    csv_lines: list[int],
) -> InputError:
    """The error for job `i` (YAML items first, then CSV rows, on `csv_lines`) whose window
    is not wholly inside the period: the job is refused, neither clipped nor dropped."""
    release, deadline = inst.spec.window_fields
    # the end that leaves: a release before the start or at or after the end, else the deadline
    field = release if not start <= inst.release_utc < end else deadline
    tz = scenario.site.timezone
    if inst.spec.given_as_times:
        change = "change its release_at or deadline_at, or the period"
    else:
        change = (
            "change its release_h or deadline_h, or the period (hours count from Monday "
            f"{local_time_text(job_anchor(scenario), tz)}, the start of the period's first "
            "week)"
        )
    msg = (
        f"job {inst.id!r} window {_span(inst.release_utc, inst.deadline_utc, tz)} "
        f"{_where_outside(inst, start, end)} {_span(start, end, tz)}: a job's whole window "
        f"must lie inside the period, so it is refused, not clipped; {change}"
    )
    return _job_error(scenario, i, csv_lines, msg, field)


def _span(a_utc: pd.Timestamp, b_utc: pd.Timestamp, tz: str) -> str:
    return f"{local_time_text(a_utc, tz)} to {local_time_text(b_utc, tz)}"


def _where_outside(inst: JobInstance, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """How a job's window leaves the period [start, end): wholly, or which of its ends."""
    if inst.deadline_utc <= start or inst.release_utc >= end:
        return "lies outside the period"
    early, late = inst.release_utc < start, inst.deadline_utc > end
    if early and late:
        return "starts before and ends after the period"
    return "starts before the period" if early else "ends after the period"


def _short_window(
    scenario: Scenario,
    placing: _Placing,
    i: int,
    inst: JobInstance,
    start: pd.Timestamp,
    csv_lines: list[int],
) -> InputError | None:
    """The error for job `i` whose work does not fit its window's whole steps at full
    power (None when it fits): `work_h` fits the window on the local clock, but a window
    across a clock change is an hour shorter (or longer), and ends between steps leave
    the part steps out. `start`: the period's first step (UTC)."""
    step = pd.Timedelta(minutes=scenario.period.step_minutes)
    first = math.ceil((inst.release_utc - start) / step)
    last = math.floor((inst.deadline_utc - start) / step)
    hours = max(last - first, 0) * (step / pd.Timedelta(hours=1))
    work_h = inst.spec.work_h
    if work_h <= hours + 1e-9:
        return None
    local_h = placing.clock_h(inst.spec)
    real_h = (inst.deadline_utc - inst.release_utc) / pd.Timedelta(hours=1)
    if abs(real_h - local_h) > 1e-9:
        why = f"the clocks change in it: {local_h:g} h on the clock are {real_h:g} h"
    elif work_h > local_h + 1e-9:
        release, deadline = inst.spec.window_fields
        if inst.spec.given_as_times and inst.spec.release_at is None:
            release = "the period's start"
        why = f"{deadline} - {release} is {local_h:g} h"
    else:
        why = f"its ends fall between the {scenario.period.step_minutes}-minute steps"
    window = _span(inst.release_utc, inst.deadline_utc, scenario.site.timezone)
    msg = (
        f"job {inst.id!r}: work_h ({work_h:g}) exceeds its window of {hours:g} h of whole "
        f"steps from {window} ({why})"
    )
    return _job_error(scenario, i, csv_lines, msg, "work_h")


def job_field_error(scenario: Scenario, instance_id: str, msg: str, field: str) -> InputError:
    """`msg` at `field` of the job whose instance is `instance_id` (a weekly instance
    `<id>@wNN` is its template's): its YAML item or its jobs-CSV row; the scenario file
    alone if no job has that id."""
    jobs, csv_lines = scenario_jobs(scenario)
    job_id = instance_id.rsplit("@w", 1)[0] if scenario.jobs.repeat == "weekly" else instance_id
    for i, job in enumerate(jobs):
        if job.id == job_id:
            return _job_error(scenario, i, csv_lines, msg, field)
    return scenario.error(msg)


def _job_error(
    scenario: Scenario, i: int, csv_lines: list[int], msg: str, field: str
) -> InputError:
    """`msg` at job `i`'s `field`: YAML items first, then CSV rows (on `csv_lines`)."""
    n_items = len(scenario.jobs.items)
    if i < n_items:
        return scenario.error(msg, f"jobs.items.{i}.{field}")
    path = str(scenario.resolve(scenario.jobs.csv))
    return InputError(msg, path=path, line=csv_lines[i - n_items], field=field)


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
        # the whole curve: optimize keeps the segments that reach above f_min. Cut to its
        # points at or above f_min, the segment through f_min was lost, and the next,
        # flatter one extended back to f_min overstated the work done there (7.5 % of a
        # job at f 0.6 between points at 0.5 and 0.8, reported on time while short)
        curve = tuple((float(f), float(w)) for f, w in job.throughput_curve or dc.throughput_curve)
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
