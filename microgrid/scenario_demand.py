"""Scenario sections of the load: the campus (inference, PUE, throughput curve) and the
training jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from microgrid.scenario_fields import (
    MAX_JOB_HOURS,
    MAX_JOBS,
    MAX_POWER_MW,
    Curve,
    CurvePoint,
    JobHours,
    JobTime,
    Name,
    PowerMW,
    Strict,
    TempC,
    Text,
    field_error,
)


class Inference(Strict):
    """Inflexible IT load: mean ± amplitude, a daily sine peaking at `peak_hour_local`."""

    mean_mw: PowerMW
    amplitude_mw: PowerMW = 0.0
    peak_hour_local: float = Field(default=15.0, ge=0, lt=24)


class PUEModel(Strict):
    """PUE = base + slope × max(0, T_air − threshold), capped at `max`."""

    # PUE above 5 is no data center's; the cap keeps facility power finite.
    base: float = Field(default=1.10, ge=1.0, le=5.0)
    slope_per_c: float = Field(default=0.008, ge=0, le=1)
    threshold_c: TempC = 15.0
    max: float = Field(default=1.40, ge=1.0, le=5.0)


class DataCenter(Strict):
    """The campus. `it_capacity_mw` is its installed IT capacity (MW, above 0 and at
    least the inference peak `mean_mw + amplitude_mw`): the campus size of `microgrid
    headroom` (the inference share is `inference_it_mw / it_capacity_mw`) and of the sweep
    stand-in's load. A dispatch (`run`, `size`, `operate`) holds the inference and the
    jobs within it at every step (the GPUs are shared: a job draws `gpus x kw_per_gpu /
    1000` MW at full power); the baselines' rules start jobs regardless and report the IT
    load above it as a breach."""

    it_capacity_mw: float = Field(gt=0, le=MAX_POWER_MW)
    kw_per_gpu: float = Field(default=0.98, gt=0, le=100)  # a GPU node's share, in kW
    inference: Inference
    pue: PUEModel = PUEModel()
    # Power fraction -> throughput fraction, concave; the default for every job.
    throughput_curve: Curve = (
        (0.6, 0.78),
        (0.7, 0.87),
        (0.8, 0.94),
        (0.9, 0.98),
        (1.0, 1.00),
    )

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: tuple[CurvePoint, ...]) -> tuple[CurvePoint, ...]:
        return _check_curve(pts)


def _check_curve(pts: tuple[CurvePoint, ...]) -> tuple[CurvePoint, ...]:
    if len(pts) < 1 or pts[-1] != (1.0, 1.0):
        raise ValueError("throughput curve must end at (1.0, 1.0)")
    xs = [p[0] for p in pts]
    if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
        raise ValueError("throughput curve power fractions must increase")
    slopes = [(y2 - y1) / (x2 - x1) for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False)]
    if any(s2 > s1 + 1e-12 for s1, s2 in zip(slopes, slopes[1:], strict=False)):
        raise ValueError("throughput curve must be concave (slopes must not increase)")
    return pts


#: The largest step of a clock change (h): Antarctica/Troll moves by two hours.
MAX_CLOCK_CHANGE_H = 2.0
#: Ids a job may not take: ``job_<id>_mw`` would be a column of another meaning.
RESERVED_JOB_IDS = frozenset({"it"})


#: A job's window, release then deadline: in hours from the job anchor, or as date-times
WINDOW_HOUR_FIELDS = ("release_h", "deadline_h")
WINDOW_TIME_FIELDS = ("release_at", "deadline_at")


class Job(Strict):
    """A training job. Its window is given either in hours from the job anchor (the period
    start's week, Monday 00:00 local, see `jobs_anchor`): `deadline_h` and `release_h`; or
    as date-times: `deadline_at` and `release_at` (ISO 8601; without an offset, wall time
    at `site.timezone`; a time the clocks skip moves to the change, one they repeat is its
    first occurrence, as for hours). Never both. Its window must hold `work_h` at full
    power in whole steps of real time: a window across a clock change is an hour shorter
    or longer than on the clock. The id `it` is reserved (operate's `job_it_mw` column)."""

    # descriptions and units: the reference's tables of the job fields and of the jobs
    # CSV's columns (microgrid/schema_doc.py); "empty" says what an empty CSV cell means,
    # "required" when a field is required unless another is given
    id: Name = Field(min_length=1, description="the job's name, unique among the jobs")
    gpus: int = Field(
        gt=0,
        le=10_000_000,
        description="GPUs the job runs on, all at once (it runs on all or none)",
        json_schema_extra={"unit": "GPUs"},
    )
    kw_per_gpu: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="IT power per GPU at full power: the GPU with its share of the server "
        "(CPUs, memory, network, fans). At full power the job draws gpus x kw_per_gpu / "
        "1000 MW; the plan's power fraction scales all of it",
        json_schema_extra={"unit": "kW", "empty": "`datacenter.kw_per_gpu`"},
    )
    work_h: JobHours = Field(
        gt=0,
        description="work to do by the deadline, in hours at full power",
        json_schema_extra={"unit": "h"},
    )
    # None on a job in date-times, as deadline_h: 0 would read as a release at the anchor
    release_h: float | None = Field(
        default=0.0,
        ge=0,
        le=MAX_JOB_HOURS,
        description="earliest start, hours from the job anchor (Monday 00:00 local of the "
        "week holding the period's start); not with release_at or deadline_at. Not given "
        "(or null): 0 on a job in hours, null on one in date-times (it has no hours)",
        json_schema_extra={"unit": "h"},
    )
    deadline_h: float | None = Field(
        default=None,
        gt=0,
        le=MAX_JOB_HOURS,
        description="when its work must be done, hours from the job anchor; not with "
        "release_at or deadline_at",
        json_schema_extra={"unit": "h", "required": "**required** unless `deadline_at`"},
    )
    release_at: JobTime | None = Field(
        default=None,
        description="earliest start as a date-time, instead of release_h: ISO 8601, "
        "2024-12-03T09:00 (wall time at `site.timezone`) or with an offset, "
        "2024-12-03T15:00Z",
        json_schema_extra={"unit": "date-time", "empty": "the period's start"},
    )
    deadline_at: JobTime | None = Field(
        default=None,
        description="when its work must be done as a date-time (as release_at), instead "
        "of deadline_h",
        json_schema_extra={"unit": "date-time", "empty": "the job gives deadline_h"},
    )
    preemptible: bool = Field(
        default=True,
        description="whether it may stop and resume from a checkpoint (CSV: true/false, "
        "yes/no or 1/0, any case)",
        json_schema_extra={"empty": "true"},
    )
    max_interruptions: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="how many times a preemptible job may stop and resume (0 or empty "
        "for a non-preemptible one)",
        json_schema_extra={"unit": "count", "empty": "no limit"},
    )
    restart_overhead_h: JobHours = Field(
        default=0.0,
        description="work each resume adds (reloading the checkpoint), hours at full power",
        json_schema_extra={"unit": "h"},
    )
    f_min: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="the lowest power fraction it runs at, of gpus x kw_per_gpu (1: full "
        "power only)",
        json_schema_extra={"unit": "fraction"},
    )
    throughput_curve: Curve | None = Field(
        default=None,
        description="(power fraction, throughput fraction) points for this job (YAML only: "
        "no jobs CSV column)",
        json_schema_extra={"empty": "`datacenter.throughput_curve`"},
    )
    # {job_id}, {segment} and {power_fraction} are also environment variables (exports)
    command: Text = Field(
        default="echo training {job_id}",
        description="what the exported batch script runs; `{job_id}`, `{segment}` and "
        "`{power_fraction}` are filled in (docs/exports.md)",
    )

    @property
    def given_as_times(self) -> bool:
        """Whether the window is given as date-times (`deadline_at`), not in hours."""
        return self.deadline_at is not None

    @model_validator(mode="before")
    @classmethod
    def _release_h_of_form(cls, data: object) -> object:
        """release_h not given (or null): 0, the anchor, on a job in hours; None on a job
        in date-times, which has no hours from the anchor (as its deadline_h)."""
        if not isinstance(data, dict) or data.get("release_h") is not None:
            return data
        data = {key: value for key, value in data.items() if key != "release_h"}
        if any(data.get(name) is not None for name in WINDOW_TIME_FIELDS):
            data["release_h"] = None
        return data

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: tuple[CurvePoint, ...] | None) -> tuple[CurvePoint, ...] | None:
        return None if pts is None else _check_curve(pts)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, job_id: str) -> str:
        # a job's power column is job_<id>_mw; operate's rows name the jobs' total job_it_mw
        if job_id in RESERVED_JOB_IDS:
            raise ValueError(
                f"job id {job_id!r} is reserved: job_{job_id}_mw, its power column, is the "
                "column of all jobs' IT power in operate's time series"
            )
        return job_id

    @model_validator(mode="after")
    def _window(self) -> Job:
        problem = _form_problem(self) or (
            _times_problem(self) if self.given_as_times else _hours_problem(self)
        )
        if problem is not None:
            raise field_error(problem[0], problem[1], getattr(self, problem[0]))
        if not self.preemptible and self.max_interruptions not in (None, 0):
            message = "a non-preemptible job cannot have max_interruptions > 0"
            raise field_error("max_interruptions", message, self.max_interruptions)
        return self

    @model_serializer(mode="wrap")
    def _one_form(self, handler: SerializerFunctionWrapHandler) -> dict:
        """The fields of the window's form alone: a scenario written out (`with_updates`,
        a result's scenario.yaml) reads back as the same job, not as one giving both forms,
        and an hour-based job dumps, and so digests, as it did before the times existed."""
        data = handler(self)
        unused = WINDOW_HOUR_FIELDS if self.given_as_times else WINDOW_TIME_FIELDS
        for name in unused:
            data.pop(name, None)
        return data

    @property
    def window_fields(self) -> tuple[str, str]:
        """The names of the fields that give the window: in hours or as date-times."""
        return WINDOW_TIME_FIELDS if self.given_as_times else WINDOW_HOUR_FIELDS


def _form_problem(job: Job) -> tuple[str, str] | None:
    """(field, message) when the job gives its window in both forms, or no deadline."""
    hours = [
        name
        for name in WINDOW_HOUR_FIELDS
        if name in job.model_fields_set and getattr(job, name) is not None
    ]
    times = [name for name in WINDOW_TIME_FIELDS if getattr(job, name) is not None]
    if hours and times:
        return times[0], (
            "give the job's window in hours (release_h, deadline_h) or as date-times "
            f"(release_at, deadline_at), not both: it has {', '.join(hours + times)}"
        )
    if job.deadline_h is None and job.deadline_at is None:
        if job.release_at is not None:
            return "deadline_at", "required field is missing: release_at needs deadline_at"
        return "deadline_h", (
            "required field is missing: give deadline_h (hours from the job anchor) or "
            "deadline_at (a date-time)"
        )
    return None


def _hours_problem(job: Job) -> tuple[str, str] | None:
    """(field, message) when the window in hours is empty or cannot hold the work."""
    if job.deadline_h <= job.release_h:
        return "deadline_h", f"deadline_h ({job.deadline_h}) <= release_h ({job.release_h})"
    # on the clock; the window's real hours are checked where its times are known
    # (`microgrid.jobs`): one across the autumn change is an hour longer
    if job.work_h > job.deadline_h - job.release_h + MAX_CLOCK_CHANGE_H:
        return "work_h", (
            f"work_h ({job.work_h}) exceeds the window deadline_h - release_h "
            f"({job.deadline_h - job.release_h})"
        )
    return None


def _times_problem(job: Job) -> tuple[str, str] | None:
    """`_hours_problem` for date-times, where both are given and compare without the
    site's zone (both with an offset or both without); the rest is checked where the job
    is placed (`microgrid.jobs`): a release left to the period's start, a mix of forms."""
    release, deadline = job.release_at, job.deadline_at
    if release is None or (release.tzinfo is None) != (deadline.tzinfo is None):
        return None
    hours = (deadline - release).total_seconds() / 3600.0
    if hours <= 0:
        return "deadline_at", (
            f"deadline_at ({deadline.isoformat(timespec='minutes')}) is not after release_at "
            f"({release.isoformat(timespec='minutes')})"
        )
    if job.work_h > hours + MAX_CLOCK_CHANGE_H:
        return "work_h", (
            f"work_h ({job.work_h}) exceeds the window deadline_at - release_at ({hours:g} h)"
        )
    return None


class Jobs(Strict):
    """Training jobs from the YAML list and/or a CSV file (one row per job). Hours
    (`release_h`, `deadline_h`) count from Monday 00:00 local of the week holding the
    period's start; date-times (`release_at`, `deadline_at`) are their own instants.
    `repeat: once`: each job's whole window must lie inside the period; a window partly or
    wholly outside it is an error (the job is refused, not clipped). `repeat: weekly`: the
    list is a template. A job in hours is placed in every week of the period (`<id>@wNN`:
    its hours from the anchor moved NN weeks); a job in date-times at its own times and
    at the same wall-clock times every whole week after them (`<id>@wNN`: NN weeks after
    its own), never before them: dated in the period's first week, it is placed as the
    same job in hours. An instance whose window is not wholly inside the period is left
    out (the run's summary counts them)."""

    csv: Path | None = None
    items: Annotated[tuple[Job, ...], Field(max_length=MAX_JOBS)] = ()
    # "once": hours count from the week of the period start; "weekly": the list is a
    # template repeated every week of the period.
    repeat: Literal["once", "weekly"] = "once"
