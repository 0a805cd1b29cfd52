"""Sizing (``optimize/sizing.py``): asset sizes chosen with the dispatch, checked by hand and
against an exhaustive grid of fixed sizes."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from optimize.errors import Infeasible
from optimize.problem import AssetSize, Battery, Generator, Job, Problem, Renewable, Sizing
from optimize.rolling import solve_rolling
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import grid_problem, small_problem

EXACT = SolverOptions(mip_rel_gap=0.0, node_limit=None)


def _sized(problem: Problem, *assets: AssetSize) -> Problem:
    return replace(problem, sizing=Sizing(assets))


# --- renewables: a flat price, a flat load and a flat profile --------------------------------
# 24 h of 10 MW at 50 USD/MWh, no export; the renewable yields c MW per MW. Up to 10 / c MW
# every MW of it saves 50 · c · 24 USD, its whole value over the horizon (c = 0.5: 600 USD).


def _flat_case(name: str, c: float, usd_per_mw: float, existing: float = 0.0) -> Problem:
    n = 24
    p = grid_problem(np.full(n, 10.0), 50.0)
    p = replace(p, renewables=(Renewable(name, np.zeros(n)),))
    return _sized(
        p, AssetSize(name, usd_per_mw, 0.0, 15.0, existing, profile_per_unit=np.full(n, c))
    )


@pytest.mark.parametrize(("name", "c"), [("pv", 0.5), ("wind", 0.6)])
def test_renewable_dearer_than_its_energy_is_not_built(name, c):
    value_usd_per_mw = 50 * c * 1.0 * 24  # p · c · step_h · n
    d = solve(_flat_case(name, c, value_usd_per_mw + 10), EXACT)
    assert d.sizes == {name: pytest.approx(0.0, abs=1e-9)}
    assert d.costs["capacity_usd"] == pytest.approx(0.0, abs=1e-6)
    assert d.objective_usd == pytest.approx(50 * 10 * 24)


@pytest.mark.parametrize(("name", "c"), [("pv", 0.5), ("wind", 0.6)])
def test_renewable_cheaper_than_its_energy_is_built_to_its_bound(name, c):
    value = 50 * c * 24
    d = solve(_flat_case(name, c, value - 100), EXACT)
    assert d.sizes[name] == pytest.approx(15.0)
    # 15 MW at c: 15·c MW used every hour, the rest of the 10 MW imported
    imported_mwh = (10 - 15 * c) * 24
    assert d.costs["capacity_usd"] == pytest.approx((value - 100) * 15)
    assert d.objective_usd == pytest.approx((value - 100) * 15 + 50 * imported_mwh)
    np.testing.assert_allclose(d.series[f"{name}_available_mw"], 15 * c)
    np.testing.assert_allclose(d.series[f"{name}_used_mw"], 15 * c, atol=1e-9)


def test_existing_renewable_is_kept_and_costs_nothing():
    d = solve(_flat_case("pv", 0.5, 700.0, existing=4.0), EXACT)
    assert d.sizes["pv"] == pytest.approx(4.0)
    assert d.costs["capacity_usd"] == pytest.approx(0.0, abs=1e-6)
    assert d.objective_usd == pytest.approx(50 * (10 - 2) * 24)


# --- battery: a two-price day -----------------------------------------------------------------
# 10 MW load; 20 USD/MWh for 20 h, 100 USD/MWh for the last 4 h. A lossless battery with SOC in
# [0.1 E, 0.9 E], starting and ending at 0.1 E, shifts x <= 40 MWh (4 h x 10 MW) into the peak;
# it needs E = x / 0.8 and P = x / 4. Each MWh shifted saves 80 USD and costs ce / 0.8 + cp / 4.


def _two_price_battery(usd_per_mwh: float, usd_per_mw: float) -> Problem:
    n = 24
    price = np.where(np.arange(n) < 20, 20.0, 100.0)
    template = Battery(0.0, 0.0, 1.0, 1.0, 0.1, 0.9, 0.1, soc_final_frac=0.1)
    p = grid_problem(np.full(n, 10.0), price, battery=template)
    return _sized(
        p,
        AssetSize("battery_energy", usd_per_mwh, 0.0, 200.0),
        AssetSize("battery_power", usd_per_mw, 0.0, 50.0),
    )


def test_battery_on_a_two_price_day_matches_the_hand_solution():
    # 80 - 40/0.8 - 100/4 = 5 USD/MWh > 0: shift all 40 MWh, E = 50 MWh, P = 10 MW
    d = solve(_two_price_battery(40.0, 100.0), EXACT)
    assert d.sizes["battery_energy"] == pytest.approx(50.0)
    assert d.sizes["battery_power"] == pytest.approx(10.0)
    assert d.costs["capacity_usd"] == pytest.approx(40 * 50 + 100 * 10)
    assert d.objective_usd == pytest.approx(8000 - 5 * 40)  # 8000 USD without a battery
    assert d.series["battery_soc_mwh"].max() == pytest.approx(45.0)  # 0.9 E
    assert d.series["battery_soc_mwh"][-1] == pytest.approx(5.0)  # 0.1 E


def test_battery_whose_power_is_too_dear_is_not_built():
    # 80 - 40/0.8 - 200/4 = -20 USD/MWh: no battery
    d = solve(_two_price_battery(40.0, 200.0), EXACT)
    assert d.sizes["battery_energy"] == pytest.approx(0.0, abs=1e-9)
    assert d.sizes["battery_power"] == pytest.approx(0.0, abs=1e-9)
    assert d.objective_usd == pytest.approx(8000.0)


def test_sizes_survive_the_no_simultaneous_re_solve():
    # No load, 10 USD/MWh, net import 20 MW before step 0 and a 10 MW/h ramp: step 0 must
    # take 10 MW. Burning it (charge and discharge at once, η 0.5/0.5: ch = 13.3, dis = 3.3)
    # needs only P = 13.3 MW (1 USD/MW); the re-solve with the binary at step 0 must charge
    # it: 5 MWh into a battery half full at the start, E = 10 MWh (5 USD/MWh), P = 10 MW.
    template = Battery(0.0, 0.0, 0.5, 0.5, 0.0, 1.0, 0.5, no_simultaneous=True)
    p = grid_problem(
        [0.0, 0.0], 10.0, battery=template, ramp_mw_per_h=10.0, initial_net_import_mw=20.0
    )
    p = _sized(
        p, AssetSize("battery_energy", 5.0, 0.0, 100.0), AssetSize("battery_power", 1.0, 0.0, 20.0)
    )
    d = solve(p, EXACT)
    assert d.series["battery_discharge_mw"][0] == pytest.approx(0.0, abs=1e-9)
    assert d.sizes == {"battery_energy": pytest.approx(10.0), "battery_power": pytest.approx(10.0)}
    assert d.objective_usd == pytest.approx(100 + 50 + 10)


# --- grid import capacity ---------------------------------------------------------------------


def _import_case(pv_mw=None, existing: float = 0.0) -> Problem:
    p = grid_problem([5.0, 8.0, 12.0, 7.0], 10.0)
    if pv_mw is not None:
        p = replace(p, renewables=(Renewable("pv", np.asarray(pv_mw, dtype=float)),))
    return _sized(p, AssetSize("grid_import", 100.0, 0.0, 50.0, existing))


def test_import_capacity_is_sized_to_the_peak_load():
    d = solve(_import_case(), EXACT)
    assert d.sizes["grid_import"] == pytest.approx(12.0)
    assert d.objective_usd == pytest.approx(100 * 12 + 10 * 32)


def test_pv_at_the_peak_lowers_the_import_capacity_by_its_output():
    # 3 MW of PV at the 12 MW peak: the net peak is 9 MW (the 8 MW hour is below it)
    d = solve(_import_case([0.0, 0.0, 3.0, 0.0]), EXACT)
    assert d.sizes["grid_import"] == pytest.approx(9.0)
    assert d.objective_usd == pytest.approx(100 * 9 + 10 * 29)


def test_existing_import_capacity_pays_only_for_the_addition():
    d = solve(_import_case(existing=10.0), EXACT)
    assert d.sizes["grid_import"] == pytest.approx(12.0)
    assert d.costs["capacity_usd"] == pytest.approx(200.0)
    assert d.objective_usd == pytest.approx(200 + 320)


def test_import_capacity_too_small_is_diagnosed():
    p = replace(_import_case(), sizing=Sizing((AssetSize("grid_import", 100.0, 0.0, 10.0),)))
    p = replace(p, grid=replace(p.grid, import_max_mw=np.full(4, 10.0)))
    with pytest.raises(Infeasible) as err:
        solve(p, EXACT)
    (slack,) = err.value.diagnosis
    assert (slack.kind, slack.steps, slack.amount) == ("import_limit", [2], pytest.approx(2.0))


def test_diagnosis_with_a_sized_battery_counts_its_largest_power():
    # a battery of at most 0.5 MW (charged in the first hours) covers 0.5 of the 2 MW missing
    p = _import_case()
    template = Battery(0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, soc_final_frac=0.5)
    p = replace(
        p,
        battery=template,
        grid=replace(p.grid, import_max_mw=np.full(4, 10.0)),
        sizing=Sizing(
            (
                AssetSize("grid_import", 100.0, 0.0, 10.0),
                AssetSize("battery_power", 1.0, 0.0, 0.5),
                AssetSize("battery_energy", 1.0, 0.0, 4.0),
            )
        ),
    )
    with pytest.raises(Infeasible) as err:
        solve(p, EXACT)
    (slack,) = err.value.diagnosis
    assert (slack.kind, slack.steps, slack.amount) == ("import_limit", [2], pytest.approx(1.5))


# --- a generator with a minimum load ----------------------------------------------------------
# Load 10, 30, 10 MW; import at 100 USD/MWh up to 20 MW; fuel 50 USD/MWh; 40 USD per MW built.
# Without a minimum load each MW up to 30 saves 50 USD per hour it runs: G = 30 (saves 1300).
# With half the size as minimum load a G above 20 cannot run in the 10 MW hours: G = 20 runs
# 10, 20, 10 MW (saves 50·40 − 40·20 = 1200 against 300 for G = 30).


def _generator_case(min_load_frac: float, existing: float = 0.0) -> Problem:
    p = grid_problem([10.0, 30.0, 10.0], 100.0)
    p = replace(p, grid=replace(p.grid, import_max_mw=np.full(3, 20.0)))
    gen = Generator("gas", 0.0, 50.0, 0.0, min_load_frac=min_load_frac)
    p = replace(p, generators=(gen,))
    return _sized(p, AssetSize("generator:gas", 40.0, 0.0, 40.0, existing))


def test_generator_with_a_minimum_load_is_sized_exactly():
    d = solve(_generator_case(0.5), EXACT)
    assert d.sizes["generator:gas"] == pytest.approx(20.0)
    np.testing.assert_allclose(d.series["backup_gen_mw"], [10.0, 20.0, 10.0], atol=1e-6)
    assert d.objective_usd == pytest.approx(1000 + 50 * 40 + 40 * 20)


def test_generator_without_a_minimum_load_is_sized_to_the_peak_it_can_take():
    d = solve(_generator_case(0.0), EXACT)
    assert d.sizes["generator:gas"] == pytest.approx(30.0)
    assert d.objective_usd == pytest.approx(50 * 50 + 40 * 30)


def test_gap_basis_counts_only_the_capacity_built():
    # 5 MW exist: capacity cost 40 · 15; every term is a cost, so basis = objective
    d = solve(_generator_case(0.5, existing=5.0), EXACT)
    assert d.costs["capacity_usd"] == pytest.approx(40 * 15)
    assert d.objective_usd == pytest.approx(1000 + 2000 + 600)
    assert d.gap_basis_usd == pytest.approx(d.objective_usd)


# --- with jobs: the sized optimum against an exhaustive grid of fixed sizes -------------------

# PV at 350 USD/MW and storage at 25 USD/MWh over the day: the optimum lies inside the box
PV_MW = (0.0, 10.0, 20.0)
E_MWH = (0.0, 10.0, 20.0)
CURVE = ((0.6, 0.78), (0.8, 0.94), (1.0, 1.0))


def _jobs_case(pv: tuple[float, float], e: tuple[float, float]) -> Problem:
    n = 24
    jobs = (
        Job("a", 4.0, 6.0, 0, 24, max_interruptions=1, f_min=0.6, throughput_curve=CURVE),
        Job("b", 3.0, 4.0, 4, 20, preemptible=False),
    )
    p = small_problem(n, jobs=jobs)
    profile = p.renewables[0].available_mw / 8.0  # MW per MW (8 MW peak)
    return _sized(
        p,
        AssetSize("pv", 350.0, pv[0], pv[1], profile_per_unit=profile),
        AssetSize("battery_energy", 25.0, e[0], e[1]),
    )


@pytest.fixture(scope="module")
def free_sized():
    return solve(_jobs_case((0.0, 20.0), (0.0, 20.0)), EXACT)


def test_sized_optimum_is_never_worse_than_any_fixed_case(free_sized):
    grid = {}
    for pv, e in itertools.product(PV_MW, E_MWH):
        d = solve(_jobs_case((pv, pv), (e, e)), EXACT)
        assert d.sizes == {"pv": pytest.approx(pv), "battery_energy": pytest.approx(e)}
        grid[pv, e] = d.objective_usd
    obj = free_sized.objective_usd
    assert free_sized.status == "optimal"
    # between the grid's points: no fixed case is the optimum
    assert 10 < free_sized.sizes["pv"] < 20 and 10 < free_sized.sizes["battery_energy"] < 20
    for value in grid.values():
        assert obj <= value + 1e-6 * abs(value)
    assert obj < min(grid.values())


def test_fixing_the_sized_optimum_gives_the_same_objective(free_sized):
    pv, e = free_sized.sizes["pv"], free_sized.sizes["battery_energy"]
    d = solve(_jobs_case((pv, pv), (e, e)), EXACT)
    assert d.objective_usd == pytest.approx(free_sized.objective_usd, rel=1e-7)
    costs = free_sized.costs
    assert costs["capacity_usd"] == pytest.approx(350 * pv + 25 * e)


def test_price_fix_with_sizing_is_feasible_and_its_bound_is_below_the_optimum(free_sized):
    d = solve(_jobs_case((0.0, 20.0), (0.0, 20.0)), SolverOptions(method="price-fix"))
    assert d.status in ("optimal", "heuristic")
    assert set(d.sizes) == {"pv", "battery_energy"}
    assert d.bound_usd <= free_sized.objective_usd + 1e-6
    assert d.objective_usd >= free_sized.objective_usd - 1e-6
    for j in ("a", "b"):
        assert d.jobs[j]["unfinished_h"] == pytest.approx(0.0, abs=1e-6)
    # the schedule's own sizes give it its objective
    pv, e = d.sizes["pv"], d.sizes["battery_energy"]
    fixed = solve(_jobs_case((pv, pv), (e, e)), EXACT)
    assert fixed.objective_usd <= d.objective_usd + 1e-6 * abs(d.objective_usd)


# --- refusals ---------------------------------------------------------------------------------


def test_rolling_refuses_a_sized_problem():
    with pytest.raises(ValueError, match="sizing"):
        solve_rolling(_import_case(), window_steps=2)


@pytest.mark.parametrize("name", ["wind", "generator:gas", "battery_power", "solar"])
def test_a_sized_asset_the_problem_lacks_is_refused(name):
    p = grid_problem([5.0, 8.0], 10.0)
    with pytest.raises(ValueError, match=name):
        _sized(p, AssetSize(name, 1.0, 0.0, 1.0, profile_per_unit=np.ones(2)))


def test_problem_without_sizing_reports_no_sizes():
    d = solve(grid_problem([5.0, 8.0], 10.0), EXACT)
    assert d.sizes == {}
    assert "capacity_usd" not in d.costs
