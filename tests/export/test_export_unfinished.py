"""An export names each job its plan leaves unfinished (microgrid/export/unfinished.py).

The audit's Slurm export of a plan that ran a job for 21 of its 110 h wrote it as a normal
segment, and `slurm-manifest.json` had `notes: []`: whoever submits the scripts learns
only at the deadline that the work is not done. On hand-written result folders."""

from __future__ import annotations

import json

import pytest
from export_helpers import JobIn, SegIn, write_result_dir

from microgrid.cli import main

DEADLINE = "2023-01-02T12:00:00+00:00"
SHORT_NOTE = (
    "job 'short': the plan does not finish its work (3.00 of 10.00 h done by its deadline "
    "2023-01-02T12:00:00Z); its segments are exported as planned and hold only that work"
)


def _result(tmp_path, short_work_h: float | None = 10.0, never_run: bool = False):
    """A run folder with a finished job and one the plan runs for 3 of its 10 h; with
    `never_run`, also a job of 4 h that has no segment."""
    jobs = [
        JobIn("done", 8, DEADLINE, work_h=2.0),
        JobIn("short", 8, DEADLINE, deadline_met=False, work_h=short_work_h),
    ]
    segs = [
        SegIn("done", 0, "2023-01-02T00:00:00Z", "2023-01-02T02:00:00Z", 8, 1.0, 2.0, 0.016),
        SegIn("short", 0, "2023-01-02T02:00:00Z", "2023-01-02T05:00:00Z", 8, 1.0, 3.0, 0.024),
    ]
    if never_run:
        jobs.append(JobIn("idle", 8, DEADLINE, deadline_met=False, work_h=4.0))
    return write_result_dir(tmp_path / "run", jobs, segs)


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note: ")]


def test_slurm_lists_the_unfinished_job_in_its_manifest_and_on_stderr(tmp_path, capsys):
    rd = _result(tmp_path)
    out = tmp_path / "slurm"
    assert main(["export", str(rd), "--to", "slurm", "--out", str(out)]) == 0
    manifest = json.loads((out / "slurm-manifest.json").read_text())
    assert manifest["notes"] == [SHORT_NOTE]  # the finished job is not named
    assert _notes(capsys.readouterr().err) == [f"note: {SHORT_NOTE}"]


@pytest.mark.parametrize(
    "argv",
    [["--to", "json"], ["--to", "csv"], ["--to", "kubernetes", "--image", "train:1"]],
    ids=["json", "csv", "kubernetes"],
)
def test_every_format_prints_the_note(tmp_path, capsys, argv):
    rd = _result(tmp_path)
    assert main(["export", str(rd), *argv, "--out", str(tmp_path / "o")]) == 0
    assert _notes(capsys.readouterr().err) == [f"note: {SHORT_NOTE}"]


def test_a_job_without_segments_and_a_folder_without_the_work_needed(tmp_path, capsys):
    rd = _result(tmp_path, short_work_h=None, never_run=True)
    assert main(["export", str(rd), "--to", "json", "--out", str(tmp_path / "s.json")]) == 0
    assert _notes(capsys.readouterr().err) == [
        "note: job 'short': the plan does not finish its work (3.00 h done by its deadline "
        "2023-01-02T12:00:00Z; the work it needs is not in jobs_spec.json, written before "
        "microgrid kept it); its segments are exported as planned and hold only that work",
        "note: job 'idle': the plan does none of its work (0.00 of 4.00 h done by its "
        "deadline 2023-01-02T12:00:00Z); it has no segment",
    ]


def test_a_bad_work_h_is_one_input_error(tmp_path, capsys):
    rd = _result(tmp_path)
    spec = json.loads((rd / "jobs_spec.json").read_text())
    spec[1]["work_h"] = "lots"
    (rd / "jobs_spec.json").write_text(json.dumps(spec))
    assert main(["export", str(rd), "--to", "json", "--out", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "jobs_spec.json" in err[0] and "1.work_h" in err[0], err
