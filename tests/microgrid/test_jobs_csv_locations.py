"""Where a jobs-CSV error points: the header's problems (an unknown or a missing column) at
line 1, a job's problems (its window outside the period included) at its row's line."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import JOB_ROW, JOBS_CSV_COLUMNS, JOBS_HEADER, write_jobs

from microgrid.cli import main
from microgrid.errors import InputError
from microgrid.jobs import read_jobs_csv
from microgrid.scenario_demand import Job

ROOT = Path(__file__).resolve().parents[2]


def validate(capsys, path: Path) -> tuple[int, list[str]]:
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.splitlines() if code else [captured.out]


def test_a_csv_job_window_outside_the_period_names_its_row(tmp_path, write_scenario, capsys):
    # the period is Tuesday 2023-08-22 00:00 to Thursday 00:00 in Chicago; hour 0 is Monday
    # 00:00. The audit's case: a window partly inside was "outside the period", in UTC.
    jobs = write_jobs(
        tmp_path, JOBS_HEADER, JOB_ROW, "late,8,4,24,100", "early,8,4,0,30", "gone,8,4,120,140"
    )
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert code == 2
    assert len(lines) == 3, lines
    period = "the period 2023-08-22 00:00 CDT to 2023-08-24 00:00 CDT: a job's whole window "
    refused = (
        "must lie inside the period, so it is refused, not clipped; change its release_h or "
        "deadline_h, or the period (hours count from Monday 2023-08-21 00:00 CDT, the start "
        "of the period's first week)"
    )
    assert lines == [
        f"error: {jobs}, line 3, field deadline_h: job 'late' window 2023-08-22 00:00 CDT to "
        f"2023-08-25 04:00 CDT ends after {period}{refused}",
        f"error: {jobs}, line 4, field release_h: job 'early' window 2023-08-21 00:00 CDT to "
        f"2023-08-22 06:00 CDT starts before {period}{refused}",
        f"error: {jobs}, line 5, field release_h: job 'gone' window 2023-08-26 00:00 CDT to "
        f"2023-08-26 20:00 CDT lies outside {period}{refused}",
    ]


def test_an_unknown_column_is_named_on_the_header_line(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",color", JOB_ROW + ",red", "b,8,4,24,48,blue")
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert (code, lines) == (
        2,
        [f"error: {jobs}, line 1, field color: unknown column (the columns: {JOBS_CSV_COLUMNS})"],
    )


def test_an_unknown_column_with_empty_cells_is_refused(tmp_path, write_scenario, capsys):
    # a header-only column: its misspelled setting would be silently dropped otherwise
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",extra", JOB_ROW, "b,8,4,24,48,")
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert (code, lines) == (
        2,
        [f"error: {jobs}, line 1, field extra: unknown column (the columns: {JOBS_CSV_COLUMNS})"],
    )


def test_a_missing_required_column_is_named_once_on_the_header_line(
    tmp_path, write_scenario, capsys
):
    jobs = write_jobs(tmp_path, "id,gpus,release_h,deadline_h", "a,8,24,48", "b,8,24,48")
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert (code, lines) == (
        2,
        [f"error: {jobs}, line 1, field work_h: required column is missing"],
    )


def test_a_column_without_a_name_may_stay_empty(tmp_path, write_scenario, capsys):
    # a trailing comma in the header, as spreadsheets write: accepted while its cells are empty
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",", JOB_ROW + ",")
    path = write_scenario(**{"jobs.csv": str(jobs)})
    code, lines = validate(capsys, path)
    assert code == 0 and "1 job)" in lines[0], lines
    write_jobs(tmp_path, JOBS_HEADER + ",", JOB_ROW + ",", "b,8,4,24,48,x")
    code, lines = validate(capsys, path)
    assert (code, lines) == (
        2,
        [f"error: {jobs}, line 3: a value ('x') in a column without a name"],
    )


def test_an_unterminated_quote_is_bad_csv(tmp_path, write_scenario, capsys):
    # the last row's command opens a quote that never closes: csv would take the newline
    # (and anything after it) into the command
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",command", JOB_ROW + ',"srun train.py')
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert code == 2 and len(lines) == 1
    assert "jobs.csv" in lines[0] and "not a valid CSV" in lines[0]


def test_a_window_the_clocks_or_the_steps_shorten_is_refused_at_validate(
    tmp_path, write_scenario, capsys
):
    # the audit's case: 4 h of work from Sunday 00:00 to 04:00 local on 2023-03-12, when
    # Chicago's clocks skip 02:00-03:00: 3 real hours; validate said "valid", and the solve
    # called the scenario infeasible for its import limit. Hour 144 is Sunday 00:00.
    jobs = write_jobs(
        tmp_path, JOBS_HEADER, "fits,8,3,144,148", "dst,8,4,144,148", "steps,8,3,120.5,123.5"
    )
    period = {"start": "2023-03-11T00:00", "end": "2023-03-13T00:00", "step_minutes": 60}
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs), "period": period}))
    assert code == 2
    assert lines == [
        f"error: {jobs}, line 3, field work_h: job 'dst': work_h (4) exceeds its window of "
        "3 h of whole steps from 2023-03-12 00:00 CST to 2023-03-12 04:00 CDT "
        "(the clocks change in it: 4 h on the clock are 3 h)",
        f"error: {jobs}, line 4, field work_h: job 'steps': work_h (3) exceeds its window of "
        "2 h of whole steps from 2023-03-11 00:30 CST to 2023-03-11 03:30 CST "
        "(its ends fall between the 60-minute steps)",
    ]


def test_weekly_jobs_whose_windows_are_short_are_all_listed(tmp_path, write_scenario, capsys):
    """`validate` lists every error, but with `repeat: weekly` it stopped at the first
    template whose window was short (an audit's PJM spring fortnight named one job of two).
    Each such template is named once, at its first short week."""
    jobs = write_jobs(
        tmp_path, JOBS_HEADER, "fits,8,3,144,148", "dst,8,4,144,148", "steps,8,3,120.5,123.5"
    )
    period = {"start": "2023-03-06T00:00", "end": "2023-03-20T00:00", "step_minutes": 60}
    path = write_scenario(**{"jobs.csv": str(jobs), "period": period, "jobs.repeat": "weekly"})
    code, lines = validate(capsys, path)
    assert code == 2
    assert [line.split(": job ")[1].split(":")[0] for line in lines] == ["'dst@w00'", "'steps@w00'"]
    assert lines[0].startswith(f"error: {jobs}, line 3, field work_h:")
    assert lines[0].endswith("(the clocks change in it: 4 h on the clock are 3 h)")
    assert lines[1].startswith(f"error: {jobs}, line 4, field work_h:")


def test_a_window_the_autumn_change_lengthens_holds_its_real_hours(
    tmp_path, write_scenario, capsys
):
    """Sunday 2023-11-05 00:00-12:00 in Chicago is 13 real hours: 12.75 h of work was refused
    as exceeding deadline_h - release_h (12), counted on the clock."""
    period = {"start": "2023-11-04T00:00", "end": "2023-11-06T00:00", "step_minutes": 60}
    jobs = write_jobs(tmp_path, JOBS_HEADER, "fits,8,12.75,144,156")
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs), "period": period}))
    assert code == 0, lines
    jobs = write_jobs(tmp_path, JOBS_HEADER, "long,8,13.5,144,156", "plain,8,5,130,134")
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs), "period": period}))
    assert code == 2
    assert lines[0].endswith("(the clocks change in it: 12 h on the clock are 13 h)")
    assert lines[1].endswith("(deadline_h - release_h is 4 h)")


def test_a_row_over_several_lines_is_named_at_its_first(tmp_path, write_scenario, capsys):
    # a quoted command over three lines: the row's error is at the line where it begins,
    # not its last (blank lines before it counted)
    header = JOBS_HEADER + ",command"
    row = 'b,abc,4,24,48,"python train.py \\\n  --resume\n  --fast"'
    jobs = write_jobs(tmp_path, header, JOB_ROW + ",echo", "", row)
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert code == 2 and lines[0].startswith(f"error: {jobs}, line 4, field gpus:"), lines


def _reference_csv_columns() -> dict[str, list[str]]:
    """The jobs CSV table of docs/scenario-reference.md: column -> its other cells."""
    text = (ROOT / "docs" / "scenario-reference.md").read_text()
    section = text.split("## The jobs CSV (`jobs.csv`)", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| `")]
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    return {c[0].strip("`"): c[1:] for c in cells}


def test_the_reference_lists_every_column_the_reader_takes(tmp_path):
    """The audit found `kw_per_gpu` by trying: the reference listed no jobs CSV column.
    Every job field the reader takes as a column is in the reference's table, with a unit,
    what an empty cell means and a meaning; every field it refuses is not."""
    listed = _reference_csv_columns()
    assert "kw_per_gpu" in listed and listed["kw_per_gpu"][0] == "kW"
    taken = set()
    for name in Job.model_fields:
        path = write_jobs(tmp_path, JOBS_HEADER + f",{name}" * (name not in JOBS_HEADER), JOB_ROW)
        try:
            read_jobs_csv(path)
            taken.add(name)
        except InputError:
            pass
    assert set(listed) == taken
    assert all(len(cells) == 3 and all(cells) for cells in listed.values()), listed


def test_a_throughput_curve_column_says_where_a_curve_goes(tmp_path, write_scenario, capsys):
    # it was taken as a column, and a value in it refused as "Input should be a valid tuple"
    jobs = write_jobs(tmp_path, JOBS_HEADER + ",throughput_curve", JOB_ROW + ',"[[0.6,0.78]]"')
    code, lines = validate(capsys, write_scenario(**{"jobs.csv": str(jobs)}))
    assert (code, lines) == (
        2,
        [
            f"error: {jobs}, line 1, field throughput_curve: a throughput curve (a list of "
            "points) cannot be a CSV column: give this job in jobs.items, or the curve of "
            "every job in datacenter.throughput_curve"
        ],
    )
