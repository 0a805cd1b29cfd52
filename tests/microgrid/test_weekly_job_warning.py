"""A `repeat: weekly` job none of whose weeks lies wholly inside the period is not planned
at all (a once-job's window outside the period is refused): `validate` and `run` say so
in a `warning:` line, kept in summary.json's `warnings` (microgrid/input_warnings.py).

TINY runs Monday 2023-01-02 00:00 to Wednesday 00:00 UTC, hourly.
"""

from __future__ import annotations

import copy
import json

import yaml
from scenario_factory import TINY

from microgrid.cli import main

JOB = {"gpus": 10000, "kw_per_gpu": 1.0, "work_h": 4, "f_min": 1.0}
INSIDE = {**JOB, "id": "inside", "release_h": 8, "deadline_h": 24}


def write(tmp_path, jobs: list[dict]) -> str:
    data = copy.deepcopy(TINY)
    data["jobs"] = {"items": jobs, "repeat": "weekly"}
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def warnings_of(capsys, argv: list[str]) -> list[str]:
    assert main(argv) == 0
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_weekly_job_with_no_week_inside_the_period_is_named(tmp_path, capsys):
    # Wednesday 12:00 to Thursday: after the period's end in every week
    later = {**JOB, "id": "later", "release_h": 60, "deadline_h": 80}
    [line] = warnings_of(capsys, ["validate", write(tmp_path, [INSIDE, later])])
    assert line == (
        "warning: the weekly job 'later' has no week whose window lies wholly inside the "
        "period 2023-01-02 00:00 UTC to 2023-01-04 00:00 UTC: it is not planned; move its "
        "window or the period"
    )


def test_several_are_counted_and_run_keeps_the_warning(tmp_path, capsys):
    jobs = [INSIDE] + [
        {**JOB, "id": f"late-{i}", "release_h": 50 + i, "deadline_h": 70 + i} for i in range(7)
    ]
    out = tmp_path / "out"
    argv = ["run", write(tmp_path, jobs), "--out", str(out), "--no-powerflow", "--quiet"]
    [line] = warnings_of(capsys, argv)
    assert line.startswith(
        "warning: 7 of the weekly jobs ('late-0', 'late-1', 'late-2', 'late-3', 'late-4' "
        "and 2 more) have no week whose window lies wholly inside the period"
    )
    assert json.loads((out / "summary.json").read_text())["warnings"] == [line[9:]]


def test_no_warning_where_every_weekly_job_has_a_week(tmp_path, capsys):
    assert warnings_of(capsys, ["validate", write(tmp_path, [INSIDE])]) == []
