"""Each Pareto point says how much work it leaves undone (microgrid/pareto_work.py).

With an unfinished-work penalty, the least-emissions end of a front can get there by not
running a job (a job not run emits nothing): the audit's front showed emissions falling
by 72 % for a cost that held 4.4 M USD of penalty, and pareto.csv and the CLI said
nothing of the work left. On TINY with a penalty of 1,000 USD/h (its one job of 4 h costs
about 2,200 USD to run), the least-emissions end leaves the whole job undone."""

from __future__ import annotations

import copy
import re

import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

from microgrid.cli import main
from microgrid.pareto import cheapest_schedules, table_lines

PENALTY_USD_PER_H = 1000.0


def test_each_point_says_the_work_it_leaves_undone(tmp_path, capsys):
    sc = copy.deepcopy(TINY)
    sc["objective"] = {"unfinished_work_penalty_usd_per_h": PENALTY_USD_PER_H}
    path = tmp_path / "tiny-penalty.yaml"
    path.write_text(yaml.safe_dump(sc))
    assert main(["pareto", str(path), "--points", "3", "--out", str(tmp_path / "p")]) == 0
    captured = capsys.readouterr()
    stdout, stderr = captured.out, captured.err
    csv = pd.read_csv(tmp_path / "p" / "pareto.csv")
    cheap, clean = csv.iloc[0], csv.iloc[-1]
    assert cheap["point"] == "min-cost" and clean["point"] == "min-emissions"
    # the cheapest plan runs the job; the cleanest leaves all 4 h of it undone
    assert cheap["unfinished_h"] == 0 and cheap["unfinished_penalty_usd"] == 0
    assert (cheap["deadlines_met"], cheap["deadlines_total"]) == (1, 1)
    assert clean["unfinished_h"] == pytest.approx(4.0)
    assert clean["unfinished_penalty_usd"] == pytest.approx(4 * PENALTY_USD_PER_H)
    assert (clean["deadlines_met"], clean["deadlines_total"]) == (0, 1)
    assert clean["unfinished_jobs"] == "train 0.00 of 4.00 h"
    # the columns before them are as they were (readers by position keep working)
    assert list(csv.columns[:8]) == [
        "point",
        "budget_t",
        "cost_usd",
        "emissions_t",
        "status",
        "mip_gap",
        "cost_tolerance_usd",
        "schedule_of",
    ]
    lines = stdout.splitlines()
    [clean_line] = [s for s in lines if s.startswith("  min-emissions")]
    assert clean_line.endswith("deadlines 0/1, 4.0 h undone (penalty 4,000 USD)")
    [cheap_line] = [s for s in lines if s.startswith("  min-cost")]
    assert cheap_line.endswith("  deadlines 1/1")
    notes = [s for s in lines if s.startswith("note: ")]
    assert notes and notes[-1].startswith(
        "note: min-emissions leaves 4.0 h of work undone (train 0.00 of 4.00 h; 0 of 1 deadlines "
        "met): its cost holds 4,000 USD of unfinished-work penalty"
    )
    assert not any(s.startswith("note: min-cost") for s in notes)
    [progress] = [s for s in stderr.splitlines() if "(min emissions)" in s]
    assert re.search(r"gap [\d.]+ %, deadlines 0/1, 4\.0 h undone, [\d.]+ s$", progress)


def test_a_point_that_takes_a_tighter_points_schedule_takes_its_work_too():
    def row(point, budget, cost, emissions, unfinished_h):
        return {
            "point": point,
            "budget_t": budget,
            "cost_usd": cost,
            "emissions_t": emissions,
            "status": "optimal",
            "mip_gap": 0.01,
            "unfinished_penalty_usd": 1000.0 * unfinished_h,
            "unfinished_h": unfinished_h,
            "deadlines_met": 0 if unfinished_h else 1,
            "deadlines_total": 1,
            "unfinished_jobs": f"train {4 - unfinished_h:.2f} of 4.00 h" if unfinished_h else "",
        }

    # e1's solve, stopped within its gap, came out dearer than e2's schedule, which leaves
    # 1 h undone: e1 reports e2's schedule, and so e2's unfinished work
    rows = [row("min-cost", None, 100.0, 50.0, 0.0), row("e1", 45.0, 130.0, 45.0, 0.0)]
    rows.append(row("e2", 40.0, 120.0, 40.0, 1.0))
    out = cheapest_schedules(rows)
    assert out[1]["schedule_of"] == "e2"
    assert (out[1]["unfinished_h"], out[1]["deadlines_met"]) == (1.0, 0)
    assert out[1]["unfinished_jobs"] == "train 3.00 of 4.00 h"
    line = table_lines(pd.DataFrame(out))[1]
    assert line.endswith("(schedule of e2)  deadlines 0/1, 1.0 h undone (penalty 1,000 USD)")
