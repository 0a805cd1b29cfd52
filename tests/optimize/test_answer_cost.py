"""The answer's objective is what its schedule costs, and its status holds for that cost.

HiGHS 1.16 values some MIP starts in its presolved model below what they cost
(``optimize.answer_cost``). On the day-long case below its edge search took the start's
own columns as a cheaper schedule: the answer said 3,830.24 USD, "optimal" within 1 %,
while its series cost 3,930.24 USD, 2.6 % above the optimum (an outside audit,
2026-12-07)."""

from __future__ import annotations

import numpy as np

import optimize
from benchmarks.random_cases import CURVE
from optimize import Battery, Facility, Grid, Job, Problem, SolverOptions, start_steps
from optimize.answer_cost import columns_cost_usd

# the costs that make up the objective (USD), besides emissions_t
COST_TERMS = (
    "energy_usd",
    "demand_usd",
    "fuel_usd",
    "wear_usd",
    "carbon_usd",
    "unfinished_penalty_usd",
)


def _negative_price_day() -> Problem:
    """25 hourly steps, five at -30 USD/MWh; 7 MW of inference, a 4 MW / 10 MWh battery
    (charging and discharging at once allowed) and a 5 MW job of one block, no export."""
    n = 25
    price = np.array(
        [10, 20, 20, 20, 40, 40, 60, 40, 60, 70, 60, 70, 60, 60, 80]
        + [-30] * 5
        + [30, 20, 30, 20, 20],
        dtype=float,
    )
    grid = Grid(
        import_max_mw=np.full(n, 40.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=price,
        export_price_usd_per_mwh=price - 10,
        carbon_g_per_kwh=np.full(n, 400.0),
    )
    battery = Battery(
        power_mw=4.0,
        energy_mwh=10.0,
        charge_efficiency=0.9,
        discharge_efficiency=0.9,
        soc_min_frac=0.1,
        soc_max_frac=0.9,
        soc_initial_frac=0.5,
    )
    job = Job("j", 5.0, 5.0, 4, 18, preemptible=False, f_min=0.6, throughput_curve=CURVE)
    facility = Facility(inference_it_mw=np.full(n, 7.0), pue=np.ones(n))
    return Problem(1.0, n, grid, facility, battery=battery, jobs=(job,))


def test_objective_is_the_schedules_cost_and_its_gap_holds():
    problem = _negative_price_day()
    d = optimize.solve(problem)
    cost_usd = sum(d.costs[k] for k in COST_TERMS)
    assert abs(d.objective_usd - cost_usd) <= 1e-6 * max(1.0, abs(cost_usd))
    # plain HiGHS (no start) to a tight gap: its bound is a lower bound of the optimum
    ref = optimize.solve(problem, SolverOptions(mip_rel_gap=1e-7, price_fix_start=False))
    tol = 1e-6 * max(1.0, abs(ref.objective_usd))
    assert d.bound_usd <= ref.objective_usd + tol
    assert d.mip_gap == (d.objective_usd - d.bound_usd) / d.gap_basis_usd
    if d.status == "optimal":
        assert d.objective_usd - ref.bound_usd <= d.mip_gap * d.gap_basis_usd + tol


def test_the_edge_search_finds_no_cheaper_schedule_in_its_misvalued_start(monkeypatch):
    """On this day HiGHS values the edge search's start below its cost and returns the
    start's own columns: the search took them for a cheaper schedule, which then passed
    as proven. Every schedule the search returns now costs what it says, and is cheaper
    than the schedule it started from."""
    found = []
    search = start_steps.edge_search

    def spied(h, cm, m, values, objective_usd, **kw):
        out = search(h, cm, m, values, objective_usd, **kw)
        if out.values is not None:
            found.append((columns_cost_usd(cm, out.values), out.objective_usd, objective_usd))
        return out

    monkeypatch.setattr(start_steps, "edge_search", spied)
    optimize.solve(_negative_price_day())
    for cost_usd, said_usd, start_usd in found:
        assert abs(cost_usd - said_usd) <= 1e-6 * max(1.0, abs(cost_usd))
        assert cost_usd < start_usd
