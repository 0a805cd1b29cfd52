"""The exported scripts submitted to a real one-node Slurm (tests/slurm_cluster.py): the
begin times, time limits, deadlines, names and dependencies Slurm holds are the planned
ones, including a start in the repeated hour when daylight saving time ends."""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from export_helpers import JobIn, SegIn, write_result_dir

from microgrid.export.result_reader import build_schedule
from microgrid.export.slurm import SlurmOptions, export_slurm, job_name, script_name, submit

pytestmark = pytest.mark.slurm

CHI = "America/Chicago"
EVIL = 'x"; rm -rf ~; echo "'


def _fall_back_sunday() -> date:
    """First Sunday of November next year: DST ends in Chicago, and it is in the future
    (Slurm would start jobs whose begin time has passed)."""
    d = date(datetime.now(timezone.utc).year + 1, 11, 1)
    return d + timedelta(days=(6 - d.weekday()) % 7)


def _z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _slurm_time(t: datetime) -> str:
    """How scontrol shows an instant with TZ=UTC."""
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def _slurm_limit(d: timedelta) -> str:
    s = int(d.total_seconds())
    days, s = divmod(s, 86400)
    hms = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{days}-{hms}" if days else hms


def _plan(tmp_path: Path):
    fb = _fall_back_sunday()
    base = datetime(fb.year, fb.month, fb.day, tzinfo=timezone.utc)
    h = timedelta(hours=1)
    segs = [
        # (job, segment, start, end, expected begin held by Slurm)
        ("train", 0, base - 9 * h, base - 6 * h, base - 9 * h),
        # 06:30Z = 01:30 CDT, in the repeated hour: --begin rounds up to 02:00 CST = 08:00Z
        ("train", 1, base + 6.5 * h, base + 7 * h, base + 8 * h),
        ("train", 2, base + 9 * h, base + 13 * h, base + 9 * h),
        (EVIL, 0, base + 36 * h, base + 38 * h, base + 36 * h),
    ]
    deadlines = {"train": base + 48 * h, EVIL: base + 42 * h}
    jobs = [JobIn(j, 4, d.isoformat()) for j, d in deadlines.items()]
    rd = write_result_dir(
        tmp_path / "r",
        jobs,
        [SegIn(j, k, _z(s), _z(e), 4, 0.8, 1.0, 0.1) for j, k, s, e, _ in segs],
        timezone=CHI,
    )
    return rd, segs, deadlines


def _check_held(cluster, ids: dict[str, str], segs, deadlines) -> None:
    prev = None
    for job, k, start, end, begin in segs:
        sid = ids[script_name(job, k)]
        f = cluster.show_job(sid, tz="UTC")
        assert f["JobState"] == "PENDING", f
        assert f["JobName"] == job_name(job, k)
        assert f["EligibleTime"] == _slurm_time(begin), (job, k, f["EligibleTime"])
        assert f["TimeLimit"] == _slurm_limit(end - start)
        assert f["Deadline"] == _slurm_time(deadlines[job])
        assert f["Partition"] == cluster.partition
        if k == 0:
            assert f.get("Dependency") in (None, "(null)")
        else:
            assert f["Dependency"].startswith(f"afterany:{prev}"), f["Dependency"]
        prev = sid


def _cancel(cluster, ids) -> None:
    cluster.run("scancel", *ids.values(), check=False)


def test_submit_sh_on_real_slurm(slurm_cluster, tmp_path):
    rd, segs, deadlines = _plan(tmp_path)
    out = tmp_path / "out"
    opts = SlurmOptions(timezone=CHI, partition=slurm_cluster.partition, request_gpus=False)
    res = export_slurm(build_schedule(rd), out, opts)
    assert len(res.notes) == 1 and "repeated hour" in res.notes[0]
    # whatever the submitter's own zone, submit.sh pins TZ for sbatch
    env = {**slurm_cluster.env, "TZ": "Asia/Tokyo", "HOME": str(tmp_path)}
    r = subprocess.run(
        ["bash", str(out / "submit.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr + slurm_cluster.logs()
    ids = dict(line.split("\t") for line in (out / "submitted_jobs.tsv").read_text().splitlines())
    try:
        assert len(ids) == 4
        _check_held(slurm_cluster, ids, segs, deadlines)
        q = slurm_cluster.run("squeue", "-h", "-o", "%i %j %r", "-j", ",".join(ids.values()))
        reasons = {line.split()[0]: line.split()[2] for line in q.stdout.splitlines()}
        assert reasons[ids[script_name("train", 0)]] == "BeginTime"
        assert reasons[ids[script_name("train", 1)]] == "Dependency"
    finally:
        _cancel(slurm_cluster, ids)
    assert os.path.isdir(tmp_path)  # nothing ran: the injected rm never executed


def test_python_submit_on_real_slurm(slurm_cluster, tmp_path):
    rd, segs, deadlines = _plan(tmp_path)
    out = tmp_path / "out"
    opts = SlurmOptions(timezone=CHI, partition=slurm_cluster.partition, request_gpus=False)
    export_slurm(build_schedule(rd), out, opts)
    submitted = submit(out, env={"SLURM_CONF": slurm_cluster.env["SLURM_CONF"]})
    ids = dict(submitted)
    try:
        assert [s for s, _ in submitted] == [script_name(j, k) for j, k, *_ in segs]
        _check_held(slurm_cluster, ids, segs, deadlines)
    finally:
        _cancel(slurm_cluster, ids)
