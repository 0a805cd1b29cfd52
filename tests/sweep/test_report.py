"""The sweep report (microgrid/sweeps/report.py) on hand-made sweep folders: differences
within the solver tolerance are marked and never called a trend, tables have thousands
separators and a planner's columns.

The synthetic carbon-price sweep: every case proven to a 1 % gap on a 1,000,000 USD basis,
so each cost is within ±10,000 USD of its optimum and two neighbours within 20,000 USD:
  price 0    1,000,000 USD  3,000 t
  price 50   1,000,600 USD  3,010 t   +600 USD   (0.06 %: within -> "≈", no trend)
  price 100  1,050,600 USD  2,800 t   +50,000 USD (5 %: beyond -> a trend)
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line

from microgrid.cli import main
from microgrid.sweeps.records import read_record, write_table
from microgrid.sweeps.report import sweep_report
from microgrid.sweeps.tables import format_cell
from microgrid.sweeps.tolerance import case_tolerance_usd, step_between

AXIS = "objective.carbon_price_usd_per_t"
ROWS = [(0, 1_000_000.0, 3000.0), (50, 1_000_600.0, 3010.0), (100, 1_050_600.0, 2800.0)]


def summary(cost: float, emissions: float, gap: float = 0.01) -> dict:
    """A case summary as microgrid.run writes it, with 20 baselines (many flat columns)."""
    baselines = {f"b{k}": {"total_cost_usd": 2e6 + k, "emissions_t": 3500.0} for k in range(20)}
    return {
        "total_cost_usd": cost,
        "emissions_t": emissions,
        "renewable_share": 0.25,
        "peak_import_mw": 87.6,
        "solver": {
            "status": "optimal",
            "objective_usd": cost,
            "mip_gap": gap,
            "bound_usd": cost - gap * 1_000_000.0,
            "gap_basis_usd": 1_000_000.0,
        },
        "baselines": baselines,
    }


def write_sweep(out, rows=ROWS) -> None:
    """A sweep folder (sweep.json, records/) whose cases finished with these KPIs."""
    (out / "records").mkdir(parents=True)
    cases = []
    for i, (price, cost, emissions) in enumerate(rows):
        cid = f"c{i:03d}"
        cases.append({"case_id": cid, "params": {AXIS: price}})
        rec = {"case_id": cid, "index": i, "status": "ok", "params": {AXIS: price},
               "wall_s": 1.5, "error": None, "summary": summary(cost, emissions)}  # fmt: skip
        (out / "records" / f"{cid}.json").write_text(json.dumps(rec))
    (out / "sweep.json").write_text(json.dumps({"name": "t", "axes": [AXIS], "cases": cases}))


@pytest.fixture
def report(tmp_path):
    out = tmp_path / "sweep"
    write_sweep(out)
    page = sweep_report(out)
    return out, re.sub(r"base64,[^']+", "base64,", page.read_text())


def rows_of(page: str, header: str) -> list[list[str]]:
    """The body rows (cell texts) of the first table after `header`."""
    table = page[page.index(header) :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [re.findall(r"<td>(.*?)</td>", tr, re.S) for tr in body.split("<tr>")[1:]]


def test_step_inside_the_tolerance_is_marked_and_a_5_pct_step_is_not(report):
    out, page = report
    table = pd.read_csv(out / "report" / "sensitivity_objective_carbon_price_usd_per_t.csv")
    assert table["cost_step_usd"].tolist()[1:] == [600.0, 50_000.0]
    assert table["within_tolerance"].tolist()[1:] == [True, False]
    assert table["cost_tolerance_usd_mean"].tolist() == [10_000.0] * 3
    rows = rows_of(page, f"<h3>{AXIS}</h3>")
    # value, cases, cost, emissions, tolerance, Δ cost, Δ emissions
    assert rows[1][-2:] == ["≈ +600", "≈ +10.0"]
    assert rows[2][-2:] == ["+50,000", "-210.0"]
    assert "≈: the difference from the row before is within" in page  # the footnote


def test_trend_text_claims_no_trend_inside_the_tolerance(report):
    _, page = report
    lines = re.findall(r"<li>(.*?)</li>", page)
    assert lines[0] == (
        f"{AXIS} 0 → 50: cost +600 USD, ≈ within the solver tolerance of ±20,000 USD "
        "(no trend); the emissions change of +10.0 t CO2e is no trend either."
    )
    assert lines[1] == f"{AXIS} 50 → 100: cost rises by 50,000 USD; emissions fall by 210.0 t CO2e."
    assert "rises" not in lines[0] and "raises" not in lines[0]


def test_tables_have_thousands_separators_and_a_planners_columns(report):
    out, page = report
    assert "1,000,600" in page and "1,050,600" in page
    assert not re.search(r"\d\.\d+e[+-]\d", page)  # no 1.001e+06
    header = page[page.index("<h2>All finished cases") :]
    shown = re.findall(r"<th>(.*?)</th>", header)
    assert shown[:4] == ["case", "status", AXIS, "total cost (USD)"]
    assert len(shown) <= 15
    every = pd.read_csv(out / "report" / "cases.csv")
    assert len(every.columns) > 45  # the 20 baselines' KPIs are in the CSV, not on the page
    assert "baselines.b19.total_cost_usd" in every


def test_step_between_by_hand():
    # 1 % gap on 1,000,000 USD each: ±10,000 USD, combined 20,000
    assert step_between(1_000_000, 1_000_600, 10_000, 10_000).within
    assert step_between(1_000_000, 1_020_000, 10_000, 10_000).within  # the edge counts
    assert not step_between(1_000_000, 1_020_001, 10_000, 10_000).within
    assert not step_between(1_000_000, 1_050_000, 10_000, 10_000).within
    # no known tolerance: only float noise is "the same"
    assert step_between(1_000_000, 1_000_000 + 1e-6, np.nan, np.nan).within
    assert not step_between(1_000_000, 1_000_001, np.nan, np.nan).within


def test_case_tolerance_from_basis_bound_or_gross_cost():
    df = pd.DataFrame(
        {
            "solver.mip_gap": [0.01, 0.02, 0.005, np.nan],
            "solver.gap_basis_usd": [900_000.0, np.nan, np.nan, np.nan],
            "solver.objective_usd": [-35_000.0, 1000.0, -10_000.0, 5.0],
            "solver.bound_usd": [-44_000.0, 400.0, np.nan, np.nan],
            # rolling windows: no basis or bound; gross = energy bought + demand charge
            "energy_cost_usd": [0.0, 0.0, -50_000.0, 0.0],
            "demand_cost_usd": [0.0, 0.0, 120_000.0, 0.0],
        }
    )
    tol = case_tolerance_usd(df).tolist()
    assert tol[:3] == pytest.approx([9_000.0, 600.0, 600.0])
    assert np.isnan(tol[3])


def test_format_cell_by_column():
    assert format_cell("total_cost_usd", 1_234_567.4) == "1,234,567"
    assert format_cell("total_cost_usd_mean", -35_663.1) == "-35,663"
    assert format_cell("emissions_t_max", 3450.86) == "3,450.9"
    assert format_cell("renewable_share", 0.2767) == "27.7 %"
    assert format_cell("solver.mip_gap", 0.0099148) == "0.991 %"
    assert format_cell("battery.energy_mwh", 200.0) == "200"  # an axis: no unit rule
    assert format_cell("n_cases", 12_000) == "12,000"
    assert format_cell("error", "ValueError: x") == "ValueError: x"


def test_a_case_missing_from_the_table_is_left_out(tmp_path):
    """The table leaves out a record made with other data or options (an interrupted
    resume): the report, built from the records, had mixed both kinds."""
    out = tmp_path / "sweep"
    write_sweep(out)
    recs = [json.loads((out / "records" / f"c00{i}.json").read_text()) for i in (0, 2)]
    write_table(out, recs)
    sweep_report(out)
    cases = pd.read_csv(out / "report" / "cases.csv")
    assert sorted(cases["case_id"]) == ["c000", "c002"]
    assert "2 of 3" in (out / "report.html").read_text()


def test_a_cases_run_figures_are_in_timings_csv_alone(tmp_path):
    """The page and report/cases.csv once showed each case's wall_s (and the CSV its host
    and finished_utc), and the page the spec's and base's absolute paths: two runs of a
    spec never gave the same report."""
    reports = []
    runs = (
        ("a", 1.5, "node-a", "2026-01-01T00:00:00Z"),
        ("b", 7.25, "node-b", "2026-01-02T09:30:00Z"),
    )
    for name, wall_s, host, finished in runs:
        out = tmp_path / name
        write_sweep(out)
        for rec_path in (out / "records").glob("*.json"):
            rec = json.loads(rec_path.read_text())
            rec.update(wall_s=wall_s, host=host, finished_utc=finished)
            rec_path.write_text(json.dumps(rec))
        meta = json.loads((out / "sweep.json").read_text())
        meta.update(spec=f"/home/{name}/spec.yaml", base=f"/home/{name}/sc/base.yaml")
        (out / "sweep.json").write_text(json.dumps(meta))
        sweep_report(out)
        reports.append(out)
    a, b = reports
    assert (a / "report.html").read_bytes() == (b / "report.html").read_bytes()
    assert "spec: spec.yaml<br>base: base.yaml" in (a / "report.html").read_text()
    files = sorted(p.name for p in (a / "report").iterdir())
    assert "timings.csv" in files
    for name in files:
        same = (a / "report" / name).read_bytes() == (b / "report" / name).read_bytes()
        assert same == (name != "timings.csv"), name
    timings = pd.read_csv(a / "report" / "timings.csv")
    assert list(timings.columns) == ["case_id", "wall_s", "host", "finished_utc"]
    assert timings["wall_s"].tolist() == [1.5] * 3 and set(timings["host"]) == {"node-a"}
    cases = pd.read_csv(a / "report" / "cases.csv")
    assert not {"wall_s", "host", "finished_utc"} & set(cases.columns)


def test_zipped_axes_share_one_section_with_both_values(tmp_path):
    """battery.power_mw and battery.energy_mwh zipped, crossed with the carbon price: one
    section for the pair (its table has both), where two identical ones were shown."""
    power, energy = "battery.power_mw", "battery.energy_mwh"
    out = tmp_path / "sweep"
    (out / "records").mkdir(parents=True)
    cases = []
    for i, ((p_mw, e_mwh), price) in enumerate(
        (pe, c) for pe in ((0, 0), (30, 120), (60, 240)) for c in (0, 150)
    ):
        params = {power: p_mw, energy: e_mwh, AXIS: price}
        cid = f"c{i:03d}"
        cases.append({"case_id": cid, "params": params})
        cost, emissions = 1e6 - 1e3 * p_mw + 10 * price, 3000.0 - p_mw - price
        rec = {"case_id": cid, "index": i, "status": "ok", "params": params, "wall_s": 1.0,
               "error": None, "summary": summary(cost, emissions)}  # fmt: skip
        (out / "records" / f"{cid}.json").write_text(json.dumps(rec))
    sweep = {"name": "t", "axes": [power, energy, AXIS], "cases": cases}
    (out / "sweep.json").write_text(json.dumps(sweep))
    page = sweep_report(out).read_text()
    headings = re.findall(r"<h3>(.*?)</h3>", page)
    assert f"{power} <small>(with {energy})</small>" in headings
    assert not any(h.startswith(energy) for h in headings)
    assert AXIS in headings
    rows = rows_of(page, f"<h3>{power} <small>")
    assert [r[:2] for r in rows] == [["0", "0"], ["30", "120"], ["60", "240"]]
    # each axis keeps its own CSV
    report_dir = out / "report"
    assert (report_dir / "sensitivity_battery_power_mw.csv").exists()
    assert (report_dir / "sensitivity_battery_energy_mwh.csv").exists()


@pytest.mark.parametrize(
    "damage",
    [{"summary": [1]}, {"summary": "x"}, {"index": "1"}, {"params": [1]}, {"status": 5}],
    ids=["summary-list", "summary-text", "index-text", "params-list", "status-number"],
)
def test_a_record_of_the_wrong_shape_is_read_as_no_record(tmp_path, capsys, damage):
    """A record whose summary was not an object, or whose index was text, was an internal
    error (exit 1) in `sweep-report` and on resume: it is read as a record that is not
    JSON is, as none (left out of the report; the case runs again on resume)."""
    out = tmp_path / "sweep"
    write_sweep(out)
    path = out / "records" / "c001.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **damage}))
    assert read_record(path) is None
    assert main(["sweep-report", str(out)]) == 0, capsys.readouterr().err
    cases = pd.read_csv(out / "report" / "cases.csv")
    assert sorted(cases["case_id"]) == ["c000", "c002"]


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        ({"cases": 5}, "field cases: must be a list"),
        ({"cases": [5]}, "field cases.0: must be an object with a text case_id"),
        ({"cases": [{"params": {}}]}, "field cases.0: must be an object with a text case_id"),
        ({"cases": [{"case_id": "c000", "params": 5}]}, "field cases.0.params: must be a JSON"),
        ({"axes": 5}, "field axes: must be a list of axis names"),
        ({"axes": {AXIS: 1}}, "field axes: must be a list of axis names"),
    ],
    ids=[
        "cases-number",
        "case-number",
        "case-without-id",
        "params-number",
        "axes-number",
        "axes-object",
    ],  # fmt: skip
)
def test_a_damaged_sweep_json_is_named_at_its_field(tmp_path, capsys, damage, field):
    """A sweep.json whose cases or axes had another type was an internal error (exit 1)."""
    out = tmp_path / "sweep"
    write_sweep(out)
    path = out / "sweep.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **damage}))
    line = one_error_line(capsys, ["sweep-report", str(out)])
    assert f"{path}, {field}" in line, line
    assert not (out / "report.html").exists()
