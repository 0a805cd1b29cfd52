"""The grid bill (optimize/bill.py): hand-checked lines, and the bill of a solved dispatch
equal to the model's objective terms."""

from __future__ import annotations

import numpy as np
import pytest

import optimize as o
from optimize.bill import billed_demand_mw, grid_bill
from tests.optimize.small_problems import grid_problem


def _tariff_grid_problem() -> o.Problem:
    """Six hourly steps with price parts, two TOU demand charges, a ratchet between two
    billing 'months' (it binds: month 2 bills 0.9 × month 1's peak), convex tiers with
    step-varying rates, and a battery with wear."""
    n = 6
    wholesale = np.array([20.0, 60.0, 15.0, 80.0, 30.0, 90.0])
    adder = np.full(n, 5.0)
    on = np.array([0, 1, 0, 1, 0, 1], bool)
    m1, m2 = np.arange(n) < 3, np.arange(n) >= 3
    charges = (
        o.PeakCharge("demand_tou_1@m1", "demand_tou_1", 300.0, m1 & on),
        o.PeakCharge("demand_tou_2@m1", "demand_tou_2", 100.0, m1 & ~on),
        o.PeakCharge("demand_flat@m1", "demand_flat", 200.0, m1),
        o.PeakCharge(
            "demand_flat@m2", "demand_flat", 200.0, m2, ratchets=(("demand_flat@m1", 0.9),)
        ),
    )
    tiers = o.EnergyTiers(
        "energy_tiers@m1",
        "energy_tiers",
        m1,
        (20.0, np.inf),
        (np.where(on, 3.0, 1.0), np.where(on, 9.0, 4.0)),
    )
    battery = o.Battery(8.0, 16.0, 0.95, 0.95, 0.1, 0.9, 0.5, 0.5, wear_usd_per_mwh=2.0)
    return grid_problem(
        [12.0, 18.0, 10.0, 8.0, 2.0, 6.0],
        wholesale + adder,
        export_price=wholesale,
        battery=battery,
        export_max_mw=np.full(n, 5.0),
        peak_charges=charges,
        energy_tiers=(tiers,),
        import_price_parts={"energy_wholesale": wholesale, "energy_adder": adder},
        export_price_parts={"export_wholesale": wholesale},
    )


def test_bill_of_the_solved_dispatch_equals_the_objective():
    p = _tariff_grid_problem()
    d = o.solve(p, o.SolverOptions(mip_rel_gap=1e-9))
    assert set(d.bill) == {
        "energy_wholesale_usd",
        "energy_adder_usd",
        "export_wholesale_usd",
        "demand_tou_1_usd",
        "demand_tou_2_usd",
        "demand_flat_usd",
        "energy_tiers_usd",
    }
    others = d.costs["wear_usd"]
    assert sum(d.bill.values()) + others == pytest.approx(d.objective_usd, rel=1e-6)
    demand = d.bill["demand_tou_1_usd"] + d.bill["demand_tou_2_usd"] + d.bill["demand_flat_usd"]
    assert d.costs["demand_usd"] == pytest.approx(demand, rel=1e-12)
    assert d.costs["energy_usd"] + d.costs["demand_usd"] == pytest.approx(sum(d.bill.values()))
    imp = d.series["grid_import_mw"]
    assert d.bill["energy_adder_usd"] == pytest.approx(5.0 * imp.sum())


def test_billed_demand_and_lines_by_hand():
    p = _tariff_grid_problem()
    imp = np.array([10.0, 30.0, 5.0, 12.0, 8.0, 20.0])
    exp = np.array([0.0, 0.0, 2.0, 0.0, 0.0, 0.0])
    # m1: on-peak steps 1 -> 30; off-peak steps 0, 2 -> 10; all of m1 -> 30;
    # m2 peaks at 20 but bills max(20, 0.9 · 30 = 27)
    assert billed_demand_mw(p.grid, imp) == {
        "demand_tou_1@m1": 30.0,
        "demand_tou_2@m1": 10.0,
        "demand_flat@m1": 30.0,
        "demand_flat@m2": pytest.approx(27.0),
    }
    bill = grid_bill(p.grid, 1.0, imp, exp)
    assert bill["demand_tou_1_usd"] == pytest.approx(9000.0)
    assert bill["demand_tou_2_usd"] == pytest.approx(1000.0)
    assert bill["demand_flat_usd"] == pytest.approx(200.0 * (30 + 27))
    assert bill["energy_adder_usd"] == pytest.approx(5.0 * imp.sum())
    assert bill["export_wholesale_usd"] == pytest.approx(-2.0 * 15.0)
    # m1's 45 MWh: 20 MWh in block 1, 25 MWh in block 2; the on-peak 30 MWh has the larger
    # step (9 − 3 = 6 vs 4 − 1 = 3), so block 2 takes the off-peak 15 MWh first, then 10
    # on-peak: base 10·1 + 30·3 + 5·1 = 105, plus 15·3 + 10·6 = 105: 210
    assert bill["energy_tiers_usd"] == pytest.approx(210.0)


def test_parts_that_no_longer_sum_to_the_price_leave_the_difference_in_the_first_part():
    # the closed loop re-prices a spike on the import price after the parts were set
    p = grid_problem(
        [1.0],
        30.0,
        import_price_parts={"energy_wholesale": [25.0], "energy_adder": [5.0]},
    )
    g = o.Grid(**{**p.grid.__dict__, "import_price_usd_per_mwh": np.array([130.0])})
    bill = grid_bill(g, 1.0, np.array([2.0]), np.array([0.0]))
    assert bill == pytest.approx(
        {"energy_wholesale_usd": 250.0, "energy_adder_usd": 10.0, "export_usd": 0.0}
    )
