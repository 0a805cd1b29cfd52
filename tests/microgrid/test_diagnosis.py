"""The infeasibility diagnosis in a planner's words: one line on stderr, exit code 2.

Scenario: the tiny scenario (scenario_factory.TINY) with a 15 MW import limit and a 1 MW
battery, so the 10 MW job (11 MW at PUE 1.10) cannot run beside 11 MW of inference.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.cli import main
from microgrid.diagnosis_text import DIAGNOSIS_MAX_CHARS, diagnosis_message
from microgrid.dispatch import infeasible_error
from microgrid.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = (
    "infeasible scenario: job train misses its deadline 2023-01-03 00:00 UTC by 4 h of work "
    "(in its window: import limit 15 MW, the site cannot supply its 10 MW minimum beside "
    "inference during 2023-01-02 08:00 to 2023-01-03 00:00 UTC)"
)


@pytest.fixture
def infeasible(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["grid"]["import_max_mw"] = 15
    data["battery"].update(power_mw=1, energy_mwh=4)
    path = tmp_path / "infeasible.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_main_exits_2_with_one_line(infeasible, tmp_path, capsys):
    code = main(["run", str(infeasible), "--out", str(tmp_path / "out"), "--no-powerflow"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert err.rstrip("\n").endswith(EXPECTED)
    # the job's line and field (the audit: the line named the file alone)
    assert err.startswith(f"error: {infeasible}, line ") and ", field jobs.items.0.work_h: " in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_subprocess_exits_2_with_one_line(infeasible, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgrid.cli",
            "run",
            str(infeasible),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(EXPECTED)


def test_message_for_each_slack_kind(infeasible):
    scenario = load_scenario(infeasible)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    index = inputs.index
    S = optimize.Slack
    exc = optimize.Infeasible(
        [
            S("import_limit", "grid", [14, 15, 16], 7.5, "MW"),
            S("ramp_limit_up", "grid", [3], 2.0, "MW"),
            S("soc_min", "battery", [20, 21], 0.4, "MWh"),
            S("dr_cap", "grid", [17], 1.25, "MW"),
            S("carbon_budget", "objective", [], 3.0, "t"),
        ]
    )
    msg = diagnosis_message(exc, index, "America/Chicago", problem)
    assert "\n" not in msg
    assert msg == (
        "infeasible scenario: grid import needs up to 7.5 MW more above its limit of 15 MW "
        "from 2023-01-02 08:00 to 11:00 CST; net import must ramp up 2 MW faster than its "
        "limit from 2023-01-01 21:00 to 22:00 CST; battery would fall 0.4 MWh below its "
        "minimum charge from 2023-01-02 14:00 to 16:00 CST; net import exceeds the "
        "demand-response cap by up to 1.25 MW from 2023-01-02 11:00 to 12:00 CST; emissions "
        "exceed the carbon budget by 3 t"
    )


def test_an_import_slack_over_an_outage_and_ordinary_hours_names_both_limits(infeasible):
    """An outage hour (0 MW) and the ordinary hours after it in one slack read "above its
    limit of 0 MW from 14:00 to 19:00", as if the outage ran on (an outside audit)."""
    scenario = load_scenario(infeasible)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    limit = problem.grid.import_max_mw.copy()
    limit[14] = 0.0
    grid = dataclasses.replace(problem.grid, import_max_mw=limit)
    problem = dataclasses.replace(problem, grid=grid)
    outage = np.zeros(problem.n_steps, dtype=bool)
    outage[14] = True
    exc = optimize.Infeasible([optimize.Slack("import_limit", "grid", [14, 15, 16], 7.5, "MW")])
    msg = diagnosis_message(exc, inputs.index, "America/Chicago", problem, outage)
    assert "above its limit of 0-15 MW (0 MW in the outage) from 2023-01-02 08:00" in msg


def test_binding_import_named_when_the_elastic_solution_is_exposed(infeasible):
    """If optimize attaches the elastic solution's series to Infeasible (proposed), the
    message names the steps where import sits at its limit in the job's window."""
    scenario = load_scenario(infeasible)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    exc = optimize.Infeasible([optimize.Slack("job_unfinished", "train", [23], 2.0, "h")])
    imp = np.full(problem.n_steps, 11.0)
    imp[14:18] = 15.0
    exc.series = {"grid_import_mw": imp}
    msg = diagnosis_message(exc, pd.DatetimeIndex(inputs.index), "UTC", problem)
    assert msg.endswith("import limit binds during 2023-01-02 14:00 to 18:00 UTC)")


def test_budget_is_named_when_it_is_what_makes_the_scenario_infeasible(tmp_path, capsys):
    """The tiny scenario runs without a budget; with 1 t the budget is the field named, short
    by the least emissions (a solve at 10,000 USD/t) less 1 t. The audit's line blamed the
    job's work_h (the diagnosis summed tonnes with hours of work)."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["objective"] = {"carbon_price_usd_per_t": 1e4}
    least = tmp_path / "least.yaml"
    least.write_text(yaml.safe_dump(data))
    scenario = load_scenario(least)
    least_t = optimize.solve(build_problem(scenario, load_inputs(scenario))).costs["emissions_t"]
    data["objective"] = {"carbon_budget_t": 1.0}
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data))
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--no-powerflow"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert ", field objective.carbon_budget_t: " in err and "work_h" not in err
    assert err.rstrip("\n").endswith(
        "infeasible scenario: emissions exceed the carbon budget of 1 t by "
        f"{least_t - 1:,.0f} t (the least emissions found within the other limits: "
        f"{least_t:,.0f} t)"
    )


def _import_slacks(n: int) -> optimize.Infeasible:
    """`n` import-limit slacks, one every other step (each its own limit in the line)."""
    return optimize.Infeasible(
        [optimize.Slack("import_limit", "grid", [2 * k], 1.0 + k, "MW") for k in range(n)]
    )


def _infeasible_line(path: Path, exc: optimize.Infeasible) -> str:
    scenario = load_scenario(path)
    inputs = load_inputs(scenario)
    return str(infeasible_error(scenario, inputs, build_problem(scenario, inputs), exc))


def test_a_long_diagnosis_is_listed_whole(infeasible):
    """The audit's 30 MW campus: 9 limits (1,330 characters) were cut at 600 characters in
    the middle of a limit (`grid imp...2 h of work`). Ten limits of about 90 characters
    each are listed whole, none shortened."""
    line = _infeasible_line(infeasible, _import_slacks(10))
    assert len(line) > 900 and "..." not in line
    clauses = line.split("infeasible scenario: ", 1)[1].split("; ")
    assert len(clauses) == 10
    for k, clause in enumerate(clauses):
        assert clause.startswith(f"grid import needs up to {1.0 + k:.3g} MW more above")
        assert clause.endswith(" UTC"), clause


def test_a_diagnosis_too_long_for_a_line_keeps_whole_limits_and_counts_the_rest(infeasible):
    long_exc = _import_slacks(12)  # steps 0-22 of the tiny period's 48
    long_exc.diagnosis = long_exc.diagnosis * 4  # 48 limits, over DIAGNOSIS_MAX_CHARS
    line = _infeasible_line(infeasible, long_exc)
    head, tail = line.rsplit("; and ", 1)
    listed = head.split("infeasible scenario: ", 1)[1].split("; ")
    assert tail == f"{48 - len(listed)} more limit(s) left out of this line"
    assert 0 < len(listed) < 48 and len("; ".join(listed)) <= DIAGNOSIS_MAX_CHARS
    assert all(c.startswith("grid import needs") and c.endswith(" UTC") for c in listed)
    assert "..." not in line
