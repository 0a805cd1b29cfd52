"""Headline figures that must not mislead a reader: a saving given as a share of a cost
where a total is a net revenue (R1's "saves 3,679,304 USD (101.1 %)"), a month's demand
charge billed in full shown as if the period covered the whole month, local times
written without their zone, and a table column without its unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.baselines.result import BaselineResult
from microgrid.baselines.summary import baseline_summary
from microgrid.cli_summary import _baseline_line, _billing_note, _operate_lines
from microgrid.costs import pct_of_cost
from microgrid.operate.report import _scheduled_outages
from microgrid.report_html.kpis import demand_meaning
from microgrid.report_html.tables import operate_facts
from microgrid.sweeps.report import CASE_COLUMNS, PARETO_WORK_COLUMNS
from microgrid.sweeps.tables import header
from microgrid.wall_time import parse_time_utc

_COST_KEYS = ("energy_usd", "demand_usd", "fuel_usd", "wear_usd", "carbon_usd",
              "unfinished_penalty_usd", "dr_program_usd")  # fmt: skip


def _baseline(total_usd: float, emissions_t: float) -> BaselineResult:
    rows = pd.DataFrame(
        {"facility_load_mw": [1.0], "grid_import_mw": [1.0], "grid_export_mw": [0.0]}
    )
    costs = dict.fromkeys(_COST_KEYS, 0.0) | {
        "energy_usd": total_usd,
        "total_cost_usd": total_usd,
        "objective_usd": total_usd,
        "emissions_t": emissions_t,
    }
    return BaselineResult("asap", rows, costs, {}, {"ramp_breach_steps": 0})


def _optimum(total_usd: float, emissions_t: float) -> dict:
    return {"total_cost_usd": total_usd, "carbon_cost_usd": 0.0, "emissions_t": emissions_t}


def test_no_saving_share_where_the_plan_earns_a_net_revenue():
    """R1: asap pays 3,639,463 USD, the plan earns 39,841 USD net; the saving is more
    than asap's whole cost, and "101.1 %" read as a share of a cost makes no sense."""
    base_usd, plan_usd = 3_639_463.3, -39_840.7
    b = baseline_summary(_baseline(base_usd, 3_738.3), _optimum(plan_usd, 3_411.9), step_h=1.0)
    assert b["cost_saving_usd"] == base_usd - plan_usd
    assert b["cost_saving_pct"] is None and b["objective_saving_pct"] is None
    # emissions are never negative: their share stands
    assert b["emissions_saving_pct"] == 100 * (3_738.3 - 3_411.9) / 3_738.3
    # both pay: the share of the baseline's cost, as before
    b = baseline_summary(_baseline(base_usd, 1.0), _optimum(1_000_000.0, 1.0), step_h=1.0)
    assert b["cost_saving_pct"] == 100 * (base_usd - 1_000_000.0) / base_usd


def test_the_cli_line_gives_both_totals_where_one_is_a_net_revenue():
    b = {"total_cost_usd": 3_639_463.3, "cost_saving_usd": 3_679_304.0,
         "cost_saving_pct": None, "emissions_saving_pct": 8.73,
         "limit_breaches": {"ramp_breach_steps": 0, "dr_cap_breach_steps": 0}}  # fmt: skip
    line = _baseline_line("asap", b)
    assert line.startswith(
        "  vs asap             saves 3,679,304 USD (asap pays 3,639,463 USD, the plan "
        "earns 39,841 USD net) and 8.7 % carbon; "
    )
    # an older summary.json's share above 100 % is not repeated
    assert " %) " not in _baseline_line("asap", b | {"cost_saving_pct": 101.09})


def _full_month_summary() -> dict:
    """R1's week billed `full_month`: August's whole charge on a week's peak."""
    charge = {"key": "demand_flat@2023-08", "line_item": "demand_flat", "kind": "flat",
              "period": None, "usd_per_kw_month": 8.0, "usd_per_mw": 8000.0,
              "peak_import_mw": 73.37, "billed_demand_mw": 73.37, "set_by": "peak",
              "charge_usd": 586_960.0}  # fmt: skip
    month = {"month": "2023-08", "share_billed": 1.0, "peak_import_mw": 73.37,
             "charge_usd": 586_960.0, "charges": [charge]}  # fmt: skip
    return {
        "demand_charge": {"billing": "full_month", "charge_usd": 586_960.0, "months": [month]},
        "bill": {"months": [{"month": "2023-08", "month_share": 168 / 744}]},
    }


def test_a_month_billed_in_full_is_not_shown_as_covered_in_full():
    """It said "(full_month: 100.0 % of 2023-08)" and "2023-08 (100.0 % of the month, ...":
    the week is 22.6 % of August, billed as if it were all of it."""
    s = _full_month_summary()
    assert _billing_note(s) == "  (full_month: all of 2023-08 though the period is 22.6 % of it)"
    head = "2023-08 (billed in full though the period is 22.6 % of the month, metered peak"
    assert f"{head} 73.4 MW)" in demand_meaning(s)
    # a month the period covers whole reads as before
    s["bill"]["months"][0]["month_share"] = 1.0
    assert _billing_note(s) == "  (full_month: 100.0 % of 2023-08)"
    assert "2023-08 (100.0 % of the month, metered peak" in demand_meaning(s)


def test_a_charge_set_above_a_prior_peak_says_it_is_the_months_prior_peak():
    """A month whose tariff gives a prior peak of 30 MW, metered at 27.7 MW in the period,
    read "metered peak 27.7 MW): flat 8 USD/kW-month × 32.0 MW (set by a ratchet, above the
    peak of 30.0 MW)": two peaks that contradict one another (an outside audit)."""
    s = _full_month_summary()
    month = s["demand_charge"]["months"][0]
    month["peak_import_mw"] = 27.7
    charge = month["charges"][0]
    charge.update(peak_import_mw=30.0, billed_demand_mw=32.0, set_by="ratchet")
    text = demand_meaning(s)
    assert "metered peak 27.7 MW)" in text
    assert "32.0 MW (set by a ratchet, above the month's prior peak of 30.0 MW)" in text
    charge.update(billed_demand_mw=30.0, set_by="prior_peak")
    assert "30.0 MW (the month's prior peak, before the period)" in demand_meaning(s)
    # the period's own peak reads as before
    charge.update(peak_import_mw=27.7, billed_demand_mw=32.0, set_by="ratchet")
    assert "32.0 MW (set by a ratchet, above the peak of 27.7 MW)" in demand_meaning(s)


def test_a_prorated_month_reads_as_before():
    s = _full_month_summary()
    s["demand_charge"]["billing"] = "prorated"
    s["demand_charge"]["months"][0]["share_billed"] = 168 / 744
    assert _billing_note(s) == f"  (prorated: {np.round(100 * 168 / 744, 1)} % of 2023-08)"


def test_events_csv_times_carry_their_utc_offset(tmp_path):
    """events.csv said `2023-01-02 09:00:00`: local wall time with no zone, where the DR
    program's and coincident-peak rows give ISO 8601 with the offset."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["site"]["timezone"] = "America/New_York"
    data["events"] = {"outages": [{"start": "2023-01-02T09:00", "end": "2023-01-02T12:00"}]}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    rows = _scheduled_outages(microgrid.load_scenario(path), first=0)
    assert (rows[0]["start_local"], rows[0]["end_local"]) == (
        "2023-01-02T09:00:00-05:00",
        "2023-01-02T12:00:00-05:00",
    )
    # the report reads them back as the same instants
    start = parse_time_utc(rows[0]["start_local"], "America/New_York")
    assert start == pd.Timestamp("2023-01-02T14:00", tz="UTC")


def test_every_column_the_sweep_report_shows_has_a_header_with_its_unit():
    """The Pareto set's table headed a column `unfinished_penalty_usd`, its raw key."""
    for col in (*CASE_COLUMNS, *PARETO_WORK_COLUMNS):
        assert header(col) != col, col
    assert header("unfinished_penalty_usd").endswith("(USD)")


def _operate_carbon() -> dict:
    """R1's carbon-aware week in operate mode: its total cost 1,009,369 USD, its actual
    cost 1,366,491 USD (the carbon price in it), the plan-mode optimum costed alike."""
    ref = {"plan_cost_usd": 302_180.8, "plan_gap_usd": 10_498.7,
           "actual_minus_plan_usd": 1_064_309.9, "actual_minus_plan_pct": 352.2}  # fmt: skip
    costs = {"energy_usd": 789_620.3, "demand_usd": 214_938.1, "wear_usd": 4_810.9,
             "carbon_usd": 357_121.49, "unserved_usd": 0.0}  # fmt: skip
    return {"actual_cost_usd": 1_366_490.8, "unserved_energy_mwh": 0.0, "n_solves": 168,
            "costs": costs, "plan_reference": ref}  # fmt: skip


def test_operates_actual_cost_says_what_it_holds_beyond_the_total():
    """`total cost 1,009,369 USD` then `actual cost 1,366,491 USD` and `vs plan mode
    302,181 USD` (plan mode's total: -38,751 USD), with no word that both hold the carbon
    price the lines above call "not in the total"."""
    op = _operate_carbon()
    lines = _operate_lines(op)
    assert lines[0].startswith(
        "  operate         actual cost 1,366,491 USD (the total cost with the carbon price "
        "357,121 USD), unserved 0.00 MWh"
    )
    plan = [s for s in lines if "vs plan mode" in s][0]
    assert "(its optimum: perfect foresight, no operate.events; costed as the actual cost)" in plan
    # the tariff's fixed charge is in the total cost, not in the actual cost
    fixed = "(the total cost with the carbon price 357,121 USD, without the fixed charge 339 USD)"
    assert fixed in _operate_lines(op, fixed_usd=339.0)[0]
    facts = dict(operate_facts(op))
    assert "the total cost with the carbon price 357,121 USD" in facts["actual cost (USD)"]
    assert "costed as the actual cost" in facts["vs plan mode"]
    # without the carbon price, unserved energy or a fixed charge: the lines as before
    op["costs"]["carbon_usd"] = 0.0
    assert "actual cost 1,366,491 USD, unserved" in _operate_lines(op)[0]
    assert "costed as" not in [s for s in _operate_lines(op) if "vs plan mode" in s][0]


def test_no_share_of_a_net_revenue_against_plan_mode():
    """R1's week in operate mode: 'vs plan mode -39,841 USD (...); actual +1,095,623 USD
    (+2,750.0 %)', a share of a plan that earns money."""
    ref = {"plan_cost_usd": -39_840.7, "plan_gap_usd": 5_345.0,
           "actual_cost_usd": 1_055_782.4, "actual_minus_plan_usd": 1_095_623.1,
           "actual_minus_plan_pct": 2_750.0}  # fmt: skip
    op = {"actual_cost_usd": 1_055_782.4, "unserved_energy_mwh": 0.0, "n_solves": 168,
          "plan_reference": ref}  # fmt: skip
    [line] = [s for s in _operate_lines(op) if "vs plan mode" in s]
    assert line.endswith("; actual +1,095,623 USD")  # an older summary's share not repeated
    assert pct_of_cost(1_095_623.1, -39_840.7, 1_055_782.4) is None
    assert pct_of_cost(-233.0, -39_840.7, -40_073.7) is None
    assert pct_of_cost(75_807.7, 549_149.6, 624_957.3) == 100 * 75_807.7 / 549_149.6
    assert pct_of_cost(5.0, 0.0, 5.0) is None
