"""`microgrid export --out`: a FILE gets exactly that file, a folder exactly the files of
the format asked for, and the command prints every file it wrote."""

from __future__ import annotations

import pytest
from cli_helpers import one_error_line
from export_helpers import reference_result

from microgrid.cli import main
from microgrid.export import build_schedule, read_schedule
from microgrid.resultdir import MARKER_NAME


def _listed(out: str) -> list[str]:
    """The paths the export printed (its indented lines)."""
    return [line.strip() for line in out.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("to", ["json", "csv"])
def test_out_file_gets_that_file_only(tmp_path, capsys, to):
    rd = reference_result(tmp_path / "result")
    target = tmp_path / "plans" / f"week.{to}"
    assert main(["export", str(rd), "--to", to, "--out", str(target)]) == 0
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # nothing beside it
    assert capsys.readouterr().out == f"wrote {target} (4 segments)\n"
    if to == "json":
        assert read_schedule(target) == build_schedule(rd)
    else:
        assert target.read_text().count("\n") == 1 + 4  # header + one row per segment


def test_out_file_of_the_other_format_is_refused(tmp_path, capsys):
    rd = reference_result(tmp_path / "result")
    target = tmp_path / "week.csv"
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(target)])
    assert "--to json writes a .json file" in line and str(target) in line
    assert not target.exists()


@pytest.mark.parametrize(
    ("to", "extra", "n_files"),
    [
        ("json", [], 1),
        ("csv", [], 1),
        ("slurm", [], 4 + 3),  # 4 scripts, submit.sh, slurm-manifest.json, schedule.json
        ("kubernetes", ["--image", "registry.example/train:1"], 4 + 1),  # + schedule.json
    ],
)
def test_folder_export_prints_every_file(tmp_path, capsys, to, extra, n_files):
    rd = reference_result(tmp_path / "result")
    out = tmp_path / "out"
    assert main(["export", str(rd), "--to", to, "--out", str(out), *extra]) == 0
    written = sorted(str(p) for p in out.iterdir() if p.name != MARKER_NAME)
    assert len(written) == n_files
    printed = capsys.readouterr().out
    assert sorted(_listed(printed)) == written
    assert printed.splitlines()[0].endswith(f" to {out}:")


def test_kubernetes_needs_an_image(tmp_path, capsys):
    rd = reference_result(tmp_path / "result")
    out = tmp_path / "k8s"
    line = one_error_line(capsys, ["export", str(rd), "--to", "kubernetes", "--out", str(out)])
    assert line.startswith("error: --to kubernetes needs --image IMAGE")
    assert not out.exists()


def test_out_file_below_a_file_is_refused(tmp_path, capsys):
    """It said `cannot write --out: File exists`, of a file it did not name."""
    rd = reference_result(tmp_path / "result")
    blocker = tmp_path / "notes"
    blocker.write_text("mine\n")
    target = blocker / "week.json"
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(target)])
    assert f"{target}: --out is below {blocker}, which is a file" in line, line
    assert blocker.read_text() == "mine\n"
