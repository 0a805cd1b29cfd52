"""What a rolling solve (`solver.window_h`) claims: each window's gap, never a bound of the
period; and an infeasible window is not called an infeasible scenario. Before, R1's week
in 24 h windows read "optimal, proven gap 1.00 %" at 683,289 USD where one whole solve
costs -39,841 USD; and a scenario one whole solve plans was called infeasible, its jobs'
work blamed."""

from __future__ import annotations

import copy

from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid
from microgrid.cli import main
from microgrid.report_html.kpis import _solver
from microgrid.scenario import Scenario

TWO_DAYS = {"period.end": "2023-08-24T00:00"}


def _rolling_tiny() -> Scenario:
    data = copy.deepcopy(TINY)
    data["solver"] = {**data["solver"], "window_h": 24}
    return Scenario.model_validate(data)


def test_a_rolling_answer_states_its_gap_per_window():
    result = microgrid.run(_rolling_tiny(), powerflow=False, baselines=False)
    solver = result.summary["solver"]
    assert solver["gap_scope"] == "each window" and len(solver["windows"]) == 2
    first = solver["windows"][0]
    assert first["start_utc"] == "2023-01-02T00:00:00+00:00"
    assert first["end_utc"] == "2023-01-03T00:00:00+00:00" and first["status"] == "optimal"
    labels = [k.label for k in _solver(result.summary)]
    assert "Largest window gap" in labels and "Proven gap" not in labels


def test_the_cli_says_each_window_and_no_bound(write_scenario, tmp_path, capsys):
    path = write_scenario(**TWO_DAYS, **{"solver.window_h": 24})
    assert main(["run", str(path), "--no-powerflow", "--out", str(tmp_path / "o")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "in each of 2 rolling windows" in first and "no bound for the period" in first


def test_an_infeasible_window_is_not_called_an_infeasible_scenario(
    write_scenario, tmp_path, capsys
):
    path = write_scenario(**TWO_DAYS, **{"solver.window_h": 24, "grid.import_max_mw": 1})
    out = tmp_path / "o"
    line = one_error_line(capsys, ["run", str(path), "--no-powerflow", "--out", str(out)])
    assert "field solver.window_h" in line and "no schedule in a rolling window" in line
    assert "infeasible scenario" not in line and not out.exists()
