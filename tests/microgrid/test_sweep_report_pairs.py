"""The sweep report's steps compare like with like (microgrid/sweeps/report.py): an axis's
step is the mean difference over pairs of cases that differ in that axis alone, with the
number of pairs; no number where there is no pair; and the report says when the sweep is
unfinished. On hand-made sweep folders (sweep.json lists every case, records/ the done ones).

The unfinished example (the audit's): carbon price 0 and 50 × battery 0 and 200 MWh, the
battery moving the cost by a million, the carbon price by -1,952 USD at either size. With
(0, 0), (0, 200) and (50, 0) done, the means per price differ by +498,048 USD (price 0
averages both sizes, price 50 only the small one); the like-for-like step is -1,952 USD.
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest

from microgrid.sweeps import report_plots
from microgrid.sweeps.report import sweep_report

PRICE = "objective.carbon_price_usd_per_t"
BATTERY = "battery.energy_mwh"
PV_DC, PV_AC = "pv.dc_mw", "pv.ac_mw"  # a zip group: they move together
PRICE_STEP_USD = -1_952.0


def cost_usd(p: dict) -> float:
    """A cost with a price effect of -1,952 USD per 50 $/t at every battery size, a large
    battery effect, and (for the grid test) a PV effect that depends on the battery."""
    pv = p.get(PV_DC, 0)
    return (
        2_000_000.0
        - 5_000.0 * p[BATTERY]
        + PRICE_STEP_USD / 50 * p[PRICE]
        - 300.0 * pv
        + 1.5 * pv * p[BATTERY]
    )


def emissions_t(p: dict) -> float:
    return 3000.0 - 2.0 * p[PRICE] - 0.5 * p[BATTERY] - 0.25 * p.get(PV_DC, 0)


def write_sweep(out, axes: list[str], grid: list[dict], done: list[int]) -> None:
    """A sweep folder of the cases `grid` (sweep.json) of which `done` (indices) have an ok
    record; every case proven to a 0.01 % gap on a 1,000,000 USD basis (±100 USD)."""
    (out / "records").mkdir(parents=True)
    cases = [{"case_id": f"c{i:02d}", "index": i, "params": p} for i, p in enumerate(grid)]
    for i in done:
        cost = cost_usd(grid[i])
        solver = {"status": "optimal", "objective_usd": cost, "mip_gap": 1e-4,
                  "bound_usd": cost - 100.0, "gap_basis_usd": 1_000_000.0}  # fmt: skip
        summary = {"total_cost_usd": cost, "emissions_t": emissions_t(grid[i]), "solver": solver}
        rec = {**cases[i], "status": "ok", "wall_s": 1.0, "error": None, "summary": summary}
        (out / "records" / f"c{i:02d}.json").write_text(json.dumps(rec))
    meta = {"name": "pairs", "spec": "spec.yaml", "axes": axes, "cases": cases}
    (out / "sweep.json").write_text(json.dumps(meta))


def grid_of(**axes: list) -> list[dict]:
    return [dict(zip(axes, v, strict=True)) for v in itertools.product(*axes.values())]


def report(out) -> tuple[str, dict[str, pd.DataFrame]]:
    """The page (images cut out) and the sensitivity table of each axis."""
    page = re.sub(r"base64,[^']+", "base64,", sweep_report(out).read_text())
    long = pd.read_csv(out / "report" / "sensitivity.csv")
    return page, {a: t.reset_index(drop=True) for a, t in long.groupby("axis", sort=False)}


def trend_lines(page: str) -> list[str]:
    return [html_text(li) for li in re.findall(r"<li>(.*?)</li>", page)]


def html_text(s: str) -> str:
    return s.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


PRICE_BATTERY = grid_of(**{PRICE: [0, 50], BATTERY: [0, 200]})  # (0,0) (0,200) (50,0) (50,200)


def test_unfinished_sweep_steps_rest_on_pairs_of_cases_that_differ_in_the_axis_alone(tmp_path):
    out = tmp_path / "sweep"
    write_sweep(out, [PRICE, BATTERY], PRICE_BATTERY, done=[0, 1, 2])
    page, tables = report(out)
    price = tables[PRICE]
    assert price["n_cases"].tolist() == [2, 1]  # the means compare unequal sets ...
    assert price["total_cost_usd_mean"][1] - price["total_cost_usd_mean"][0] == 498_048.0
    # ... the step does not: (0, 0) -> (50, 0) only
    assert price["cost_step_usd"][1] == pytest.approx(PRICE_STEP_USD)
    assert price["emissions_step_t"][1] == pytest.approx(-100.0)
    assert (price["n_pairs"][1], price["unpaired_cases"][1]) == (1, 1)
    battery = tables[BATTERY]  # (0, 0) -> (0, 200); (50, 0) has no partner yet
    assert battery["cost_step_usd"][1] == pytest.approx(-1_000_000.0)
    assert (battery["n_pairs"][1], battery["unpaired_cases"][1]) == (1, 1)

    assert "498,048" not in page
    assert trend_lines(page)[0] == (
        f"{PRICE} 0 → 50: cost falls by 1,952 USD; emissions fall by 100.0 t CO2e. "
        "Like for like: 1 pair of cases; 1 case without a partner left out."
    )
    assert "<title>Sweep pairs (unfinished: 3 of 4 cases done)</title>" in page
    assert "Unfinished sweep: 3 of 4 cases done." in page


def test_a_step_without_a_pair_is_said_to_be_missing_not_computed(tmp_path):
    out = tmp_path / "sweep"
    write_sweep(out, [PRICE, BATTERY], PRICE_BATTERY, done=[0, 3])  # (0, 0) and (50, 200)
    page, tables = report(out)
    for axis in (PRICE, BATTERY):
        row = tables[axis].loc[1]
        assert (row["n_pairs"], row["unpaired_cases"]) == (0, 2)
        assert np.isnan(row["cost_step_usd"]) and np.isnan(row["emissions_step_t"])
        assert pd.isna(row["within_tolerance"])
    assert trend_lines(page) == [
        f"{a} {v}: no step: no two ok cases differ in {a} alone (the same values on every "
        "other axis)."
        for a, v in ((PRICE, "0 → 50"), (BATTERY, "0 → 200"))
    ]
    section = page[page.index(f"<h3>{PRICE}</h3>") : page.index(f"<h3>{BATTERY}</h3>")]
    rows = section[section.index("<tbody>") :].split("<tr>")[1:]
    second = re.findall(r"<td>(.*?)</td>", rows[1], re.S)
    assert second[0] == "50" and "998,048" in second  # the case's own figures ...
    assert second[-2:] == ["no pair", "no pair"]  # ... and no Δ from the row before


FULL = grid_of(**{PRICE: [0, 50, 100], BATTERY: [0, 200], "pv": [(0, 0), (80, 65)]})
FULL = [{PRICE: p[PRICE], BATTERY: p[BATTERY], PV_DC: p["pv"][0], PV_AC: p["pv"][1]} for p in FULL]
FULL_AXES = [PRICE, BATTERY, PV_DC, PV_AC]


def test_a_finished_grid_gives_the_difference_of_the_means_as_before(tmp_path):
    out = tmp_path / "sweep"
    write_sweep(out, FULL_AXES, FULL, done=list(range(len(FULL))))
    page, tables = report(out)
    df = pd.DataFrame([{**p, "cost": cost_usd(p), "em": emissions_t(p)} for p in FULL])
    for axis in FULL_AXES:
        means = df.groupby(axis)[["cost", "em"]].mean()
        table = tables[axis]
        assert table["cost_step_usd"][1:].tolist() == pytest.approx(means["cost"].diff()[1:])
        assert table["emissions_step_t"][1:].tolist() == pytest.approx(means["em"].diff()[1:])
        # every case paired: 12 cases over the axis's values, none left out
        assert table["n_pairs"][1:].tolist() == [len(FULL) // len(means)] * (len(means) - 1)
        assert table["unpaired_cases"][1:].tolist() == [0] * (len(means) - 1)
    # the zip partners (PV DC and AC move together) pair on the other axes
    assert tables[PV_AC]["cost_step_usd"][1] == tables[PV_DC]["cost_step_usd"][1]
    assert "unfinished" not in page.lower() and "Like for like" not in page


def test_an_unfinished_grid_pairs_zipped_axes_on_the_other_axes(tmp_path):
    out = tmp_path / "sweep"
    done = [i for i, p in enumerate(FULL) if p[PRICE] != 100 and not (p[BATTERY] and p[PV_DC])]
    write_sweep(out, FULL_AXES, FULL, done=done)  # 6 of 12: no (200 MWh, 80 MW PV), no $100
    page, tables = report(out)
    pv = tables[PV_DC]  # 0 -> 80 MW PV at battery 0, prices 0 and 50: -300 × 80 USD each
    assert (pv["n_pairs"][1], pv["unpaired_cases"][1]) == (2, 2)
    assert pv["cost_step_usd"][1] == pytest.approx(-300.0 * 80)
    assert "Unfinished sweep: 6 of 12 cases done." in page


def test_plots_say_the_sweep_is_unfinished_and_join_only_like_for_like_values():
    table = pd.DataFrame(
        {PRICE: [0, 50, 100], "n_cases": [2, 1, 1],
         "total_cost_usd_mean": [1.5e6, 2.0e6, 1.99e6], "total_cost_usd_min": [1e6, 2e6, 1.99e6],
         "total_cost_usd_max": [2e6, 2e6, 1.99e6], "emissions_t_mean": [1.0, 2.0, 3.0],
         "emissions_t_min": [1.0, 2.0, 3.0], "emissions_t_max": [1.0, 2.0, 3.0]}
    )  # fmt: skip
    note = "unfinished: 4 of 6 cases done"
    fig = report_plots.axis_figure(table, PRICE, True, [False, False], [False, True], note)
    assert fig.get_suptitle() == f"cost and emissions vs {PRICE} ({note})"
    cost_ax = fig.axes[0]
    # one segment, 50 -> 100; none from 0 (whose mean is over other cases)
    assert [list(line.get_xdata()) for line in cost_ax.get_lines()] == [[50.0, 100.0]]
    cases = pd.DataFrame({"case_id": ["a"], "total_cost_usd": [1.0], "emissions_t": [1.0]})
    pareto = report_plots.cases_pareto_figure(cases, cases, note)
    assert pareto.axes[0].get_title() == f"cost vs emissions across cases ({note})"
    piv = {"total_cost_usd": pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], [0, 50], [0, 200])}
    assert report_plots.heatmap_figure(piv, PRICE, BATTERY, str, note).get_suptitle() == note


def test_the_pareto_set_says_the_work_each_case_leaves_undone(tmp_path):
    """With an unfinished-work penalty a case can be clean by not running its jobs: the
    report's Pareto set listed cost and emissions alone."""
    out = tmp_path / "sweep"
    write_sweep(out, [PRICE, BATTERY], PRICE_BATTERY, done=[0, 1, 2, 3])
    for i in range(4):
        path = out / "records" / f"c{i:02d}.json"
        rec = json.loads(path.read_text())
        undone = rec["params"][PRICE] > 0  # the priced cases leave 1 of 2 jobs unfinished
        rec["summary"]["unfinished_penalty_usd"] = 50_000.0 if undone else 0.0
        rec["summary"]["jobs"] = {"n_jobs": 2, "deadlines_met": 1 if undone else 2}
        path.write_text(json.dumps(rec))
    report(out)
    front = pd.read_csv(out / "report" / "pareto.csv")
    assert {"unfinished_penalty_usd", "jobs.deadlines_met", "jobs.n_jobs"} <= set(front)
    priced = front["case_id"].isin(["c02", "c03"])
    assert priced.any()
    assert (front.loc[priced, "jobs.deadlines_met"] == 1).all()
    assert (front.loc[priced, "unfinished_penalty_usd"] == 50_000.0).all()
    assert (front["jobs.n_jobs"] == 2).all()
