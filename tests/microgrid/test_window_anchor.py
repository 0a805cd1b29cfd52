"""Rolling windows on the jobs' weeks (`solver.window_anchor: job_week`,
`microgrid.dispatch.window_starts`): every weekly job lies inside one window, whatever
the clock changes, the step length or the weekday the period starts on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from microgrid.cli import main
from microgrid.dispatch import window_starts
from microgrid.jobs import job_instances
from microgrid.scenario import load_scenario

YEAR = Path(__file__).resolve().parents[2] / "scenarios" / "ercot-dallas-2023.yaml"


def _steps_of_jobs(scenario) -> list[tuple[int, int]]:
    """Each job instance's (release step, deadline step) on the scenario's step grid."""
    start = scenario.to_utc(scenario.period.start)
    step = pd.Timedelta(hours=scenario.step_h)
    jobs, _ = job_instances(scenario)
    return [((j.release_utc - start) // step, (j.deadline_utc - start) // step) for j in jobs]


def _window_of(starts: list[int], step: int) -> int:
    return int(np.searchsorted(starts, step, side="right")) - 1


def test_the_yearly_scenario_starts_its_windows_on_the_jobs_mondays():
    """Sunday 1 January, then every Monday 00:00 Central time: 53 windows, a week of 167
    hours in March and of 169 in November (the clock changes), and no job across a
    window's start."""
    scenario = load_scenario(YEAR)
    starts = window_starts(scenario, len(scenario.index()))
    assert starts[:3] == [0, 24, 192] and len(starts) == 53
    weeks = np.diff(starts[1:])
    assert sorted(set(weeks.tolist())) == [167, 168, 169]
    assert (weeks == 167).sum() == 1 and (weeks == 169).sum() == 1
    for release, deadline in _steps_of_jobs(scenario):
        assert _window_of(starts, release) == _window_of(starts, deadline - 1)


@pytest.mark.parametrize(
    ("start", "step_minutes", "window_h"),
    [
        ("2023-03-08T06:00", 15, 168),  # a Wednesday, the spring change inside, 15 min
        ("2023-10-29T12:00", 60, 336),  # a Sunday noon, the autumn change, fortnights
        ("2023-06-05T00:00", 30, 168),  # a Monday
    ],
)
def test_windows_follow_the_job_weeks_from_any_start(start, step_minutes, window_h):
    base = load_scenario(YEAR)
    end = str(pd.Timestamp(start) + pd.Timedelta(weeks=5)).replace(" ", "T")[:16]
    scenario = base.with_updates(
        {
            "period.start": start,
            "period.end": end,
            "period.step_minutes": step_minutes,
            "solver.window_h": window_h,
        }
    )
    n = len(scenario.index())
    starts = window_starts(scenario, n)
    assert starts[0] == 0 and starts == sorted(set(starts)) and starts[-1] < n
    jobs = _steps_of_jobs(scenario)
    assert jobs, "no whole job week inside the period"
    for release, deadline in jobs:
        assert _window_of(starts, release) == _window_of(starts, deadline - 1)
    # every start after the first is a Monday 00:00 local
    index = scenario.index()
    for s in starts[1:]:
        local = index[s].tz_convert(scenario.site.timezone)
        assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)


def test_the_period_start_anchor_leaves_the_windows_to_the_solver():
    scenario = load_scenario(YEAR).with_updates({"solver.window_anchor": "period_start"})
    assert window_starts(scenario, len(scenario.index())) is None


def test_an_unknown_anchor_is_one_line_naming_the_field(write_scenario, capsys):
    path = write_scenario(**{"solver.window_anchor": "sunday"})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "solver.window_anchor" in err[0], err


def test_the_job_week_anchor_without_windows_is_one_line(write_scenario, capsys):
    path = write_scenario(**{"solver.window_anchor": "job_week"})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "window_h" in err[0] and "solver" in err[0], err
