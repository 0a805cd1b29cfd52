"""operate's solver figures: the closed loop proves no gap (summary.solver.mip_gap is null,
not 0.0, which read as proven optimal), and summary.operate says how its re-plans ended:
their statuses, how many stopped at the node limit, the largest gap one proved. The
readers of summary.json (CLI summary, report, sweep tables) take the null gap."""

from __future__ import annotations

import dataclasses
import json

from test_operate_audit import two_block_scenario

import microgrid
from microgrid.cli_summary import _operate_lines
from microgrid.operate import controller
from microgrid.operate.report import replan_figures
from microgrid.report_html.page import write_report
from microgrid.scenario import Scenario
from microgrid.sweeps.tables import format_cell


def test_replan_figures_count_the_stops_and_take_the_largest_gap():
    figures = replan_figures((("optimal", 0.001), ("node_limit", 0.042), ("optimal", 0.0)))
    assert figures == {
        "replan_statuses": {"node_limit": 1, "optimal": 2},
        "node_limited_replans": 1,
        "max_replan_gap": 0.042,
    }
    assert replan_figures(())["max_replan_gap"] is None


def test_operate_reports_no_gap_of_its_own_and_its_replans_stops(tmp_path, monkeypatch):
    """The second re-plan is made to stop at the node limit with a 4.2 % gap."""
    real = controller._solve_window
    calls = []

    def second_stops_at_the_node_limit(window, options, k, *rest, **named):
        d, solved, relaxed = real(window, options, k, *rest, **named)
        calls.append(k)
        if len(calls) == 2:
            d = dataclasses.replace(d, status="node_limit", mip_gap=0.042)
        return d, solved, relaxed

    monkeypatch.setattr(controller, "_solve_window", second_stops_at_the_node_limit)
    data = two_block_scenario()
    data["operate"] = {**data.get("operate", {}), "replan_every_steps": 12}
    sc = Scenario.model_validate(data)
    res = microgrid.run(sc, mode="operate", powerflow=False, baselines=False)
    folder = res.write(tmp_path / "out")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["solver"]["status"] == "operate"
    assert summary["solver"]["mip_gap"] is None
    op = summary["operate"]
    n = op["n_solves"]
    assert n >= 2 and sum(op["replan_statuses"].values()) == n
    assert op["replan_statuses"]["node_limit"] == 1 and op["node_limited_replans"] == 1
    assert op["max_replan_gap"] == 0.042
    assert op["time_limited_solves"] == 0  # a node-limit stop is no time-limit stop
    # the readers take the null gap
    assert f"{n} re-plans (1 at the node limit, largest gap 4.20 %)" in _operate_lines(op)[0]
    assert write_report(folder).stat().st_size > 0
    assert format_cell("solver.mip_gap", summary["solver"]["mip_gap"]) == ""
