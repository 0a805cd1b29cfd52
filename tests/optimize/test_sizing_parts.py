"""Sizing by parts (``optimize/sizing_parts.py``): the cuts, the split, the Benders bounds
against the one-model sizing LP where the parts are exactly independent."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimize.problem import AssetSize, EnergyTiers, Job, Objective, Problem, Renewable, Sizing
from optimize.sizing_parts import part_problem, size_by_parts, split_steps
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import grid_problem, monthly_charges

EXACT = SolverOptions(mip_rel_gap=0.0, node_limit=None)


def _job(jid: str, release: int, deadline: int) -> Job:
    return Job(jid, full_power_it_mw=4.0, work_h=6.0, release_step=release, deadline_step=deadline)


def _solar_site(n: int = 96, jobs=()) -> Problem:
    """n hourly steps: 10 MW of load, a price wave, a PV profile; PV and the grid connection
    sized (no battery, no ramp, no demand charge: the parts of it are independent)."""
    t = np.arange(n)
    price = 60 + 40 * np.sin(2 * np.pi * (t - 9) / 24)
    pv = np.clip(np.sin(2 * np.pi * (t - 6) / 24), 0, None)
    p = grid_problem(np.full(n, 10.0), price)
    p = replace(p, renewables=(Renewable("pv", np.zeros(n)),), jobs=tuple(jobs))
    return replace(
        p,
        sizing=Sizing(
            (
                AssetSize("pv", 300.0, 0.0, 40.0, profile_per_unit=pv),
                AssetSize("grid_import", 150.0, 0.0, 60.0),
            )
        ),
    )


def test_cuts_fall_where_no_job_spans_them():
    p = _solar_site(96, jobs=[_job("a", 0, 30), _job("b", 20, 50), _job("c", 50, 70)])
    spans = split_steps(p, 24)
    assert spans[0][0] == 0 and spans[-1][1] == 96
    cuts = [a for a, _ in spans[1:]]
    assert cuts == [50, 74]  # 24 and 48 fall inside a job; 50 is the first free step
    for a, e in spans:
        part = part_problem(p, a, e)
        assert part.n_steps == e - a
        assert all(0 <= j.release_step < j.deadline_step <= e - a for j in part.jobs)


def test_parts_share_each_demand_charge_by_its_steps():
    n = 48
    p = replace(
        _solar_site(n),
        grid=replace(_solar_site(n).grid, peak_charges=monthly_charges(np.arange(n) // 36, 900.0)),
    )
    parts = [part_problem(p, a, e) for a, e in [(0, 24), (24, 48)]]
    usd = {}
    for part in parts:
        for c in part.grid.peak_charges:
            usd[c.key] = usd.get(c.key, 0.0) + c.usd_per_mw
            assert all(x.usd_per_unit == 0.0 for x in part.sizing.assets)
    assert usd == pytest.approx({"demand_flat@m0": 900.0, "demand_flat@m1": 900.0})
    first = {c.key: c.usd_per_mw for c in parts[0].grid.peak_charges}
    assert first == pytest.approx({"demand_flat@m0": 900.0 * 24 / 36})


def test_independent_parts_reach_the_one_model_optimum():
    """Without storage, ramp or demand charges the parts do not interact: the Benders
    bounds must close on the single sizing LP's optimum and its sizes."""
    p = _solar_site(96)
    one = solve(p, EXACT)
    r = size_by_parts(p, 24, EXACT, rel_tol=1e-6, max_iter=200)
    assert r.n_parts == 4 and r.status == "optimal"
    assert r.bound_usd <= one.objective_usd + 1e-6 * abs(one.objective_usd)
    assert r.objective_usd == pytest.approx(one.objective_usd, rel=1e-5)
    assert r.sizes["grid_import"] == pytest.approx(one.sizes["grid_import"], rel=1e-4)
    assert r.capacity_usd == pytest.approx(one.costs["capacity_usd"], rel=1e-4)
    assert r.unserved_mwh == pytest.approx(0.0, abs=1e-6)
    assert r.peak_import_mw == pytest.approx(10.0)  # the night load, all from the grid
    assert r.sizes["grid_import"] == pytest.approx(10.0, abs=1e-3)


def test_a_connection_capped_too_small_leaves_load_unserved():
    p = _solar_site(48)
    small = Sizing(
        (p.sizing.get("pv"), AssetSize("grid_import", 150.0, 0.0, 6.0)),
    )
    r = size_by_parts(replace(p, sizing=small), 24, EXACT)
    # the connection is built to its 6 MW bound; each hour leaves max(0, 10 - 6 - pv ·
    # profile) MW unserved: the dark hours at least, 4 MW each
    profile = small.get("pv").profile_per_unit
    pv = r.sizes["pv"]
    assert r.sizes["grid_import"] == pytest.approx(6.0)
    assert r.unserved_mwh == pytest.approx(np.maximum(0.0, 4.0 - pv * profile).sum(), rel=1e-6)
    assert r.unserved_mwh >= 4.0 * np.sum(profile == 0) - 1e-6


@pytest.mark.parametrize(
    "change",
    [
        {"objective": Objective(carbon_budget_t=10.0)},
        {"tiers": True},
    ],
)
def test_rows_that_span_the_parts_are_refused(change):
    p = _solar_site(48)
    if "objective" in change:
        p = replace(p, objective=change["objective"])
    else:
        tiers = EnergyTiers(
            "energy_tiers@m0",
            "energy_tiers",
            np.ones(48, dtype=bool),
            (100.0, 1e9),
            (np.zeros(48), np.full(48, 5.0)),
        )
        p = replace(p, grid=replace(p.grid, energy_tiers=(tiers,)))
    with pytest.raises(ValueError, match="sizing by parts cannot split"):
        size_by_parts(p, 24, EXACT)


def test_whole_jobs_size_the_connection_for_a_schedule_the_parts_can_run():
    """Two 4 MW jobs of 6 h (f_min 1) in the dark hours 0-8 and 24-32 on 10 MW of load.
    Relaxed, each runs at 3 MW over all 8 hours: a 13 MW connection. Whole, each runs at
    4 MW: 14 MW. The plan is a schedule the parts can run: each part's exact MILP at the
    plan's sizes costs no more than the plan says, and the relaxed master bounds it."""
    p = _solar_site(48, jobs=[_job("night", 0, 8), _job("next", 24, 32)])
    r = size_by_parts(p, 24, EXACT, rel_tol=1e-6, max_iter=200)
    assert r.whole_jobs and r.n_parts == 2 and r.unserved_mwh == pytest.approx(0.0, abs=1e-6)
    assert r.sizes["grid_import"] == pytest.approx(14.0, abs=1e-3)
    tol = 1e-6 * abs(r.objective_usd)
    assert r.bound_usd <= r.relaxed_objective_usd + tol
    assert r.relaxed_objective_usd < r.objective_usd  # the extra MW at 150 USD each, at least
    fixed = Sizing(
        tuple(
            replace(a, min_size=r.sizes[a.name], max_size=r.sizes[a.name]) for a in p.sizing.assets
        )
    )
    exact_usd = sum(
        solve(part_problem(replace(p, sizing=fixed), a, e), EXACT).objective_usd
        for a, e in r.part_steps
    )
    assert exact_usd <= r.objective_usd - r.capacity_usd + tol
    assert exact_usd == pytest.approx(r.objective_usd - r.capacity_usd, rel=1e-6)


def test_the_plan_pays_each_monthly_charge_on_its_peak_over_all_parts():
    """A fixed load of 12 MW in the first day and 10 MW in the second, one month over both
    days at 900 USD/MW, the connection sized at 150 USD/MW. The parts pay 900 × (½ · 12 +
    ½ · 10) = 9,900 USD of demand charge; the plan's import, billed as one month, pays 900 ×
    12 = 10,800 USD: its cost is the bill, the parts' figure is kept apart."""
    load = np.r_[np.full(24, 12.0), np.full(24, 10.0)]
    p = grid_problem(load, 50.0, peak_charges=monthly_charges(np.zeros(48, dtype=int), 900.0))
    p = replace(p, sizing=Sizing((AssetSize("grid_import", 150.0, 0.0, 60.0),)))
    r = size_by_parts(p, 24, EXACT, rel_tol=1e-6, max_iter=200)
    energy_usd = 50.0 * load.sum()
    assert r.n_parts == 2 and r.sizes["grid_import"] == pytest.approx(12.0, abs=1e-4)
    capacity_usd = 150.0 * 12.0
    assert r.objective_usd == pytest.approx(energy_usd + 900.0 * 12 + capacity_usd, rel=1e-6)
    assert r.parts_objective_usd == pytest.approx(energy_usd + 9_900.0 + capacity_usd, rel=1e-6)
    # the relaxed bound is the parts' (a bound: never above the bill)
    assert r.bound_usd <= r.parts_objective_usd + 1e-6 * r.parts_objective_usd
    assert r.mip_gap == pytest.approx((r.objective_usd - r.bound_usd) / r.objective_usd, rel=1e-6)
    assert r.status == "heuristic"  # 900 USD above its bound: 2.3 % of 39,000 USD
