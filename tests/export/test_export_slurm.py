"""Slurm batch scripts: directives, environment, DST rule, quoting, safe writing."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from export_helpers import JobIn, SegIn, reference_result, write_result_dir

from microgrid.cli import main
from microgrid.errors import InputError
from microgrid.export.parser import add_export_parser
from microgrid.export.result_reader import build_schedule
from microgrid.export.slurm import (
    SlurmOptions,
    export_slurm,
    format_duration,
    render_command,
    script_name,
    submit,
)
from microgrid.resultdir import MARKER_NAME, marker_text

CHI = "America/Chicago"


def _directives(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^#SBATCH --([a-z-]+)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _one_segment(tmp_path: Path, start: str, end: str, deadline: str, **job) -> Path:
    return write_result_dir(
        tmp_path / "r",
        [JobIn("j", 8, deadline, **job)],
        [SegIn("j", 0, start, end, 8, 0.75, 1.0, 0.01)],
    )


def _export(rd: Path, out: Path, **opts) -> tuple[dict[str, str], list[str]]:
    sched = build_schedule(rd)
    res = export_slurm(sched, out, SlurmOptions(timezone=opts.pop("timezone", CHI), **opts))
    return {n: (out / n).read_text() for n in res.scripts}, res.notes


def test_scripts_carry_the_plan(tmp_path):
    rd = reference_result(tmp_path / "r", slurm={"partition": "gpu", "account": "ml-team"})
    out = tmp_path / "slurm"
    args = argparse.ArgumentParser()
    add_export_parser(args.add_subparsers(dest="command"))
    ns = args.parse_args(["export", str(rd), "--to", "slurm", "--out", str(out)])
    assert ns.func(ns) == 0
    scripts = sorted(out.glob("*.sbatch"))
    assert len(scripts) == 4
    s0 = (out / script_name("pretrain-70b", 0)).read_text()
    d = _directives(s0)
    # 2023-08-21T05:00Z is midnight CDT; 05:00Z..19:00Z next day is 38 h
    assert d["begin"] == "2023-08-21T00:00:00"
    assert d["time"] == "1-14:00:00"
    assert d["deadline"] == "2023-08-28T00:00:00"
    assert d["gpus"] == "32768"
    assert d["partition"] == "gpu" and d["account"] == "ml-team"
    assert d["job-name"] == script_name("pretrain-70b", 0).removesuffix(".sbatch")
    assert "export MICROGRID_TZ=America/Chicago" in s0
    assert "export MICROGRID_SEGMENT=0" in s0
    assert "export MICROGRID_RESUME=0" in s0
    assert "export MICROGRID_POWER_FRACTION=0.812500" in s0
    assert "America/Chicago" in s0.splitlines()[6]  # the zone is said in a comment
    s1 = (out / script_name("pretrain-70b", 1)).read_text()
    assert "export MICROGRID_RESUME=1" in s1 and "export MICROGRID_SEGMENT=1" in s1
    assert _directives(s1)["begin"] == "2023-08-22T22:00:00"
    # placeholders rendered into the command
    f0 = (out / script_name("finetune-a", 0)).read_text()
    assert "--seg 0 --pf 0.700000" in f0
    for p in scripts:
        assert os.access(p, os.X_OK)
        assert subprocess.run(["bash", "-n", str(p)]).returncode == 0
    manifest = json.loads((out / "slurm-manifest.json").read_text())
    assert manifest["timezone"] == CHI
    assert [len(j["scripts"]) for j in manifest["jobs"]] == [3, 1, 0]


def test_gres_per_node_and_no_gpus(tmp_path):
    rd = reference_result(tmp_path / "r")
    scripts, _ = _export(rd, tmp_path / "a", gpus_per_node=8)
    d = _directives(scripts[script_name("finetune-a", 0)])
    assert d["gres"] == "gpu:8" and d["nodes"] == "512" and "gpus" not in d
    scripts, _ = _export(rd, tmp_path / "b", request_gpus=False, gpus_per_node=8)
    d = _directives(scripts[script_name("finetune-a", 0)])
    assert not {"gres", "gpus", "nodes"} & set(d)


def test_cluster_timezone_overrides_the_site_zone(tmp_path):
    rd = reference_result(tmp_path / "r")
    scripts, _ = _export(rd, tmp_path / "o", timezone="UTC")
    assert _directives(scripts[script_name("pretrain-70b", 0)])["begin"] == "2023-08-21T05:00:00"


@pytest.mark.parametrize(
    ("seconds", "text"), [(3600, "0-01:00:00"), (90061, "1-01:01:01"), (59.2, "0-00:01:00")]
)
def test_format_duration(seconds, text):
    from datetime import timedelta

    assert format_duration(timedelta(seconds=seconds)) == text


# ----------------------------------------------------------------------------- DST


def test_spring_forward_never_writes_the_missing_hour(tmp_path):
    # 2023-03-12 in Chicago: 02:00 CST jumps to 03:00 CDT. 07:30Z is 01:30 CST, 08:30Z is
    # 03:30 CDT: one real hour, two hours of naive wall time.
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("j", 8, "2023-03-12T09:30:00+00:00")],
        [
            SegIn("j", 0, "2023-03-12T07:30:00Z", "2023-03-12T08:30:00Z", 8, 1.0, 1.0, 0.01),
            SegIn("j", 1, "2023-03-12T08:30:00Z", "2023-03-12T09:00:00Z", 8, 1.0, 0.5, 0.01),
        ],
    )
    scripts, notes = _export(rd, tmp_path / "o")
    d0 = _directives(scripts[script_name("j", 0)])
    d1 = _directives(scripts[script_name("j", 1)])
    assert d0["begin"] == "2023-03-12T01:30:00" and d0["time"] == "0-01:00:00"
    assert d1["begin"] == "2023-03-12T03:30:00" and d1["time"] == "0-00:30:00"
    assert d0["deadline"] == "2023-03-12T04:30:00"
    assert not any(v.startswith("2023-03-12T02:") for d in (d0, d1) for v in d.values())
    assert notes == []


def test_fall_back_repeated_hour_rounds_begin_up_and_deadline_down(tmp_path):
    # 2023-11-05 in Chicago: 01:00-02:00 happens twice (CDT 06:00-07:00Z, CST 07:00-08:00Z).
    rd = write_result_dir(
        tmp_path / "r",
        [
            JobIn("a", 8, "2023-11-05T12:00:00+00:00"),
            JobIn("b", 8, "2023-11-05T07:30:00+00:00"),
        ],
        [
            # 01:30 CDT (first pass): ambiguous -> 02:00 CST (08:00Z)
            SegIn("a", 0, "2023-11-05T06:30:00Z", "2023-11-05T07:00:00Z", 8, 1.0, 0.5, 0.01),
            # 01:30 CST (second pass): ambiguous -> 02:00 CST (08:00Z)
            SegIn("a", 1, "2023-11-05T07:30:00Z", "2023-11-05T08:00:00Z", 8, 1.0, 0.5, 0.01),
            # 00:00 CDT: unambiguous
            SegIn("b", 0, "2023-11-05T05:00:00Z", "2023-11-05T05:30:00Z", 8, 1.0, 0.5, 0.01),
        ],
    )
    scripts, notes = _export(rd, tmp_path / "o")
    a0 = _directives(scripts[script_name("a", 0)])
    a1 = _directives(scripts[script_name("a", 1)])
    b0 = _directives(scripts[script_name("b", 0)])
    assert a0["begin"] == "2023-11-05T02:00:00"
    assert a1["begin"] == "2023-11-05T02:00:00"
    assert a0["time"] == "0-00:30:00"  # the planned duration is kept
    assert a0["deadline"] == "2023-11-05T06:00:00"
    assert b0["begin"] == "2023-11-05T00:00:00"
    # b's deadline 07:30Z is 01:30 CST (ambiguous) -> the last unambiguous second before
    assert b0["deadline"] == "2023-11-05T00:59:59"
    assert len(notes) == 3 and all("repeated hour" in n for n in notes)
    assert "NOTE: the planned start falls in the repeated hour" in scripts[script_name("a", 0)]
    # every local time written is unambiguous in Chicago
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(CHI)
    for d in (a0, a1, b0):
        for key in ("begin", "deadline"):
            wall = datetime.fromisoformat(d[key])
            assert (
                wall.replace(tzinfo=tz, fold=0).utcoffset()
                == wall.replace(tzinfo=tz, fold=1).utcoffset()
            )


def test_segment_that_may_miss_its_deadline_after_rounding_says_so(tmp_path, capsys):
    # planned 06:00Z-12:00Z, ending at the job's deadline 12:00Z; 06:00Z is 01:00 CDT, in
    # the repeated hour, so --begin is 02:00 CST = 08:00Z and the 6 h --time ends 14:00Z
    rd = _one_segment(
        tmp_path, "2023-11-05T06:00:00Z", "2023-11-05T12:00:00Z", "2023-11-05T12:00:00+00:00"
    )
    out = tmp_path / "o"
    assert main(["export", str(rd), "--to", "slurm", "--out", str(out)]) == 0
    stderr = capsys.readouterr().err
    script = (out / script_name("j", 0)).read_text()
    d = _directives(script)
    assert d["begin"] == "2023-11-05T02:00:00" and d["time"] == "0-06:00:00"
    assert "deadline" not in d
    # the comment gives the true reason: the rounded begin plus --time, not the planned end
    assert "before this segment's planned end" not in script
    assert (
        "# no --deadline: from the rounded --begin, --time 0-06:00:00 can run until "
        "2023-11-05T08:00:00-06:00 (CST) = 2023-11-05T14:00:00Z, after the job deadline "
        "2023-11-05T06:00:00-06:00 (CST) = 2023-11-05T12:00:00Z"
    ) in script
    late = "segment 0 may end up to 120 min past the job's deadline 2023-11-05T12:00:00Z"
    assert "# NOTE: this segment may end up to 120 min past the job's deadline" in script
    notes = json.loads((out / "slurm-manifest.json").read_text())["notes"]
    assert sum(late in n for n in notes) == 1
    assert f"note: job 'j' {late}" in stderr


def test_no_deadline_note_when_the_rounded_segment_still_ends_in_time(tmp_path):
    rd = _one_segment(
        tmp_path, "2023-11-05T06:00:00Z", "2023-11-05T12:00:00Z", "2023-11-05T14:00:00+00:00"
    )
    scripts, notes = _export(rd, tmp_path / "o")
    assert _directives(scripts[script_name("j", 0)])["deadline"] == "2023-11-05T08:00:00"
    assert len(notes) == 1 and "past the job's deadline" not in notes[0]


def test_a_rounded_begin_delays_the_segments_chained_after_it(tmp_path):
    """Segment 0 (06:30-07:00Z, 01:30 CDT: repeated) begins at 08:00Z; segment 1 planned
    07:30-08:30Z is chained afterany, so it may start at 08:30Z and run to 09:30Z, past the
    job's deadline 09:00Z: its --deadline once stayed, and Slurm would remove it."""
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("a", 8, "2023-11-05T09:00:00+00:00")],
        [
            SegIn("a", 0, "2023-11-05T06:30:00Z", "2023-11-05T07:00:00Z", 8, 1.0, 0.5, 0.01),
            SegIn("a", 1, "2023-11-05T07:30:00Z", "2023-11-05T08:30:00Z", 8, 1.0, 1.0, 0.01),
        ],
    )
    scripts, notes = _export(rd, tmp_path / "o")
    assert "deadline" in _directives(scripts[script_name("a", 0)])  # 08:00-08:30Z: in time
    a1 = scripts[script_name("a", 1)]
    assert "deadline" not in _directives(a1)
    assert "# no --deadline: from its latest start in the chain, --time 0-01:00:00" in a1
    late = [n for n in notes if "segment 1 may end up to 30 min past" in n]
    assert len(late) == 1 and "may start at 2023-11-05T08:30:00Z" in late[0], notes


def test_a_rounded_deadline_is_noted_once_per_job(tmp_path):
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("b", 8, "2023-11-05T07:30:00+00:00")],  # 01:30 CST: repeated
        [
            SegIn("b", k, f"2023-11-05T0{k}:00:00Z", f"2023-11-05T0{k}:30:00Z", 8, 1.0, 0.5, 0.01)
            for k in range(3)
        ],
    )
    _, notes = _export(rd, tmp_path / "o")
    assert sum("--deadline rounded down" in n for n in notes) == 1, notes


def test_duration_across_fall_back_is_real_time(tmp_path):
    rd = _one_segment(
        tmp_path, "2023-11-05T05:00:00Z", "2023-11-05T09:00:00Z", "2023-11-06T00:00:00+00:00"
    )
    scripts, _ = _export(rd, tmp_path / "o")
    d = _directives(scripts[script_name("j", 0)])
    assert d["begin"] == "2023-11-05T00:00:00"  # CDT
    assert d["time"] == "0-04:00:00"  # ends 03:00 CST: 3 h of wall clock, 4 h of time


# ----------------------------------------------------------------------------- safety

EVIL_IDS = [
    'x"; rm -rf ~; echo "',
    "$(touch PWNED_subst)",
    "`touch PWNED_tick`",
    "a'b; touch PWNED_quote #",
    "../../etc/passwd",
]


def _evil_result(tmp_path: Path) -> Path:
    jobs = [JobIn(i, 1, "2030-01-02T00:00:00+00:00") for i in EVIL_IDS]
    segs = []
    for i in EVIL_IDS:
        segs.append(SegIn(i, 0, "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", 1, 1.0, 1.0, 0.1))
        segs.append(SegIn(i, 1, "2030-01-01T02:00:00Z", "2030-01-01T03:00:00Z", 1, 1.0, 1.0, 0.1))
    return write_result_dir(tmp_path / "r", jobs, segs)


def test_injection_in_job_ids_stays_inert_when_scripts_run(tmp_path):
    rd = _evil_result(tmp_path)
    out = tmp_path / "out"
    _export(rd, out)
    names = sorted(p.name for p in out.iterdir() if p.name != MARKER_NAME)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", n) for n in names)
    home = tmp_path / "home"
    home.mkdir()
    (home / "canary").write_text("still here")
    work = tmp_path / "work"
    work.mkdir()
    for job_id in EVIL_IDS:
        script = out / script_name(job_id, 0)
        r = subprocess.run(
            ["bash", str(script)],
            cwd=work,
            env={"PATH": os.environ["PATH"], "HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"training {job_id}\n"  # echo training {job_id}, verbatim
    assert (home / "canary").read_text() == "still here"
    assert list(work.iterdir()) == []  # no PWNED_* file anywhere
    assert not list(out.glob("PWNED*"))


def _fake_sbatch(bindir: Path, log: Path) -> None:
    """An sbatch that records its argv (NUL-separated, one record per call) and prints an
    increasing job id, as `sbatch --parsable` does."""
    bindir.mkdir()
    fake = bindir / "sbatch"
    fake.write_text(
        "#!/bin/bash\n"
        f"log={log}\n"
        'n=$(( $(cat "$log.n" 2>/dev/null || echo 100) + 1 ))\n'
        'echo "$n" > "$log.n"\n'
        'printf "TZ=%s\\0" "$TZ" >> "$log"\n'
        'printf "%s\\0" "$@" >> "$log"\n'
        "printf '\\n' >> \"$log\"\n"
        'echo "$n"\n'
    )
    fake.chmod(0o755)


def _calls(log: Path) -> list[list[str]]:
    return [rec.strip("\0").split("\0") for rec in log.read_text().split("\n") if rec]


def test_submit_sh_passes_names_inert_and_chains_segments(tmp_path):
    rd = _evil_result(tmp_path)
    out = tmp_path / "out"
    _export(rd, out)
    log = tmp_path / "sbatch.log"
    _fake_sbatch(tmp_path / "bin", log)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    r = subprocess.run(
        ["bash", str(out / "submit.sh")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    calls = _calls(log)
    assert len(calls) == 2 * len(EVIL_IDS)
    expected = []
    next_id = 101
    for job_id in EVIL_IDS:
        expected.append(["TZ=America/Chicago", "--parsable", "--", script_name(job_id, 0)])
        expected.append(
            [
                "TZ=America/Chicago",
                "--parsable",
                f"--dependency=afterany:{next_id}",
                "--",
                script_name(job_id, 1),
            ]
        )
        next_id += 2
    assert calls == expected
    recorded = (out / "submitted_jobs.tsv").read_text().splitlines()
    assert recorded[0] == f"{script_name(EVIL_IDS[0], 0)}\t101"
    assert len(recorded) == 10
    assert not list(tmp_path.rglob("PWNED*"))


def test_python_submit_matches_submit_sh(tmp_path):
    rd = _evil_result(tmp_path)
    out = tmp_path / "out"
    _export(rd, out)
    log = tmp_path / "sbatch.log"
    _fake_sbatch(tmp_path / "bin", log)
    ids = submit(out, sbatch=str(tmp_path / "bin" / "sbatch"))
    assert ids[0] == (script_name(EVIL_IDS[0], 0), "101")
    assert ids[1] == (script_name(EVIL_IDS[0], 1), "102")
    calls = _calls(log)
    assert calls[1] == [
        "TZ=America/Chicago",
        "--parsable",
        "--dependency=afterany:101",
        "--",
        script_name(EVIL_IDS[0], 1),
    ]


def test_a_refused_submission_is_one_line_and_its_own_exit_code(tmp_path, capsys, monkeypatch):
    # the audit's case: Slurm unreachable, sbatch's four lines of error passed on as they
    # were, with exit code 1, which means a bug of ours
    rd = reference_result(tmp_path / "r")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "sbatch"
    fake.write_text("#!/bin/bash\necho 'sbatch: error: no controller' >&2\n"
                    "echo 'sbatch: error: second line' >&2\nexit 1\n")  # fmt: skip
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    out = tmp_path / "slurm"
    code = main(["export", str(rd), "--to", "slurm", "--out", str(out), "--submit"])
    # the reference plan leaves its job never-run unfinished: a note before the error
    notes, err = capsys.readouterr().err.partition("\nerror: ")[::2]
    err = "error: " + err
    assert code == 4 and notes.startswith("note: job 'never-run'") and notes.count("\n") == 0
    assert err.count("\n") == 1 and err.startswith("error: sbatch failed for ")
    assert "no controller | sbatch: error: second line" in err and "\\n" not in err
    assert "(0 submitted before)" in err
    assert len(list(out.glob("*.sbatch"))) == 4  # the scripts stay


def test_newline_in_job_id_is_refused_and_nothing_written(tmp_path):
    rd = _one_segment(
        tmp_path,
        "2030-01-01T00:00:00Z",
        "2030-01-01T01:00:00Z",
        "2030-01-02T00:00:00+00:00",
    )
    spec = json.loads((rd / "jobs_spec.json").read_text())
    spec[0]["id"] = "j\n#SBATCH --wrap=evil"
    (rd / "jobs_spec.json").write_text(json.dumps(spec))
    csv_text = (rd / "jobs.csv").read_text().replace("\nj,", '\n"j\n#SBATCH --wrap=evil",')
    (rd / "jobs.csv").write_text(csv_text)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="control characters"):
        _export(rd, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_multiline_command_is_one_quoted_word(tmp_path):
    rd = _one_segment(
        tmp_path,
        "2030-01-01T00:00:00Z",
        "2030-01-01T01:00:00Z",
        "2030-01-02T00:00:00+00:00",
        command="echo one\n#SBATCH --wrap=evil\necho two $MICROGRID_SEGMENT",
    )
    scripts, _ = _export(rd, tmp_path / "o")
    text = scripts[script_name("j", 0)]
    assert [ln for ln in text.splitlines() if "--wrap" in ln] == [
        "exec /bin/bash -c $'echo one\\n#SBATCH --wrap=evil\\necho two $MICROGRID_SEGMENT'"
    ]
    r = subprocess.run(
        ["bash", str(tmp_path / "o" / script_name("j", 0))], capture_output=True, text=True
    )
    assert r.stdout == "one\ntwo 0\n"


def test_render_command_quotes_only_the_id():
    cmd = render_command("run --id {job_id} --pf {power_fraction} ${HOME} {other}", "a b", 2, 0.5)
    assert cmd == "run --id 'a b' --pf 0.500000 ${HOME} {other}"


@pytest.mark.parametrize(
    ("option", "needle"),
    [({"partition": bad}, "partition") for bad in ("gpu;rm -rf ~", "gpu\n#SBATCH --x", "a b")]
    # made in Python: -8 wrote `#SBATCH --nodes=-4096` and `--gres=gpu:-8`
    + [
        ({"gpus_per_node": bad}, "gpus_per_node must be a whole number >= 1")
        for bad in (-8, 0, 2.5, True)
    ],
)
def test_a_bad_option_is_refused(tmp_path, option, needle):
    rd = reference_result(tmp_path / "r")
    out = tmp_path / "o"
    with pytest.raises(InputError, match=needle):
        _export(rd, out, **option)
    assert not out.exists()


def test_refuses_to_write_through_a_symlink(tmp_path):
    rd = reference_result(tmp_path / "r")
    out = tmp_path / "o"
    out.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (out / "submit.sh").symlink_to(outside)
    with pytest.raises(InputError, match=MARKER_NAME):  # not a folder an export wrote
        _export(rd, out)
    assert outside.read_text() == "keep"
    assert sorted(p.name for p in out.iterdir()) == ["submit.sh"]  # nothing written
    # an earlier export's folder is replaced whole: the link is removed, never followed
    (out / MARKER_NAME).write_text(marker_text("export"))
    _export(rd, out)
    assert outside.read_text() == "keep"
    assert not (out / "submit.sh").is_symlink() and (out / "submit.sh").is_file()


def test_out_must_be_a_folder(tmp_path):
    rd = reference_result(tmp_path / "r")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="folder"):
        _export(rd, f)


def test_no_temp_files_left(tmp_path):
    rd = reference_result(tmp_path / "r")
    out = tmp_path / "o"
    _export(rd, out)
    _export(rd, out)  # again: replaces in place
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != MARKER_NAME]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders
    assert datetime.now(timezone.utc)  # (no wall clock in the outputs: see below)
    a = {p.name: p.read_text() for p in out.iterdir()}
    _export(rd, tmp_path / "o2")
    b = {p.name: p.read_text() for p in (tmp_path / "o2").iterdir()}
    assert a == b  # reproducible byte for byte


@pytest.mark.parametrize(
    ("per_node", "asked_for"),
    [
        (4096, ["#SBATCH --nodes=8", "#SBATCH --gres=gpu:4096"]),  # whole nodes
        (1000, ["#SBATCH --nodes=33", "#SBATCH --gpus=32768"]),  # 33 x 1000 would be 33,000
        (65536, ["#SBATCH --nodes=1", "#SBATCH --gres=gpu:32768"]),  # fewer than a node
    ],
)
def test_the_gpu_request_is_the_plans_count(tmp_path, per_node, asked_for):
    """pretrain-70b plans 32,768 GPUs; on 1,000-GPU nodes `--gres=gpu:1000` on 33 nodes
    once asked for 33,000, more than the power plan was made for."""
    scripts, notes = _export(
        reference_result(tmp_path / "r"), tmp_path / "s", gpus_per_node=per_node
    )
    s0 = scripts[script_name("pretrain-70b", 0)]
    asked = [
        line for line in s0.splitlines() if line.startswith(("#SBATCH --nodes", "#SBATCH --g"))
    ]
    assert asked == asked_for
    assert "MICROGRID_GPUS=32768" in s0 or "MICROGRID_GPUS='32768'" in s0
    whole = per_node != 1000
    assert whole == (not any("not a whole number of 1000-GPU nodes" in n for n in notes))
