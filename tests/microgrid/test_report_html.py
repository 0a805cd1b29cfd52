"""`microgrid report`: the page's sections, its headline numbers (equal to summary.json's),
the Gantt bars (equal to jobs.csv), the baselines table (every key, breaches named), an
offline and byte-for-byte reproducible page, and one error line for a bad RUN_DIR."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from report_case import SECTION_IDS, tiny_operate_run

from microgrid.cli import main
from microgrid.report_html.figures import gantt_figure
from microgrid.report_html.kpis import headline_kpis
from microgrid.report_html.page import REPORT_NAME, _negative_cost_note
from microgrid.report_html.rundir import read_run
from microgrid.report_html.tables import baselines_table, bill_table, market_facts

# tests that read the module's run (one operate solve with its AC check and baselines)
SLOW = pytest.mark.slow

KPI = re.compile(
    r'<div class="kpi(?: part)?" data-key="([^"]*)" data-value="([^"]*)">'
    r'<div class="label">[^<]*</div><div class="value"><span class="num">([^<]*)'
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return tiny_operate_run(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(run_dir) -> str:
    return (run_dir / REPORT_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def summary(run_dir) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def _at(doc: dict, dotted: str):
    for part in dotted.split("."):
        doc = doc[part]
    return doc


@SLOW
def test_every_section_has_its_id_heading_and_sentence(page):
    ids = re.findall(r'<section id="([^"]+)"><h2>[^<]+</h2><p class="lead">[^<]+\.</p>', page)
    assert ids == SECTION_IDS
    for sid in SECTION_IDS:  # the navigation links every section
        assert f'<a href="#{sid}">' in page


@SLOW
def test_headline_numbers_are_summary_json_values(page, summary):
    kpis = {key: (raw, shown) for key, raw, shown in KPI.findall(page)}
    for key in ("total_cost_usd", "demand_cost_usd", "emissions_t", "grid_import_mwh",
                "peak_import_mw", "renewable_share", "curtailed_mwh", "solver.status",
                "operate.actual_cost_usd", "operate.unserved_energy_mwh"):  # fmt: skip
        assert key in kpis, key
    for key, (raw, _) in kpis.items():
        value = _at(summary, key)
        assert (raw if isinstance(value, str) else float(raw)) == value, key
    assert kpis["total_cost_usd"][1] == f"{summary['total_cost_usd']:,.0f}"
    assert kpis["emissions_t"][1] == f"{summary['emissions_t']:,.1f}"
    assert kpis["renewable_share"][1] == f"{100 * summary['renewable_share']:.1f}"
    assert "solver.mip_gap" not in kpis  # operate: no one solve proves a gap
    # the 2-hour outage with a 5 MW battery leaves load unserved (17 MWh in this case)
    assert float(kpis["operate.unserved_energy_mwh"][0]) > 1.0


@SLOW
def test_demand_charge_says_how_it_was_billed(page):
    # 2 days of January's 744 hours: 48 / 744 = 6.45 % of the month's charge
    assert "Billed prorated, per local calendar month: 2023-01 (6.5 % of the month, " in page
    assert "flat 1 USD/kW-month × " in page


@SLOW
def test_gantt_bars_are_the_segments_of_jobs_csv(run_dir):
    run = read_run(run_dir)
    jobs = pd.read_csv(run_dir / "jobs.csv")
    bars = gantt_figure(run).data[0]
    assert list(bars.y) == list(jobs["job_id"])
    starts = pd.to_datetime(jobs["start_utc"]).dt.tz_localize(None)  # the site is in UTC
    assert list(bars.base) == [t.isoformat() for t in starts]
    hours = (pd.to_datetime(jobs["end_utc"]) - pd.to_datetime(jobs["start_utc"])).dt.total_seconds()
    assert list(bars.x) == list(hours * 1000)  # bar lengths in ms on a date axis
    marks = {t.name: (list(t.x), list(t.y)) for t in gantt_figure(run).data[1:]}
    assert marks["release"] == (["2023-01-02T08:00:00"], ["train"])
    assert marks["deadline"] == (["2023-01-03T00:00:00"], ["train"])


def test_baselines_table_shows_every_key_and_names_breaches():
    summary = {
        "total_cost_usd": 900.0,
        "baselines": {
            "asap": {
                "total_cost_usd": 1000.0,
                "cost_saving_usd": 12345.6,
                "limit_breaches": {"ramp_steps": 1, "soc_final_shortfall_mwh": 35.44},
                "jobs": {"restarts": 3},
                "note": "<b>",
            },
            "storage-optimal": {"total_cost_usd": 950.0, "limit_breaches": {"ramp_steps": 0}},
        },
    }
    html = baselines_table(summary)
    keys = re.findall(r'<tr data-key="([^"]+)">', html)
    assert keys == ["total_cost_usd", "cost_saving_usd", "limit_breaches", "jobs.restarts", "note"]
    assert "<th>this plan</th><th>asap</th><th>storage-optimal</th>" in html
    row = html[html.index('data-key="limit_breaches"') :].split("</tr>")[0]
    assert '<td class="breach">ramp: 1 step, soc final shortfall: 35.4 MWh</td>' in row
    assert '<td class="ok">none</td>' in row
    assert "<td>12,346</td>" in html and "<td>900</td>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # text from the file is escaped


@SLOW
def test_the_run_report_equals_the_commands_byte_for_byte(run_dir, tmp_path, capsys):
    out = tmp_path / "again.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report {out}"
    assert out.read_bytes() == (run_dir / REPORT_NAME).read_bytes()


@SLOW
def test_the_page_loads_nothing_from_the_network(page):
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
    assert tags and not [t for t in tags if re.search(r"\b(?:src|href)=", t)], tags
    assert page.count("<script") == 1 + 5  # plotly.js, then one per figure (not in kpis)


def _one_error(capsys, code: int, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_a_missing_folder_is_one_error_line(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope")])
    _one_error(capsys, code, "nope", "result folder not found")


def test_a_folder_that_is_not_a_run_result_is_one_error_line(tmp_path, capsys):
    code = main(["report", str(tmp_path)])
    _one_error(capsys, code, "not a `microgrid run` result folder (summary.json is missing)")
    assert not (tmp_path / REPORT_NAME).exists()


def test_another_kind_of_result_folder_is_one_error_line(tmp_path, capsys):
    (tmp_path / ".microgrid-result.json").write_text(
        '{"format": "microgrid-result", "format_version": 1, "kind": "pareto"}'
    )
    _one_error(capsys, main(["report", str(tmp_path)]), "holds a microgrid pareto result")


def test_a_broken_summary_is_one_error_line(tmp_path, capsys):
    (tmp_path / "summary.json").write_text('{"total_cost_usd": 1,')
    _one_error(capsys, main(["report", str(tmp_path)]), "summary.json", "invalid JSON")
    (tmp_path / "summary.json").write_text('{"total_cost_usd": 1}')
    _one_error(capsys, main(["report", str(tmp_path)]), "missing key(s): emissions_t")


@SLOW
@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("total_cost_usd", "12", "summary.json, field total_cost_usd: must be a number"),
        ("solver.mip_gap", [], "field solver.mip_gap: must be a number"),
        ("demand_charge.months", {}, "field demand_charge: must hold a list of months"),
        ("baselines.asap", 3, "field baselines.asap: must be a JSON object"),
        ("bill.lines.energy_usd", "x", "field bill.lines.energy_usd: must be a number"),
        ("bill.months", {}, "field bill: must hold lines, labels and months"),
    ],
)
def test_a_damaged_summary_is_one_error_line(run_dir, tmp_path, capsys, path, value, message):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    summary = json.loads((folder / "summary.json").read_text())
    *parents, last = path.split(".")
    (_at(summary, ".".join(parents)) if parents else summary)[last] = value
    (folder / "summary.json").write_text(json.dumps(summary))
    _one_error(capsys, main(["report", str(folder)]), message)


@SLOW
def test_a_timeseries_column_of_text_is_one_error_line(run_dir, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "timeseries.parquet").unlink()  # the CSV is read when there is no parquet
    ts = pd.read_csv(folder / "timeseries.csv")
    ts["grid_import_mw"] = ts["grid_import_mw"].astype(object)
    ts.loc[3, "grid_import_mw"] = "lots"
    ts.to_csv(folder / "timeseries.csv", index=False)
    _one_error(
        capsys,
        main(["report", str(folder)]),
        "timeseries.csv, line 5, field grid_import_mw: not a number",  # row 3 after the header
    )


@SLOW
def test_an_out_file_in_a_missing_folder_is_one_error_line(run_dir, tmp_path, capsys):
    code = main(["report", str(run_dir), "--out", str(tmp_path / "no" / "r.html")])
    _one_error(capsys, code, "folder not found for the report")


@SLOW
def test_an_out_file_that_is_not_a_report_is_never_replaced(run_dir, tmp_path, capsys):
    mine = tmp_path / "notes.html"
    mine.write_text("<html>my notes</html>")
    code = main(["report", str(run_dir), "--out", str(mine)])
    _one_error(capsys, code, "notes.html", "is not a microgrid report: not replaced")
    assert mine.read_text() == "<html>my notes</html>"
    link = tmp_path / "link.html"
    link.symlink_to(mine)
    code = main(["report", str(run_dir), "--out", str(link)])
    _one_error(capsys, code, "is a symbolic link")
    earlier = tmp_path / "earlier.html"
    assert main(["report", str(run_dir), "--out", str(earlier)]) == 0
    capsys.readouterr()
    assert main(["report", str(run_dir), "--out", str(earlier)]) == 0  # ours: replaced


def test_bill_table_has_a_row_per_line_and_a_column_per_month():
    bill = {
        "lines": {"energy_period_1_usd": 30.0, "demand_tou_2_usd": 12.5, "dr_capacity_usd": -7.0},
        "labels": {
            "energy_period_1_usd": "Energy, tariff period 1",
            "demand_tou_2_usd": "Demand charge, TOU period 2",
            "dr_capacity_usd": "DR program: capacity payment",
        },
        "months": [
            {"month": "2023-07", "lines": {"energy_period_1_usd": 10.0}, "total_usd": 10.0},
            {
                "month": "2023-08",
                "lines": {"energy_period_1_usd": 20.0, "demand_tou_2_usd": 12.5},
                "total_usd": 32.5,
            },
        ],
        "program_lines": {"dr_capacity_usd": -7.0},
        "total_usd": 35.5,
    }
    html = bill_table(bill)
    assert "<th>2023-07</th><th>2023-08</th><th>total</th>" in html
    row = re.search(r'<tr data-key="demand_tou_2_usd">(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[0] == "&mdash;" and cells[2] == cells[1]  # July has no TOU charge
    assert "Demand charge, TOU period 2 (USD)" in row
    dr = re.search(r'<tr data-key="dr_capacity_usd">(.*?)</tr>', html).group(1)
    assert dr.count("&mdash;") == 2  # settled per program, not per month
    assert re.search(r'<tr data-key="total_usd">', html)


def test_market_facts_name_the_tag_and_the_commitment():
    summary = {
        "coincident_peak": {
            "tag_mw": 13.77,
            "n_peaks": 4,
            "charge_usd": 344_318.0,
            "intervals": [{"covered": True}, {"covered": True}, {"covered": False}],
        },
        "operate": {
            "demand_response_program": {"commit_mw": 11.0, "events": [{}], "net_revenue_usd": 5.0}
        },
    }
    facts = dict(market_facts(summary))
    assert facts["coincident-peak tag (MW)"].startswith("13.77 (2 of 4 intervals")
    assert "344,318 USD" in facts["coincident-peak tag (MW)"]
    assert facts["DR program commitment (MW)"].startswith("11.0 (1 events; 5 USD")
    assert market_facts({}) == []


def test_job_ids_in_the_charts_are_shown_as_written(run_dir, tmp_path):
    """Plotly reads `<a href>` and `<i>` in its text: a job id with them was a live link."""
    run = read_run(run_dir)
    evil = '<a href="https://example.com/x">pre</a>&<i>b</i>'
    first = run.segments["job_id"].iloc[0]
    run.segments["job_id"] = run.segments["job_id"].replace(first, evil)
    for j in run.jobs_spec:
        if j["id"] == first:
            j["id"] = evil
    fig = gantt_figure(run)
    shown = '&lt;a href="https://example.com/x"&gt;pre&lt;/a&gt;&amp;&lt;i&gt;b&lt;/i&gt;'
    assert shown in fig.data[0].y and shown in fig.layout.yaxis.categoryarray
    assert all("<" not in str(y) for trace in fig.data for y in (trace.y or ()))


def test_an_operate_run_claims_no_proven_gap(page):
    assert 'data-key="solver.mip_gap"' not in page  # the run is tiny_operate_run's
    assert "no single solve proves a gap for the whole run" in page


def test_the_events_table_gives_its_times_with_the_zone(page):
    row = page[page.index("<h3>Events</h3>") :].split("</tr>")[1]
    assert "2023-01-02 12:00 UTC" in row and "Event costs: " in page


def test_baselines_table_fills_the_plan_and_blanks_a_baseline_without_a_plan():
    summary = {
        "total_cost_usd": -10.0,
        "solver": {"status": "optimal", "objective_usd": -10.0},
        "baselines": {
            "storage-optimal": {"status": "infeasible", "jobs": {"deadlines_met": 2}},
            "asap": {"status": "simulated", "objective_usd": 5.0, "jobs": {"deadlines_met": 2}},
        },
    }
    html = baselines_table(summary)
    status = html[html.index('data-key="status"') :].split("</tr>")[0]
    assert "<td>optimal</td><td>infeasible</td><td>simulated</td>" in status
    met = html[html.index('data-key="jobs.deadlines_met"') :].split("</tr>")[0]
    assert met.endswith('<td class="na">&mdash;</td><td>2</td>')  # infeasible: none met
    objective = html[html.index('data-key="objective_usd"') :].split("</tr>")[0]
    assert "<td>-10</td>" in objective


def test_the_plans_objective_in_the_baselines_table_is_the_baselines_definition():
    """The plan's row showed the solver's objective (the tariff's fixed charge left out)
    beside the baselines' (total cost with it, plus carbon)."""
    summary = {
        "total_cost_usd": 113_272.0,  # a fixed charge of 174 USD in it
        "carbon_cost_usd": 28.0,
        "solver": {"status": "optimal", "objective_usd": 113_098.0 + 28.0},
        "baselines": {"asap": {"status": "simulated", "objective_usd": 229_961.0}},
    }
    html = baselines_table(summary)
    objective = html[html.index('data-key="objective_usd"') :].split("</tr>")[0]
    assert "<td>113,300</td><td>229,961</td>" in objective


def test_savings_above_100_pct_are_explained_where_the_plan_earns():
    assert "saving against a baseline is more than that baseline's whole cost" in (
        _negative_cost_note({"total_cost_usd": -39_841.2})
    )
    assert _negative_cost_note({"total_cost_usd": 12.0}) == ""
    assert _negative_cost_note({"total_cost_usd": 0.0}) == ""  # a saving of 100 %: no note


def test_an_operate_outage_is_held_to_a_zero_limit_in_the_power_flow_summary(summary):
    # the run's 2-hour grid_outage event (report_case.OUTAGE): the limits are the plant's
    assert summary["powerflow"]["outage_steps_solved"] == 2


def test_an_infeasible_baseline_shows_why_it_has_no_plan():
    """summary.json had storage-optimal's reason; the report's reason row showed "—"."""
    reason = "asap's jobs cannot run within the limits (import_limit (grid) at step 44)"
    summary = {
        "total_cost_usd": 10.0,
        "solver": {"status": "optimal"},
        "baselines": {
            "asap": {"status": "simulated", "objective_usd": 5.0},
            "storage-optimal": {"status": "infeasible", "reason": reason, "jobs": {"n_jobs": 6}},
        },
    }
    html = baselines_table(summary)
    row = html[html.index('data-key="reason"') :].split("</tr>")[0]
    assert row.endswith(f"<td>{reason.replace(chr(39), '&#x27;')}</td>")
    jobs = html[html.index('data-key="jobs.n_jobs"') :].split("</tr>")[0]
    assert jobs.endswith('<td class="na">&mdash;</td>')  # still no figures without a plan


def test_the_objective_row_and_the_gap_card_say_which_holds_the_fixed_charge():
    """The baselines table gave "objective 926,537", the gap card 925,973: the tariff's
    fixed charge of 565 USD, said by neither beside the other."""
    fixed, carbon, total = 564.516, 265_036.9, 661_500.2
    solver_objective = total - fixed + carbon
    summary = {
        "total_cost_usd": total,
        "carbon_cost_usd": carbon,
        "fixed_cost_usd": fixed,
        "solver": {
            "status": "optimal",
            "objective_usd": solver_objective,
            "mip_gap": 0.0067,
            "bound_usd": 919_803.0,
            "gap_basis_usd": solver_objective,
        },
        "baselines": {"asap": {"status": "simulated", "objective_usd": 1_423_905.2}},
    }
    html = baselines_table(summary)
    row = html[html.index('data-key="objective_usd"') :].split("</tr>")[0]
    table_objective = re.findall(r"<td>([^<]*)</td>", row)[0]
    assert table_objective == f"{total + carbon:,.0f}"
    assert "<th>objective: total cost with the fixed charge, plus carbon cost (USD)</th>" in row
    [gap] = [k for k in headline_kpis(summary) if k.key == "solver.mip_gap"]
    solver_text = (
        f"without the tariff's fixed charge, plus the carbon cost) of {solver_objective:,.0f}"
    )
    assert solver_text in gap.meaning
    assert (
        f"the baselines table's objective adds the tariff's fixed charge of 565 USD: "
        f"{table_objective} USD"
    ) in gap.meaning
    del summary["baselines"]  # no baselines table to speak of
    [gap] = [k for k in headline_kpis(summary) if k.key == "solver.mip_gap"]
    assert "baselines table" not in gap.meaning
    summary["baselines"] = {"asap": {"status": "simulated"}}
    del summary["fixed_cost_usd"]  # no fixed charge: the two objectives are the same
    [gap] = [k for k in headline_kpis(summary) if k.key == "solver.mip_gap"]
    assert "baselines table" not in gap.meaning
