"""Export a schedule from a real solved run: the JSON round trip and the CLI."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from scenario_factory import small_scenario

import microgrid
from microgrid.cli import main
from microgrid.export import load_result, read_schedule

pytestmark = pytest.mark.slow  # the module fixture solves and writes a run


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
