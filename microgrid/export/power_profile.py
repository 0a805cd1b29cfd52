"""Each run segment's power cap step by step, from the result's time series.

A result's time series holds each job's IT power per step, `job_<id>_mw`: the job's
full-power MW (gpus x kw_per_gpu / 1000: each GPU with its server's share) times the power
fraction the plan gives it in that step (``schedule.POWER_FRACTION_OF``). So a segment's
fraction in a step is its MW there times the segment's mean fraction (jobs.csv's
`power_fraction_mean`) over its mean MW: the plan's profile, whose mean is the segment's
mean, without knowing the job's full-power MW (its GPUs' kW is not in the result folder).
Fractions are rounded to `FRACTION_DECIMALS` decimals: 1e-6 of a job's full power, far
below what a GPU power limit can be set to.

`read_job_power` reads the time series (timeseries.parquet when present, its
`timestamp_utc` a UTC timestamp, or ISO text in an older run's; else timeseries.csv),
checked as the other result files are: a missing column, a time that is not one step
after the one before, a cell that is not a number is an InputError naming the file, the
line (a parquet file: the row) and the column. `segment_profile` cuts one
segment's profile out of it; steps that do not cover the segment, or a power that is not
above 0 (or above full power) in a step the segment runs, are errors too.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem, not_utf8_error
from microgrid.errors import InputError
from microgrid.export.schedule import FRACTION_DECIMALS, Segment, format_utc, utc_times
from microgrid.parquet_files import read_parquet_table
from microgrid.result_files import (
    MAX_PARQUET_BYTES,
    TIME_COLUMN,
    TIMESERIES_CSV,
    TIMESERIES_PARQUET,
)

# a mean fraction above 1 by at most this is the solver's tolerance (jobs.csv's "0..1")
_FRACTION_TOLERANCE = 1e-6


def power_column(job_id: str) -> str:
    return f"job_{job_id}_mw"


def _row_error(
    path: Path, lines: tuple[int, ...] | None, message: str, row: int, field: str
) -> InputError:
    """An error in data row `row` (0-based): its line in a CSV file, its row in parquet."""
    if lines is None:
        return InputError(f"{message} (row {row + 1})", path=str(path), field=field)
    return InputError(message, path=str(path), line=lines[row], field=field)


@dataclass(frozen=True)
class JobPower:
    """The job power columns of a result's time series (one row per step)."""

    path: Path
    times: tuple[datetime, ...]
    mw: dict[str, np.ndarray]  # column name -> MW per row
    lines: tuple[int, ...] | None  # the CSV line of each row; None for parquet
    step: timedelta | None  # None when the file has a single row

    def error(self, message: str, row: int, field: str) -> InputError:
        return _row_error(self.path, self.lines, message, row, field)


# ---------------------------------------------------------------------------- reading


def _read_parquet(path: Path, columns: list[str]) -> tuple[list[object], dict[str, np.ndarray]]:
    """The time column's cells and the other columns as floats (NaN where empty)."""
    if path.stat().st_size > MAX_PARQUET_BYTES:
        raise InputError(
            f"file is larger than the {MAX_PARQUET_BYTES // 2**20} MiB limit", path=str(path)
        )
    try:
        names, table = read_parquet_table(path, [TIME_COLUMN, *columns])
        missing = [c for c in (TIME_COLUMN, *columns) if c not in names]
        if missing:
            raise InputError("missing column", path=str(path), field=missing[0])
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        if isinstance(exc, InputError):
            raise
        raise InputError(f"not a valid parquet file: {exc}", path=str(path)) from None
    values = {}
    for name in columns:
        column = table.column(name)
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise InputError(f"not numbers ({column.type})", path=str(path), field=name)
        values[name] = column.to_numpy(zero_copy_only=False).astype(float)
    return table.column(TIME_COLUMN).to_pylist(), values


def _csv_number(text: str, path: Path, line: int, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", path=str(path), line=line, field=name) from None


def _read_csv(
    path: Path, columns: list[str]
) -> tuple[list[object], dict[str, np.ndarray], tuple[int, ...]]:
    """The time column's cells, the other columns as floats and each row's line."""
    problem = file_problem(path, MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise InputError(problem, path=str(path))
    times: list[object] = []
    cells: dict[str, list[float]] = {c: [] for c in columns}
    lines: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            missing = [c for c in (TIME_COLUMN, *columns) if c not in header]
            if missing:
                raise InputError("missing column", path=str(path), line=1, field=missing[0])
            where = {c: header.index(c) for c in (TIME_COLUMN, *columns)}
            for row in reader:
                line = reader.line_num
                if len(row) != len(header):
                    raise InputError(
                        f"{len(row)} cells, the header has {len(header)}", path=str(path), line=line
                    )
                times.append(row[where[TIME_COLUMN]])
                for c in columns:
                    cells[c].append(_csv_number(row[where[c]], path, line, c))
                lines.append(line)
    except UnicodeDecodeError:
        raise not_utf8_error(path) from None  # the decoder saw a chunk: no line of its own
    except csv.Error as exc:  # raised before the reader counts the bad line
        raise InputError(
            f"not a valid CSV: {exc}", path=str(path), line=reader.line_num + 1
        ) from None
    return times, {c: np.asarray(v, dtype=float) for c, v in cells.items()}, tuple(lines)


def _times(path: Path, lines: tuple[int, ...] | None, cells: list[object]) -> tuple[datetime, ...]:
    """The time column as UTC times (each with its offset, as a run writes them)."""

    def row_error(message: str, row: int) -> InputError:
        return _row_error(path, lines, message, row, TIME_COLUMN)

    return tuple(utc_times(cells, path, TIME_COLUMN, row_error))


def _uniform_step(
    path: Path, lines: tuple[int, ...] | None, times: tuple[datetime, ...]
) -> timedelta | None:
    """The time between rows: the same for every row, a positive whole number of seconds
    (None for a single row)."""
    if len(times) < 2:
        return None
    step = times[1] - times[0]
    seconds = step.total_seconds()
    if seconds <= 0 or seconds != int(seconds):
        message = f"time {format_utc(times[1])} is not a whole number of seconds after the first"
        raise _row_error(path, lines, message, 1, TIME_COLUMN)
    for row in range(2, len(times)):
        if times[row] - times[row - 1] != step:
            message = (
                f"time {format_utc(times[row])} is not one step ({step}) after the time before it"
            )
            raise _row_error(path, lines, message, row, TIME_COLUMN)
    return step


def read_job_power(result_dir: Path, job_ids: list[str]) -> JobPower:
    """The `job_<id>_mw` columns of `job_ids` and the step times, checked."""
    columns = [power_column(j) for j in job_ids]
    path = result_dir / TIMESERIES_PARQUET
    lines = None
    if path.is_file():
        cells, mw = _read_parquet(path, columns)
    else:
        path = result_dir / TIMESERIES_CSV
        if not path.is_file():
            raise InputError(
                f"{TIMESERIES_CSV} is missing from the result directory (each segment's power caps "
                "are read from it)",
                path=str(path),
            )
        cells, mw, lines = _read_csv(path, columns)
    if not cells:
        raise InputError("no time steps", path=str(path))
    times = _times(path, lines, cells)
    return JobPower(path, times, mw, lines, _uniform_step(path, lines, times))


# ---------------------------------------------------------------------------- profiles


def _rows(power: JobPower, seg: Segment, where: str) -> range:
    """The rows of the steps in [seg.start_utc, seg.end_utc): every one of them."""
    first = bisect.bisect_left(power.times, seg.start_utc)
    if first == len(power.times) or power.times[first] != seg.start_utc:
        raise InputError(
            f"no time step starts at {format_utc(seg.start_utc)}, the start of {where}",
            path=str(power.path),
            field=TIME_COLUMN,
        )
    step = power.step or seg.duration
    n_steps, rest = divmod(seg.duration, step)
    if rest or first + n_steps > len(power.times):
        raise InputError(
            f"the time steps do not cover {where} ({format_utc(seg.start_utc)} to "
            f"{format_utc(seg.end_utc)}) in steps of {step}",
            path=str(power.path),
            field=TIME_COLUMN,
        )
    return range(first, first + n_steps)


def segment_profile(
    power: JobPower, job_id: str, seg: Segment, jobs_csv: Path, line: int
) -> tuple[int, tuple[float, ...]]:
    """(step in seconds, power fraction per step) of segment `seg` of `job_id` (jobs.csv
    `line`): its MW shape scaled to its mean fraction, rounded."""
    where = f"job {job_id!r} segment {seg.segment} (jobs.csv line {line})"
    mean = seg.power_fraction_mean
    if not 0 < mean <= 1 + _FRACTION_TOLERANCE:
        raise InputError(
            f"power fraction {mean!r} is not in (0, 1]",
            path=str(jobs_csv),
            line=line,
            field="power_fraction_mean",
        )
    rows = _rows(power, seg, where)
    name = power_column(job_id)
    mw = power.mw[name][rows.start : rows.stop]
    bad = np.flatnonzero(~(np.isfinite(mw) & (mw > 0)))
    if bad.size:
        row = rows.start + int(bad[0])
        raise power.error(
            f"{where} runs in this step, but its power is {float(mw[bad[0]])!r}", row, name
        )
    fractions = np.round(mw * (mean / mw.mean()), FRACTION_DECIMALS)
    bad = np.flatnonzero((fractions <= 0) | (fractions > 1))
    if bad.size:  # the MW shape disagrees with the mean: above full power, or next to none
        row = rows.start + int(bad[0])
        message = f"{where}: its power here is {fractions[bad[0]]:g} times its full power"
        raise power.error(message, row, name)
    step = power.step or seg.duration
    return int(step.total_seconds()), tuple(float(x) for x in fractions)
