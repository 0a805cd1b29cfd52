"""The edge search: a sub-MIP that moves the edges of a schedule's job runs."""

from __future__ import annotations

import numpy as np
import pytest

from optimize.edge_search import edge_search, edge_steps, recentred_edge_search
from optimize.highs import compile_model, gap_basis_usd, make_highs, run_highs
from optimize.model import build_model
from optimize.price_fix import seeded_schedule
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import assert_satisfies_every_row, small_problem

CURVE = ((0.6, 0.78), (0.7, 0.87), (0.8, 0.94), (0.9, 0.98), (1.0, 1.0))
EXACT = SolverOptions(mip_rel_gap=1e-6, price_fix_start=False, node_limit=None)


def test_edge_steps_are_the_k_steps_each_side_of_every_switch():
    on = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1], dtype=bool)  # switches after steps 1, 4, 7
    assert np.flatnonzero(edge_steps(on, 1)).tolist() == [1, 2, 4, 5, 7, 8]
    assert np.flatnonzero(edge_steps(on, 2)).tolist() == list(range(9))
    assert np.flatnonzero(edge_steps(on, 0)).tolist() == []
    assert not edge_steps(np.ones(5, dtype=bool), 3).any()  # no switch: nothing moves


def _jobs() -> tuple[Job, ...]:
    return (
        Job("a", 10.0, 8.0, 0, 40, max_interruptions=1, restart_overhead_h=0.5, f_min=0.6,
            throughput_curve=CURVE),
        Job("b", 6.0, 6.0, 4, 36, preemptible=False, f_min=0.7, throughput_curve=CURVE),
    )  # fmt: skip


@pytest.fixture(scope="module")
def case():
    p = small_problem(n=48, jobs=_jobs(), ramp=12.0, demand=400.0)
    exact = solve(p, EXACT)
    assert exact.status == "optimal"
    return p, exact


def _on(d, job_id):
    return d.series[f"job_{job_id}_power_fraction"] > 0


def _shifted(on: np.ndarray, steps: int) -> np.ndarray:
    """``on`` with every run moved ``steps`` later (the last steps wrap to the front)."""
    return np.roll(on, steps)


def _seeded(p, on_by_job):
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, EXACT)
    seed = seeded_schedule(h, cm, m, on_by_job)
    assert seed.values is not None
    return m, cm, h, seed


def _search(p, on_by_job, k, **kw):
    m, cm, h, seed = _seeded(p, on_by_job)
    args = dict(k=k, bound_usd=-1e12, rel_gap=0.0, abs_gap_usd=1e-6, node_limit=10_000)
    args["time_limit_s"] = 60.0  # set and restored like the others
    args.update(kw)
    got = edge_search(h, cm, m, seed.values, seed.objective_usd, **args)
    return m, cm, h, seed, got


def _job_on(m, cm, values, job_id, n):
    """The job's on/off per step of the horizon (off outside its active steps)."""
    col = cm.column_index()
    on = np.zeros(n, dtype=bool)
    for jid, t in m.job_steps:
        if jid == job_id:
            on[t] = values[col[id(m.job_on[jid, t])]] > 0.5
    return on


def test_a_schedule_one_step_off_is_moved_back_to_the_optimum(case):
    p, exact = case
    # the optimum with job b's run one step late (a's stays): the search moves it back
    seed_on = {"a": _on(exact, "a"), "b": _shifted(_on(exact, "b"), 1)}
    m, cm, h, seed, got = _search(p, seed_on, k=1)
    assert seed.objective_usd > exact.objective_usd + 1.0  # the seed is worse
    assert got.values is not None
    assert got.objective_usd == pytest.approx(exact.objective_usd, rel=1e-6, abs=1e-6)
    # it moved only steps next to the seed's switches
    for jid in ("a", "b"):
        moved = _job_on(m, cm, got.values, jid, p.n_steps) != seed_on[jid]
        assert not (moved & ~edge_steps(seed_on[jid], 1)).any()


def test_the_searched_schedule_satisfies_every_row_and_h_is_restored(case):
    p, exact = case
    seed_on = {"a": _shifted(_on(exact, "a"), -2), "b": _shifted(_on(exact, "b"), 2)}
    m, cm, h, seed, got = _search(p, seed_on, k=2)
    assert got.values is not None and got.objective_usd < seed.objective_usd
    assert_satisfies_every_row(cm, got.values)
    # h holds the full model and its own options again: it solves to the optimum
    fresh = make_highs(cm, EXACT)
    for name in ("mip_rel_gap", "mip_abs_gap", "mip_max_nodes", "time_limit"):
        assert h.getOptionValue(name)[1] == fresh.getOptionValue(name)[1], name
    res = run_highs(h, True)
    assert res.objective == pytest.approx(exact.objective_usd, rel=1e-5)


def test_the_search_stops_at_the_first_schedule_within_the_gap(case):
    p, exact = case
    seed_on = {"a": _on(exact, "a"), "b": _shifted(_on(exact, "b"), 1)}
    full = _search(p, seed_on, k=1)[4]  # no gap to reach: the neighbourhood's optimum
    assert full.objective_usd == pytest.approx(exact.objective_usd, rel=1e-6, abs=1e-6)
    # the start itself is within a 1000 % gap: the search stops at once, nothing cheaper
    assert _search(p, seed_on, k=1, bound_usd=exact.objective_usd, rel_gap=10.0)[4].values is None
    # a bound that the seed misses and the optimum meets: a schedule within the gap
    m, cm, h, seed, _ = _search(p, seed_on, k=1, node_limit=0)
    excess_usd = seed.objective_usd - exact.objective_usd
    basis = gap_basis_usd(cm, seed.values, seed.objective_usd)
    bound = exact.objective_usd - 0.5 * excess_usd
    got = _search(p, seed_on, k=1, bound_usd=bound, rel_gap=excess_usd / basis)[4]
    assert got.values is not None
    own = gap_basis_usd(cm, got.values, got.objective_usd)
    assert (got.objective_usd - bound) / own <= excess_usd / basis


def test_the_default_solve_searches_edges_and_stays_within_its_gap(case):
    p, exact = case
    on = solve(p, SolverOptions())
    off = solve(p, SolverOptions(edge_search_steps=0))
    for d in (on, off):
        assert d.bound_usd <= exact.objective_usd + 1e-6
        assert d.objective_usd - exact.objective_usd <= 0.01 * d.gap_basis_usd + 1e-6
    with pytest.raises(ValueError, match="edge_search_steps"):
        SolverOptions(edge_search_steps=-1)


ROUND = dict(k=1, bound_usd=-1e12, rel_gap=0.0, abs_gap_usd=1e-6)


def test_each_round_searches_around_the_first_cheaper_schedule_of_the_last(case):
    p, exact = case
    seed_on = {"a": _shifted(_on(exact, "a"), -2), "b": _shifted(_on(exact, "b"), 2)}
    # the rounds, and the same searches one by one on a Highs that ran the same before
    m, cm, h, seed = _seeded(p, seed_on)
    got = recentred_edge_search(h, cm, m, seed.values, seed.objective_usd, rounds=2, **ROUND)
    m, cm, h, seed = _seeded(p, seed_on)
    steps = [(seed.values, seed.objective_usd)]
    for _ in range(2):
        x, usd = steps[-1]
        one = edge_search(h, cm, m, x, usd, node_limit=1, first_cheaper=True, **ROUND)
        assert one.values is not None and one.objective_usd < usd
        steps.append((one.values, one.objective_usd))
    assert got.objective_usd == steps[2][1] and np.array_equal(got.values, steps[2][0])
    assert_satisfies_every_row(cm, got.values)


def test_the_rounds_end_at_a_proven_schedule_or_one_that_finds_nothing(case):
    p, exact = case
    seed_on = {"a": _shifted(_on(exact, "a"), -2), "b": _shifted(_on(exact, "b"), 2)}
    m, cm, h, seed = _seeded(p, seed_on)
    one = recentred_edge_search(h, cm, m, seed.values, seed.objective_usd, rounds=1, **ROUND)
    # proven within a gap its first schedule meets: no second round
    basis = gap_basis_usd(cm, one.values, one.objective_usd)
    loose = dict(
        ROUND,
        bound_usd=exact.objective_usd,
        rel_gap=1.01 * (one.objective_usd - exact.objective_usd) / basis,
    )
    m, cm, h, seed = _seeded(p, seed_on)
    got = recentred_edge_search(h, cm, m, seed.values, seed.objective_usd, rounds=5, **loose)
    assert got.objective_usd == one.objective_usd
    # from the optimum nothing is cheaper: no schedule, whatever the rounds
    m, cm, h, seed = _seeded(p, {"a": _on(exact, "a"), "b": _on(exact, "b")})
    none = recentred_edge_search(h, cm, m, seed.values, seed.objective_usd, rounds=3, **ROUND)
    assert none.values is None and none.bound_usd is None
