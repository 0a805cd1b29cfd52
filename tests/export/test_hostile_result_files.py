"""Hostile files inside a result directory given to `microgrid export`: each is one error
line with exit 2 naming the file, never a traceback or an "internal error"."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import reference_result

from microgrid.cli import main

BOMB = b"\n".join(
    [b'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]".encode() for i in range(1, 10)]
)


def _append(extra: bytes):
    return lambda old: old + extra


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
    ],
    ids=[
        "summary-not-utf8",
        "summary-deep-json",
        "spec-binary",
        "scenario-deep-yaml",
        "scenario-alias-bomb",
        "jobs-not-utf8",
        "jobs-cell-over-limit",
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
