"""Sizing's refusal of full_month billing on a month covered in part
(microgrid/sizing/billing_check.py): only where the billing changes a month's charges."""

from __future__ import annotations

import copy
import json

import pytest
from scenario_factory import FIXED_ONLY_RATE, TINY

from microgrid.assemble import load_inputs
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from microgrid.sizing.assets import asset_specs
from microgrid.sizing.billing_check import check_coincident_peaks_yearly, check_whole_month_billing
from microgrid.sizing.problems import template_problem
from microgrid.sizing.run import sizing_setup

# a flat demand charge of 10 USD/kW-month in June to September only (0 the rest of the year)
SUMMER_DEMAND_RATE = {
    **FIXED_ONLY_RATE,
    "label": "summer-demand",
    "fixedchargefirstmeter": 0.0,
    "flatdemandstructure": [[{"rate": 0.0}], [{"rate": 10.0}]],
    "flatdemandmonths": [0] * 5 + [1] * 4 + [0] * 3,
}


def _full_month(tmp_path, **grid) -> Scenario:
    """TINY (48 h of January, UTC) with PV sized, no job, no demand charge of its own,
    full_month billing and the grid fields `grid`; files relative to `tmp_path`."""
    data = copy.deepcopy(TINY)
    data["jobs"] = {"items": []}
    data["pv"] = {"dc_mw": 10, "ac_mw": 8}
    data["sizing"] = {
        "method": "milp",
        "pv": {"capex_usd_per_mw": 1.0e6, "lifetime_years": 30, "max_mw": 30},
    }
    data["grid"].update(demand_charge_usd_per_kw_month=0, demand_charge_billing="full_month")
    data["grid"].update(grid)
    return Scenario.model_validate({**data, "base_dir": str(tmp_path)})


def test_a_coincident_peak_alert_alone_is_not_a_monthly_charge(tmp_path):
    """An alert's expected coincident-peak charge is a peak charge, but no monthly one:
    full_month billing bills it as prorated does, and it had been refused."""
    (tmp_path / "alerts.csv").write_text(
        "date,probability,window_start_local,window_end_local\n2023-01-02,0.5,14:00,18:00\n"
    )
    cp = {
        "usd_per_mw_year": 25_000,
        "n_peaks": 4,
        "intervals": ["2023-01-02T15:00"],
        "mode": "alerts",
        "alerts_csv": "alerts.csv",
    }
    scenario = _full_month(tmp_path, coincident_peaks=cp)
    inputs = load_inputs(scenario)
    template = template_problem(scenario, inputs, None, asset_specs(scenario.sizing))
    assert [c.line_item for c in template.grid.peak_charges] == ["coincident_peak_expected"]
    check_whole_month_billing(scenario, inputs, template, 48.0)  # no error
    # a year's charge on a 48 h horizon is refused, on its own rule
    with pytest.raises(InputError, match="grid.coincident_peaks"):
        sizing_setup(scenario)


def test_a_yearly_coincident_peak_charge_on_part_of_a_year_is_refused(tmp_path):
    """4CP bills a year's charge on four summer intervals. Sizing scaled a 48 h horizon
    holding one of them to a year by 8760 / 48: that interval counted 182.5 times a year,
    and the sizes were bought against it. A horizon of a year is sized."""
    cp = {"usd_per_mw_year": 25_000, "n_peaks": 4, "intervals": ["2023-01-02T15:00"]}
    scenario = _full_month(tmp_path, coincident_peaks=cp, demand_charge_billing="prorated")
    with pytest.raises(InputError) as err:
        sizing_setup(scenario)
    message = str(err.value)
    assert "field grid.coincident_peaks" in message
    assert "would count 182.5 times a year" in message
    check_coincident_peaks_yearly(scenario, 8760.0)  # a year: no error
    check_coincident_peaks_yearly(scenario, 52 * 168.0)  # a year of Monday-to-Monday weeks


def test_a_seasonal_demand_charge_of_0_in_the_month_is_not_refused(tmp_path):
    """The rate charges demand in summer only: January's flat demand charge is 0 USD, the
    same under either billing, and it had been refused."""
    (tmp_path / "rate.json").write_text(json.dumps(SUMMER_DEMAND_RATE))
    setup = sizing_setup(_full_month(tmp_path, tariff={"urdb": "rate.json"}))
    assert [c.usd_per_mw for c in setup.template.grid.peak_charges] == [0.0]


def test_the_same_rate_in_a_summer_month_covered_in_part_is_refused(tmp_path):
    (tmp_path / "rate.json").write_text(json.dumps(SUMMER_DEMAND_RATE))
    scenario = _full_month(tmp_path, tariff={"urdb": "rate.json"})
    summer = scenario.with_updates(
        {"period.start": "2023-07-03T00:00", "period.end": "2023-07-05T00:00"}
    )
    with pytest.raises(InputError, match=r"2023-07 \(6\.5 %\)"):
        sizing_setup(summer)


def test_every_month_covered_in_part_is_named_and_counted(tmp_path):
    """48 h across a month's end bill two whole months under full_month: the year counts
    2 x 8760 / 48 = 365 of them, not the first month's 182.5."""
    scenario = _full_month(tmp_path, demand_charge_usd_per_kw_month=1).with_updates(
        {"period.start": "2023-01-31T00:00", "period.end": "2023-02-02T00:00"}
    )
    with pytest.raises(InputError) as err:
        sizing_setup(scenario)
    message = str(err.value)
    assert "2023-01 (3.2 %), 2023-02 (3.6 %)" in message
    assert "the year would count 365.0 such months" in message
