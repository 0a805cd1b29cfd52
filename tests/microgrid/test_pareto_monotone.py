"""A front reports, for each budget, the cheapest schedule found that keeps it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from microgrid.pareto import cheapest_schedules, on_intervals, on_patterns, start_for, table_lines


def _row(point, budget, cost, emissions, status="optimal"):
    return {
        "point": point,
        "budget_t": budget,
        "cost_usd": cost,
        "emissions_t": emissions,
        "status": status,
        "mip_gap": 0.009,
        "solve_s": 1.0,
    }


def test_a_cheaper_tighter_schedule_replaces_a_looser_points_own():
    # R1's front at a 1 % gap: the budget point e1 came out cheaper than the unconstrained
    # minimum (both within their gaps); e1's schedule keeps every looser budget
    rows = [
        _row("min-cost", None, -35_663.0, 3450.9),
        _row("e1", 3369.3, -36_787.0, 3369.3),
        _row("e2", 3287.8, -10_901.0, 3287.8),
    ]
    out = cheapest_schedules(rows)
    assert [r["schedule_of"] for r in out] == ["e1", "", ""]
    assert out[0]["cost_usd"] == -36_787.0 and out[0]["emissions_t"] == 3369.3
    assert out[0]["status"] == "optimal" and out[0]["solve_s"] == 1.0  # its own solve's
    costs = [r["cost_usd"] for r in out]
    assert costs == sorted(costs)  # monotone: a tighter budget never costs less
    assert rows[0]["cost_usd"] == -35_663.0  # the input rows are left as they were


def test_a_schedule_over_the_budget_is_never_taken():
    # the looser point's schedule is cheaper but emits more than the tighter budget allows
    rows = [_row("min-cost", None, 100.0, 50.0), _row("e1", 40.0, 120.0, 40.0)]
    out = cheapest_schedules(rows)
    assert [r["schedule_of"] for r in out] == ["", ""]
    assert [r["cost_usd"] for r in out] == [100.0, 120.0]


def test_an_infeasible_point_stays_infeasible():
    rows = [
        _row("min-cost", None, 10.0, 5.0),
        _row("e1", 1.0, math.nan, math.nan, status="infeasible"),
    ]
    out = cheapest_schedules(rows)
    assert out[1]["status"] == "infeasible" and math.isnan(out[1]["cost_usd"])
    assert out[0]["schedule_of"] == ""


def test_the_table_names_the_point_a_schedule_came_from():
    rows = [_row("min-cost", None, -35_663.0, 3450.9), _row("e1", 3369.3, -36_787.0, 3369.3)]
    rows[0]["cost_tolerance_usd"] = 8_951.4  # what the proven gap leaves open
    lines = table_lines(pd.DataFrame(cheapest_schedules(rows)))
    assert lines[0].endswith("optimal (schedule of e1)") and lines[1].endswith("optimal")
    assert "-36,787 USD ± 8,951 " in lines[0] and "±" not in lines[1]


def test_each_point_starts_from_the_cheapest_known_schedule_that_keeps_its_budget():
    on = {"a": np.array([0, 1, 1, 0, 1, 0], dtype=bool), "b": np.zeros(6, dtype=bool)}
    spans = on_intervals(on)
    assert spans == {"a": [[1, 3], [4, 5]], "b": []}
    back = on_patterns(spans, 6)
    assert all(np.array_equal(back[k], on[k]) for k in on)
    known = [
        {"emissions_t": 10.0, "cost_usd": 100.0, "on_intervals": {"a": [[0, 1]]}},
        {"emissions_t": 6.0, "cost_usd": 130.0, "on_intervals": {"a": [[1, 2]]}},
        {"emissions_t": 5.0, "cost_usd": 150.0, "on_intervals": {"a": [[2, 3]]}},
        {"emissions_t": np.nan, "cost_usd": np.nan, "on_intervals": None},  # infeasible
    ]
    assert np.flatnonzero(start_for(known, 7.0, 4)["a"]).tolist() == [1]
    assert np.flatnonzero(start_for(known, 5.0, 4)["a"]).tolist() == [2]
    assert np.flatnonzero(start_for(known, None, 4)["a"]).tolist() == [0]
    assert start_for(known, 4.0, 4) is None
