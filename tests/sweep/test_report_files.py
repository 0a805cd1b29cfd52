"""What `sweep-report` and a resumed sweep may write and remove (an outside audit's
findings: the report wrote through a symbolic link, removed a user's PNGs and CSVs by
their names, replaced a user's report.html and left a mix of old and new files on a full
disk; a resumed sweep removed folders a user had put in `cases/`)."""

from __future__ import annotations

import errno
import json

import pytest
from cli_helpers import one_error_line
from sweep_helpers import STANDIN, write_spec
from test_report import write_sweep

from microgrid import atomic
from microgrid.cli import main
from microgrid.resultdir import MARKER_NAME, marker_text
from microgrid.sweeps.report import sweep_report
from microgrid.sweeps.report_files import MANIFEST


@pytest.fixture
def sweep_dir(tmp_path):
    out = tmp_path / "sw"
    write_sweep(out)
    (out / MARKER_NAME).write_text(marker_text("sweep"))
    return out


def test_a_linked_report_folder_or_page_is_refused(sweep_dir, tmp_path, capsys):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "cases.csv").write_text("precious")
    (sweep_dir / "report").symlink_to(victim)
    line = one_error_line(capsys, ["sweep-report", str(sweep_dir)])
    assert "report: is a symbolic link" in line
    assert (victim / "cases.csv").read_text() == "precious"
    (sweep_dir / "report").unlink()
    (sweep_dir / "report.html").symlink_to(victim / "cases.csv")
    line = one_error_line(capsys, ["sweep-report", str(sweep_dir)])
    assert "report.html: is a symbolic link" in line


def test_a_users_report_html_is_not_replaced(sweep_dir, capsys):
    (sweep_dir / "report.html").write_text("<html>mine</html>")
    line = one_error_line(capsys, ["sweep-report", str(sweep_dir)])
    assert "not a sweep report microgrid wrote" in line
    assert (sweep_dir / "report.html").read_text() == "<html>mine</html>"


def test_only_the_files_an_earlier_report_wrote_are_removed(sweep_dir):
    sweep_report(sweep_dir)
    report = sweep_dir / "report"
    written = json.loads((report / MANIFEST).read_text())
    assert "cases.csv" in written and any(n.endswith(".png") for n in written)
    for name in ("axis_mine.png", "sensitivity_custom.csv", "notes.txt"):
        (report / name).write_text("the user's")
    (report / "stale_axis.png").write_text("an earlier report's")
    (report / MANIFEST).write_text(json.dumps([*written, "stale_axis.png"]))
    sweep_report(sweep_dir)
    assert not (report / "stale_axis.png").exists()
    for name in ("axis_mine.png", "sensitivity_custom.csv", "notes.txt"):
        assert (report / name).read_text() == "the user's"


def test_a_full_disk_leaves_the_earlier_report_whole(sweep_dir, capsys, monkeypatch):
    sweep_report(sweep_dir)
    before = {p.name: p.read_bytes() for p in (sweep_dir / "report").iterdir()}
    page = (sweep_dir / "report.html").read_bytes()
    record = next((sweep_dir / "records").glob("*.json"))
    rec = json.loads(record.read_text())
    rec["summary"]["total_cost_usd"] *= 1.3
    record.write_text(json.dumps(rec))
    real, calls = atomic.staged_write, []

    def full_at_the_third(path, write, mode=0o644):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write, mode)

    monkeypatch.setattr("microgrid.sweeps.report_files.staged_write", full_at_the_third)
    line = one_error_line(capsys, ["sweep-report", str(sweep_dir)])
    assert "cannot write the report: No space left on device" in line
    assert {p.name: p.read_bytes() for p in (sweep_dir / "report").iterdir()} == before
    assert (sweep_dir / "report.html").read_bytes() == page


def test_a_record_edited_to_a_text_cost_is_named(sweep_dir, capsys):
    record = sweep_dir / "records" / "c001.json"
    rec = json.loads(record.read_text())
    rec["summary"]["total_cost_usd"] = "lots"
    record.write_text(json.dumps(rec))
    line = one_error_line(capsys, ["sweep-report", str(sweep_dir)])
    assert f"{record}, field summary.total_cost_usd: not a number: 'lots'" in line


def test_a_resumed_sweep_leaves_what_a_user_put_in_its_folders(tmp_path, capsys):
    spec = write_spec(tmp_path, "axes:\n  objective.carbon_price_usd_per_t: [0, 100]\n")
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--out", str(out), "--runner", STANDIN, "--quiet"]
    assert main(argv) == 0
    for name in ("photos", ".staging-mine"):
        (out / "cases" / name).mkdir()
        (out / "cases" / name / "a.jpg").write_text("precious")
    assert main(argv) == 0
    for name in ("photos", ".staging-mine"):
        assert (out / "cases" / name / "a.jpg").read_text() == "precious"
    capsys.readouterr()
    victim = tmp_path / "victim"
    (out / "cases").rename(victim)
    (out / "cases").symlink_to(victim)
    line = one_error_line(capsys, argv)
    assert "cases: is a symbolic link" in line or "cases is a symbolic link" in line
    assert (victim / "photos" / "a.jpg").read_text() == "precious"


def test_a_link_to_a_sweep_folder_is_named_as_a_link(sweep_dir, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(sweep_dir)
    line = one_error_line(capsys, ["sweep-report", str(link)])
    assert "is a symbolic link: give the sweep folder it points to" in line
