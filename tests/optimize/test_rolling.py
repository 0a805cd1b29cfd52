"""Rolling-horizon solve (optimize/rolling.py) on small problems."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import optimize as o
from optimize import Infeasible
from optimize.problem import Job
from optimize.rolling import solve_rolling
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from optimize.window_state import Carried, JobState, ramp_reach, window_problem
from tests.optimize.small_problems import grid_problem, small_problem

OPTS = SolverOptions(mip_rel_gap=1e-6)


def job_on(d, jid):
    return np.flatnonzero(d.series[f"job_{jid}_mw"] > 1e-6)


def test_single_window_equals_solve():
    jobs = (Job("a", 10.0, 8.0, 0, 48), Job("b", 6.0, 5.0, 10, 40, preemptible=False))
    p = small_problem(jobs=jobs, ramp=15.0)
    d_full = solve(p, OPTS)
    d_roll = solve_rolling(p, window_steps=48, options=OPTS)
    assert len(d_roll.windows) == 1
    assert d_roll.objective_usd == pytest.approx(d_full.objective_usd, rel=1e-6)
    np.testing.assert_allclose(d_roll.series["grid_import_mw"], d_full.series["grid_import_mw"])


def test_state_carried_across_windows():
    jobs = (
        Job("long", 10.0, 20.0, 0, 48, max_interruptions=1, restart_overhead_h=0.5),
        Job("np", 6.0, 8.0, 20, 29, preemptible=False, max_interruptions=0),
        Job(
            "cap",
            8.0,
            6.0,
            30,
            46,
            f_min=0.6,
            throughput_curve=((0.6, 0.78), (0.8, 0.94), (1.0, 1.0)),
        ),
    )
    p = small_problem(jobs=jobs, ramp=6.0)
    d = solve_rolling(p, window_steps=24, overlap_steps=6, options=OPTS)
    assert [w["start"] for w in d.windows] == [0, 24]
    assert all(d.jobs[j.id]["deadline_met"] for j in jobs), d.jobs
    assert d.jobs["long"]["restarts"] <= 1
    # a non-preemptible job is one contiguous block, also across the boundary at 24
    on = job_on(d, "np")
    assert len(on) >= 8 and np.all(np.diff(on) == 1)
    assert on[0] < 24 <= on[-1]  # it must cross the boundary: 8 h in steps 20-28
    # SOC recursion and ramp limit hold at the window boundary
    s = d.series
    b = p.battery
    soc = s["battery_soc_mwh"]
    expect = soc[23] + 0.95 * s["battery_charge_mw"][24] - s["battery_discharge_mw"][24] / 0.95
    assert soc[24] == pytest.approx(expect, abs=1e-6)
    net = s["grid_import_mw"] - s["grid_export_mw"]
    assert np.max(np.abs(np.diff(net))) <= 6.0 + 1e-6
    assert soc[-1] >= b.soc_final_frac * b.energy_mwh - 1e-6
    # power balance of the concatenated series
    supply = net + s["pv_used_mw"] + s["battery_discharge_mw"] - s["battery_charge_mw"]
    np.testing.assert_allclose(supply, s["facility_load_mw"], atol=1e-6)
    # work done (progress) equals the work of each job
    for j in jobs:
        assert d.jobs[j.id]["work_done_h"] >= j.work_h - 1e-6


def test_rolling_close_to_full_solve():
    jobs = (Job("a", 10.0, 16.0, 0, 48, max_interruptions=2), Job("b", 5.0, 10.0, 12, 44))
    p = small_problem(jobs=jobs)
    d_full = solve(p, OPTS)
    d_roll = solve_rolling(p, window_steps=24, overlap_steps=12, options=OPTS)
    # myopic windows cannot beat the full horizon, and should be close on this case
    assert d_roll.objective_usd >= d_full.objective_usd - 1e-3
    assert d_roll.objective_usd <= d_full.objective_usd * 1.05
    assert all(v["deadline_met"] for v in d_roll.jobs.values())


def test_demand_charge_counts_monthly_peak_once():
    p = small_problem(jobs=(Job("a", 10.0, 12.0, 0, 48),), demand=1000.0)
    d = solve_rolling(p, window_steps=12, options=OPTS)
    imp = d.series["grid_import_mw"]
    # small_problem's "months" are steps 0-35 and 36-47
    expect = 1000.0 * (imp[:36].max() + imp[36:].max())
    assert d.costs["demand_usd"] == pytest.approx(expect)
    assert d.bill["demand_flat_usd"] == pytest.approx(expect)
    assert len(d.windows) == 4


def test_infeasible_window_names_job_with_global_steps():
    # job b needs 10 h in 6 steps of the second window
    jobs = (Job("b", 5.0, 10.0, 30, 36),)
    p = small_problem(jobs=jobs)
    with pytest.raises(Infeasible) as exc:
        solve_rolling(p, window_steps=24, options=OPTS)
    slacks = [s for s in exc.value.diagnosis if s.name == "b"]
    assert slacks and slacks[0].amount == pytest.approx(4.0)
    assert slacks[0].steps == [35]


def test_price_fix_windows_meet_deadlines_within_their_proven_gap():
    jobs = (Job("a", 10.0, 16.0, 0, 48, max_interruptions=2), Job("b", 5.0, 10.0, 12, 44))
    p = small_problem(jobs=jobs)
    exact = solve_rolling(p, window_steps=24, overlap_steps=12, options=OPTS)
    fast = solve_rolling(
        p, window_steps=24, overlap_steps=12, options=replace(OPTS, method="price-fix")
    )
    assert all(j["deadline_met"] for j in fast.jobs.values())
    assert fast.status in ("optimal", "heuristic")
    for w in fast.windows:  # a window is "optimal" only within the requested gap
        assert (w["status"] == "optimal") == (w["mip_gap"] <= OPTS.mip_rel_gap)
    # the first windows see the same problem: the exact one is no worse
    assert exact.windows[0]["objective_usd"] <= fast.windows[0]["objective_usd"] + 1e-6


@pytest.mark.parametrize("method", ["milp", "price-fix"])
def test_a_job_leaving_work_for_later_keeps_its_restart(method):
    # cheap at 0-5 and 12-17, dear elsewhere: one window alone would run those two blocks
    # (its one interruption) and leave the credited work for a restart it no longer has
    n = 48
    price = np.full(n, 200.0)
    price[0:6] = price[12:18] = 10.0
    job = Job("a", 10.0, 20.0, 0, 40, max_interruptions=1, restart_overhead_h=0.5)
    p = small_problem(n=n, jobs=(job,), battery=False)
    p = replace(p, grid=replace(p.grid, import_price_usd_per_mwh=price))
    d = solve_rolling(p, window_steps=24, options=replace(OPTS, method=method))
    assert d.jobs["a"]["deadline_met"]
    assert d.jobs["a"]["restarts"] <= 1


def test_backtracks_when_carried_work_makes_the_next_window_infeasible():
    # window 1 may leave half of a's hours after its horizon (credit); window 2 brings b,
    # which needs the whole import limit in those hours, so a's leftover cannot run
    # (by the fixed rule: the handover guide sees b and leaves a nothing there, below)
    jobs = (Job("a", 10.0, 20.0, 0, 36), Job("b", 28.0, 12.0, 24, 36, f_min=1.0))
    p = small_problem(jobs=jobs, battery=False)
    d = solve_rolling(p, window_steps=24, options=replace(OPTS, window_handover="fixed"))
    assert all(j["deadline_met"] for j in d.jobs.values())
    assert d.windows[0]["carry_fraction"] == 0.0  # re-solved without leaving work
    assert [w["window"] for w in d.windows] == [0, 1]
    guided = solve_rolling(p, window_steps=24, options=OPTS)
    assert all(j["deadline_met"] for j in guided.jobs.values())
    assert guided.windows[0]["handover_guide"] is True
    assert guided.windows[0]["carry_fraction"] == 0.5  # no backtrack needed


def test_a_job_released_just_before_the_horizon_owes_only_what_fits():
    # released at step 23 of a 24-step window, deadline far beyond: window 1 cannot owe
    # 20 - 0.5 * 24 = 8 h from its one step
    p = small_problem(jobs=(Job("a", 10.0, 20.0, 23, 48),), battery=False)
    d = solve_rolling(p, window_steps=24, options=OPTS)
    assert d.jobs["a"]["deadline_met"]


def test_a_window_is_read_from_the_carried_state_without_changing_it():
    # a preemptible job stopped with its one interruption spent cannot start again: the
    # window leaves it out, and the state it was read from stays as it was
    spent = Job("spent", 10.0, 3.0, 0, 40, max_interruptions=1)
    fresh = Job("fresh", 10.0, 3.0, 0, 40)
    p = small_problem(n=48, jobs=(spent, fresh))
    states = {
        "spent": JobState(spent, 2.0, restarts=1, started=True, work_done_h=1.0),
        "fresh": JobState(fresh, 3.0),
    }
    carried = Carried(states, 0.5, 1.0)
    before = {k: vars(v).copy() for k, v in states.items()}
    _, jobs = window_problem(p, carried, 24, 48)
    assert [j.id for j in jobs] == ["fresh"]
    assert {k: vars(v) for k, v in states.items()} == before
    # one interruption left: the next start is a restart, paid in advance
    states["spent"].restarts = 0
    _, jobs = window_problem(p, carried, 24, 48)
    assert {j.id: j.work_h for j in jobs}["spent"] == 2.0 + spent.restart_overhead_h


def test_a_window_ends_where_the_ramp_can_reach_a_cap_after_it():
    # 50 MW of load; a 10 MW cap on net import at step 3; ramp 20 MW per step; a full
    # battery (40 MW) whose discharge costs wear. A whole solve comes down 50 → 30 → 10.
    # Windows of 3 steps: the first sees no cap and keeps 50 MW at step 2; the second
    # could not reach 10 MW from there (infeasible before). The ramp carries the cap back
    # into the first window: at most 30 MW at step 2, 50 at step 1 and 70 at step 0.
    n = 6
    cap = np.full(n, np.nan)
    cap[3] = 10.0
    bat = o.Battery(40.0, 200.0, 1.0, 1.0, 0.0, 1.0, 1.0, wear_usd_per_mwh=5.0)
    p = grid_problem(
        np.full(n, 50.0),
        1.0,
        battery=bat,
        ramp_mw_per_h=20.0,
        net_import_cap_mw=cap,
        initial_net_import_mw=50.0,
    )
    whole = o.solve(p, OPTS)
    d = solve_rolling(p, window_steps=3, options=OPTS)
    net = d.series["grid_import_mw"] - d.series["grid_export_mw"]
    assert net[:4] == pytest.approx([50.0, 50.0, 30.0, 10.0])
    assert d.objective_usd == pytest.approx(whole.objective_usd)
    reach_max, reach_min = ramp_reach(p.grid, 1.0, 0, 3)
    assert reach_max == pytest.approx([70.0, 50.0, 30.0])
    assert reach_min is None


def test_a_window_ends_where_the_ramp_can_reach_an_outage_after_it():
    # exporting 40 MW of surplus, then an outage (import and export 0) at step 4: the
    # export must fall to 0 by 20 MW per step, so at most 20 MW out at step 3
    n = 6
    emax = np.full(n, 40.0)
    emax[4] = 0.0
    imax = np.full(n, 1000.0)
    imax[4] = 0.0
    g = o.Grid(
        import_max_mw=imax,
        export_max_mw=emax,
        import_price_usd_per_mwh=np.zeros(n),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        ramp_mw_per_h=20.0,
    )
    reach_max, reach_min = ramp_reach(g, 1.0, 0, 4)
    # down from the 1,000 MW import limit to 0: 80, 60, 40, 20 MW at steps 0-3
    assert reach_max == pytest.approx([80.0, 60.0, 40.0, 20.0])
    # up from the 40 MW export limit: only step 3 is bound tighter, at -20 MW
    assert reach_min == pytest.approx([np.nan, np.nan, np.nan, -20.0], nan_ok=True)
    # the last window has no step after it
    assert ramp_reach(g, 1.0, 4, 6) == (None, None)
