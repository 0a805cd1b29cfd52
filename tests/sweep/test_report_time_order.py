"""The sweep report orders an axis of date-times by time, not as text
(microgrid/sweeps/axis_order.py): values with different UTC offsets by their instants,
and wall times without an offset at the site's zone (the records' `period.timezone`).
On hand-made sweep folders: sweep.json lists the cases, records/ their summaries."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest

from microgrid.sweeps import report_plots
from microgrid.sweeps.report import sweep_report

DEADLINE = "jobs.items.0.deadline_at"
BATTERY = "battery.energy_mwh"
# as text: 10:00-05:00, 12:00+01:00, 14:00+00:00; in time: 11:00Z, 14:00Z, 15:00Z
OFFSETS = ["2023-08-21T10:00:00-05:00", "2023-08-21T12:00:00+01:00", "2023-08-21T14:00:00Z"]
BY_TIME = [OFFSETS[1], OFFSETS[2], OFFSETS[0]]
# 10:00 without an offset in Chicago (CDT, -05:00) is 15:00Z: last, not between the others
MIXED = ["2023-08-21T09:00:00+00:00", "2023-08-21T10:00:00", "2023-08-21T14:00:00Z"]
MIXED_BY_TIME = [MIXED[0], MIXED[2], MIXED[1]]


def write_sweep(out, deadlines: list[str], zone: str | None = "America/Chicago") -> None:
    """A finished sweep of `deadlines` x two battery sizes, its records' site zone `zone`
    (None: records without one, as a stand-in's)."""
    (out / "records").mkdir(parents=True)
    cases = []
    grid = itertools.product(deadlines, [0, 100])
    for i, (deadline, battery) in enumerate(grid):
        params = {DEADLINE: deadline, BATTERY: battery}
        case = {"case_id": f"c{i:02d}", "index": i, "params": params, "values": params}
        cost = 1_000_000.0 - 1_000.0 * deadlines.index(deadline) - 10.0 * battery
        summary = {"total_cost_usd": cost, "emissions_t": 3000.0 - battery}
        if zone is not None:
            summary["period"] = {"timezone": zone}
        rec = {**case, "status": "ok", "wall_s": 1.0, "error": None, "summary": summary}
        (out / "records" / f"c{i:02d}.json").write_text(json.dumps(rec))
        cases.append(case)
    meta = {"name": "times", "spec": "spec.yaml", "axes": [DEADLINE, BATTERY], "cases": cases}
    (out / "sweep.json").write_text(json.dumps(meta))


@pytest.fixture
def heatmaps(monkeypatch) -> list[pd.DataFrame]:
    """The cost grid of every heat map the report draws (rows: the first axis)."""
    drawn: list[pd.DataFrame] = []
    draw = report_plots.heatmap_figure

    def keep(piv, *args):
        drawn.append(piv["total_cost_usd"])
        return draw(piv, *args)

    monkeypatch.setattr(report_plots, "heatmap_figure", keep)
    return drawn


@pytest.mark.parametrize(
    ("deadlines", "by_time"), [(OFFSETS, BY_TIME), (MIXED, MIXED_BY_TIME)], ids=["offsets", "mixed"]
)
def test_date_time_values_are_ordered_by_time_in_tables_steps_and_heat_maps(
    tmp_path, heatmaps, deadlines, by_time
):
    out = tmp_path / "sweep"
    write_sweep(out, deadlines)
    page = sweep_report(out).read_text()
    table = pd.read_csv(out / "report" / "sensitivity_jobs_items_0_deadline_at.csv")
    assert table[DEADLINE].tolist() == by_time
    long = pd.read_csv(out / "report" / "sensitivity.csv")
    assert long.loc[long["axis"] == DEADLINE, "value"].tolist() == by_time
    # the step is from the value before in time
    assert page.index(f"{DEADLINE} {by_time[0]} → {by_time[1]}") > 0
    [grid] = heatmaps
    assert grid.index.tolist() == by_time


def test_wall_times_without_a_known_zone_are_ordered_as_wall_times(tmp_path):
    out = tmp_path / "sweep"
    naive = ["2023-08-21T09:00:00", "2023-08-21T10:00:00", "2023-08-22T08:00:00"]
    write_sweep(out, naive[::-1], zone=None)
    sweep_report(out)
    table = pd.read_csv(out / "report" / "sensitivity_jobs_items_0_deadline_at.csv")
    assert table[DEADLINE].tolist() == naive
