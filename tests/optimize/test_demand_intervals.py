"""Demand measured over intervals longer than a step (``PeakCharge.interval_steps``): a
rate's 60-minute demand window at 15-minute steps bills the highest hourly average, not
the highest quarter hour. Expected numbers are derived in the comments (1 h steps in the
problems, so the interval length in steps is what matters)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize as o
from optimize.bill import demand_intervals, peaks_mw
from optimize.demand_charges import window_charges
from optimize.rolling import solve_rolling
from tests.optimize.small_problems import grid_problem

OPTS = o.SolverOptions(mip_rel_gap=1e-9)


def flat(n: int, **kw) -> o.PeakCharge:
    return o.PeakCharge("demand_flat@m0", "demand_flat", 100.0, np.ones(n, bool), **kw)


def test_the_peak_is_the_highest_interval_average():
    # load 5, 5, 5, 20 | 5, 5, 5, 5: intervals of 4 steps average 8.75 and 5 MW; billed
    # 8.75 MW at 100 USD/MW (the step's 20 MW would bill 2,000); energy 55 MWh at 1 USD
    p = grid_problem([5, 5, 5, 20, 5, 5, 5, 5], 1.0, peak_charges=(flat(8, interval_steps=4),))
    d = o.solve(p, OPTS)
    assert d.bill == pytest.approx({"energy_usd": 55.0, "demand_flat_usd": 875.0})
    assert d.objective_usd == pytest.approx(930.0)


def test_a_horizon_inside_an_interval_counts_its_known_head():
    # phase 1: the first interval began one step before step 0, whose 12 MW are known;
    # it averages (12 + 5 + 5 + 5) / 4 = 6.75, the next (20 + 5 + 5 + 5) / 4 = 8.75, the
    # last is cut by the end: (5 + 5) / 2 = 5
    c = flat(9, interval_steps=4, interval_phase=1, head_steps=1, head_import_mw=12.0)
    assert demand_intervals(c, 9) == [(0, 3, 12.0, 4), (3, 7, 0.0, 4), (7, 9, 0.0, 2)]
    imp = np.array([5, 5, 5, 20, 5, 5, 5, 5, 5], float)
    assert peaks_mw((c,), imp) == {c.key: 8.75}
    # nothing known before step 0: the first interval averages its own three steps
    assert demand_intervals(flat(9, interval_steps=4, interval_phase=1), 9)[0] == (0, 3, 0.0, 3)


def test_an_interval_counts_where_one_of_its_steps_is_the_charges():
    steps = np.array([0, 0, 0, 1, 0, 0, 0, 0], bool)
    c = o.PeakCharge("demand_tou_2@m0", "demand_tou_2", 100.0, steps, interval_steps=2)
    assert [iv[:2] for iv in demand_intervals(c, 8)] == [(2, 4)]


@pytest.mark.parametrize("phase, head_steps", [(0, 0), (1, 0), (2, 2)])
def test_window_charges_carry_the_interval_in_progress(phase, head_steps):
    # cut anywhere, the peak so far and the rest's peak give the whole series' peak
    rng = np.random.default_rng(7)
    imp = rng.uniform(0.0, 50.0, 23)
    head = 17.0 if head_steps else 0.0
    c = flat(23, interval_steps=4, interval_phase=phase, head_steps=head_steps, head_import_mw=head)
    whole = peaks_mw((c,), imp)[c.key]
    for a in range(23):
        (cut,) = window_charges((c,), a, 23, imp[:a])
        assert max(cut.prior_peak_mw, peaks_mw((cut,), imp[a:])[c.key]) == pytest.approx(whole)


def test_rolling_windows_meet_inside_an_interval():
    # a fixed load in windows of 3 steps cut across intervals of 4; intervals average 15
    # (10 30 10 10), 15 (10 10 30 10) and 10 MW. Window [0, 3) sees 10 30 10 of the first:
    # 16.67 MW. Window [3, 6) knows those 50 MWh: (50 + 10) / 4 = 15 (10 without them),
    # and 10 of the second so far: 30 + 1500 USD. Window [6, 9): the first ended at 15 MW
    # (its floor), the second (10 + 10 + 30 + 10) / 4 = 15: 50 + 1500. Window [9, 12): the
    # third 10 MW, the floor 15: 30 + 1500. The committed bill: 160 + 100 · 15.
    load = [10, 30, 10, 10, 10, 10, 30, 10, 10, 10, 10, 10]
    p = grid_problem(load, 1.0, peak_charges=(flat(12, interval_steps=4),))
    full = dataclasses.replace(OPTS, window_demand_charge="full")  # the bill's own charge
    d = solve_rolling(p, window_steps=3, options=full)
    expected = [50 + 100 * 50 / 3, 1530, 1550, 1530]
    assert [w["objective_usd"] for w in d.windows] == pytest.approx(expected)
    assert d.bill == pytest.approx({"energy_usd": 160.0, "demand_flat_usd": 1500.0})


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"interval_steps": 0}, "interval_steps"),
        ({"interval_steps": 4, "interval_phase": 4}, "interval_phase"),
        ({"interval_steps": 4, "interval_phase": 1, "head_steps": 2}, "head_steps"),
        ({"interval_steps": 4, "head_import_mw": 3.0}, "head_import_mw"),
        ({"interval_steps": 2.5}, "interval_steps"),
    ],
)
def test_interval_fields_are_checked(kw, message):
    with pytest.raises(ValueError, match=message):
        flat(4, **kw)
