"""Small hand-checkable dispatch cases; every expected number is derived in the comments."""

from __future__ import annotations

import dataclasses

import highspy
import numpy as np
import pytest

import optimize as o
from optimize import diagnosis
from optimize.highs import make_highs, new_highs, run_highs
from tests.optimize.misvaluing_highs import MisvaluingHighs

TOL = 1e-6


def make_problem(
    load_mw,
    import_price,
    *,
    export_price=None,
    import_max=1000.0,
    export_max=0.0,
    carbon=None,
    renewables=(),
    battery=None,
    generators=(),
    objective=None,
    **grid_kw,
) -> o.Problem:
    load = np.asarray(load_mw, dtype=float)
    n = len(load)

    def arr(x, default):
        x = default if x is None else x
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    grid = o.Grid(
        import_max_mw=arr(import_max, 0),
        export_max_mw=arr(export_max, 0),
        import_price_usd_per_mwh=arr(import_price, 0),
        export_price_usd_per_mwh=arr(export_price, 0.0),
        carbon_g_per_kwh=arr(carbon, 0.0),
        **grid_kw,
    )
    return o.Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=o.Facility(inference_it_mw=load, pue=np.ones(n)),
        renewables=tuple(renewables),
        battery=battery,
        generators=tuple(generators),
        objective=objective or o.Objective(),
    )


def battery(power, energy, eff_c=1.0, eff_d=1.0, soc0=0.0, **kw) -> o.Battery:
    return o.Battery(
        power_mw=power,
        energy_mwh=energy,
        charge_efficiency=eff_c,
        discharge_efficiency=eff_d,
        soc_min_frac=kw.pop("soc_min", 0.0),
        soc_max_frac=kw.pop("soc_max", 1.0),
        soc_initial_frac=soc0,
        **kw,
    )


def check_balance(d: o.Dispatch) -> None:
    s = d.series
    supply = (
        s["grid_import_mw"]
        - s["grid_export_mw"]
        + s["battery_discharge_mw"]
        - s["battery_charge_mw"]
        + s["backup_gen_mw"]
    )
    for key in s:
        if key.endswith("_used_mw"):
            supply = supply + s[key]
    assert np.max(np.abs(supply - s["facility_load_mw"])) < TOL


def close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=TOL)


def test_battery_arbitrage_three_steps():
    # Load 10 MW, prices 20/100/50 $/MWh; battery 10 MW / 10 MWh, η_c 0.9, η_d 1, empty at
    # start, wear $2/MWh. Charging 1 MWh at t0 costs 20 and yields 0.9 MWh; discharged at t1
    # it saves 0.9·(100 − 2) = 88.2 > 20, so charge the full 10 MW at t0 (SOC 9 MWh) and
    # discharge 9 MW at t1 (9 < 10 MW power; t1 is worth more than t2).
    # Cost: import 20·20 + 1·100 + 10·50 = 1000, wear 9·2 = 18 → 1018 (1700 without battery).
    p = make_problem(
        [10, 10, 10], [20, 100, 50], battery=battery(10, 10, 0.9, 1.0, wear_usd_per_mwh=2)
    )
    d = o.solve(p)
    assert d.status == "optimal"
    assert d.objective_usd == pytest.approx(1018.0, abs=TOL)
    close(d.series["battery_charge_mw"], [10, 0, 0])
    close(d.series["battery_discharge_mw"], [0, 9, 0])
    close(d.series["battery_soc_mwh"], [9, 0, 0])
    close(d.series["grid_import_mw"], [20, 1, 10])
    assert d.costs["energy_usd"] == pytest.approx(1000.0, abs=TOL)
    assert d.costs["wear_usd"] == pytest.approx(18.0, abs=TOL)
    check_balance(d)


def test_curtailment_under_negative_export_price():
    # PV 30 MW available, load 10 MW. Exporting costs $5/MWh (negative price), so the optimum
    # uses 10 MW, exports nothing and curtails 20 MW: objective 0. With a +$5 price the 20 MW
    # are exported instead: −100.
    pv = o.Renewable("pv", np.array([30.0]))
    d = o.solve(make_problem([10], [40], export_price=-5, export_max=50, renewables=[pv]))
    assert d.objective_usd == pytest.approx(0.0, abs=TOL)
    close(d.series["pv_used_mw"], [10])
    close(d.series["grid_export_mw"], [0])
    close(d.series["pv_available_mw"], [30])
    d2 = o.solve(make_problem([10], [40], export_price=5, export_max=50, renewables=[pv]))
    assert d2.objective_usd == pytest.approx(-100.0, abs=TOL)
    close(d2.series["grid_export_mw"], [20])


def test_import_limit_binding():
    # Load 10 MW; import $50/MWh limited to 6 MW; generator $200/MWh. Import 6, generate 4:
    # 6·50 + 4·200 = 1100.
    gen = o.Generator("diesel", capacity_mw=20, fuel_usd_per_mwh=200, carbon_g_per_kwh=700)
    d = o.solve(make_problem([10], [50], import_max=6, generators=[gen]))
    assert d.objective_usd == pytest.approx(1100.0, abs=TOL)
    close(d.series["grid_import_mw"], [6])
    close(d.series["backup_gen_mw"], [4])
    assert d.costs["fuel_usd"] == pytest.approx(800.0, abs=TOL)
    # emissions: 4 MWh · 700 g/kWh = 2.8 t (grid carbon is 0 here)
    assert d.costs["emissions_t"] == pytest.approx(2.8, abs=TOL)


def test_ramp_limit_forces_pre_ramp():
    # Load 0, 0, 30 MW; prices 30, 20, 10; net import may change by 10 MW/h from 0 before t0;
    # battery 20 MW / 40 MWh, η = 1, empty. Imports a, b, c with a + b + c = 30 (no losses,
    # ending fuller only costs), c <= b + 10, b <= a + 10. Cost 30a + 20b + 10c =
    # 300 + 20a + 10b with b >= (20 − a)/2, i.e. >= 400 + 15a: a = 0, b = 10, c = 20 → 400.
    # Without the ramp limit: 30 MWh at t2 = 300.
    b = battery(20, 40)
    p = make_problem(
        [0, 0, 30], [30, 20, 10], battery=b, ramp_mw_per_h=10.0, initial_net_import_mw=0.0
    )
    d = o.solve(p)
    assert d.objective_usd == pytest.approx(400.0, abs=TOL)
    close(d.series["grid_import_mw"], [0, 10, 20])
    close(d.series["battery_charge_mw"], [0, 10, 0])
    close(d.series["battery_discharge_mw"], [0, 0, 10])
    free = o.solve(make_problem([0, 0, 30], [30, 20, 10], battery=b))
    assert free.objective_usd == pytest.approx(300.0, abs=TOL)


def test_demand_charge_flattens_peak():
    # Load 10 then 30 MW at $10/MWh, $100 per MW of the month's peak import; battery
    # 20 MW / 20 MWh, η = 1. Energy is 400 whatever the battery does (no losses); the peak
    # max(10 + ch, 30 − dis) with dis <= ch is smallest at 20/20 → 2000. Total 2400
    # (400 + 3000 without the battery).
    p = make_problem(
        [10, 30],
        [10, 10],
        battery=battery(20, 20),
        peak_charges=(o.PeakCharge("demand_flat@m0", "demand_flat", 100.0, [True, True]),),
    )
    d = o.solve(p)
    assert d.objective_usd == pytest.approx(2400.0, abs=TOL)
    close(d.series["grid_import_mw"], [20, 20])
    assert d.costs["demand_usd"] == pytest.approx(2000.0, abs=TOL)
    assert d.costs["energy_usd"] == pytest.approx(400.0, abs=TOL)


def test_no_simultaneous_charge_discharge_with_negative_price():
    # Import price −$50/MWh (paid to import), no load, battery full (SOC 100 %, max 100 %),
    # 10 MW, η 0.5/0.5. An LP burns energy by charging and discharging at once: SOC change
    # 0.5·ch − dis/0.5 = 0 → dis = ch/4; import ch − dis = 7.5 MW → −375. With the binary
    # no-simultaneous constraint the full battery cannot take energy: import 0, objective 0.
    lp = battery(10, 100, 0.5, 0.5, soc0=1.0)
    d_lp = o.solve(make_problem([0], [-50], battery=lp))
    assert d_lp.objective_usd == pytest.approx(-375.0, abs=TOL)
    mip = battery(10, 100, 0.5, 0.5, soc0=1.0, no_simultaneous=True)
    d = o.solve(make_problem([0], [-50], battery=mip))
    assert d.objective_usd == pytest.approx(0.0, abs=TOL)
    close(d.series["grid_import_mw"], [0])
    assert np.all(d.series["battery_charge_mw"] * d.series["battery_discharge_mw"] < TOL)


def test_no_simultaneous_enforced_where_ramp_down_forces_burning():
    # Positive price ($10/MWh), so no binary is created up front. No load, no export, net
    # import 20 MW before step 0 and a 10 MW/h ramp limit: net[0] >= 10. The battery is full
    # (20 MW, η 0.5/0.5): only charging and discharging at once can consume 10 MW
    # (ch − dis = 10 with ch > 10, since a full battery cannot gain charge). Without the rule
    # that is the solution (cost 100); with it the check must add the binary and find the model
    # infeasible (the diagnosis' cheapest relaxation: 5 MWh above the SOC maximum, i.e.
    # charging 10 MW at η_c = 0.5).
    kw = dict(ramp_mw_per_h=10.0, initial_net_import_mw=20.0)
    lp = battery(20, 100, 0.5, 0.5, soc0=1.0)
    d_lp = o.solve(make_problem([0], [10], battery=lp, **kw))
    assert d_lp.objective_usd == pytest.approx(100.0, abs=TOL)
    assert min(d_lp.series["battery_charge_mw"][0], d_lp.series["battery_discharge_mw"][0]) > 1
    mip = battery(20, 100, 0.5, 0.5, soc0=1.0, no_simultaneous=True)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(make_problem([0], [10], battery=mip, **kw))
    kinds = {s.kind for s in exc.value.diagnosis}
    assert kinds == {"soc_max"}
    assert sum(s.amount for s in exc.value.diagnosis) == pytest.approx(5.0, abs=TOL)


def test_no_simultaneous_binaries_only_at_negative_prices():
    # Prices +10, −5 (import) and export −1 at step 2: binaries only at steps 1 and 2.
    from optimize.model import build_model

    b = battery(10, 10, soc0=0.5, no_simultaneous=True)
    p = make_problem([1, 1, 1], [10, -5, 10], export_price=[0, 0, -1], battery=b)
    assert list(build_model(p).battery_binary_steps) == [1, 2]
    assert list(build_model(p, elastic=True).battery_binary_steps) == [0, 1, 2]


def test_the_grid_never_imports_and_exports_at_once():
    # Load 10 MW; step 0 imports at 10 and exports at 30 USD/MWh (an export adder above
    # the import's): without the direction binary the LP bought 60 MW and sold 50 (cost
    # 600 - 1500 = -900 USD); one connection only imports the 10 MW (100 USD). Step 1
    # (export 5 below import 10) gets no binary; at equal prices (step 2) nothing pays
    # for both ways either.
    from optimize.model import build_model

    p = make_problem([10, 10, 10], [10, 10, 10], export_price=[30, 5, 10], export_max=50)
    assert list(build_model(p).grid_binary_steps) == [0]
    assert not hasattr(build_model(p, elastic=True), "grid_binary_steps")
    d = o.solve(p)
    close(d.series["grid_import_mw"], [10, 10, 10])
    close(d.series["grid_export_mw"], [0, 0, 0])
    assert d.objective_usd == pytest.approx(300.0, abs=TOL)
    # a full 5 MW battery cannot cover the 10 MW load: it discharges where energy is
    # dearest, and the import never runs beside an export
    b = battery(5, 10, soc0=1.0)
    d = o.solve(make_problem([10, 10, 10], [10, 10, 10], export_price=[30, 5, 10],
                             export_max=50, battery=b))  # fmt: skip
    imp, exp = d.series["grid_import_mw"], d.series["grid_export_mw"]
    assert np.all(np.minimum(imp, exp) <= 1e-6)


def test_generator_min_load():
    # Loads 5 and 15 MW; import $150/MWh up to 10 MW; no export; generator 20 MW at $100/MWh
    # with min load 50 % (10 MW). t0: the generator would have to run 10 MW for a 5 MW load
    # (no export) → import 5 = 750. t1: generator 15 = 1500 (import 10 + gen 5 violates the
    # min load; gen 10 + import 5 = 1750). Total 2250. Without min load: 500 + 1500 = 2000.
    gen = o.Generator("gas", 20, 100, 550, min_load_frac=0.5)
    d = o.solve(make_problem([5, 15], [150, 150], import_max=10, generators=[gen]))
    assert d.objective_usd == pytest.approx(2250.0, abs=TOL)
    close(d.series["backup_gen_mw"], [0, 15])
    close(d.series["grid_import_mw"], [5, 0])
    gen0 = o.Generator("gas", 20, 100, 550, min_load_frac=0.0)
    d0 = o.solve(make_problem([5, 15], [150, 150], import_max=10, generators=[gen0]))
    assert d0.objective_usd == pytest.approx(2000.0, abs=TOL)


def _carbon_case(objective: o.Objective) -> o.Problem:
    # Load 0 then 10 MW; prices 12, 10 $/MWh; carbon 100, 600 g/kWh (0.1, 0.6 t/MWh);
    # battery 10 MW / 10 MWh, η = 1, empty.
    return make_problem(
        [0, 10], [12, 10], carbon=[100, 600], battery=battery(10, 10), objective=objective
    )


def test_carbon_price_shifts_import_to_low_carbon_hour():
    # Without a carbon price: import 10 at t1 = 100, 6 t. At $50/t the effective prices are
    # 12 + 5 = 17 and 10 + 30 = 40: import 10 MWh at t0 and store it: 120 + 50 = 170, 1 t.
    d0 = o.solve(_carbon_case(o.Objective()))
    assert d0.objective_usd == pytest.approx(100.0, abs=TOL)
    assert d0.costs["emissions_t"] == pytest.approx(6.0, abs=TOL)
    d = o.solve(_carbon_case(o.Objective(carbon_price_usd_per_t=50.0)))
    assert d.objective_usd == pytest.approx(170.0, abs=TOL)
    close(d.series["grid_import_mw"], [10, 0])
    assert d.costs["emissions_t"] == pytest.approx(1.0, abs=TOL)
    assert d.costs["carbon_usd"] == pytest.approx(50.0, abs=TOL)


def test_carbon_budget_cap():
    # Budget 3.5 t: import x at t0, 10 − x at t1: 0.1x + 0.6(10 − x) <= 3.5 → x >= 5;
    # cost 12x + 10(10 − x) = 100 + 2x → x = 5, cost 110, emissions exactly 3.5 t.
    d = o.solve(_carbon_case(o.Objective(carbon_budget_t=3.5)))
    assert d.objective_usd == pytest.approx(110.0, abs=TOL)
    close(d.series["grid_import_mw"], [5, 5])
    assert d.costs["emissions_t"] == pytest.approx(3.5, abs=TOL)


def _job_budget_case(budget_t: float) -> o.Problem:
    # No other load; a 10 MW job with 2 h of work in steps 0-1 at 500 g/kWh (0.5 t/MWh):
    # its 20 MWh emit 10 t.
    job = o.Job(id="train", full_power_it_mw=10.0, work_h=2.0, release_step=0, deadline_step=2)
    p = make_problem([0, 0], [10, 10], carbon=500, objective=o.Objective(carbon_budget_t=budget_t))
    return dataclasses.replace(p, jobs=(job,))


def test_infeasible_budget_is_named_not_the_job():
    # Budget 4 t against the least emissions of 10 t: the budget is short by 6 t. An
    # unweighted sum of slacks blamed the job instead (1.2 h of work "cost" 1.2 < 6 t).
    with pytest.raises(o.Infeasible) as exc:
        o.solve(_job_budget_case(4.0))
    diag = exc.value.diagnosis
    assert [(s.kind, s.unit) for s in diag] == [("carbon_budget", "t")]
    assert diag[0].amount == pytest.approx(6.0, abs=1e-5)


def test_the_budgets_slack_is_valued_at_its_columns_where_highs_misvalues_its_start(
    monkeypatch,
):
    # The budget's solve starts from the first elastic solve, where the budget's slack is
    # free (here 9.5 t). HiGHS 1.16 may return such a start's columns as "optimal", valued
    # below their slack (optimize.answer_cost); the diagnosis then said 9.5 t. Valued at
    # its columns, it solves again from no start: a 10 MW job for 1 h in the cleaner of
    # two steps (100 g/kWh) emits 1 t, 0.5 t over a 0.5 t budget.
    job = o.Job(id="train", full_power_it_mw=10.0, work_h=1.0, release_step=0, deadline_step=2)
    budget = o.Objective(carbon_budget_t=0.5)
    p = make_problem([0, 0], [10, 10], carbon=[900, 100], objective=budget)
    wrapped = []

    def misvaluing(cm, options):
        wrapped.append(MisvaluingHighs(make_highs(cm, options), below=0.1))
        return wrapped[-1]

    monkeypatch.setattr(diagnosis, "make_highs", misvaluing)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(dataclasses.replace(p, jobs=(job,)))
    assert sum(h.misvalued_runs for h in wrapped) == 1  # the start was handed over
    got = [(s.kind, round(s.amount, 5)) for s in exc.value.diagnosis]
    assert got == [("carbon_budget", 0.5)]


def test_infeasible_with_or_without_the_budget_names_both():
    # 10 MW of load in each of 2 steps with import at most 5 MW: 5 MW short in each, budget
    # or not. The 20 MWh still emit 10 t, 6 t over a 4 t budget: named after the import.
    p = make_problem([10, 10], [10, 10], carbon=500, import_max=5.0)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(dataclasses.replace(p, objective=o.Objective(carbon_budget_t=4.0)))
    got = [(s.kind, s.steps, round(s.amount, 5)) for s in exc.value.diagnosis]
    assert got == [("import_limit", [0, 1], 5.0), ("carbon_budget", [], 6.0)]


def test_infeasible_diagnosis_names_import_limit_and_step():
    # Load 10, 30, 10 MW with import <= 20 MW and nothing else: step 1 is short by 10 MW.
    p = make_problem([10, 30, 10], [50, 50, 50], import_max=20)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(p)
    diag = exc.value.diagnosis
    assert len(diag) == 1
    s = diag[0]
    assert (s.kind, s.name, s.steps, s.unit) == ("import_limit", "grid", [1], "MW")
    assert s.amount == pytest.approx(10.0, abs=TOL)
    assert "import_limit" in str(exc.value) and "step 1" in str(exc.value)


def test_a_soft_dr_cap_is_exceeded_by_the_least_at_its_price():
    # Load 10 MW for 3 h, import $50/MWh, a 7 MW cap at steps 1-2 and a 5 MW / 4 MWh
    # lossless battery starting empty. Hard, the cap needs 6 MWh from the battery: no
    # schedule, 2 MW short. Soft at $1000/MWh: charge 4 MWh at t0 (import 14), discharge
    # it at 3 MW + 1 MW (or any split) and import 2 MWh above the cap: energy 30 MWh ·
    # 50 = 1500 plus 2 · 1000 = 2000, 3500 in all.
    cap = np.array([np.nan, 7.0, 7.0])
    hard = make_problem([10] * 3, [50] * 3, battery=battery(5, 4), net_import_cap_mw=cap)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(hard)
    assert sum(s.amount for s in exc.value.diagnosis if s.kind == "dr_cap") > 1.0
    grid = dataclasses.replace(hard.grid, dr_cap_over_usd_per_mwh=1000.0)
    d = o.solve(dataclasses.replace(hard, grid=grid))
    net = d.series["grid_import_mw"] - d.series["grid_export_mw"]
    assert np.maximum(net[1:] - 7.0, 0.0).sum() == pytest.approx(2.0, abs=TOL)
    close(d.series["battery_charge_mw"], [4, 0, 0])
    assert d.objective_usd == pytest.approx(3500.0, abs=TOL)
    check_balance(d)
    with pytest.raises(ValueError, match="dr_cap_over_usd_per_mwh"):
        dataclasses.replace(hard.grid, dr_cap_over_usd_per_mwh=-1.0)


def test_infeasible_ramp_groups_contiguous_steps():
    # Load jumps 0 → 40 MW at step 2 with a 10 MW/h ramp limit from 0 and no storage: the
    # elastic model needs the ramp-up slack; the minimal total is 30 MW (all at step 2).
    p = make_problem([0, 0, 40, 40], [10] * 4, ramp_mw_per_h=10.0, initial_net_import_mw=0.0)
    with pytest.raises(o.Infeasible) as exc:
        o.solve(p)
    kinds = {s.kind for s in exc.value.diagnosis}
    assert kinds == {"ramp_limit_up"}
    total = sum(s.amount for s in exc.value.diagnosis)
    assert total == pytest.approx(30.0, abs=TOL)


def _hard_generator_mip() -> o.Problem:
    # A MIP that takes HiGHS seconds to prove optimal: 6 generators with min loads and
    # awkward capacities serving an irregular load for 1000 steps; import is expensive but
    # can cover the load, so "all off" is feasible and HiGHS has an incumbent early.
    rng = np.random.default_rng(0)
    n = 1000
    load = 40 + 30 * rng.random(n)
    gens = [
        o.Generator(f"g{i}", cap, fuel, 500, min_load_frac=0.6)
        for i, (cap, fuel) in enumerate(
            [(7.3, 80), (11.9, 75), (13.7, 72), (17.1, 70), (23.3, 68), (29.9, 66)]
        )
    ]
    return make_problem(
        load, 300 + 50 * rng.random(n), import_max=100, export_max=0, generators=gens
    )


def _knapsack_highs(weights, values, capacity, node_limit):
    """A 0/1 knapsack (minimise -value) in a HiGHS object made like ``make_highs`` does,
    with presolve, cuts and heuristics off so that the root cannot close it."""
    n = len(weights)
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_max_nodes", node_limit)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_heuristic_effort", 0.0)
    h.setOptionValue("mip_pool_soft_limit", 0)
    inf = highspy.kHighsInf
    for _ in values:
        h.addVar(0.0, 1.0)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), -np.asarray(values, float))
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    h.addRow(-inf, capacity, n, np.arange(n, dtype=np.int32), np.asarray(weights, float))
    return h


def test_node_limit_is_reported_with_a_valid_bound():
    # the deterministic stop: a node limit gives status "node_limit", the incumbent and a
    # bound below the optimum (here found by running without the limit)
    rng = np.random.default_rng(3)
    w = rng.integers(1000, 2000, 30).astype(float)
    v = w + 100.0  # strongly correlated: the LP bound is weak, branching needs many nodes
    stopped = run_highs(_knapsack_highs(w, v, w.sum() / 2 + 0.5, 3), True)
    exact = run_highs(_knapsack_highs(w, v, w.sum() / 2 + 0.5, 10**7), True)
    assert exact.status == "optimal"
    assert stopped.status == "node_limit" and stopped.has_solution
    assert stopped.bound <= exact.objective + 1e-6 <= stopped.objective + 2e-6
    assert stopped.mip_gap > 0


def test_time_limit_returns_best_feasible():
    # With 0.5 s HiGHS must stop at the limit: with its incumbent, or (on a loaded machine,
    # before any) with a SolveError that says so.
    p = _hard_generator_mip()
    try:
        d = o.solve(p, o.SolverOptions(time_limit_s=0.5, mip_rel_gap=0.0, node_limit=None))
    except o.SolveError as exc:
        assert exc.status == "time_limit"
        return
    assert d.status == "time_limit"
    assert d.mip_gap > 0
    check_balance(d)
