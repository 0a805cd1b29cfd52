"""The bill audit's findings, each on a small case whose figures the test works out from
its inputs: the demand charge explained per billing month and charge (seasonal rates, a
ratchet, TOU periods, coincident-peak alert days), the bill on the real coincident-peak
intervals with the alerts' expected charge beside it, time-of-use bands (through
midnight, overlapping, empty, missing hours), a step across a month's start in a
half-hour zone, and what the CLI calls the value of asap -> storage-optimal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, TINY

import microgrid
import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.bill_summary import grid_bill_by_month
from microgrid.billing import demand_charge_shares, demand_charge_summary
from microgrid.cli_summary import _bill_lines, _value_of_line
from microgrid.coincident_peak import (
    EXPECTED_LINE,
    add_coincident_peaks,
    hindsight_grid,
)
from microgrid.errors import InputError
from microgrid.report_html.kpis import _energy, _money, demand_meaning
from microgrid.report_html.tables import bill_table
from microgrid.signals import load_signals
from microgrid.tariffs import rate_from_dict
from microgrid.tariffs.to_grid import fixed_charge_by_month_usd
from optimize.bill import grid_bill, split_bill

CHICAGO = "America/Chicago"
KOLKATA = "Asia/Kolkata"
RATCHET_RATE = DATA / "tariffs" / "tiered-ratchet-illustrative.json"


def _tiny(**sections) -> dict:
    """TINY (tests/scenario_factory.py) with whole sections replaced."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.update(sections)
    return data


def _write(tmp_path, data: dict):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _flat_grid(n: int, usd_per_mwh: float, *charges: optimize.PeakCharge) -> optimize.Grid:
    """n steps at a flat import price, no export, with the demand charges given."""
    return optimize.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.full(n, usd_per_mwh),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        peak_charges=charges,
    )


def _ratchet_case(tmp_path):
    """TINY in Dallas over a month boundary (Wed 2023-09-27 to Wed 10-04, local), no job,
    billed on the shipped tiered-ratchet rate with July and August's peaks before it."""
    grid = dict(TINY["grid"], demand_charge_usd_per_kw_month=0)
    grid["tariff"] = {
        "urdb": str(RATCHET_RATE),
        "prior_monthly_peaks_mw": {"2023-07": 100.0, "2023-08": 90.0},
    }
    data = _tiny(grid=grid, jobs={"items": []})
    data["site"]["timezone"] = CHICAGO
    data["period"].update(start="2023-09-27T00:00", end="2023-10-04T00:00")
    scenario = microgrid.load_scenario(_write(tmp_path, data))
    inputs = load_inputs(scenario)
    return scenario, inputs, build_problem(scenario, inputs)


def test_ratchet_and_seasonal_rate_explained_per_month(tmp_path):
    scenario, inputs, problem = _ratchet_case(tmp_path)
    index = inputs.index
    imp = 20.0 + 10.0 * np.sin(np.arange(len(index)) / 7.0) ** 2  # 20-30 MW, under 80 %
    summary = demand_charge_summary(problem.grid, index, CHICAGO, "prorated", imp)
    # from the rate file: the flat rate by calendar month, the 80 % ratchet on the flagged
    # summer months before the period (July 100 MW, August 90 MW)
    rate = json.loads(RATCHET_RATE.read_text())
    rates = {m: rate["flatdemandstructure"][rate["flatdemandmonths"][m - 1]][0]["rate"]
             for m in (9, 10)}  # fmt: skip
    floor_mw = rate["lookbackpercent"] * max(100.0, 90.0)
    months = index.tz_convert(CHICAGO).strftime("%Y-%m")
    start, turn, end = (pd.Timestamp(t) for t in ("2023-09-27", "2023-10-01", "2023-10-04"))
    hour = pd.Timedelta(hours=1)  # no DST change in either month
    hours = {"2023-09": ((turn - start) / hour, 30 * 24), "2023-10": ((end - turn) / hour, 31 * 24)}
    expected_total = 0.0
    for m, month in zip((9, 10), summary["months"], strict=True):
        label = f"2023-{m:02d}"
        share = hours[label][0] / hours[label][1]
        peak_mw = imp[months == label].max()
        usd = rates[m] * 1000.0 * max(peak_mw, floor_mw) * share
        expected_total += usd
        [flat] = month["charges"]
        assert (month["month"], flat["kind"], flat["set_by"]) == (label, "flat", "ratchet")
        assert month["share_billed"] == pytest.approx(share)
        assert flat["usd_per_kw_month"] == pytest.approx(rates[m])
        assert flat["billed_demand_mw"] == pytest.approx(floor_mw)
        assert flat["peak_import_mw"] == pytest.approx(peak_mw)
        assert month["charge_usd"] == pytest.approx(usd)
        assert (
            f"{rates[m]:g} USD/kW-month × {floor_mw:.1f} MW (set by a ratchet, above the "
            f"peak of {peak_mw:.1f} MW) × {100 * share:.1f} % = {usd:,.0f} USD"
        ) in demand_meaning({"demand_charge": summary})
    # the explanation adds up to what the bill charges
    _, demand_usd = split_bill(problem.grid, grid_bill(problem.grid, 1.0, imp, 0 * imp))
    assert summary["charge_usd"] == pytest.approx(expected_total)
    assert demand_usd == pytest.approx(expected_total)
    assert f"In all {expected_total:,.0f} USD." in demand_meaning({"demand_charge": summary})
    [peak] = [k for k in _energy({"peak_import_mw": imp.max()}) if k.key == "peak_import_mw"]
    assert "ratchet" in peak.meaning and "billed on it" not in peak.meaning


def test_tou_periods_and_alert_days_are_named_and_add_up():
    # two days of August in Dallas: 48 of its 744 hours
    index = pd.date_range("2023-08-24", periods=48, freq="h", tz=CHICAGO).tz_convert("UTC")
    share = 48 / 744
    imp = np.linspace(10.0, 30.0, 48)
    evening = (np.arange(48) % 24) >= 16
    window = np.arange(48) < 24
    grid = _flat_grid(
        48,
        50.0,
        optimize.PeakCharge("demand_tou_2@2023-08", "demand_tou_2", 10_000 * share, evening),
        optimize.PeakCharge("demand_flat@2023-08", "demand_flat", 5_000 * share, imp > -1),
        optimize.PeakCharge("cp_alert@2023-08-24", EXPECTED_LINE, 3_125.0, window),
    )
    summary = demand_charge_summary(grid, index, CHICAGO, "prorated", imp)
    [month] = summary["months"]
    tou, flat, alert = month["charges"]
    assert (tou["kind"], tou["period"], flat["kind"]) == ("tou", 2, "flat")
    assert tou["usd_per_kw_month"] == pytest.approx(10.0)
    assert tou["billed_demand_mw"] == pytest.approx(imp[evening].max())
    assert flat["usd_per_kw_month"] == pytest.approx(5.0)
    assert (alert["kind"], alert["usd_per_kw_month"]) == ("coincident_peak_alert", None)
    assert alert["charge_usd"] == pytest.approx(3_125.0 * imp[window].max())
    expected = (
        10_000 * share * imp[evening].max() + 5_000 * share * imp.max() + 3_125.0 * imp[:24].max()
    )
    assert summary["charge_usd"] == pytest.approx(expected)
    text = demand_meaning({"demand_charge": summary})
    tou_text = f"TOU period 2 (URDB demand period 1) 10 USD/kW-month × {imp[evening].max():.1f} MW"
    assert tou_text in text
    assert "coincident-peak alerts (expected charges, a planning estimate): 2023-08-24" in text


ALERTS = (
    "date,probability,window_start_local,window_end_local\n"
    "2023-01-02,0.5,09:00,11:00\n"
    "2023-01-03,1.0,16:00,24:00\n"
)
CP = {"usd_per_mw_year": 24_000, "n_peaks": 4, "interval_minutes": 60}


def _alert_scenario(tmp_path):
    """TINY (UTC) without a battery, 1 USD/kW-month flat demand charge, the real
    interval 2023-01-02 10:00 and two alert days (0.5 on 09-11, 1.0 on the 3rd 16-24)."""
    (tmp_path / "alerts.csv").write_text(ALERTS)
    grid = dict(TINY["grid"])
    grid["coincident_peaks"] = {
        **CP,
        "intervals": ["2023-01-02T10:00"],
        "mode": "alerts",
        "alerts_csv": "alerts.csv",
    }
    data = _tiny(grid=grid)
    del data["battery"]
    return microgrid.load_scenario(_write(tmp_path, data))


def test_alerts_bill_the_real_intervals_with_the_expected_charge_beside(tmp_path):
    scenario = _alert_scenario(tmp_path)
    result = microgrid.run(scenario, powerflow=False, baselines=False)
    s, imp = result.summary, result.timeseries["grid_import_mw"].to_numpy()
    per_mw = CP["usd_per_mw_year"] / CP["n_peaks"]  # per MW in one interval
    real_usd = per_mw * imp[10]  # the interval is step 10 (UTC site, hourly)
    expected_usd = 0.5 * per_mw * imp[9:11].max() + 1.0 * per_mw * imp[40:48].max()
    lines = s["bill"]["lines"]
    assert lines["coincident_peak_usd"] == pytest.approx(real_usd)
    assert f"{EXPECTED_LINE}_usd" not in lines
    assert s["bill"]["total_usd"] == pytest.approx(sum(lines.values()))
    assert s["bill"]["estimates"] == {f"{EXPECTED_LINE}_usd": pytest.approx(expected_usd)}
    assert s["coincident_peak"]["charge_usd"] == pytest.approx(real_usd)
    # the plan's costs keep what it minimised: the expected charge, in the demand cost
    flat_usd = 1_000.0 * (48 / 744) * imp.max()
    assert s["demand_cost_usd"] == pytest.approx(flat_usd + expected_usd)
    assert s["demand_charge"]["charge_usd"] == pytest.approx(s["demand_cost_usd"])
    total = {k.key: k for k in _money(s)}["total_cost_usd"].meaning
    assert f"expected charge ({expected_usd:,.0f} USD)" in total
    assert f"real intervals' charge ({real_usd:,.0f} USD)" in total
    assert f"{expected_usd:,.0f} USD (in the total cost)" in _bill_lines(s["bill"])[-1]
    table = bill_table(s["bill"])
    assert table.index("not in the bill: ") > table.index('data-key="total_usd"')


def test_the_real_intervals_are_priced_once(tmp_path):
    # the closed loop bills on hindsight_grid's grid and the bill calls it again
    scenario = _alert_scenario(tmp_path)
    index = scenario.index()
    planned = add_coincident_peaks(scenario, index, _flat_grid(len(index), 50.0))
    billed = hindsight_grid(scenario, index, planned)
    again = hindsight_grid(scenario, index, billed)
    assert np.array_equal(again.import_price_usd_per_mwh, billed.import_price_usd_per_mwh)
    assert billed.import_price_usd_per_mwh[10] == pytest.approx(50.0 + 6_000.0)


def _bands(*bands: tuple[int, int, float]) -> dict:
    return {
        "time_of_use": [
            {"start_hour": a, "end_hour": b, "price_usd_per_mwh": p, "carbon_g_per_kwh": 300}
            for a, b, p in bands
        ]
    }


def test_a_band_through_midnight_prices_the_night(tmp_path):
    data = _tiny(signals=_bands((22, 6, 20.0), (6, 22, 80.0)))
    data["site"]["timezone"] = CHICAGO
    scenario = microgrid.load_scenario(_write(tmp_path, data))
    signals = load_signals(scenario)
    hours = signals.index.tz_convert(CHICAGO).hour
    night = (hours >= 22) | (hours < 6)
    assert night.any() and (~night).any()
    assert signals["price_usd_per_mwh"].to_numpy() == pytest.approx(np.where(night, 20.0, 80.0))


@pytest.mark.parametrize(
    ("bands", "words"),
    [
        (((0, 17, 30.0), (16, 24, 100.0)), "(16-24) overlaps band 0 (0-17) at local hour(s) [16]"),
        (((0, 24, 30.0), (5, 5, 100.0)), "start_hour and end_hour are both 5: the band is empty"),
        (((20, 8, 30.0), (6, 20, 100.0)), "(6-20) overlaps band 0 (20-8) at local hour(s) [6, 7]"),
    ],
)  # fmt: skip
def test_overlapping_and_empty_bands_are_one_line_naming_the_band(tmp_path, capsys, bands, words):
    path = _write(tmp_path, _tiny(signals=_bands(*bands)))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line ")
    assert "field signals.time_of_use.1: " in line
    assert words in line


def test_an_hour_without_a_band_is_one_line_naming_the_file(tmp_path, capsys):
    path = _write(tmp_path, _tiny(signals=_bands((0, 16, 30.0), (17, 24, 100.0))))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line ")
    assert "field signals.time_of_use: " in line and "local hour(s) [16]" in line
    with pytest.raises(InputError):
        load_signals(microgrid.load_scenario(path))


def _kolkata_hours():
    """Hourly UTC steps from 00:30 on 2023-06-28 to 00:30 on 07-03 in Kolkata (UTC+5:30):
    the step from 23:30 on 06-30 straddles July's first instant."""
    start = pd.Timestamp("2023-06-28T00:30", tz=KOLKATA).tz_convert("UTC")
    end = pd.Timestamp("2023-07-03T00:30", tz=KOLKATA).tz_convert("UTC")
    index = pd.date_range(start, end, freq="h", inclusive="left")
    minutes = pd.date_range(start, end, freq="min", inclusive="left").tz_convert(KOLKATA)
    labels, counts = np.unique(minutes.strftime("%Y-%m"), return_counts=True)
    return index, {str(m): n / 60 for m, n in zip(labels, counts, strict=True)}


def test_a_step_across_a_month_start_is_split_by_its_hours():
    index, hours = _kolkata_hours()
    assert hours == {"2023-06": 71.5, "2023-07": 48.5}
    month_h = {"2023-06": 30 * 24, "2023-07": 31 * 24}  # India keeps no summer time
    shares = demand_charge_shares(index, KOLKATA, 1.0, "prorated")
    assert shares == pytest.approx({m: hours[m] / month_h[m] for m in hours})
    # the bill's energy: 10 MW at 40 USD/MWh, each month its hours
    n = len(index)
    grid = _flat_grid(n, 40.0)
    months = grid_bill_by_month(grid, 1.0, index, KOLKATA, np.full(n, 10.0), np.zeros(n))
    assert {m: lines["energy_usd"] for m, lines in months.items()} == pytest.approx(
        {m: 400.0 * h for m, h in hours.items()}
    )
    rate = rate_from_dict(
        {
            "label": "fixed",
            "energyweekdayschedule": [[0] * 24] * 12,
            "energyweekendschedule": [[0] * 24] * 12,
            "energyratestructure": [[{"rate": 0.0}]],
            "fixedchargefirstmeter": 1000.0,
            "fixedchargeunits": "$/month",
        },
        "fixed",
    )
    fixed = fixed_charge_by_month_usd(rate, index, KOLKATA, 1.0, "prorated")
    assert fixed == pytest.approx({m: 1000.0 * hours[m] / month_h[m] for m in hours})


def test_the_value_of_asap_to_storage_optimal_is_named_for_what_it_measures():
    value = {
        "storage_usd": -42_405.0,
        "job_flexibility_usd": 0.0,
        "optimum_gap_usd": 0.0,
        "job_flexibility_within_gap": True,
        "asap_keeps_all_limits": False,
    }
    line = _value_of_line(value)
    assert "dispatch -42,405 USD (asap -> storage-optimal: battery, curtailment" in line
    assert "asap breaks a limit" in line
    assert "storage -42,405" not in line
