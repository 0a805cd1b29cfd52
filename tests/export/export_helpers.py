"""Hand-written result directories (inputs to the exporter) for the export tests."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from microgrid.results import JOBS_COLUMNS

JOBS_CSV_HEADER = list(JOBS_COLUMNS)
KW_PER_GPU = 1.0  # the test jobs' full power: gpus kW


@dataclass
class JobIn:
    id: str
    gpus: int
    deadline_utc: str
    command: str = "echo training {job_id}"
    preemptible: bool = True
    max_interruptions: int | None = None
    restart_overhead_h: float = 0.0
    deadline_met: bool = True
    work_h: float | None = None  # the work it needs (None: a folder from before it was kept)


@dataclass
class SegIn:
    job_id: str
    segment: int
    start_utc: str
    end_utc: str
    gpus: int
    power_fraction_mean: float
    work_done_h: float
    energy_mwh: float
    # the plan's power fraction in each step of the time series (None: the mean throughout)
    steps: tuple[float, ...] | None = None


def _utc(text: str) -> datetime | None:
    """A jobs.csv time, or None for one a test made bad on purpose."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def write_timeseries(root: Path, jobs: list[JobIn], segments: list[SegIn]) -> None:
    """timeseries.csv as a run writes it (only the time and job power columns): one row per
    step from the first segment's start to the last one's end, the step the largest that
    divides every segment; each job's MW is its full power (KW_PER_GPU) times the segment's
    `steps`, or its mean fraction, and 0 outside its segments."""
    spans = [(s, _utc(s.start_utc), _utc(s.end_utc)) for s in segments]
    spans = [(s, a, b) for s, a, b in spans if a is not None and b is not None and b > a]
    t0 = min((a for _, a, _ in spans), default=datetime.fromisoformat("2023-01-01T00:00:00+00:00"))
    t1 = max((b for _, _, b in spans), default=t0 + timedelta(hours=1))
    step_s = 3600
    for _, a, b in spans:
        step_s = math.gcd(step_s, int((a - t0).total_seconds()), int((b - a).total_seconds()))
    n = int((t1 - t0).total_seconds()) // step_s
    mw = {j.id: [0.0] * n for j in jobs}
    full = {j.id: j.gpus * KW_PER_GPU / 1000 for j in jobs}
    for s, a, b in spans:
        first, count = (
            int((a - t0).total_seconds()) // step_s,
            int((b - a).total_seconds()) // step_s,
        )
        steps = s.steps or (s.power_fraction_mean,) * count
        assert len(steps) == count, (s, count)
        for i, f in enumerate(steps):
            mw[s.job_id][first + i] = full[s.job_id] * f
    with (root / "timeseries.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp_utc", "grid_import_mw", *(f"job_{j.id}_mw" for j in jobs)])
        for i in range(n):
            t = t0 + timedelta(seconds=i * step_s)
            w.writerow([t.strftime("%Y-%m-%dT%H:%M:%SZ"), 10.0, *(repr(mw[j.id][i]) for j in jobs)])


def _spec(j: JobIn) -> dict:
    """Job `j` as jobs_spec.json holds it (`work_h` only where the test gives it)."""
    spec = {
        "id": j.id,
        "gpus": j.gpus,
        "command": j.command,
        "release_utc": "2023-01-01T00:00:00+00:00",
        "deadline_utc": j.deadline_utc,
        "preemptible": j.preemptible,
        "max_interruptions": j.max_interruptions,
        "restart_overhead_h": j.restart_overhead_h,
    }
    if j.work_h is not None:
        spec["work_h"] = j.work_h
    return spec


def write_result_dir(
    root: Path,
    jobs: list[JobIn],
    segments: list[SegIn],
    *,
    timezone: str = "America/Chicago",
    slurm: dict | None = None,
    name: str = "test-scenario",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    scenario = {
        "name": name,
        "site": {"latitude_deg": 32.8, "longitude_deg": -96.8, "timezone": timezone},
        "jobs": {"csv": "data/jobs/does-not-resolve-here.csv"},
    }
    if slurm is not None:
        scenario["export"] = {"slurm": slurm}
    text = yaml.safe_dump(scenario, sort_keys=False)
    (root / "scenario.yaml").write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    (root / "summary.json").write_text(
        json.dumps(
            {
                "scenario": {"name": name, "path": f"{name}.yaml", "sha256": sha},
                "result_id": "r-0123456789ab",
                "period": {"timezone": timezone},
            }
        )
    )
    (root / "jobs_spec.json").write_text(json.dumps([_spec(j) for j in jobs]))
    by_id = {j.id: j for j in jobs}
    with (root / "jobs.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(JOBS_CSV_HEADER)
        for s in segments:
            j = by_id[s.job_id]
            deadline = j.deadline_utc.replace("+00:00", "Z")
            w.writerow(
                [
                    s.job_id,
                    s.segment,
                    s.start_utc,
                    s.end_utc,
                    s.gpus,
                    s.power_fraction_mean,
                    s.work_done_h,
                    s.energy_mwh,
                    deadline,
                    j.deadline_met,
                ]
            )
    write_timeseries(root, jobs, segments)
    return root


def reference_result(root: Path, **kw) -> Path:
    """Two jobs of the reference week: one preempted into three segments, one in one."""
    jobs = [
        JobIn(
            "pretrain-70b",
            32768,
            "2023-08-28T05:00:00+00:00",
            command="srun python train.py --model 70b --resume-from-latest",
            max_interruptions=4,
            restart_overhead_h=0.5,
        ),
        JobIn(
            "finetune-a",
            4096,
            "2023-08-24T05:00:00+00:00",
            command="srun python finetune.py --task a --seg {segment} --pf {power_fraction}",
            preemptible=False,
            max_interruptions=0,
        ),
        JobIn("never-run", 8, "2023-08-27T05:00:00+00:00", deadline_met=False),
    ]
    segs = [
        SegIn(
            "pretrain-70b",
            0,
            "2023-08-21T05:00:00Z",
            "2023-08-22T19:00:00Z",
            32768,
            0.8125,
            36.5625,
            1048.4533,
        ),
        SegIn(
            "pretrain-70b",
            1,
            "2023-08-23T03:00:00Z",
            "2023-08-24T21:00:00Z",
            32768,
            1.0,
            41.5,
            1284.6528,
        ),
        SegIn(
            "pretrain-70b",
            2,
            "2023-08-25T05:00:00Z",
            "2023-08-25T23:00:00Z",
            32768,
            0.9,
            17.9375,
            568.9162,
        ),
        SegIn(
            "finetune-a", 0, "2023-08-22T06:00:00Z", "2023-08-23T06:00:00Z", 4096, 0.7, 20.88, 67.43
        ),
    ]
    return write_result_dir(root, jobs, segs, **kw)


def read_jobs_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))
