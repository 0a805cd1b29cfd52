"""`microgrid validate` lists every error of the data files, one line each: one file's
error does not hide another's (price, weather, jobs, tariff, coincident peaks, demand
response), and a jobs CSV lists each bad row, cli.MAX_LISTED_ERRORS lines then a count.
`run` keeps one line: the first error and how many more there are."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from cli_helpers import JOB_ROW, JOBS_CSV_COLUMNS, JOBS_HEADER, write_jobs
from scenario_factory import TINY

from microgrid.cli import MAX_LISTED_ERRORS, main


def validate_errors(capsys, path: Path) -> list[str]:
    """Run `microgrid validate PATH`; assert exit code 2 and no traceback; its error lines."""
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err.splitlines()


def test_a_missing_price_file_does_not_hide_a_bad_jobs_file(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW, "neg,-4096,4,24,48")
    missing = tmp_path / "nope.csv"
    path = write_scenario(**{"signals.csv": str(missing), "jobs.csv": str(jobs)})
    lines = validate_errors(capsys, path)
    assert len(lines) == 2, lines
    assert "field signals.csv" in lines[0] and f"{missing}: file not found" in lines[0]
    assert lines[1].startswith(f"error: {jobs}, line 3, field gpus: "), lines[1]


def test_every_data_file_outside_the_period_is_named(tmp_path, write_scenario, capsys):
    # the shipped price and weather files hold 2023: neither covers a period in 2024
    jobs = write_jobs(tmp_path, JOBS_HEADER, "neg,-1,4,24,48")
    path = write_scenario(
        **{
            "period.start": "2024-08-20T00:00",
            "period.end": "2024-08-22T00:00",
            "jobs.csv": str(jobs),
        }
    )
    lines = validate_errors(capsys, path)
    assert len(lines) == 3, lines
    assert "ercot-2023.csv" in lines[0] and "signals cover" in lines[0]
    assert "dallas-2023.csv" in lines[1] and "do not cover the requested period" in lines[1]
    assert lines[2].startswith(f"error: {jobs}, line 2, field gpus: "), lines[2]


def tiny_with_files(tmp_path: Path, **signals) -> Path:
    """TINY naming a tariff, coincident-peak intervals and demand-response events that do
    not exist (and `signals` when given)."""
    data = copy.deepcopy(TINY)
    data["grid"].update(
        demand_charge_usd_per_kw_month=0,
        tariff={"urdb": "nope-rate.json"},
        coincident_peaks={"usd_per_mw_year": 24_000, "n_peaks": 4, "intervals_csv": "nope-cp.csv"},
    )
    data["demand_response_program"] = {
        "capacity_usd_per_mw_month": 5,
        "prior_baseline_mw": 1,
        "events_csv": "nope-dr.csv",
    }
    data["signals"] = signals or data["signals"]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_files_the_problem_reads_are_each_named(tmp_path, capsys):
    lines = validate_errors(capsys, tiny_with_files(tmp_path))
    fields = ["grid.tariff.urdb", "grid.coincident_peaks.intervals_csv"]
    fields.append("demand_response_program.events_csv")
    assert len(lines) == 3, lines
    for line, field in zip(lines, fields, strict=True):
        assert f"field {field}: " in line and line.endswith("file not found"), line


def test_a_missing_price_file_does_not_hide_the_tariff_file(tmp_path, capsys):
    lines = validate_errors(capsys, tiny_with_files(tmp_path, csv="nope-signals.csv"))
    assert len(lines) == 4, lines
    assert "field signals.csv: " in lines[0]
    assert "field grid.tariff.urdb: " in lines[1]


def test_header_and_row_errors_are_listed_together(tmp_path, write_scenario, capsys):
    # work_h renamed, and a bad deadline on line 3: the missing column is named once
    jobs = write_jobs(
        tmp_path, "id,gpus,work_hours,release_h,deadline_h", "a,8,4,24,48", "b,8,4,24,x"
    )
    lines = validate_errors(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert lines[:2] == [
        f"error: {jobs}, line 1, field work_hours: unknown column "
        f"(the columns: {JOBS_CSV_COLUMNS})",
        f"error: {jobs}, line 1, field work_h: required column is missing",
    ]
    assert len(lines) == 3, lines
    assert lines[2].startswith(f"error: {jobs}, line 3, field deadline_h: "), lines[2]


def test_every_bad_row_is_listed_up_to_the_cap(tmp_path, write_scenario, capsys):
    extra = 5
    bad = [f"j{i},-1,4,24,48" for i in range(MAX_LISTED_ERRORS + extra)]
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW, *bad)
    lines = validate_errors(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert len(lines) == MAX_LISTED_ERRORS + 1, lines
    for k, line in enumerate(lines[:-1]):
        assert line.startswith(f"error: {jobs}, line {k + 3}, field gpus: "), line
    assert lines[-1] == f"error: ... and {extra} more errors"


def test_every_problem_of_a_row_is_listed(tmp_path, write_scenario, capsys):
    # a refused cell (not finite) and a schema error (not a number) in the same row
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",preemptible", JOB_ROW + ",true", "b,x,4,inf,48,no")
    lines = validate_errors(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert len(lines) == 2, lines
    assert lines[0] == f"error: {jobs}, line 3, field release_h: not a finite number: 'inf'"
    assert lines[1].startswith(f"error: {jobs}, line 3, field gpus: "), lines[1]


def test_run_reports_the_first_error_and_the_count(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER, "neg,-4096,4,24,48")
    path = write_scenario(**{"signals.csv": str(tmp_path / "nope.csv"), "jobs.csv": str(jobs)})
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert "field signals.csv" in lines[0], lines[0]
    assert lines[0].endswith("(and 1 more: run `microgrid validate`)"), lines[0]
    assert not out.exists()
