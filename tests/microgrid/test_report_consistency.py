"""The report says what the CLI and summary.json say (outside audit): operate's plan-mode
reference and missed deadlines, the value of dispatch named as the CLI names it, an old
folder's demand-charge rate, the demand line and bill table in coincident-peak alerts
mode, the demand charge's rate as the tariff gives it, and no "-0" in
planned_vs_actual.csv. Each case's figures are worked out from its inputs."""

from __future__ import annotations

import copy
import html
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

import microgrid
import optimize
from microgrid.bill_summary import planning_estimates
from microgrid.billing import demand_charge_summary, flat_demand_charges
from microgrid.cli_summary import (
    _billing_note,
    _missed_deadline_line,
    _operate_lines,
    _value_of_line,
)
from microgrid.coincident_peak import EXPECTED_LINE
from microgrid.operate.report import _SETPOINT_VS_ACTUAL, planned_vs_actual
from microgrid.report_html.kpis import demand_meaning, headline_kpis
from microgrid.report_html.page import REPORT_NAME, _value_of
from microgrid.report_html.tables import bill_table, estimates_note, operate_facts

CHICAGO = "America/Chicago"
KOLKATA = "Asia/Kolkata"
PENALTY_USD_PER_H = 1000.0


def _text(page: str) -> str:
    """The page's visible text: tags as spaces, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def missed_run(tmp_path_factory):
    """TINY in operate mode with its job's window (08:00-12:00, 4 h of work at full power)
    under a grid outage the 5 MW battery cannot carry the 10 MW job through: the job
    misses its deadline, priced by the unfinished-work penalty."""
    folder = tmp_path_factory.mktemp("missed")
    data = copy.deepcopy(TINY)
    data["jobs"]["items"][0].update(release_h=8, deadline_h=12)
    outage = {"kind": "grid_outage", "start": "2023-01-02T08:00", "end": "2023-01-02T12:00"}
    data["operate"] = {"lookahead_h": 24, "replan_every_steps": 24, "events": [outage]}
    data["objective"] = {"unfinished_work_penalty_usd_per_h": PENALTY_USD_PER_H}
    path = folder / "tiny-missed.yaml"
    path.write_text(yaml.safe_dump(data))
    out = microgrid.run(path, mode="operate", powerflow=False, baselines=False).write(
        folder / "run"
    )
    return json.loads((out / "summary.json").read_text()), (out / REPORT_NAME).read_text()


def test_operate_report_states_the_plan_reference_and_the_missed_deadlines(missed_run):
    summary, page = missed_run
    op = summary["operate"]
    [missed] = op["missed_deadlines"]
    assert op["plan_reference"]["plan_cost_usd"] is not None
    assert missed["penalty_usd"] == pytest.approx(PENALTY_USD_PER_H * missed["unfinished_h"])
    text = _text(page)
    # the CLI's lines, as the report's operate section and KPIs say them
    [line] = [s for s in _operate_lines(op) if "vs plan mode" in s]
    reference = line.split("vs plan mode", 1)[1].strip()
    assert reference in text
    missed_line = _missed_deadline_line(missed).split("missed deadline", 1)[1].strip()
    assert missed_line in text
    kpis = {k.key: k for k in headline_kpis(summary)}
    ref = kpis["operate.plan_reference.plan_cost_usd"]
    assert ref.value == op["plan_reference"]["plan_cost_usd"]
    diff = op["plan_reference"]["actual_minus_plan_usd"]
    assert f"actual {'+' if diff > 0 else ''}{diff:,.0f} USD" in ref.meaning
    assert missed_line in kpis["jobs.deadlines_met"].meaning
    facts = dict(operate_facts(op))
    assert html.unescape(facts["vs plan mode"]) == reference


def test_an_unpriced_missed_deadline_and_an_old_folder_read_gracefully(missed_run):
    summary = copy.deepcopy(missed_run[0])
    op = summary["operate"]
    op["missed_deadlines"][0]["penalty_usd"] = None
    expected = _missed_deadline_line(op["missed_deadlines"][0]).split("missed deadline", 1)[1]
    assert "not priced" in expected
    assert (
        expected.strip() in {k.key: k for k in headline_kpis(summary)}["jobs.deadlines_met"].meaning
    )
    # a folder written before the fields: no reference card, no missed-deadline facts
    del op["plan_reference"], op["missed_deadlines"]
    assert "operate.plan_reference.plan_cost_usd" not in {k.key for k in headline_kpis(summary)}
    labels = [label for label, _ in operate_facts(op)]
    assert "vs plan mode" not in labels and "missed deadline" not in labels


VALUE_OF = {
    "storage_usd": 22_357.0,
    "job_flexibility_usd": 43_055.0,
    "storage_emissions_t": -3.6,
    "job_flexibility_emissions_t": 292.6,
    "optimum_gap_usd": 0.0,
    "job_flexibility_within_gap": False,
    "asap_keeps_all_limits": True,
}


def test_the_value_of_dispatch_is_named_alike_in_the_cli_and_the_report():
    line = _value_of_line(VALUE_OF)
    assert line.startswith(f"  value of dispatch {VALUE_OF['storage_usd']:,.0f} USD")
    section = html.unescape(_value_of({"value_of": VALUE_OF}))
    assert "storage (USD)" not in section and "What storage" not in section
    assert f"dispatch, asap → storage-optimal (USD)</dt><dd>{VALUE_OF['storage_usd']:,.0f}" in (
        section
    )
    # what the figure measures, in the CLI's words
    measures = re.search(r"\(asap -> storage-optimal: ([^)]*?) optimised", line).group(1)
    assert f"asap → storage-optimal: {measures} optimised" in section


def test_an_old_summarys_demand_charge_keeps_its_rate():
    # summary.json["demand_charge"] as 8b9605b wrote it: one rate, no per-charge fields
    share, peak_mw, rate = 72 / 744, 66.9, 8.0
    charge_usd = rate * 1000.0 * share * peak_mw
    old = {
        "billing": "prorated",
        "usd_per_kw_month": rate,
        "months": [
            {"month": "2023-08", "share_billed": share, "peak_import_mw": peak_mw,
             "charge_usd": charge_usd},
        ],
    }  # fmt: skip
    text = demand_meaning({"demand_charge": old})
    assert (
        f"2023-08 ({100 * share:.1f} % of the month, metered peak {peak_mw:.1f} MW): flat "
        f"{rate:g} USD/kW-month on the month's billed demand × {100 * share:.1f} % = "
        f"{charge_usd:,.0f} USD"
    ) in text


def _grid_with(n: int, peak_charges: tuple) -> optimize.Grid:
    """``n`` hourly steps of a 100 MW connection at 50 USD/MWh with ``peak_charges``."""
    return optimize.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.full(n, 50.0),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        peak_charges=peak_charges,
    )


def _alerts_case():
    """Four days in Dallas across August's end (72 h in August, 24 in September), a flat
    8 USD/kW-month charge and two alert days in August: the demand-charge summary and the
    bill's planning estimates of the same grid and imports."""
    index = pd.date_range("2023-08-29", periods=96, freq="h", tz=CHICAGO).tz_convert("UTC")
    imp = 20.0 + 10.0 * np.sin(np.arange(96) / 5.0)
    flats = flat_demand_charges(index, CHICAGO, 1.0, 8.0, "prorated")
    day = np.arange(96) // 24
    alerts = (
        optimize.PeakCharge("cp_alert@2023-08-29", EXPECTED_LINE, 3_125.0, day == 0),
        optimize.PeakCharge("cp_alert@2023-08-31", EXPECTED_LINE, 5_000.0, day == 2),
    )
    grid = _grid_with(96, (*flats, *alerts))
    dc = demand_charge_summary(grid, index, CHICAGO, "prorated", imp)
    expected_usd = 3_125.0 * imp[day == 0].max() + 5_000.0 * imp[day == 2].max()
    return dc, planning_estimates(grid, imp), expected_usd


def test_the_alerts_demand_line_splits_the_flat_charge_from_the_expected_one():
    dc, _, expected_usd = _alerts_case()
    flat_usd = sum(
        c["charge_usd"] for m in dc["months"] for c in m["charges"] if c["kind"] == "flat"
    )
    assert dc["charge_usd"] == pytest.approx(flat_usd + expected_usd)
    shares = ", ".join(f"{100 * m['share_billed']:.1f} % of {m['month']}" for m in dc["months"])
    note = _billing_note({"demand_charge": dc})
    assert note.startswith(f": flat {flat_usd:,.0f} (prorated: {shares}) + ")
    assert (
        f"coincident-peak alerts' expected charge {expected_usd:,.0f} (the plan's estimate" in note
    )


def test_the_bill_tables_estimate_row_is_in_its_month_and_explained():
    dc, estimates, expected_usd = _alerts_case()
    key = f"{EXPECTED_LINE}_usd"
    assert estimates[key] == pytest.approx(expected_usd)
    bill = {
        "lines": {}, "labels": {key: "expected charge"}, "program_lines": {}, "total_usd": 0.0,
        "months": [{"month": m["month"], "lines": {}, "total_usd": 0.0} for m in dc["months"]],
        "estimates": estimates,
    }  # fmt: skip
    row = re.search(rf'<tr data-key="{key}".*?</tr>', bill_table(bill, dc)).group(0)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells == [f"{expected_usd:,.0f}", "0", f"{expected_usd:,.0f}"]  # Aug, Sep, total
    # without the demand-charge summary (an old folder): no month's share is claimed
    row = re.search(rf'<tr data-key="{key}".*?</tr>', bill_table(bill)).group(0)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row)[:2] == ["&mdash;", "&mdash;"]
    assert "real intervals" in estimates_note(bill)


@pytest.mark.parametrize("rate", [8.0, 12.345, 7.5])
def test_the_demand_charge_rate_is_the_tariffs_across_a_half_hour_zones_month_end(rate):
    # kol30's period: hourly UTC steps from 00:30 local, 2023-08-30 to 09-02
    start = pd.Timestamp("2023-08-30T00:30", tz=KOLKATA)
    index = pd.date_range(start, periods=72, freq="h").tz_convert("UTC")
    flats = flat_demand_charges(index, KOLKATA, 1.0, rate, "prorated")
    grid = _grid_with(72, flats)
    dc = demand_charge_summary(grid, index, KOLKATA, "prorated", np.full(72, 20.0))
    assert [m["month"] for m in dc["months"]] == ["2023-08", "2023-09"]
    assert [c["usd_per_kw_month"] for m in dc["months"] for c in m["charges"]] == [rate, rate]


def test_planned_vs_actual_writes_no_negative_zero():
    # every set-point and actual column a zero with its sign bit set (a negated zero)
    columns = [*_SETPOINT_VS_ACTUAL, "unserved_mw"]
    index = pd.date_range("2023-01-02", periods=3, freq="h", tz="UTC")
    frame = pd.DataFrame(-0.0, index=index, columns=columns)
    out = planned_vs_actual(SimpleNamespace(actual=frame, setpoints=frame))
    assert "-0" not in out.to_csv(index=False, float_format="%.9g")
