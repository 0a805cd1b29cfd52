"""`microgrid report` on damaged result folders: a missing jobs.csv, a marker of another
format version, times without their offset, a time series that is not the period's, text
where a number belongs. Each is one error line naming the file, the line and the field,
exit code 2 (tests/cli_helpers.one_error_line), never an internal error or a page drawn
from the damaged file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid
from microgrid.cli import main
from microgrid.report_html.page import REPORT_NAME
from microgrid.resultdir import MARKER_NAME

# tests that copy the module's run (one solve of the tiny case, no power flow or baselines)
SLOW = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A real run folder of the tiny case: 48 hourly steps, one job run in segments."""
    folder = tmp_path_factory.mktemp("report_inputs")
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return microgrid.run(path, powerflow=False, baselines=False).write(folder / "run")


@pytest.fixture
def run_copy(tiny_run, tmp_path) -> Path:
    """A copy of the run to damage, without its parquet (so timeseries.csv is read) and
    without its report (so a page written from a damaged folder would show)."""
    folder = tmp_path / "run"
    shutil.copytree(tiny_run, folder)
    (folder / "timeseries.parquet").unlink()
    (folder / REPORT_NAME).unlink()
    return folder


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _edit_line(path: Path, line: int, old: str, new: str) -> None:
    """Replace `old` by `new` once in line `line` (1-based) of a text file."""
    lines = _lines(path)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines))


def _refused(capsys, folder: Path, *fragments: str) -> str:
    err = one_error_line(capsys, ["report", str(folder)])
    for fragment in fragments:
        assert fragment in err, err
    assert not (folder / REPORT_NAME).exists()
    return err


@SLOW
def test_the_undamaged_copy_is_reported(run_copy, capsys):
    assert main(["report", str(run_copy)]) == 0  # the tests below damage one thing each
    assert (run_copy / REPORT_NAME).is_file()


@SLOW
def test_a_folder_without_jobs_csv_is_refused(run_copy, capsys):
    (run_copy / "jobs.csv").unlink()  # a run always writes it, a header at least
    _refused(capsys, run_copy, "not a `microgrid run` result folder (jobs.csv is missing)")


@SLOW
def test_a_jobs_csv_without_segments_is_reported(run_copy, capsys):
    """A run whose jobs never ran writes jobs.csv's header only; the job still has its
    row (release and deadline) in the Gantt chart."""
    (run_copy / "jobs.csv").write_text(_lines(run_copy / "jobs.csv")[0])
    assert main(["report", str(run_copy)]) == 0
    assert 'id="fig-jobs"' in (run_copy / REPORT_NAME).read_text(encoding="utf-8")


@SLOW
@pytest.mark.parametrize(
    ("marker", "fragments"),
    [
        ({"format_version": 99}, ("field format_version", "version 99", "reads version 1")),
        ({"format_version": "1"}, ("field format_version", "version '1'")),
        ({"format_version": True}, ("field format_version", "version True")),
        ({"format_version": None}, ("field format_version", "version None")),
        ({"kind": "headroom"}, ("holds a microgrid headroom result",)),
        ({"kind": 7}, ("its marker names kind 7",)),
    ],
)
def test_a_marker_this_code_does_not_read_is_refused(run_copy, capsys, marker, fragments):
    path = run_copy / MARKER_NAME
    doc = json.loads(path.read_text()) | marker
    path.write_text(json.dumps({k: v for k, v in doc.items() if v is not None}))
    _refused(capsys, run_copy, *fragments)


@SLOW
def test_a_damaged_marker_is_refused(run_copy, capsys):
    (run_copy / MARKER_NAME).write_text('{"format": "microgrid-res')
    _refused(capsys, run_copy, MARKER_NAME, "not a readable microgrid result marker")


@SLOW
def test_a_time_series_cut_short_is_refused(run_copy, capsys):
    path = run_copy / "timeseries.csv"
    path.write_text("".join(_lines(path)[:26]))  # the header and 25 of the 48 steps
    _refused(
        capsys,
        run_copy,
        "timeseries.csv, line 26, field timestamp_utc: the time series stops after 25 of the "
        "48 steps of summary.json's period (to 2023-01-04T00:00:00Z)",
    )


@SLOW
def test_a_parquet_time_series_cut_short_is_refused(tiny_run, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(tiny_run, folder)
    path = folder / "timeseries.parquet"
    pd.read_parquet(path).iloc[:30].to_parquet(path, index=False)
    err = one_error_line(capsys, ["report", str(folder)])
    assert "timeseries.parquet, field timestamp_utc: the time series stops after 30" in err
    assert "(row 30)" in err


@SLOW
def test_a_missing_step_is_refused_at_its_line(run_copy, capsys):
    path = run_copy / "timeseries.csv"
    lines = _lines(path)
    path.write_text("".join(lines[:11] + lines[12:]))  # line 12, the step of 10:00, removed
    _refused(
        capsys,
        run_copy,
        "timeseries.csv, line 12, field timestamp_utc: time 2023-01-02T11:00:00Z is not step 11",
    )


@SLOW
def test_a_period_that_is_not_whole_steps_is_refused(run_copy, capsys):
    path = run_copy / "summary.json"
    summary = json.loads(path.read_text())
    summary["period"]["end_utc"] = "2023-01-04T00:30:00+00:00"
    path.write_text(json.dumps(summary))
    _refused(capsys, run_copy, "summary.json, field period.end_utc: is not a whole number")


@SLOW
@pytest.mark.parametrize(
    ("name", "line", "field"),
    [
        ("timeseries.csv", 3, "timestamp_utc"),
        ("jobs.csv", 3, "start_utc"),
        ("jobs.csv", 2, "end_utc"),
    ],
)
def test_a_time_without_its_offset_is_refused(run_copy, capsys, name, line, field):
    path = run_copy / name
    column = _lines(path)[0].strip().split(",").index(field)
    stamp = _lines(path)[line - 1].split(",")[column]
    _edit_line(path, line, stamp, stamp.rstrip("Z"))
    where = f"{name}, line {line}, field {field}: time '{stamp.rstrip('Z')}' has no UTC offset"
    _refused(capsys, run_copy, where)


@SLOW
def test_a_line_is_counted_past_blank_lines(run_copy, capsys):
    """pandas skips blank lines: the line named is the file's, not the row number + 2."""
    path = run_copy / "timeseries.csv"
    lines = _lines(path)
    path.write_text("".join([lines[0], "\n", "\n", *lines[1:]]))
    _edit_line(path, 6, "Z,", ",")  # data row 3
    _refused(capsys, run_copy, "timeseries.csv, line 6, field timestamp_utc: time")


@SLOW
def test_planned_vs_actual_times_need_their_offset(run_copy, capsys):
    path = run_copy / "planned_vs_actual.csv"
    lines = _lines(run_copy / "timeseries.csv")[:4]
    path.write_text("".join(lines).replace("T02:00:00Z", "T02:00:00"))
    _refused(capsys, run_copy, "planned_vs_actual.csv, line 4, field timestamp_utc: time")


@SLOW
def test_a_job_release_without_its_offset_is_refused(run_copy, capsys):
    path = run_copy / "jobs_spec.json"
    spec = json.loads(path.read_text())
    spec[0]["release_utc"] = "2023-01-02T08:00:00"
    path.write_text(json.dumps(spec))
    _refused(capsys, run_copy, "jobs_spec.json, field 0.release_utc: time")


@SLOW
def test_text_in_a_time_series_is_refused_at_its_line(run_copy, capsys):
    path = run_copy / "timeseries.csv"
    ts = pd.read_csv(path)
    ts["grid_import_mw"] = ts["grid_import_mw"].astype(object)
    ts.loc[6, "grid_import_mw"] = "lots"
    ts.to_csv(path, index=False)
    where = "timeseries.csv, line 8, field grid_import_mw: not a number: 'lots'"
    _refused(capsys, run_copy, where)


@SLOW
def test_a_time_series_not_utf8_is_refused_at_its_line(run_copy, capsys):
    """It named no line, and quoted the decoder's offset in a chunk of the file."""
    path = run_copy / "timeseries.csv"
    lines = path.read_bytes().split(b"\n")
    lines[5] += b"\xe9"
    path.write_bytes(b"\n".join(lines))
    _refused(capsys, run_copy, "timeseries.csv, line 6: not UTF-8 text (byte 0xe9")


@SLOW
@pytest.mark.parametrize("field", ["gpus", "energy_mwh"])
def test_text_in_jobs_csv_is_refused_at_its_line(run_copy, capsys, field):
    path = run_copy / "jobs.csv"
    frame = pd.read_csv(path, dtype=str)
    assert len(frame) >= 2  # the tiny job runs in segments: the second is line 3
    frame.loc[1, field] = "abc"
    frame.to_csv(path, index=False)
    _refused(capsys, run_copy, f"jobs.csv, line 3, field {field}: not a")


@SLOW
def test_text_in_a_missed_deadline_is_refused(run_copy, capsys):
    """The deadlines card prints each missed job's work done and needed."""
    path = run_copy / "summary.json"
    summary = json.loads(path.read_text())
    missed = {"job": "train", "work_done_h": "3", "work_h": 4.0, "deadline_utc": None}
    summary["jobs"]["missed_deadlines"] = [missed]
    path.write_text(json.dumps(summary))
    _refused(capsys, run_copy, "summary.json, field jobs.missed_deadlines.0.work_done_h")
