"""Export a schedule from a real solved run: the JSON round trip, the CLI, and each
segment's power caps step by step in every format."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import small_scenario

import microgrid
from microgrid.cli import main
from microgrid.export import load_result, read_schedule

pytestmark = pytest.mark.slow  # the module fixture solves and writes a run

KW_PER_GPU = 0.98
WORK_H = {"pretrain": 20, "finetune": 6}
OVERHEAD_H = {"pretrain": 0.5, "finetune": 0.0}  # restart_overhead_h in the fixture's jobs


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    sc = small_scenario()
    sc["jobs"] = {
        "items": [
            {
                "id": "pretrain",
                "gpus": 8192,
                "work_h": 20,
                "release_h": 24,
                "deadline_h": 72,
                "preemptible": True,
                "max_interruptions": 2,
                "restart_overhead_h": 0.5,
                "f_min": 0.6,
                "command": "srun train.py --job {job_id}",
            },
            {
                "id": "finetune",
                "gpus": 2048,
                "work_h": 6,
                "release_h": 30,
                "deadline_h": 60,
                "preemptible": False,
                "f_min": 0.7,
            },
        ]
    }
    assert sc["datacenter"]["kw_per_gpu"] == KW_PER_GPU  # the full power used below
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    result = microgrid.run(path, powerflow=False)
    return result.write(tmp / "out")


def test_json_round_trip_matches_jobs_csv(result_dir, tmp_path):
    out = tmp_path / "schedule.json"
    assert main(["export", str(result_dir), "--to", "json", "--out", str(out)]) == 0
    schedule = read_schedule(out)
    assert schedule == load_result(result_dir).schedule
    jobs = pd.read_csv(result_dir / "jobs.csv")
    assert schedule.n_segments == len(jobs) >= 2
    for job in schedule.jobs:
        rows = jobs[jobs["job_id"] == job.id].sort_values("segment")
        assert len(rows) == len(job.segments)
        for seg, (_, row) in zip(job.segments, rows.iterrows(), strict=True):
            assert seg.start_utc == pd.Timestamp(row["start_utc"]).to_pydatetime()
            assert seg.end_utc == pd.Timestamp(row["end_utc"]).to_pydatetime()
            assert seg.energy_mwh == pytest.approx(row["energy_mwh"], rel=1e-9)
    finetune = schedule.job("finetune")
    assert len(finetune.segments) == 1  # non-preemptible: one contiguous run


def test_slurm_scripts_from_run(result_dir, tmp_path):
    out = tmp_path / "slurm"
    assert main(["export", str(result_dir), "--to", "slurm", "--out", str(out), "--no-gpus"]) == 0
    scripts = sorted(out.glob("*.sbatch")) or sorted(out.glob("*.sh"))
    assert (out / "submit.sh").exists() and scripts
    text = "\n".join(p.read_text() for p in scripts)
    assert "--begin=2023-08-2" in text and "America/Chicago" in text


def _planned_fractions(result_dir) -> dict[tuple[str, int], list[float]]:
    """Each segment's power fraction per step as the result's files state it: the job's
    MW in timeseries.parquet over its full power (GPUs x kW per GPU), in [start, end)."""
    ts = pd.read_parquet(result_dir / "timeseries.parquet")
    times = pd.to_datetime(ts["timestamp_utc"], utc=True)
    out = {}
    for row in pd.read_csv(result_dir / "jobs.csv").itertuples():
        inside = (times >= pd.Timestamp(row.start_utc)) & (times < pd.Timestamp(row.end_utc))
        full_mw = row.gpus * KW_PER_GPU / 1000
        out[(row.job_id, row.segment)] = list(ts.loc[inside, f"job_{row.job_id}_mw"] / full_mw)
    return out


def _check_profiles(exported: dict[tuple[str, int], list[float]], result_dir) -> None:
    """The exported profiles are the plan's: one value per step of every segment, each the
    written MW over full power to the 6 decimals the exports carry (the time series holds MW,
    so a fraction is known to its float precision, not exactly)."""
    planned = _planned_fractions(result_dir)
    assert exported.keys() == planned.keys()
    for key, fractions in planned.items():
        assert len(exported[key]) == len(fractions), key
        assert np.allclose(exported[key], fractions, rtol=0, atol=1e-6), key
    # the run's caps change within a segment, so a per-segment number could not pass
    assert any(len(set(f)) > 1 for f in exported.values())


def _env_profiles(texts: list[str]) -> dict[tuple[str, int], list[float]]:
    """MICROGRID_POWER_PROFILE of each Slurm script, by (job id, segment)."""
    out = {}
    for text in texts:
        env = dict(re.findall(r"^export (MICROGRID_[A-Z_]+)=(.*)$", text, re.M))
        steps = [float(x) for x in env["MICROGRID_POWER_PROFILE"].split(",")]
        assert env["MICROGRID_POWER_STEP_S"] == "3600"
        assert float(env["MICROGRID_POWER_FRACTION"]) == min(steps)  # the grid-safe cap
        out[(env["MICROGRID_JOB_ID"], int(env["MICROGRID_SEGMENT"]))] = steps
    return out


def test_json_and_csv_carry_the_planned_caps_of_every_step(result_dir, tmp_path):
    out = tmp_path / "schedule.json"
    assert main(["export", str(result_dir), "--to", "json", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "1.1"
    from_json = {}
    for job in doc["jobs"]:
        for seg in job["segments"]:
            assert seg["step_s"] * len(seg["power_fraction_steps"]) == seg["duration_h"] * 3600
            from_json[(job["id"], seg["segment"])] = seg["power_fraction_steps"]
    _check_profiles(from_json, result_dir)
    out = tmp_path / "schedule.csv"
    assert main(["export", str(result_dir), "--to", "csv", "--out", str(out)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    from_csv = {
        (r["job_id"], int(r["segment"])): [float(x) for x in r["power_fraction_steps"].split(",")]
        for r in rows
    }
    assert from_csv == from_json  # exactly the same numbers, as written in both


def test_slurm_and_kubernetes_carry_the_planned_caps_of_every_step(result_dir, tmp_path):
    slurm = tmp_path / "slurm"
    assert main(["export", str(result_dir), "--to", "slurm", "--out", str(slurm)]) == 0
    from_slurm = _env_profiles([p.read_text() for p in slurm.glob("*.sbatch")])
    _check_profiles(from_slurm, result_dir)
    k8s = tmp_path / "k8s"
    argv = ["export", str(result_dir), "--to", "kubernetes", "--image", "t:1", "--out", str(k8s)]
    assert main(argv) == 0
    from_k8s = {}
    for path in k8s.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        ann = doc["metadata"]["annotations"]
        env = {
            e["name"]: e["value"] for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["MICROGRID_POWER_FRACTION"] == ann["microgrid.io/power-fraction"]
        key = (ann["microgrid.io/job-id"], int(doc["metadata"]["labels"]["microgrid.io/segment"]))
        from_k8s[key] = [float(x) for x in env["MICROGRID_POWER_PROFILE"].split(",")]
    assert from_k8s == from_slurm


def test_job_progress_is_net_of_restart_overhead(result_dir, tmp_path):
    out = tmp_path / "schedule.json"
    assert main(["export", str(result_dir), "--to", "json", "--out", str(out)]) == 0
    jobs = {j["id"]: j for j in json.loads(out.read_text())["jobs"]}
    for job_id, job in jobs.items():
        restarts = len(job["segments"]) - 1
        gross = sum(seg["work_done_h"] for seg in job["segments"])
        assert job["work_done_h"] == pytest.approx(gross)  # 1.0's meaning, kept
        assert job["progress_h"] == pytest.approx(gross - OVERHEAD_H[job_id] * restarts)
        assert job["progress_h"] >= WORK_H[job_id] - 1e-6  # every deadline is met: all work done
    # the preemptible job restarts in this plan, and its overhead is not progress
    assert len(jobs["pretrain"]["segments"]) >= 2
    assert jobs["pretrain"]["progress_h"] < jobs["pretrain"]["work_done_h"]
