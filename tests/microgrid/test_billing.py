"""Demand-charge billing: pro-rated shares of local calendar months (microgrid/billing.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import TINY, small_scenario

from microgrid.assemble import build_problem, load_inputs
from microgrid.billing import demand_charge_shares, demand_charge_summary, flat_demand_charges
from microgrid.cli import main
from microgrid.costs import cost_breakdown
from microgrid.dispatch import solve_dispatch
from microgrid.scenario import load_scenario

CHICAGO = "America/Chicago"


def _hours(start_utc: str, n: int, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range(start_utc, periods=n, freq=freq, tz="UTC")


def test_r1_week_pays_168_of_augusts_744_hours():
    # 2023-08-21 00:00 CDT is 05:00 UTC; August has 31 × 24 = 744 hours
    shares = demand_charge_shares(_hours("2023-08-21 05:00", 168), CHICAGO, 1.0, "prorated")
    assert shares == {"2023-08": pytest.approx(168 / 744)}


def test_a_whole_month_pays_in_full_and_dst_months_have_their_real_length():
    # March 2023 in Chicago has 743 hours (clocks forward on the 12th): all of it, plus the
    # first hour of April (720 hours)
    march = _hours("2023-03-01 06:00", 744)
    assert demand_charge_shares(march, CHICAGO, 1.0, "prorated") == {
        "2023-03": pytest.approx(1.0),
        "2023-04": pytest.approx(1 / 720),
    }
    # November 2023 has 721 hours (clocks back on the 5th): ten days at 15 minutes
    nov = _hours("2023-11-01 05:00", 960, "15min")
    assert demand_charge_shares(nov, CHICAGO, 0.25, "prorated") == {
        "2023-11": pytest.approx(240 / 721)
    }


def test_full_month_billing_has_no_shares():
    assert demand_charge_shares(_hours("2023-08-21 05:00", 168), CHICAGO, 1.0, "full_month") is None


@pytest.mark.parametrize("billing", ["prorated", "full_month"])
def test_scenario_bills_the_optimum_by_its_shares(tmp_path, billing):
    # two days of R1's site (48 of August's 744 hours), no jobs
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(small_scenario(**{"grid.demand_charge_billing": billing})))
    scenario = load_scenario(path)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    share = 48 / 744 if billing == "prorated" else 1.0
    [charge] = problem.grid.peak_charges
    assert (charge.key, charge.line_item) == ("demand_flat@2023-08", "demand_flat")
    assert charge.usd_per_mw == pytest.approx(8000 * share)
    assert charge.steps.all()
    d = solve_dispatch(scenario, inputs, problem)
    imp = d.series["grid_import_mw"]
    assert d.costs["demand_usd"] == pytest.approx(8000 * share * imp.max(), rel=1e-6)
    summary = demand_charge_summary(problem.grid, inputs.index, CHICAGO, billing, imp)
    assert summary["billing"] == billing
    [month] = summary["months"]
    assert month["month"] == "2023-08"
    assert month["share_billed"] == pytest.approx(share)
    assert month["charge_usd"] == pytest.approx(d.costs["demand_usd"], rel=1e-9)
    assert np.isclose(month["peak_import_mw"], imp.max())
    [flat] = month["charges"]
    assert (flat["kind"], flat["set_by"]) == ("flat", "peak")
    assert flat["usd_per_kw_month"] == pytest.approx(8.0)
    assert flat["billed_demand_mw"] == pytest.approx(imp.max())
    assert summary["charge_usd"] == pytest.approx(d.costs["demand_usd"], rel=1e-9)
    assert d.bill["demand_flat_usd"] == pytest.approx(d.costs["demand_usd"], rel=1e-12)
    # the baselines' accounting prices the plan with the same bill
    assert cost_breakdown(problem, d.series)["bill"] == pytest.approx(d.bill, rel=1e-12)


def test_flat_charges_one_per_local_month():
    # 2023-08-31 22:00 to 2023-09-01 03:00 CDT: two hours in August, four in September
    index = _hours("2023-09-01 03:00", 6)
    charges = flat_demand_charges(index, CHICAGO, 1.0, 8.0, "prorated")
    assert [c.key for c in charges] == ["demand_flat@2023-08", "demand_flat@2023-09"]
    assert charges[0].steps.tolist() == [True, True, False, False, False, False]
    assert charges[0].usd_per_mw == pytest.approx(8000 * 2 / 744)
    assert charges[1].usd_per_mw == pytest.approx(8000 * 4 / 720)
    assert flat_demand_charges(index, CHICAGO, 1.0, 0.0, "prorated") == ()


def test_unknown_billing_is_refused_by_name(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(small_scenario(**{"grid.demand_charge_billing": "weekly"})))
    with pytest.raises(Exception, match="demand_charge_billing"):
        load_scenario(path)


def _counted_month_hours(year: int, timezone: str) -> dict[str, float]:
    """Hours of each local calendar month of `year`, counted directly: the UTC minutes
    whose local time falls in the month (no local midnight is ever localized)."""
    minutes = pd.date_range(f"{year - 1}-12-30", f"{year + 1}-01-03", freq="min", tz="UTC")
    local = minutes.tz_convert(timezone)
    keys, counts = np.unique(local.year * 100 + local.month, return_counts=True)
    return {f"{k // 100}-{k % 100:02d}": n / 60 for k, n in zip(keys, counts, strict=True)}


@pytest.mark.parametrize(
    ("timezone", "year", "month"),
    [
        ("America/Asuncion", 2023, 10),  # 2023-10-01 00:00 does not exist (to 01:00)
        ("America/Havana", 2020, 11),  # 2020-11-01 00:00 occurs twice (01:00 back to 00:00)
        ("America/Havana", 2012, 4),  # 2012-04-01 00:00 does not exist
        ("America/Santiago", 2023, 9),  # 2023-09-03 00:00 does not exist
        (CHICAGO, 2023, 3),
    ],
)
def test_month_lengths_where_clocks_change_at_midnight(timezone, year, month):
    # one hour-long step in each month: its share is 1 / the month's hours
    index = pd.DatetimeIndex([pd.Timestamp(year, m, 15, 12, tz="UTC") for m in range(1, 13)])
    shares = demand_charge_shares(index, timezone, 1.0, "prorated")
    counted = _counted_month_hours(year, timezone)
    days = pd.Timestamp(year, month, 1).days_in_month
    assert counted[f"{year}-{month:02d}"] != 24 * days  # the clocks change in that month
    assert {label: 1 / share for label, share in shares.items()} == pytest.approx(
        {label: counted[label] for label in shares}, rel=1e-12
    )


def test_a_scenario_over_a_skipped_midnight_validates_and_bills(tmp_path, capsys):
    # TINY in Asuncion from Fri 2023-09-29 to Tue 2023-10-03, without its job: clocks go
    # forward at the midnight that starts October
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["site"]["timezone"] = "America/Asuncion"
    data["jobs"] = {"items": []}
    data["period"].update(start="2023-09-29T00:00", end="2023-10-03T00:00")
    path = tmp_path / "asuncion.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    scenario = load_scenario(path)
    inputs = load_inputs(scenario)
    charges = build_problem(scenario, inputs).grid.peak_charges
    counted = _counted_month_hours(2023, "America/Asuncion")
    for charge in charges:
        month = charge.key.split("@")[1]
        share = charge.steps.sum() / counted[month]
        assert charge.usd_per_mw == pytest.approx(1000 * share, rel=1e-12), month
    assert [c.key for c in charges] == ["demand_flat@2023-09", "demand_flat@2023-10"]


def _hour_window_scenario(tmp_path, start: str, end: str, step_minutes: int, **more):
    """Two days of R1's site cut to ``[start, end)`` at these steps, its flat charge on a
    60-minute demand window."""
    period = {"period.start": start, "period.end": end, "period.step_minutes": step_minutes}
    sc = small_scenario(**{"grid.demand_window_minutes": 60, **period, **more})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def test_a_demand_window_bills_the_flat_charge_on_clock_hour_averages(tmp_path):
    # R1's site at 15-minute steps, from 00:30 local, with a 60-minute demand window: the
    # flat charge bills the highest local clock hour's mean (the first hour holds two
    # quarter hours), however high one quarter hour goes
    path = _hour_window_scenario(tmp_path, "2023-08-21T00:30", "2023-08-22T00:00", 15)
    scenario = load_scenario(path)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    [charge] = problem.grid.peak_charges
    assert (charge.interval_steps, charge.interval_phase) == (4, 2)
    d = solve_dispatch(scenario, inputs, problem)
    imp = pd.Series(d.series["grid_import_mw"], index=inputs.index).tz_convert(CHICAGO)
    hourly_max = imp.resample("60min").mean().max()
    summary = demand_charge_summary(problem.grid, inputs.index, CHICAGO, "prorated", imp)
    assert summary["months"][0]["charges"][0]["peak_import_mw"] == pytest.approx(hourly_max)
    assert d.costs["demand_usd"] == pytest.approx(charge.usd_per_mw * hourly_max, rel=1e-6)


def test_a_demand_window_the_steps_cannot_meet_names_its_field(tmp_path, capsys):
    # Kathmandu is UTC+05:45: its 30-minute steps from UTC hours fall at :15 and :45 local
    start, end = "2023-08-21T05:45", "2023-08-22T05:45"
    path = _hour_window_scenario(tmp_path, start, end, 30, **{"site.timezone": "Asia/Kathmandu"})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "grid.demand_window_minutes" in err[0] and "boundaries" in err[0]
