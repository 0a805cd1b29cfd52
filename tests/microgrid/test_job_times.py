"""A job's window as date-times (`release_at`, `deadline_at`) instead of hours from the job
anchor: placed at the same instants as the same job in hours, an offset naming its
instant, local times across a clock change placed as hours are, the forms never mixed,
the window's checks naming the fields the user wrote, the jobs CSV's columns, and weekly
repeats counted from the job's own times (microgrid/jobs.py, `Jobs`).

The scenarios are the tiny one (scenario_factory.TINY: Monday 2023-01-02 to Wednesday
00:00, hourly, one 10 MW job of 4 h), in UTC or moved to America/Chicago.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line, write_jobs
from scenario_factory import TINY

import microgrid
from microgrid.errors import InputErrors
from microgrid.jobs import job_instances, scenario_jobs
from microgrid.scenario import load_scenario
from microgrid.scenario_demand import Job
from microgrid.scenario_yaml import scenario_as_yaml

JOB = {"id": "train", "gpus": 10000, "kw_per_gpu": 1.0, "work_h": 4, "f_min": 1.0}
HOURS = {"release_h": 8, "deadline_h": 24}
TIMES = {"release_at": "2023-01-02T08:00", "deadline_at": "2023-01-03T00:00"}
CHICAGO = "America/Chicago"
# Chicago's clocks jumped from 02:00 CST to 03:00 CDT on Sunday 2023-03-12; the job anchor
# of this period is Monday 2023-03-06 00:00 CST
AROUND_SPRING = {"start": "2023-03-11T00:00", "end": "2023-03-14T00:00", "step_minutes": 60}


def write(
    tmp_path: Path, jobs: list[dict], zone: str = "UTC", period: dict | None = None, **extra
) -> Path:
    """TINY with these jobs (and `jobs` settings), in `zone`, over `period`."""
    data = copy.deepcopy(TINY)
    data["site"]["timezone"] = zone
    data["period"] = period or data["period"]
    data["jobs"] = {"items": jobs, **extra}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def windows(path: Path) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    placed, _ = job_instances(load_scenario(path))
    return [(i.id, i.release_utc, i.deadline_utc) for i in placed]


def line_of(path: Path, text: str, after: int = 0) -> int:
    """1-based number of the first line of `path` after line `after` holding `text`."""
    lines = path.read_text().splitlines()
    return next(i for i, ln in enumerate(lines, 1) if i > after and text in ln)


def validate_error(capsys, path: Path) -> str:
    return one_error_line(capsys, ["validate", str(path)])


def test_a_job_by_times_is_placed_and_solved_as_the_same_job_by_hours(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "t").mkdir()
    by_hours = write(tmp_path / "h", [{**JOB, **HOURS}])
    by_times = write(tmp_path / "t", [{**JOB, **TIMES}])
    placed = windows(by_times)
    assert placed == windows(by_hours)
    assert placed == [
        ("train", pd.Timestamp("2023-01-02T08:00Z"), pd.Timestamp("2023-01-03T00:00Z"))
    ]
    plans = [microgrid.run(p, baselines=False, powerflow=False) for p in (by_hours, by_times)]
    pd.testing.assert_frame_equal(plans[0].jobs, plans[1].jobs)
    pd.testing.assert_series_equal(
        plans[0].timeseries["job_train_mw"], plans[1].timeseries["job_train_mw"]
    )
    assert plans[0].timeseries["job_train_mw"].sum() == pytest.approx(40.0)  # 4 h at 10 MW
    assert plans[0].jobs_spec == plans[1].jobs_spec


def test_a_time_with_an_offset_is_that_instant(tmp_path):
    # 08:00 CST is 14:00 UTC; the deadline, Tuesday 00:00 CST, written with its offset
    times = {"release_at": "2023-01-02T14:00Z", "deadline_at": "2023-01-03T00:00-06:00"}
    placed = windows(write(tmp_path, [{**JOB, **times}], CHICAGO))
    assert placed == windows(write(tmp_path, [{**JOB, **HOURS}], CHICAGO))
    assert placed == [
        ("train", pd.Timestamp("2023-01-02T14:00Z"), pd.Timestamp("2023-01-03T06:00Z"))
    ]


@pytest.mark.parametrize(
    ("times", "hours", "utc"),
    [
        # Saturday 20:00 CST to Sunday 08:00 CDT: 12 h on the clock, 11 h of real time
        (
            {"release_at": "2023-03-11T20:00", "deadline_at": "2023-03-12T08:00"},
            {"release_h": 140, "deadline_h": 152},
            ("2023-03-12T02:00Z", "2023-03-12T13:00Z"),
        ),
        # 02:30 does not exist that night: placed at the change, 03:00 CDT, as hours are
        (
            {"release_at": "2023-03-11T20:00", "deadline_at": "2023-03-12T02:30"},
            {"release_h": 140, "deadline_h": 146.5},
            ("2023-03-12T02:00Z", "2023-03-12T08:00Z"),
        ),
    ],
    ids=["across-the-change", "in-the-gap"],
)
def test_local_times_across_the_spring_change_are_placed_as_hours(tmp_path, times, hours, utc):
    placed = windows(write(tmp_path, [{**JOB, **times}], CHICAGO, AROUND_SPRING))
    assert placed == windows(write(tmp_path, [{**JOB, **hours}], CHICAGO, AROUND_SPRING))
    assert placed == [("train", *map(pd.Timestamp, utc))]


def test_work_that_fits_the_clock_but_not_the_real_hours_is_refused(tmp_path, capsys):
    times = {"release_at": "2023-03-11T20:00", "deadline_at": "2023-03-12T08:00"}
    path = write(tmp_path, [{**JOB, **times, "work_h": 12}], CHICAGO, AROUND_SPRING)
    assert validate_error(capsys, path) == (
        f"error: {path}, line {line_of(path, 'work_h:')}, field jobs.items.0.work_h: job "
        "'train': work_h (12) exceeds its window of 11 h of whole steps from 2023-03-11 "
        "20:00 CST to 2023-03-12 08:00 CDT (the clocks change in it: 12 h on the clock are "
        "11 h)"
    )


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({**HOURS, "deadline_at": "2023-01-03T00:00"}, "deadline_at"),
        ({"deadline_h": 24, "release_at": "2023-01-02T08:00"}, "release_at"),
        ({"release_h": 0, "deadline_at": "2023-01-03T00:00"}, "deadline_at"),
    ],
    ids=["deadline-both", "release-at-deadline-h", "release-h-deadline-at"],
)
def test_a_job_mixing_hours_and_times_is_refused(tmp_path, capsys, job, field):
    path = write(tmp_path, [{**JOB, **job}])
    line = validate_error(capsys, path)
    assert line.startswith(
        f"error: {path}, line {line_of(path, f'{field}:')}, field jobs.items.0.{field}: give "
        "the job's window in hours (release_h, deadline_h) or as date-times (release_at, "
        "deadline_at), not both: it has "
    )


def test_a_csv_row_mixing_hours_and_times_names_its_line_and_cell(tmp_path, capsys):
    jobs = write_jobs(
        tmp_path,
        "id,gpus,work_h,release_h,deadline_h,release_at,deadline_at",
        "a,8,4,8,24,,",
        "b,8,4,8,,,2023-01-03T00:00",
    )
    path = write(tmp_path, [], csv=str(jobs))
    assert validate_error(capsys, path) == (
        f"error: {jobs}, line 3, field deadline_at: give the job's window in hours "
        "(release_h, deadline_h) or as date-times (release_at, deadline_at), not both: it "
        "has release_h, deadline_at"
    )


@pytest.mark.parametrize(
    ("times", "message"),
    [
        # both local: the schema compares them
        (
            {"release_at": "2023-01-02T08:00", "deadline_at": "2023-01-02T07:00"},
            "deadline_at (2023-01-02T07:00) is not after release_at (2023-01-02T08:00)",
        ),
        # one with an offset: compared once placed, in the site's local time
        (
            {"release_at": "2023-01-02T08:00", "deadline_at": "2023-01-02T13:00Z"},
            "job 'train': deadline_at 2023-01-02 07:00 CST is not after release_at "
            "2023-01-02 08:00 CST",
        ),
        # no release_at: the period's start
        (
            {"deadline_at": "2022-12-30T12:00"},
            "job 'train': deadline_at 2022-12-30 12:00 CST is not after its release, the "
            "period's start, 2023-01-02 00:00 CST",
        ),
    ],
    ids=["local", "offset", "period-start"],
)
def test_a_deadline_not_after_the_release_is_refused(tmp_path, capsys, times, message):
    path = write(tmp_path, [{**JOB, **times}], CHICAGO)
    where = f"line {line_of(path, 'deadline_at:')}, field jobs.items.0.deadline_at"
    assert validate_error(capsys, path) == f"error: {path}, {where}: {message}"


def test_a_window_outside_the_period_is_refused_in_local_times(tmp_path, capsys):
    times = {"release_at": "2023-01-03T20:00", "deadline_at": "2023-01-04T02:00"}
    path = write(tmp_path, [{**JOB, **times}], CHICAGO)
    assert validate_error(capsys, path) == (
        f"error: {path}, line {line_of(path, 'deadline_at:')}, field jobs.items.0.deadline_at: "
        "job 'train' window 2023-01-03 20:00 CST to 2023-01-04 02:00 CST ends after the "
        "period 2023-01-02 00:00 CST to 2023-01-04 00:00 CST: a job's whole window must lie "
        "inside the period, so it is refused, not clipped; change its release_at or "
        "deadline_at, or the period"
    )


def test_a_number_is_no_date_time(tmp_path, capsys):
    path = write(tmp_path, [{**JOB, "deadline_at": 24}])
    assert validate_error(capsys, path) == (
        f"error: {path}, line {line_of(path, 'deadline_at:')}, field jobs.items.0.deadline_at: "
        "not a date-time: 24; give ISO 8601, such as 2024-12-03T09:00 (hours from the job "
        "anchor are release_h and deadline_h)"
    )


def test_csv_columns_are_read_and_an_empty_cell_is_not_given(tmp_path):
    jobs = write_jobs(
        tmp_path,
        "id,gpus,work_h,release_h,deadline_h,release_at,deadline_at",
        "hours,8,4,8,24,,",
        "times,8,4,,,2023-01-02T08:00,2023-01-03T00:00",
        "offset,8,4,,,2023-01-02T08:00Z,2023-01-03T00:00+00:00",
        "from-start,8,4,,,,2023-01-03T00:00",
    )
    placed = windows(write(tmp_path, [], csv=str(jobs)))
    release, deadline = pd.Timestamp("2023-01-02T08:00Z"), pd.Timestamp("2023-01-03T00:00Z")
    assert placed == [
        ("hours", release, deadline),
        ("times", release, deadline),
        ("offset", release, deadline),
        ("from-start", pd.Timestamp("2023-01-02T00:00Z"), deadline),
    ]


def test_a_csv_without_deadline_h_takes_deadline_at_and_refuses_neither(tmp_path, capsys):
    jobs = write_jobs(tmp_path, "id,gpus,work_h,deadline_at", "a,8,4,2023-01-03T00:00")
    assert windows(write(tmp_path, [], csv=str(jobs))) == [
        ("a", pd.Timestamp("2023-01-02T00:00Z"), pd.Timestamp("2023-01-03T00:00Z"))
    ]
    jobs = write_jobs(tmp_path, "id,gpus,work_h,release_at", "a,8,4,2023-01-02T08:00")
    path = write(tmp_path, [], csv=str(jobs))
    assert validate_error(capsys, path) == (
        f"error: {jobs}, line 1, field deadline_h: required column is missing"
    )


# the period runs from Wednesday 2023-01-04 for three weeks; the anchor is Monday 01-02
THREE_WEEKS = {"start": "2023-01-04T00:00", "end": "2023-01-25T00:00", "step_minutes": 60}


def _weekly(tmp_path: Path, window: dict) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    return windows(write(tmp_path, [{**JOB, **window}], "UTC", THREE_WEEKS, repeat="weekly"))


def _days(*starts: str) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(instance id, release, deadline) of a 16 h window from 08:00 UTC on each day."""
    ids = [s.split("=")[0] for s in starts]
    days = [pd.Timestamp(s.split("=")[1] + "T08:00Z") for s in starts]
    return [(i, d, d + pd.Timedelta(hours=16)) for i, d in zip(ids, days, strict=True)]


def test_weekly_times_in_the_first_week_repeat_as_the_same_hours(tmp_path):
    by_times = _weekly(tmp_path, {"release_at": "2023-01-04T08:00", "deadline_at": "2023-01-05"})
    assert by_times == _weekly(tmp_path, {"release_h": 56, "deadline_h": 72})
    assert by_times == _days("train@w00=2023-01-04", "train@w01=2023-01-11", "train@w02=2023-01-18")


def test_weekly_times_before_the_period_repeat_from_their_own_week(tmp_path):
    # dated a week before the period (the same jobs file, the plan moved a week on)
    before = {"release_at": "2022-12-28T08:00", "deadline_at": "2022-12-29T00:00"}
    assert _weekly(tmp_path, before) == _days(
        "train@w01=2023-01-04", "train@w02=2023-01-11", "train@w03=2023-01-18"
    )


def test_weekly_times_later_in_the_period_start_there(tmp_path):
    # as the same job in hours (release_h 224): no repeat before its own times
    later = {"release_at": "2023-01-11T08:00", "deadline_at": "2023-01-12T00:00"}
    assert _weekly(tmp_path, later) == _weekly(tmp_path, {"release_h": 224, "deadline_h": 240})
    assert _weekly(tmp_path, later) == _days("train@w00=2023-01-11", "train@w01=2023-01-18")


def test_weekly_times_keep_their_wall_clock_hour_across_a_clock_change(tmp_path):
    # Tuesday 09:00-21:00 CST (with an offset) the week before the change: 09:00 CDT after it
    window = {"release_at": "2023-03-07T09:00-06:00", "deadline_at": "2023-03-07T21:00-06:00"}
    period = {"start": "2023-03-06T00:00", "end": "2023-03-20T00:00", "step_minutes": 60}
    path = write(tmp_path, [{**JOB, **window}], CHICAGO, period, repeat="weekly")
    assert windows(path) == [
        ("train@w00", pd.Timestamp("2023-03-07T15:00Z"), pd.Timestamp("2023-03-08T03:00Z")),
        ("train@w01", pd.Timestamp("2023-03-14T14:00Z"), pd.Timestamp("2023-03-15T02:00Z")),
    ]


def test_a_job_by_times_is_written_and_read_back_as_itself(tmp_path):
    """The result folder's scenario.yaml of a scenario object, and `with_updates` (both
    dump the scenario and read it again), keep the job's form: dumped with release_h's
    default it would read back as a mix of hours and times."""
    scenario = load_scenario(write(tmp_path, [{**JOB, "deadline_at": "2023-01-03T00:00Z"}]))
    again = tmp_path / "again.yaml"
    again.write_text(scenario_as_yaml(scenario))
    assert load_scenario(again).jobs.items == scenario.jobs.items
    updated = scenario.with_updates({"jobs.items.0.gpus": 5000})
    assert updated.jobs.items[0].deadline_at == scenario.jobs.items[0].deadline_at
    assert windows(again) == [
        ("train", pd.Timestamp("2023-01-02T00:00Z"), pd.Timestamp("2023-01-03T00:00Z"))
    ]


def test_a_job_in_hours_dumps_without_the_time_fields(tmp_path):
    # the dump is what the scenario digest hashes (summary.json's scenario sha256, the
    # result id): a job in hours dumps, so digests, as before the date-time fields existed
    scenario = load_scenario(write(tmp_path, [{**JOB, **HOURS}]))
    [item] = scenario.model_dump(mode="json")["jobs"]["items"]
    assert list(item) == [
        "id",
        "gpus",
        "kw_per_gpu",
        "work_h",
        "release_h",
        "deadline_h",
        "preemptible",
        "max_interruptions",
        "restart_overhead_h",
        "f_min",
        "throughput_curve",
        "command",
    ]
    assert "release_at" not in scenario_as_yaml(scenario)


@pytest.mark.parametrize(
    ("window", "field", "says"),
    [
        (TIMES, "deadline_h", ("as date-times (release_at, deadline_at)", "in hours")),
        (HOURS, "deadline_at", ("in hours (release_h, deadline_h)", "as date-times")),
        (HOURS, "release_at", ("in hours (release_h, deadline_h)", "as date-times")),
    ],
    ids=["hours-on-times", "times-on-hours", "release-on-hours"],
)
def test_an_override_of_the_other_forms_field_says_how_the_job_gives_its_window(
    tmp_path, window, field, says
):
    """A sweep axis or `with_updates` setting deadline_h of a job in date-times (or
    deadline_at of one in hours) names the job's form and how to change it, rather than
    calling a documented field of the job "no such field"."""
    scenario = load_scenario(write(tmp_path, [{**JOB, **window}]))
    with pytest.raises(InputErrors) as info:
        scenario.with_updates({f"jobs.items.0.{field}": "2023-01-02T12:00"})
    assert str(info.value) == (
        f"override jobs.items.0.{field} = '2023-01-02T12:00': job 'train' gives its window "
        f"{says[0]}: override those, or set jobs.items.0 whole to give it {says[1]}"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("tomorrow", "input is too short"),
        ("2023-01-32T08:00", "day value is outside expected range"),
    ],
)
def test_a_bad_date_time_names_the_text_and_the_form_to_give(tmp_path, capsys, text, why):
    path = write(tmp_path, [{**JOB, "deadline_at": text}])
    assert validate_error(capsys, path) == (
        f"error: {path}, line {line_of(path, 'deadline_at:')}, field jobs.items.0.deadline_at: "
        f"not a date-time: {text!r} ({why}); give ISO 8601, such as 2024-12-03T09:00 (wall "
        "time at site.timezone) or 2024-12-03T15:00Z"
    )


def test_a_spreadsheet_date_in_the_jobs_csv_names_its_cell_and_the_form_to_give(tmp_path, capsys):
    jobs = write_jobs(tmp_path, "id,gpus,work_h,release_at,deadline_at", "a,8,4,1/2/2023 8:00,")
    path = write(tmp_path, [], csv=str(jobs))
    assert validate_error(capsys, path) == (
        f"error: {jobs}, line 2, field release_at: not a date-time: '1/2/2023 8:00' (invalid "
        "character in year); give ISO 8601, such as 2024-12-03T09:00 (wall time at "
        "site.timezone) or 2024-12-03T15:00Z"
    )


@pytest.mark.parametrize(
    "window",
    [TIMES, {"deadline_at": "2023-01-03T00:00"}, {"deadline_at": "2023-01-03T00:00Z"}],
    ids=["both", "deadline-only", "offset"],
)
def test_a_job_by_times_reads_no_hours(window):
    """A job in date-times has no hours from the anchor: release_h reads None, as
    deadline_h does, not the hours form's default 0 (the anchor, not its release)."""
    job = Job(**JOB, **window)
    assert (job.release_h, job.deadline_h) == (None, None)
    assert job.release_at == (
        pd.Timestamp(window["release_at"]) if "release_at" in window else None
    )


def test_a_job_in_hours_still_reads_release_h_0_by_default(tmp_path):
    assert Job(**JOB, deadline_h=24).release_h == 0.0
    assert Job(**JOB, release_h=None, deadline_h=24).release_h == 0.0  # YAML null: not given
    jobs = write_jobs(
        tmp_path,
        "id,gpus,work_h,release_h,deadline_h,deadline_at",
        "h,8,4,,24,",
        "t,8,4,,,2023-01-03",
    )
    placed = load_scenario(write(tmp_path, [], csv=str(jobs)))
    releases = [job.release_h for job in scenario_jobs(placed)[0]]
    assert releases == [0.0, None]
