"""URDB rates: reading, round trip, refusals, and the mapping onto the optimiser's Grid.

Hand-checkable numbers: URDB rates are USD/kWh and USD/kW, the model's USD/MWh and USD/MW
(x 1000); "full_month" billing bills whole months so the charges are plain products.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimize
from microgrid.errors import InputError
from microgrid.tariffs import fixed_charge_usd, rate_from_dict, read_urdb, write_urdb
from microgrid.tariffs.to_grid import TariffContext, demand_interval, tariff_grid
from microgrid.tariffs.urdb import rate_to_dict

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios" / "data" / "tariffs").glob("*.json"))


def sched(fn) -> list[list[int]]:
    """A 12 x 24 schedule: fn(month0, hour) -> period."""
    return [[fn(m, h) for h in range(24)] for m in range(12)]


def two_period_rate(**extra) -> dict:
    """Energy 0.02 USD/kWh off-peak, 0.05 + 0.005 in 16-21 local on weekdays (period 1)."""
    return {
        "label": "two-period",
        "energyweekdayschedule": sched(lambda m, h: 1 if 16 <= h < 21 else 0),
        "energyweekendschedule": sched(lambda m, h: 0),
        "energyratestructure": [[{"rate": 0.02}], [{"rate": 0.05, "adj": 0.005}]],
        **extra,
    }


def flat_energy(rate_usd_per_kwh: float = 0.0, **extra) -> dict:
    return {
        "label": "flat",
        "energyweekdayschedule": sched(lambda m, h: 0),
        "energyweekendschedule": sched(lambda m, h: 0),
        "energyratestructure": [[{"rate": rate_usd_per_kwh}]],
        **extra,
    }


def hourly(start: str, hours: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=hours, freq="h", tz="UTC")


def ctx(index, tz="UTC", **kw) -> TariffContext:
    kw.setdefault("wholesale_usd_per_mwh", np.full(len(index), 30.0))
    return TariffContext(index=index, timezone=tz, step_h=1.0, **kw)


# --- reading and writing -------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_rate_round_trips(path, tmp_path):
    rate = read_urdb(path)
    assert "illustrative" in rate.metadata["description"].lower()
    write_urdb(tmp_path / "out.json", rate)
    again = read_urdb(tmp_path / "out.json")
    assert rate_to_dict(again) == rate_to_dict(rate)
    # the shipped files hold only supported fields: the written JSON equals the input
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(path.read_text())


def test_three_shipped_rates():
    assert {p.name for p in SHIPPED} >= {
        "caiso-b20-like-tou.json",
        "tx-tdsp-like-delivery.json",
        "tiered-ratchet-illustrative.json",
    }


def test_round_trip_drops_only_empty_fields(tmp_path):
    d = two_period_rate(coincidentratestructure=[], fueladjustmentsmonthly=None, name="x")
    rate = rate_from_dict(d, "mem.json")
    out = rate_to_dict(rate)
    assert out == {
        k: v for k, v in d.items() if k not in ("coincidentratestructure", "fueladjustmentsmonthly")
    }


def test_api_response_and_label(tmp_path):
    a, b = two_period_rate(label="a"), flat_energy(label="b")
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"items": [a, b]}))
    with pytest.raises(InputError, match="2 rates"):
        read_urdb(path)
    assert read_urdb(path, label="b").label == "b"
    with pytest.raises(InputError, match="no rate with label 'c'"):
        read_urdb(path, label="c")
    path.write_text(json.dumps([a]))
    assert read_urdb(path).label == "a"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"coincidentratestructure": [[{"rate": 2.0}]]}, "coincidentratestructure"),
        ({"fueladjustmentsmonthly": [0.01] * 12}, "fueladjustmentsmonthly"),
        ({"energyattrs": [{"x": 1}]}, "energyattrs"),
        ({"demandreactivepowercharge": 0.5}, "demandreactivepowercharge"),
        ({"flatdemandunit": "kVA"}, "flatdemandunit"),
        ({"mincharge": 100, "minchargeunits": "$/month"}, "mincharge"),
    ],
)
def test_unsupported_field_refused_by_name(extra, field):
    with pytest.raises(InputError) as exc:
        rate_from_dict(two_period_rate(**extra), "r.json")
    assert exc.value.field == field and exc.value.path == "r.json"


def test_daily_tier_unit_and_demand_tiers_refused():
    d = two_period_rate()
    d["energyratestructure"][0][0]["unit"] = "kWh daily"
    with pytest.raises(InputError, match="kWh daily"):
        rate_from_dict(d, "r.json")
    tiers = [{"max": 100, "rate": 5.0}, {"rate": 7.0}]
    with pytest.raises(InputError, match="tiered demand"):
        rate_from_dict(flat_energy(flatdemandstructure=[tiers], flatdemandmonths=[0] * 12), "r")


def test_schedule_naming_a_missing_period_refused():
    d = two_period_rate()
    d["energyratestructure"] = d["energyratestructure"][:1]
    with pytest.raises(InputError, match="uses period 1") as exc:
        rate_from_dict(d, "r.json")
    assert exc.value.field == "energyweekdayschedule[0][16]"  # its first use of period 1


# --- energy: periods, weekends, DST, exports ---------------------------------------------


def test_two_period_price_weekday_weekend_and_dst():
    rate = rate_from_dict(two_period_rate(), "r")
    # Fri 2023-03-10 .. Tue 2023-03-14 UTC; DST starts Sun 2023-03-12 in Los Angeles
    index = hourly("2023-03-10T00:00", 24 * 4 + 6)
    tg = tariff_grid(rate, ctx(index, "America/Los_Angeles", import_adder_usd_per_mwh=5.0))
    price = pd.Series(tg.import_price_usd_per_mwh, index=index)
    peak, off = 30 + 5 + 55.0, 30 + 5 + 20.0
    # Fri 16:00 PST = Sat 00:00 UTC (peak); Fri 15:00 PST = Fri 23:00 UTC (off-peak)
    assert price["2023-03-11T00:00"] == pytest.approx(peak)
    assert price["2023-03-10T23:00"] == pytest.approx(off)
    # Sat 17:00 PST: weekend, off-peak
    assert price["2023-03-12T01:00"] == pytest.approx(off)
    # after the change, 23:00 UTC is Mon 16:00 PDT: peak; 21:00 PDT = 04:00 UTC: off-peak
    assert price["2023-03-13T23:00"] == pytest.approx(peak)
    assert price["2023-03-14T03:00"] == pytest.approx(peak)
    assert price["2023-03-14T04:00"] == pytest.approx(off)
    parts = tg.import_parts
    assert set(parts) == {"energy_wholesale", "energy_adder", "energy_period_1", "energy_period_2"}
    np.testing.assert_allclose(sum(parts.values()), tg.import_price_usd_per_mwh)
    assert parts["energy_period_2"][index.get_loc(pd.Timestamp("2023-03-11T00:00Z"))] == 55.0


def test_tariff_only_and_exports():
    index = hourly("2023-01-02T00:00", 24)  # a Monday, UTC
    rate = rate_from_dict(two_period_rate(usenetmetering=True), "r")
    tg = tariff_grid(rate, ctx(index, energy="tariff_only"))
    assert tg.import_price_usd_per_mwh[17] == pytest.approx(55.0)
    assert tg.import_price_usd_per_mwh[3] == pytest.approx(20.0)
    np.testing.assert_allclose(tg.export_price_usd_per_mwh, tg.import_price_usd_per_mwh)
    assert set(tg.export_parts) == {"export_net_metering"}
    d = two_period_rate()
    d["energyratestructure"][1][0]["sell"] = 0.03
    tg = tariff_grid(rate_from_dict(d, "r"), ctx(index))  # add_to_wholesale
    assert tg.export_price_usd_per_mwh[17] == pytest.approx(30.0 + 30.0)
    assert tg.export_price_usd_per_mwh[3] == pytest.approx(30.0)
    assert set(tg.export_parts) == {"export_wholesale", "export_sell"}


# --- solves on a fixed load: demand charges and tiers -----------------------------------


def solve_fixed_load(
    grid: optimize.Grid, load_mw: np.ndarray, step_h: float = 1.0
) -> optimize.Dispatch:
    """The dispatch of a fixed load (no flexibility): the bill of ``load_mw``."""
    n = len(load_mw)
    problem = optimize.Problem(
        step_h=step_h,
        n_steps=n,
        grid=grid,
        facility=optimize.Facility(inference_it_mw=load_mw, pue=np.ones(n)),
    )
    return optimize.solve(problem, optimize.SolverOptions(mip_rel_gap=0.0))


def grid_of(tg, n: int) -> optimize.Grid:
    return optimize.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=tg.import_price_usd_per_mwh,
        export_price_usd_per_mwh=tg.export_price_usd_per_mwh,
        carbon_g_per_kwh=np.zeros(n),
        peak_charges=tg.peak_charges,
        energy_tiers=tg.energy_tiers,
        import_price_parts=tg.import_parts,
        export_price_parts=tg.export_parts,
    )


def test_tou_demand_charge_on_its_own_period_only():
    d = flat_energy(
        demandweekdayschedule=sched(lambda m, h: 1 if 16 <= h < 21 else 0),
        demandweekendschedule=sched(lambda m, h: 0),
        demandratestructure=[[{"rate": 0.0}], [{"rate": 10.0}]],
    )
    index = hourly("2023-01-02T00:00", 48)  # Mon-Tue, UTC
    tg = tariff_grid(rate_from_dict(d, "r"), ctx(index, energy="tariff_only", billing="full_month"))
    assert [c.key for c in tg.peak_charges] == ["demand_tou_2@2023-01"]
    load = np.full(48, 5.0)
    load[3] = 20.0  # a spike at 03:00, outside the demand period: costs nothing
    load[17] = 8.0  # 17:00 on Monday, inside it
    dispatch = solve_fixed_load(grid_of(tg, 48), load)
    assert dispatch.costs["demand_usd"] == pytest.approx(10_000.0 * 8.0)
    assert dispatch.bill["demand_tou_2_usd"] == pytest.approx(80_000.0)


def test_tier_boundary():
    # 100,000 kWh a month at 0.04 USD/kWh, above that 0.06: 240 MWh over two days
    tiers = [{"max": 100_000, "rate": 0.04}, {"rate": 0.06}]
    d = flat_energy(energyratestructure=[tiers])
    index = hourly("2023-01-02T00:00", 48)
    tg = tariff_grid(rate_from_dict(d, "r"), ctx(index, energy="tariff_only", billing="full_month"))
    (t,) = tg.energy_tiers
    assert t.block_mwh == (100.0, float("inf")) and t.is_convex()
    dispatch = solve_fixed_load(grid_of(tg, 48), np.full(48, 5.0))
    assert dispatch.costs["energy_usd"] == pytest.approx(240 * 40.0 + 140 * 20.0)
    assert dispatch.bill["energy_tiers_usd"] == pytest.approx(140 * 20.0)
    # pro-rated: the two days are 48/744 of January, so is the block
    tg = tariff_grid(rate_from_dict(d, "r"), ctx(index, energy="tariff_only"))
    assert tg.energy_tiers[0].block_mwh[0] == pytest.approx(100.0 * 48 / 744)


def test_ratchet_inside_the_horizon_and_from_prior_peaks():
    # flat demand 10 USD/kW; billed >= 80 % of the previous month's peak
    d = flat_energy(
        flatdemandstructure=[[{"rate": 10.0}]],
        flatdemandmonths=[0] * 12,
        lookbackpercent=0.8,
        lookbackrange=1,
    )
    index = hourly("2023-01-31T00:00", 48)  # Jan 31 and Feb 1, UTC
    c = ctx(
        index, energy="tariff_only", billing="full_month", prior_monthly_peaks_mw={"2022-12": 30.0}
    )
    tg = tariff_grid(rate_from_dict(d, "r"), c)
    jan, feb = tg.peak_charges
    assert (jan.key, jan.ratchet_floor_mw, jan.ratchets) == ("demand_flat@2023-01", 24.0, ())
    assert feb.ratchets == (("demand_flat@2023-01", 0.8),) and feb.ratchet_floor_mw == 0.0
    load = np.r_[np.full(24, 20.0), np.full(24, 5.0)]
    dispatch = solve_fixed_load(grid_of(tg, 48), load)
    # January: max(20, 0.8 x 30) = 24 MW; February: max(5, 0.8 x 20) = 16 MW
    assert dispatch.costs["demand_usd"] == pytest.approx(10_000.0 * (24 + 16))


def test_ratchet_on_flagged_summer_months():
    rate = read_urdb(ROOT / "scenarios/data/tariffs/tiered-ratchet-illustrative.json")
    index = hourly("2023-03-01T06:00", 24)  # March, UTC
    c = ctx(
        index,
        billing="full_month",
        prior_monthly_peaks_mw={"2022-08": 50.0, "2022-02": 90.0, "2022-10": 70.0},
    )
    (march,) = tariff_grid(rate, c).peak_charges
    # only Jun-Sep of the 11 months before count: 80 % of August's 50 MW
    assert march.ratchet_floor_mw == pytest.approx(40.0)
    assert march.usd_per_mw == pytest.approx(9_000.0)  # winter rate, whole month


def test_fixed_charge():
    rate = rate_from_dict(
        flat_energy(fixedchargefirstmeter=1500.0, fixedchargeunits="$/month"), "r"
    )
    index = hourly("2023-01-02T00:00", 48)
    assert fixed_charge_usd(rate, index, "UTC", 1.0, "prorated") == pytest.approx(1500 * 48 / 744)
    assert fixed_charge_usd(rate, index, "UTC", 1.0, "full_month") == pytest.approx(1500.0)
    daily = rate_from_dict(flat_energy(fixedchargefirstmeter=30.0, fixedchargeunits="$/day"), "r")
    assert fixed_charge_usd(daily, index, "UTC", 1.0, "prorated") == pytest.approx(60.0)


@pytest.mark.parametrize("start", ["2023-11-01T05:00", "2023-03-08T06:00"])
def test_a_daily_fixed_charge_bills_calendar_days_across_a_clock_change(start):
    """A week over the November (169 h) or March (167 h) change in Chicago once billed
    169/24 and 167/24 days, not 7."""
    daily = rate_from_dict(flat_energy(fixedchargefirstmeter=40.0, fixedchargeunits="$/day"), "r")
    index = hourly(start, 1)
    local_start = index[0].tz_convert("America/Chicago")
    end = (local_start.tz_localize(None) + pd.Timedelta(days=7)).tz_localize("America/Chicago")
    hours = int((end - local_start) / pd.Timedelta(hours=1))
    assert hours in (167, 169)
    week = hourly(start, hours)
    assert fixed_charge_usd(daily, week, "America/Chicago", 1.0, "prorated") == pytest.approx(280.0)


def test_demand_ratchet_percentage_by_month():
    d = flat_energy(
        flatdemandstructure=[[{"rate": 10.0}]],
        flatdemandmonths=[0] * 12,
        demandratchetpercentage=[0.5] * 6 + [0.0] * 6,  # Jan-Jun 50 %, Jul-Dec none
    )
    rate = rate_from_dict(d, "r")
    prior = {"2022-03": 40.0, "2022-11": 30.0}
    (feb,) = tariff_grid(
        rate, ctx(hourly("2023-02-01", 24), prior_monthly_peaks_mw=prior)
    ).peak_charges
    # February: 50 % of the highest of the 11 months before (March 2022 is 11 months back)
    assert feb.ratchet_floor_mw == pytest.approx(20.0)
    (aug,) = tariff_grid(
        rate, ctx(hourly("2023-08-01", 24), prior_monthly_peaks_mw=prior)
    ).peak_charges
    assert aug.ratchet_floor_mw == 0.0 and aug.ratchets == ()


def test_zero_ratchet_without_flat_demand_accepted():
    # real URDB rates often carry twelve zeros here
    rate = rate_from_dict(two_period_rate(demandratchetpercentage=[0] * 12), "r")
    with pytest.raises(InputError, match="flatdemandstructure"):
        rate_from_dict(two_period_rate(demandratchetpercentage=[0.8] * 12), "r")
    assert rate.demandratchetpercentage == (0,) * 12


def test_declining_block_is_not_convex():
    tiers = [{"max": 1000, "rate": 0.08}, {"rate": 0.05}]
    rate = rate_from_dict(flat_energy(energyratestructure=[tiers]), "r")
    (t,) = tariff_grid(rate, ctx(hourly("2023-01-02", 24))).energy_tiers
    assert not t.is_convex()
    np.testing.assert_allclose(t.usd_per_mwh[1], -30.0)  # 30 USD/MWh cheaper than tier 1


def test_a_negative_demand_rate_is_named_at_its_rate():
    d = flat_energy(
        flatdemandstructure=[[{"rate": 5.0}], [{"rate": -3.0}]], flatdemandmonths=[0] * 12
    )
    with pytest.raises(InputError, match="negative demand rate") as exc:
        rate_from_dict(d, "r.json")
    assert exc.value.field == "flatdemandstructure[1][0].rate"


# --- demand windows ------------------------------------------------------------------


def quarter_hours(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="15min", tz="UTC")


@pytest.mark.parametrize(
    "window, index, tz, step_h, expected",
    [
        # 60 minutes at 15-minute steps from 00:15 local (UTC-7): 4 steps, 1 before step 0
        (60, quarter_hours("2023-07-11T07:15", 8), "America/Los_Angeles", 0.25, (4, 1)),
        (30, quarter_hours("2023-07-11T07:15", 8), "America/Los_Angeles", 0.25, (2, 1)),
        # a window no longer than the step: the step's average
        (15, hourly("2023-07-11T07:00", 8), "America/Los_Angeles", 1.0, (1, 0)),
        (60, hourly("2023-07-11T07:00", 8), "America/Los_Angeles", 1.0, (1, 0)),
        (None, quarter_hours("2023-07-11T07:15", 8), "UTC", 0.25, (1, 0)),
        # the local clock's hours: Kathmandu's 05:45 at 00:00 UTC is 3 steps into its hour
        (60, quarter_hours("2023-07-11T00:00", 8), "Asia/Kathmandu", 0.25, (4, 3)),
    ],
)
def test_a_demand_window_longer_than_the_step_is_its_interval(window, index, tz, step_h, expected):
    rate = rate_from_dict(flat_energy(demandwindow=window) if window else flat_energy(), "r")
    assert demand_interval(rate, index, tz, step_h) == expected


@pytest.mark.parametrize(
    "window, index, tz, step_h, message",
    [
        (45, pd.date_range("2023-07-11", periods=4, freq="30min", tz="UTC"), "UTC", 0.5, "45"),
        (
            60,
            pd.date_range("2023-07-11", periods=4, freq="30min", tz="UTC"),
            "Asia/Kathmandu",
            0.5,
            "boundaries",
        ),
        (120, quarter_hours("2023-07-11T00:00", 4), "UTC", 0.25, "divide the hour"),
    ],
)
def test_a_demand_window_the_steps_cannot_meet_is_refused(window, index, tz, step_h, message):
    rate = rate_from_dict(flat_energy(demandwindow=window), "r")
    with pytest.raises(InputError, match=message) as exc:
        demand_interval(rate, index, tz, step_h)
    assert exc.value.field == "demandwindow"


def test_a_60_minute_window_bills_the_hours_average_at_quarter_hours():
    # 10 MW, but 22 MW in one quarter hour (01:15): the hour averages 13 MW; 10 USD/kW
    d = flat_energy(flatdemandstructure=[[{"rate": 10.0}]], flatdemandmonths=[0] * 12)
    index = quarter_hours("2023-01-02T00:00", 16)
    load = np.full(16, 10.0)
    load[5] = 22.0
    for window, peak_mw in ((15, 22.0), (60, 13.0)):
        rate = rate_from_dict({**d, "demandwindow": window}, "r")
        c = TariffContext(
            index=index, timezone="UTC", step_h=0.25, billing="full_month", energy="tariff_only"
        )
        tg = tariff_grid(rate, c)
        dispatch = solve_fixed_load(grid_of(tg, 16), load, step_h=0.25)
        assert dispatch.bill["demand_flat_usd"] == pytest.approx(10_000.0 * peak_mw)
