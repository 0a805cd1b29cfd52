"""Tariff charges in the model: tiered energy, time-of-use demand, ratchets, prior peaks
across rolling windows. Every expected number is derived in the comments (1 h steps, so
MW and MWh per step are the same number)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize as o
from optimize.bill import tiers_usd
from optimize.demand_charges import window_charges
from optimize.model import build_model
from optimize.rolling import solve_rolling
from tests.optimize.small_problems import grid_problem

OPTS = o.SolverOptions(mip_rel_gap=1e-9)


def tiers(n, widths, rates, prior_mwh=0.0, key="tiers@m0"):
    return o.EnergyTiers(
        key=key,
        line_item="energy_tiers",
        steps=np.ones(n, dtype=bool),
        block_mwh=widths,
        usd_per_mwh=tuple(np.broadcast_to(np.asarray(r, float), (n,)) for r in rates),
        prior_mwh=prior_mwh,
    )


def charge(key, steps, usd_per_mw=100.0, **kw):
    return o.PeakCharge(key, key.split("@")[0], usd_per_mw, np.asarray(steps, bool), **kw)


def test_a_tier_boundary_prices_the_energy_beyond_it_at_the_next_rate():
    # 3 MWh in one step, the first 2 MWh at 10 USD/MWh, the rest at 20: 2·10 + 1·20 = 40
    p = grid_problem([3.0], 0.0, energy_tiers=(tiers(1, (2.0, np.inf), (10.0, 20.0)),))
    d = o.solve(p, OPTS)
    assert d.objective_usd == pytest.approx(40.0)
    assert d.bill == pytest.approx({"energy_usd": 0.0, "energy_tiers_usd": 40.0})
    assert d.costs["energy_usd"] == pytest.approx(40.0)


def test_energy_before_the_horizon_fills_the_first_block():
    # 1 MWh of the month already imported: 1 MWh left at 10, then 2 MWh at 20: 50
    p = grid_problem([3.0], 0.0, energy_tiers=(tiers(1, (2.0, 5.0), (10.0, 20.0), 1.0),))
    assert o.solve(p, OPTS).objective_usd == pytest.approx(50.0)


def test_a_declining_block_fills_in_order_thanks_to_binaries():
    # the first 2 MWh at 20, the rest at 10: 3 MWh cost 2·20 + 1·10 = 50. An LP would put all
    # 3 MWh in the cheaper second block (30); one binary per boundary forbids that.
    x = tiers(1, (2.0, np.inf), (20.0, 10.0))
    assert not x.is_convex()
    p = grid_problem([3.0], 0.0, energy_tiers=(x,))
    m = build_model(p)
    assert len(m.grid_tier_full) == 1
    assert o.solve(p, OPTS).objective_usd == pytest.approx(50.0)
    assert not hasattr(
        build_model(grid_problem([3.0], 0.0, energy_tiers=(tiers(1, (2.0,), (1.0,)),))),
        "grid_tier_full",
    )


def test_a_declining_block_moves_load_the_lp_way_only_when_the_first_block_is_full():
    # Two steps of 2 MW; a 4 MWh battery (η = 1) may shift energy. Block 1: 3 MWh at 20,
    # then 10. The month's 4 MWh cost 3·20 + 1·10 = 70 however they are timed: storage
    # cannot buy the cheap block before the dear one is full.
    b = o.Battery(10.0, 4.0, 1.0, 1.0, 0.0, 1.0, 0.0)
    p = grid_problem(
        [2.0, 2.0], 0.0, battery=b, energy_tiers=(tiers(2, (3.0, np.inf), (20.0, 10.0)),)
    )
    d = o.solve(p, OPTS)
    assert d.objective_usd == pytest.approx(70.0)


def test_rates_that_vary_by_step_take_the_cheapest_split():
    # 2 MWh at each of two steps, block 1 holds 2 MWh. Block rates (step 0, step 1): first
    # block 10, 100; second 20, 105. Splits: step 0 in block 1 and step 1 in block 2:
    # 2·10 + 2·105 = 230; the other way: 2·100 + 2·20 = 240. Cheapest 230.
    x = tiers(2, (2.0, np.inf), ([10.0, 100.0], [20.0, 105.0]))
    assert tiers_usd((x,), 1.0, np.array([2.0, 2.0])) == {"energy_tiers": pytest.approx(230.0)}
    assert o.solve(grid_problem([2.0, 2.0], 0.0, energy_tiers=(x,)), OPTS).objective_usd == (
        pytest.approx(230.0)
    )


def test_a_tou_demand_charge_ignores_a_spike_outside_its_period():
    # load 10, 50, 20 MW; 100 USD/MW on the peak over steps 0 and 2 only: 20 MW -> 2000
    p = grid_problem([10.0, 50.0, 20.0], 0.0, peak_charges=(charge("demand_tou_1@m0", [1, 0, 1]),))
    d = o.solve(p, OPTS)
    assert d.objective_usd == pytest.approx(2000.0)
    assert d.bill["demand_tou_1_usd"] == pytest.approx(2000.0)
    assert d.costs["demand_usd"] == pytest.approx(2000.0)


def test_a_ratchet_bills_a_share_of_the_earlier_months_peak_when_higher():
    # month 1 (steps 0-1) peaks at 50 MW: 5000. Month 2 (steps 2-3) peaks at 10 MW but bills
    # at least 0.8 · 50 = 40 MW: 4000. Total 9000. With a 10 MW month 1 the ratchet (8 MW)
    # is below month 2's own peak: 1000 + 1000.
    m1 = charge("demand_flat@m1", [1, 1, 0, 0])
    m2 = charge("demand_flat@m2", [0, 0, 1, 1], ratchets=(("demand_flat@m1", 0.8),))
    d = o.solve(grid_problem([50.0, 50.0, 10.0, 10.0], 0.0, peak_charges=(m1, m2)), OPTS)
    assert d.objective_usd == pytest.approx(9000.0)
    assert d.bill["demand_flat_usd"] == pytest.approx(9000.0)
    low = o.solve(grid_problem([10.0] * 4, 0.0, peak_charges=(m1, m2)), OPTS)
    assert low.objective_usd == pytest.approx(2000.0)


def test_a_ratchet_floor_and_a_prior_peak_bill_at_least_that():
    # peak 10 MW; floor 30 MW -> 3000; prior peak 25 MW (no floor) -> 2500
    floor = charge("demand_flat@m0", [1], ratchet_floor_mw=30.0)
    assert o.solve(grid_problem([10.0], 0.0, peak_charges=(floor,)), OPTS).objective_usd == (
        pytest.approx(3000.0)
    )
    prior = charge("demand_flat@m0", [1], prior_peak_mw=25.0)
    assert o.solve(grid_problem([10.0], 0.0, peak_charges=(prior,)), OPTS).objective_usd == (
        pytest.approx(2500.0)
    )


def test_window_charges_carry_peaks_and_turn_a_ratchet_on_a_past_month_into_a_floor():
    m1 = charge("demand_flat@m1", [1, 1, 0, 0])
    m2 = charge("demand_flat@m2", [0, 0, 1, 1], ratchets=(("demand_flat@m1", 0.5),))
    # month 1's committed import peaks at 40 MW
    [w] = window_charges((m1, m2), 2, 4, np.array([40.0, 10.0]))
    assert (w.key, w.steps.tolist(), w.ratchet_floor_mw, w.ratchets) == (
        "demand_flat@m2",
        [True, True],
        20.0,
        (),
    )
    [a, b] = window_charges((m1, m2), 1, 3, np.array([40.0]))
    assert (a.prior_peak_mw, a.steps.tolist(), b.prior_peak_mw) == (40.0, [True, False], 0.0)


def test_rolling_windows_pay_each_peak_once_and_carry_it_as_a_floor():
    # one month over 4 steps, load 30, 10, 10, 20 MW at 1 USD/MWh, 100 USD/MW; windows of one
    # step. Each window after the first starts from the 30 MW peak so far (its floor), so
    # its objective is its energy + 3000 (without the carried peak: 1000, 1000, 2000). The
    # committed bill counts the peak once: 70 + 3000.
    flat = charge("demand_flat@m0", [1] * 4)
    p = grid_problem([30.0, 10.0, 10.0, 20.0], 1.0, peak_charges=(flat,))
    full = o.SolverOptions(mip_rel_gap=1e-9, window_demand_charge="full")
    d = solve_rolling(p, window_steps=1, options=full)
    assert [w["objective_usd"] for w in d.windows] == pytest.approx([3030, 3010, 3010, 3020])
    assert d.costs["demand_usd"] == pytest.approx(3000.0)
    assert d.bill == pytest.approx({"energy_usd": 70.0, "demand_flat_usd": 3000.0})


def test_a_window_pays_its_share_of_the_rest_of_the_month_for_a_peak():
    # the case above with the default "share": window k models 1 of the month's 4 - k steps
    # left, so its 30 MW peak costs 3000 / (4 - k): 750 + 30, 1000 + 10, 1500 + 10, 3000 +
    # 20. The bill is the same: the peak is billed once, in full.
    flat = charge("demand_flat@m0", [1] * 4)
    p = grid_problem([30.0, 10.0, 10.0, 20.0], 1.0, peak_charges=(flat,))
    d = solve_rolling(p, window_steps=1, options=OPTS)
    assert [w["objective_usd"] for w in d.windows] == pytest.approx([780, 1010, 1510, 3020])
    assert d.bill == pytest.approx({"energy_usd": 70.0, "demand_flat_usd": 3000.0})


def test_windows_priced_at_their_share_import_where_a_generator_dearer_than_the_grid_runs():
    # 10 MW for 8 h, one month's charge of 600 USD/MW, import 50 USD/MWh, a 10 MW generator
    # at 150 USD/MWh; windows of 2 h. At the full charge each window weighs 600 USD/MW of
    # peak against 2 h x (150 - 50) = 200 USD/MW saved: it runs the generator, and so does
    # every window after it (the peak stays 0): 80 MWh x 150 = 12,000 USD. At its share
    # (2 of 8 steps) the first window pays 150 USD/MW < 200 and imports 10 MW; the later
    # windows import up to that peak free: 6,000 + 80 x 50 = 10,000 USD, the one solve's
    # optimum.
    flat = charge("demand_flat@m0", [1] * 8, usd_per_mw=600.0)
    gen = o.Generator("gas", capacity_mw=10.0, fuel_usd_per_mwh=150.0, carbon_g_per_kwh=0.0)
    p = dataclasses.replace(grid_problem([10.0] * 8, 50.0, peak_charges=(flat,)), generators=(gen,))
    whole = o.solve(p, OPTS)
    full = o.SolverOptions(mip_rel_gap=1e-9, window_demand_charge="full")
    parts = ("energy_usd", "demand_usd", "fuel_usd")
    costs = {
        name: sum(solve_rolling(p, window_steps=2, options=opts).costs[k] for k in parts)
        for name, opts in (("full", full), ("share", OPTS))
    }
    assert sum(whole.costs[k] for k in parts) == pytest.approx(10_000.0)
    assert costs == pytest.approx({"full": 12_000.0, "share": 10_000.0})


def test_a_windows_share_of_a_charge_counts_the_charges_steps_from_its_start():
    # a charge on steps 1-8 of 10; the window [3, 5) models 2 of the 6 steps left (3-8)
    c = charge("demand_flat@m0", [0, 1, 1, 1, 1, 1, 1, 1, 1, 0], usd_per_mw=300.0)
    [w] = window_charges((c,), 3, 5, np.zeros(3), share_of_rest=True)
    assert w.usd_per_mw == pytest.approx(100.0)
    [w] = window_charges((c,), 3, 5, np.zeros(3))
    assert w.usd_per_mw == pytest.approx(300.0)


def test_rolling_windows_carry_the_months_energy_into_the_tiers():
    # 1.5 MWh per step, 2 MWh at 10 then 20 USD/MWh: window 0 pays 15, window 1 finds 1.5 MWh
    # in the first block (0.5 MWh at 10, 1 MWh at 20: 25). Total 40 = the month's 3 MWh.
    p = grid_problem([1.5, 1.5], 0.0, energy_tiers=(tiers(2, (2.0, np.inf), (10.0, 20.0)),))
    d = solve_rolling(p, window_steps=1, options=OPTS)
    assert [w["objective_usd"] for w in d.windows] == [pytest.approx(15.0), pytest.approx(25.0)]
    assert d.costs["energy_usd"] == pytest.approx(40.0)


def test_a_ratchet_must_name_another_charge():
    bad = charge("demand_flat@m0", [1], ratchets=(("demand_flat@m9", 0.5),))
    with pytest.raises(ValueError, match="demand_flat@m9"):
        grid_problem([1.0], 0.0, peak_charges=(bad,))
