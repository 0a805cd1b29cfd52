"""Hostile files inside a result directory given to `microgrid export`: each is one error
line with exit 2 naming the file, never a traceback or an "internal error"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import one_error_line
from export_helpers import reference_result

from microgrid.cli import main
from microgrid.resultdir import MARKER_NAME, marker_text

BOMB = b"\n".join(
    [b'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]".encode() for i in range(1, 10)]
)


def _append(extra: bytes):
    return lambda old: old + extra


def _second_line(edit):
    """Edit line 2 of a file (jobs.csv's first row)."""

    def apply(old: bytes) -> bytes:
        end = b"\r\n" if b"\r\n" in old else b"\n"
        lines = old.split(end)
        lines[1] = edit(lines[1])
        return end.join(lines)

    return apply


@pytest.mark.parametrize(
    ("name", "edit", "needles"),
    [
        ("summary.json", lambda old: b'{"a": "caf\xe9"}', ["not UTF-8 text", "byte 0xe9"]),
        ("summary.json", lambda old: b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
        ("jobs_spec.json", lambda old: b"\x00" * 100, ["binary or UTF-16 file"]),
        ("scenario.yaml", lambda old: b"a: " + b"[" * 10_000 + b"]" * 10_000, ["nesting depth"]),
        ("scenario.yaml", lambda old: BOMB, ["alias bomb"]),
        ("jobs.csv", _append(b"x,caf\xe9\n"), ["not UTF-8 text"]),
        ("jobs.csv", _append(b"x," + b"z" * 200_000 + b"\n"), ["not a valid CSV", "line "]),
        # a row short of its last cell was an internal error; one cell too many passed
        (
            "jobs.csv",
            _second_line(lambda row: row.rsplit(b",", 1)[0]),
            ["line 2, field deadline_met", "9 cells where the header has 10"],
        ),
        ("jobs.csv", _second_line(lambda row: row + b",x"), ["line 2", "11 cells where"]),
        ("jobs.csv", _second_line(lambda row: row + b"\xe9"), ["line 2", "not UTF-8 text"]),
        # a quote left open runs the row over the lines after it: named at its first
        (
            "jobs.csv",
            _second_line(lambda row: row.replace(b",", b',"', 1)),
            ["line 2, field", "cells where the header has 10"],
        ),
        ("jobs.csv", lambda old: old.replace(b"gpus", b"gpus,gpus", 1), ["line 1", "given twice"]),
        ("timeseries.csv", _second_line(lambda row: row + b"\xe9"), ["line 2", "not UTF-8 text"]),
    ],
    ids=[
        "summary-not-utf8",
        "summary-deep-json",
        "spec-binary",
        "scenario-deep-yaml",
        "scenario-alias-bomb",
        "jobs-not-utf8",
        "jobs-cell-over-limit",
        "jobs-row-short",
        "jobs-row-long",
        "jobs-not-utf8-line",
        "jobs-open-quote",
        "jobs-column-twice",
        "timeseries-not-utf8-line",
    ],
)
def test_hostile_result_file(tmp_path, capsys, name, edit, needles):
    rd = Path(reference_result(tmp_path / "result"))
    target = rd / name
    target.write_bytes(edit(target.read_bytes()))
    out = tmp_path / "schedule.json"
    code = main(["export", str(rd), "--to", "json", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in [str(target), *needles]:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()


@pytest.mark.parametrize(
    ("marker", "needles"),
    [
        ({"format_version": 99}, ["field format_version", "version 99"]),
        ({"format_version": "1"}, ["field format_version", "version '1'"]),
        ({"format_version": True}, ["field format_version", "version True"]),
        ({"format_version": 1.0}, ["field format_version", "version 1.0"]),
        ({"kind": "sweep"}, ["field kind", "sweep result", "not a `microgrid run` result"]),
        ({"kind": "nonsense"}, ["field kind", "kind 'nonsense'"]),
    ],
    ids=["newer-version", "version-string", "version-bool", "version-float", "sweep", "nonsense"],
)
def test_marker_of_another_version_or_kind_is_refused(tmp_path, capsys, marker, needles):
    rd = Path(reference_result(tmp_path / "result"))
    doc = {**json.loads(marker_text("run")), **marker}
    (rd / MARKER_NAME).write_text(json.dumps(doc))
    out = tmp_path / "schedule.json"
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(out)])
    for needle in [str(rd / MARKER_NAME), *needles]:
        assert needle in line, (needle, line)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["sizing", "headroom", "export"])
def test_folder_of_another_command_names_its_kind(tmp_path, capsys, kind):
    rd = tmp_path / kind  # what such a folder holds: its marker, no summary.json
    rd.mkdir()
    (rd / MARKER_NAME).write_text(marker_text(kind))
    (rd / f"{kind}.json").write_text("{}")
    line = one_error_line(
        capsys, ["export", str(rd), "--to", "slurm", "--out", str(tmp_path / "o")]
    )
    assert f"microgrid {kind} result, not a `microgrid run` result" in line, line
    assert "summary.json" not in line


def test_unreadable_marker_is_refused(tmp_path, capsys):
    rd = Path(reference_result(tmp_path / "result"))
    (rd / MARKER_NAME).write_text("{not json")
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(tmp_path / "s")])
    assert f"{rd / MARKER_NAME}: not a readable microgrid result marker" in line, line


def test_segment_gpus_must_be_the_jobs(tmp_path, capsys):
    rd = Path(reference_result(tmp_path / "result"))
    spec = json.loads((rd / "jobs_spec.json").read_text())
    spec[0]["gpus"] = 1  # pretrain-70b: 32768 GPUs in every jobs.csv row
    (rd / "jobs_spec.json").write_text(json.dumps(spec))
    out = tmp_path / "schedule.json"
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(out)])
    assert f"{rd / 'jobs.csv'}, line 2, field gpus:" in line, line
    assert "32768 GPUs, but jobs_spec.json gives the job 1" in line
    assert not out.exists()


def test_a_byte_order_mark_is_read_as_none(tmp_path, capsys):
    """A spreadsheet's re-save of jobs.csv adds one; it read as a missing job_id column."""
    rd = Path(reference_result(tmp_path / "result"))
    plain = tmp_path / "plain.json"
    assert main(["export", str(rd), "--to", "json", "--out", str(plain)]) == 0
    jobs = rd / "jobs.csv"
    jobs.write_bytes(b"\xef\xbb\xbf" + jobs.read_bytes())
    marked = tmp_path / "marked.json"
    assert main(["export", str(rd), "--to", "json", "--out", str(marked)]) == 0
    assert marked.read_bytes() == plain.read_bytes()


def test_a_bad_slurm_partition_is_named_at_its_line(tmp_path, capsys):
    rd = Path(reference_result(tmp_path / "result", slurm={"partition": "gpu; rm"}))
    argv = ["export", str(rd), "--to", "slurm", "--out", str(tmp_path / "s")]
    line = one_error_line(capsys, argv)
    assert f"{rd / 'scenario.yaml'}, line " in line
    assert "field export.slurm.partition: 'gpu; rm': only letters, digits" in line
