"""The price-guided job fixing: its DP against brute force, its schedule against the MILP."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace

import numpy as np
import pytest

from optimize import job_dp, progress, start_steps
from optimize import pair_moves as pair_moves_module
from optimize import price_fix as price_fix_module
from optimize.fixer import Fixer, job_columns
from optimize.highs import compile_model, make_highs, run_highs, set_integrality
from optimize.job_dp import _inverse_throughput, cheapest_pattern
from optimize.jobs import BLOCK_ROWS
from optimize.model import build_model
from optimize.price_fix import price_fix
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import (
    CURVE,
    assert_satisfies_every_row,
    random_day,
    small_problem,
)


def _brute_force(e, work_h, max_starts, free, overhead_h, running, tail_h, f_min, carry_h):
    """Cheapest pattern cost by enumeration, priced like the DP (one uniform level)."""
    best = np.inf
    for bits in itertools.product((False, True), repeat=len(e)):
        on = np.array(bits)
        prev = np.concatenate(([running], on[:-1]))
        starts = int(np.sum(on & ~prev))
        if max_starts is not None and starts > max_starts:
            continue
        need = work_h + overhead_h * max(0, starts - free) - (tail_h if on[-1] else 0.0)
        if max_starts is not None and not on[-1] and starts > max_starts - 1:
            need += carry_h  # no spare start for the later restart: do the work here
        k = int(on.sum())
        if k == 0:
            if need <= 1e-9:
                best = min(best, 0.0)
            continue
        if need / k > 1 + 1e-9:
            continue
        f = float(_inverse_throughput(CURVE, f_min, np.array([need / k]))[0])
        best = min(best, f * float(e[on].sum()))
    return best


def test_job_dp_matches_brute_force():
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(200):
        n = int(rng.integers(1, 9))
        e = rng.normal(50, 40, n)
        running = bool(rng.integers(2))
        free = 0 if running else 1
        max_starts = rng.choice([None, 0, 1, 2, 3])
        if max_starts == 0 and not running:
            max_starts = 1
        overhead = float(rng.choice([0.0, 0.5]))
        tail = float(rng.choice([0.0, 0.0, 2.0]))
        work = float(rng.uniform(0, n))
        f_min = float(rng.choice([0.6, 0.7, 1.0]))
        carry = float(rng.choice([0.0, 1.5]))
        p = cheapest_pattern(
            e,
            CURVE,
            f_min,
            1.0,
            work,
            max_starts=max_starts,
            free_starts=free,
            overhead_h=overhead,
            running=running,
            tail_credit_h=tail,
            carry_h=carry,
        )
        want = _brute_force(e, work, max_starts, free, overhead, running, tail, f_min, carry)
        if p is None:
            assert not np.isfinite(want)
            continue
        prev = np.concatenate(([running], p.on[:-1]))
        starts = int(np.sum(p.on & ~prev))
        assert starts == p.starts
        assert max_starts is None or starts <= max_starts
        assert p.cost_usd == pytest.approx(want, abs=1e-6)
        level = p.frac[p.on][0] if p.on.any() else 0.0
        assert level * float(e[p.on].sum()) == pytest.approx(p.cost_usd, abs=1e-6)
        checked += 1
    assert checked > 150


def _numpy_forward(e, s_n, saturate, running, k_max):
    """``job_dp._forward``'s recurrence as whole-array numpy steps (the DP before it was
    compiled): costs ``[k, s, x]`` and back-pointers ``[x, t, k, s]``."""
    inf, n, k_n = job_dp._INF, e.shape[0], k_max + 1
    off, on = np.full((k_n, s_n), inf), np.full((k_n, s_n), inf)
    (on if running else off)[0, 0] = 0.0
    back = np.zeros((2, n, k_n, s_n), dtype=np.int8)
    start, cont = np.full((k_n, s_n), inf), np.full((k_n, s_n), inf)
    code = np.ones((k_n, s_n), dtype=np.int8)
    for t in range(n):
        back[0, t] = on < off
        new_off = np.minimum(on, off)
        start[1:, 1:] = off[:-1, :-1]
        if saturate:
            plain = start[1:, -1] if s_n > 1 else np.full(k_n - 1, inf)
            better = off[:-1, -1] < plain
            start[1:, -1] = np.where(better, off[:-1, -1], plain)
            code[1:, -1] = np.where(better, 2, 1)
        cont[1:] = on[:-1]
        back[1, t] = (start < cont) * code
        on = np.minimum(start, cont) + e[t]
        off = new_off
    return np.stack([off, on], axis=2), back


def test_the_compiled_dp_is_the_numpy_recurrence():
    # the same costs and back-pointers, ties included (prices rounded to tens)
    rng = np.random.default_rng(3)
    for _ in range(300):
        n, s_n = int(rng.integers(1, 30)), int(rng.integers(1, 6))
        e = np.round(rng.normal(30, 40, n) / 10) * 10
        saturate, running = bool(rng.integers(2)), bool(rng.integers(2))
        k_max = int(rng.integers(0, n + 1))
        got = job_dp._forward(e, s_n, saturate, running, k_max)
        want = _numpy_forward(e, s_n, saturate, running, k_max)
        assert np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])


def test_job_dp_counting_fewer_on_steps_finds_the_same_pattern(monkeypatch):
    # with no negative price, counts beyond the work at f_min never win: the capped DP gives
    # the pattern the DP over every count gives
    rng = np.random.default_rng(4)
    cases, capped = [], 0
    for _ in range(150):
        n = int(rng.integers(10, 60))
        e = np.round(rng.uniform(0, 100, n) / 20) * 20  # zero-cost steps and ties
        kw = {
            "max_starts": rng.choice([None, 1, 2, 4]),
            "free_starts": 1,
            "overhead_h": float(rng.choice([0.0, 0.5])),
        }
        args = (e, CURVE, float(rng.choice([0.6, 0.8, 1.0])), 1.0, float(rng.uniform(0, n / 2)))
        cases.append((args, kw))
        need = np.full((1, 1, 1), args[4] + 10.0)
        capped += job_dp._most_steps_worth_counting(e, need, *args[1:4], 0.0, 0.0) < n
    assert capped > 100
    got = [cheapest_pattern(*args, **kw) for args, kw in cases]
    monkeypatch.setattr(job_dp, "_most_steps_worth_counting", lambda e, *a: e.shape[0])
    for (args, kw), p in zip(cases, got, strict=True):
        want = cheapest_pattern(*args, **kw)
        assert (p is None) == (want is None)
        if p is not None:
            assert p.on.tolist() == want.on.tolist()
            assert (p.cost_usd, p.starts, p.work_h) == (want.cost_usd, want.starts, want.work_h)


def test_job_dp_prefers_cheap_steps_and_low_power():
    # 4 h of work, one run: the five cheap steps at g(f) = 0.8 (f = 0.6 + 0.02 / 0.9) cost
    # 5 * 10 * 0.622 = 31.1 USD, less than four of them at full power (40 USD)
    e = np.array([100, 100, 10, 10, 10, 10, 10, 100], dtype=float)
    p = cheapest_pattern(e, CURVE, 0.6, 1.0, 4.0, max_starts=1, free_starts=1)
    assert p.on.tolist() == [False, False, True, True, True, True, True, False]
    assert p.frac[2] == pytest.approx(0.6 + 0.02 / 0.9)
    assert p.cost_usd == pytest.approx(50 * (0.6 + 0.02 / 0.9))


def test_inverse_throughput_below_the_first_point_and_for_the_proportional_curve():
    # g(f) = f for the single point (1, 1); below the first point the first segment extends
    np.testing.assert_allclose(_inverse_throughput(((1.0, 1.0),), 0.5, [0.5, 0.75]), [0.5, 0.75])
    g_half = 0.78 - 0.9 * 0.1  # CURVE's first segment (slope 0.9) at f = 0.5
    np.testing.assert_allclose(_inverse_throughput(CURVE, 0.5, [g_half, 0.78]), [0.5, 0.6])


def _jobs():
    return (
        Job("a", 10.0, 16.0, 0, 48, max_interruptions=1, restart_overhead_h=0.5, f_min=0.6,
            throughput_curve=CURVE),
        Job("b", 6.0, 8.0, 10, 40, preemptible=False, f_min=0.7, throughput_curve=CURVE),
        Job("c", 4.0, 6.0, 0, 30, throughput_curve=CURVE, f_min=0.6),
    )  # fmt: skip


EXACT = SolverOptions(mip_rel_gap=1e-5, price_fix_start=False)


@pytest.fixture(scope="module")
def case():
    p = small_problem(jobs=_jobs(), ramp=12.0, demand=500.0)
    return p, solve(p, EXACT)


@pytest.mark.slow
def test_price_fix_schedule_is_bracketed_by_the_milp(case):
    p, exact = case
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, EXACT)
    r = price_fix(h, cm, m)
    assert r.values is not None and r.unfixed == []
    assert r.bound_usd <= exact.objective_usd * (1 + 1e-9)
    assert exact.objective_usd * (1 - 1e-5) <= r.objective_usd
    assert r.gap == pytest.approx((r.objective_usd - r.bound_usd) / r.objective_usd)
    # h is the original MILP again: solving it gives the exact optimum
    res = run_highs(h, True)
    assert res.objective == pytest.approx(exact.objective_usd, rel=2e-5)


def test_price_fix_schedule_satisfies_every_row_of_the_model():
    # the schedule is HiGHS's MIP start: it must satisfy the single-block hull rows too
    # (the heuristic frees them while it fixes the jobs), or HiGHS repairs it with an LP
    p = small_problem(jobs=_jobs(), ramp=12.0, demand=500.0)
    m = build_model(p)
    cm = compile_model(m)
    r = price_fix(make_highs(cm, SolverOptions()), cm, m)
    assert any(row.parent_component().local_name in BLOCK_ROWS for row in cm.rows)
    assert_satisfies_every_row(cm, r.values)


def test_solve_price_fix_meets_every_rule():
    p = small_problem(jobs=_jobs(), ramp=12.0, demand=500.0)
    d = solve(p, SolverOptions(method="price-fix"))
    assert d.status in ("optimal", "heuristic")
    assert all(j["deadline_met"] for j in d.jobs.values())
    assert d.jobs["a"]["restarts"] <= 1
    on_b = np.flatnonzero(d.series["job_b_mw"] > 1e-9)
    assert np.all(np.diff(on_b) == 1) and on_b[0] >= 10 and on_b[-1] < 40  # one block
    frac_a = d.series["job_a_power_fraction"]
    assert np.all((frac_a == 0) | (frac_a >= 0.6 - 1e-9))
    net = d.series["grid_import_mw"] - d.series["grid_export_mw"]
    assert np.abs(np.diff(net)).max() <= 12.0 + 1e-6


def _small_compiled():
    """The two-day problem of ``_jobs`` with a ramp and a demand charge: (model, compiled)."""
    m = build_model(small_problem(jobs=_jobs(), ramp=12.0, demand=500.0))
    return m, compile_model(m)


def _count_calls(monkeypatch, name: str) -> list:
    """A list that gets one item per call of ``price_fix_module.<name>(fx, jobs)``."""
    calls = []
    original = getattr(price_fix_module, name)
    monkeypatch.setattr(price_fix_module, name, lambda fx, js: calls.append(1) or original(fx, js))
    return calls


def _run_counted(m, cm, calls: list, **kwargs):
    """Price-fix on a fresh HiGHS object with ``kwargs``: its result (a schedule that
    satisfies every row) and the calls counted in ``calls`` during it."""
    calls.clear()
    r = price_fix(make_highs(cm, SolverOptions()), cm, m, **kwargs)
    assert r.values is not None
    assert_satisfies_every_row(cm, r.values)
    return r, len(calls)


def test_improvement_passes_are_skipped_only_with_every_job_fixed_close_to_the_bound(
    monkeypatch,
):
    m, cm = _small_compiled()
    passes = _count_calls(monkeypatch, "_improve")

    def run(enough_gap):
        return _run_counted(m, cm, passes, enough_gap=enough_gap)

    assert run(None)[1] >= 1
    # every fixed schedule is within 100 % of the LP bound here: no pass runs
    r, n = run(1.0)
    assert n == 0 and r.unfixed == []
    # a job left unfixed: the LP runs it in fractions and says nothing of a schedule
    pattern = Fixer.pattern
    monkeypatch.setattr(
        Fixer,
        "pattern",
        lambda fx, jc: None if jc.job.id == "c" else pattern(fx, jc),
    )
    r, n = run(1.0)
    assert n >= 1 and r.unfixed == ["c"]


@pytest.mark.slow
def test_milp_from_the_price_fix_start_reaches_the_same_optimum(case):
    p, exact = case
    with_start = solve(p, replace(EXACT, price_fix_start=True))
    assert with_start.objective_usd == pytest.approx(exact.objective_usd, rel=2e-5)


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="method"):
        SolverOptions(method="greedy")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_reported_bounds_never_exceed_the_optimum(seed):
    # the plain MILP (no price-fix start, gap 1e-6) is the reference; the default path
    # (1 % gap, price-fix start) and price-fix alone agree with it within their reported
    # gaps, and neither reports a bound above its optimum
    p = random_day(seed)
    exact = solve(p, SolverOptions(mip_rel_gap=1e-6, price_fix_start=False, node_limit=None))
    assert exact.status == "optimal"
    opt = exact.objective_usd
    tol = 1e-6 * abs(opt) + 1e-6
    for options in (
        SolverOptions(),
        SolverOptions(root_restart=True),
        SolverOptions(method="price-fix"),
    ):
        d = solve(p, options)
        assert d.bound_usd <= opt + tol, options
        assert d.objective_usd >= opt - tol, options
        assert d.gap_basis_usd >= abs(d.objective_usd) - tol, options
        gap = (d.objective_usd - d.bound_usd) / d.gap_basis_usd
        assert d.mip_gap == pytest.approx(gap, abs=1e-6), options
        if d.status == "optimal":
            assert d.objective_usd - opt <= options.mip_rel_gap * d.gap_basis_usd + tol


def test_a_close_schedule_is_completed_by_an_integral_lp_at_the_milps_optimum(monkeypatch):
    # with the passes skipped, an LP completion integral in every integer column is taken
    # as the schedule (HiGHS's MILP does not run), and it costs what that MILP finds with
    # the same jobs fixed; where the LP is not integral, the MILP runs
    milps = []
    run_milp = price_fix_module.run_for_schedule
    monkeypatch.setattr(
        price_fix_module, "run_for_schedule", lambda h: milps.append(1) or run_milp(h)
    )
    taken = 0
    for seed in range(4):
        p = random_day(seed, demand=3000.0)
        m = build_model(p)
        cm = compile_model(m)
        options = SolverOptions(mip_rel_gap=1e-9, node_limit=None)
        milps.clear()
        r = price_fix(make_highs(cm, options), cm, m, enough_gap=1.0)
        assert r.unfixed == [] and r.values is not None
        assert_satisfies_every_row(cm, r.values)
        icols = cm.integer_columns()
        assert np.all(np.abs(r.values[icols] - np.round(r.values[icols])) <= 1e-6)
        taken += not milps
        with monkeypatch.context() as patch:  # the same fixings completed by the MILP
            patch.setattr(price_fix_module, "_integral_lp", lambda h, icols: None)
            by_milp = price_fix(make_highs(cm, options), cm, m, enough_gap=1.0)
        assert r.objective_usd == pytest.approx(by_milp.objective_usd, rel=1e-7)
        # with no job fixed the LP relaxation is fractional: no completion from it
        h = make_highs(cm, options)
        set_integrality(h, icols, False)
        assert price_fix_module._integral_lp(h, icols) is None
    assert taken >= 1, taken


def _fixed_by_price_fix(p, monkeypatch, reversed_job: str | None):
    """A ``Fixer`` on ``p``'s LP (integrality off, hull rows freed) with every job fixed
    by price-fix's first fixing; ``reversed_job`` is fixed at the reversed prices (its
    dearest pattern) instead."""
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, SolverOptions())
    set_integrality(h, cm.integer_columns(), False)
    fx = Fixer(h, cm, m, None)
    fx.hull(False)
    assert fx.lp()
    jobs = job_columns(m, cm)
    cost = Fixer.cost_per_frac
    with monkeypatch.context() as patch:
        patch.setattr(
            Fixer,
            "cost_per_frac",
            lambda f, jc: -cost(f, jc) if jc.job.id == reversed_job else cost(f, jc),
        )
        price_fix_module._fix_jobs(fx, jobs)
    assert all(jc.pattern is not None for jc in jobs)
    return fx, jobs


@pytest.mark.parametrize("seed", range(4))
def test_the_pass_at_the_schedules_prices_keeps_only_patterns_that_lower_the_lp(seed, monkeypatch):
    # a job fixed at its dearest pattern is moved by the pass, and no move the pass keeps
    # raises the LP with every job fixed; each job ends fixed at the pattern it reports
    p = random_day(seed, demand=3000.0)
    reversed_job = max(p.jobs, key=lambda j: j.full_power_it_mw).id
    fx, jobs = _fixed_by_price_fix(p, monkeypatch, reversed_job)
    dearest = {jc.job.id: jc.pattern for jc in jobs}
    tried = []
    keep = price_fix_module._keep_if_cheaper
    monkeypatch.setattr(
        price_fix_module,
        "_keep_if_cheaper",
        lambda f, jc, on, old, before: (
            tried.append(before.objective_usd) or keep(f, jc, on, old, before)
        ),
    )
    before = fx.objective()
    moved = price_fix_module._improve_at_schedule_prices(fx, jobs)
    after = fx.objective()
    assert moved and after < before - 1e-6 * abs(before)
    assert np.all(np.diff(tried + [after]) <= 1e-9 * abs(before))
    job = next(jc for jc in jobs if jc.job.id == reversed_job)
    assert not np.array_equal(job.pattern, dearest[reversed_job])
    lower = np.asarray(fx.h.getLp().col_lower_)
    for jc in jobs:
        assert np.array_equal(lower[jc.on] > 0.5, jc.pattern)


@pytest.mark.parametrize("seed", range(3))
def test_a_move_turned_down_returns_to_the_lp_it_left_without_running_one(seed, monkeypatch):
    # the cheapest job fixed at its dearest pattern instead is a move the LP turns down:
    # after it the fixer reads the LP it left (objective, duals, values) with no LP run,
    # and the next LP starts at that LP's optimal basis (no simplex iteration)
    p = random_day(seed, demand=3000.0)
    fx, jobs = _fixed_by_price_fix(p, monkeypatch, None)
    job = min(jobs, key=lambda jc: jc.job.full_power_it_mw)
    before, old = fx.snapshot(), job.pattern.copy()
    prices_before = fx.cost_per_frac(job)
    cost = Fixer.cost_per_frac
    with monkeypatch.context() as patch:
        patch.setattr(Fixer, "cost_per_frac", lambda f, jc: -cost(f, jc))
        dearest = fx.pattern(job)
    assert not np.array_equal(dearest, old)
    runs = []
    lp = Fixer.lp
    monkeypatch.setattr(Fixer, "lp", lambda f: runs.append(1) or lp(f))
    assert not price_fix_module._keep_if_cheaper(fx, job, dearest, old, before)
    assert len(runs) == 1  # the move's own LP; none to return
    assert np.array_equal(job.pattern, old)
    assert fx.objective() == before.objective_usd
    assert np.array_equal(fx.cost_per_frac(job), prices_before)
    assert fx.lp() and fx.h.getInfo().simplex_iteration_count == 0
    assert fx.objective() == pytest.approx(before.objective_usd, rel=1e-9)


def test_the_pass_at_the_schedules_prices_runs_only_above_the_target_gap(monkeypatch):
    m, cm = _small_compiled()
    runs = _count_calls(monkeypatch, "_improve_at_schedule_prices")

    def count(target_gap):
        return _run_counted(m, cm, runs, target_gap=target_gap)[1]

    assert count(0.0) == 1
    assert count(None) == 0
    assert count(1.0) == 0  # every fixed schedule here is within 100 % of the LP bound


def _dearest_start(p, monkeypatch, reversed_jobs):
    """The compiled model of ``p``, a fresh ``Highs`` on it and a start with the jobs
    ``reversed_jobs`` at their dearest patterns (the others at price-fix's first fixing),
    completed by HiGHS (``seeded_schedule``)."""
    fx, jobs = _fixed_by_price_fix(p, monkeypatch, None)
    cost = Fixer.cost_per_frac
    for jc in jobs:
        if jc.job.id in reversed_jobs:
            fx.fix(jc, None)
            fx.lp()
            with monkeypatch.context() as patch:
                patch.setattr(Fixer, "cost_per_frac", lambda f, j: -cost(f, j))
                fx.fix(jc, fx.pattern(jc))
            fx.lp()
    on_by_job = {}
    for jc in jobs:
        on = np.zeros(p.n_steps, dtype=bool)
        on[jc.steps] = jc.pattern
        on_by_job[jc.job.id] = on
    cm, m = fx.cm, fx.m
    h = make_highs(cm, SolverOptions())
    return cm, m, h, price_fix_module.seeded_schedule(h, cm, m, on_by_job)


def _assert_h_as_compiled(h, cm) -> None:
    lp = h.getLp()
    assert np.array_equal(np.asarray(lp.col_lower_), cm.col_lower)
    assert np.array_equal(np.asarray(lp.col_upper_), cm.col_upper)
    assert np.array_equal([int(v) for v in lp.integrality_], cm.integrality)


@pytest.mark.parametrize("seed", range(4))
def test_pair_moves_lower_a_start_with_two_jobs_at_their_dearest(seed, monkeypatch):
    # two jobs at their dearest patterns: the pass over pairs finds a cheaper schedule that
    # satisfies every row, whose objective is its columns' cost, and leaves h as it was
    p = random_day(seed, demand=3000.0)
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    assert start.values is not None
    moved = pair_moves_module.pair_moves(h, cm, m, start)
    assert moved.objective_usd < start.objective_usd - 1e-6 * abs(start.objective_usd)
    assert_satisfies_every_row(cm, moved.values)
    assert float(cm.col_cost @ moved.values) + cm.offset == pytest.approx(moved.objective_usd)
    assert moved.seconds > start.seconds
    assert cm.integrality.any()
    _assert_h_as_compiled(h, cm)
    again = pair_moves_module.pair_moves(h, cm, m, moved)  # the same pass from its own answer
    assert again.objective_usd <= moved.objective_usd


def test_pair_moves_keep_only_pairs_that_lower_the_lp(monkeypatch):
    # every pair is tried once, and the LP with every job fixed never rises from one kept
    # move to the next
    p = random_day(1, demand=3000.0)
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    tried, kept = [], []
    move = pair_moves_module._pair_move

    def spy(fx, a, b):
        tried.append((a.job.id, b.job.id))
        out = move(fx, a, b)
        kept.append(fx.objective())
        return out

    monkeypatch.setattr(pair_moves_module, "_pair_move", spy)
    pair_moves_module.pair_moves(h, cm, m, start)
    n = len(p.jobs)
    assert len(tried) == len(set(tried)) == n * (n - 1) // 2
    assert np.all(np.diff(kept) <= 1e-9 * abs(start.objective_usd))


def _spy_pairs(monkeypatch) -> tuple[list, list]:
    """The pairs ``pair_moves`` tries and whether each was kept."""
    tried, kept = [], []
    move = pair_moves_module._pair_move

    def spy(fx, a, b):
        tried.append((a.job.id, b.job.id))
        kept.append(move(fx, a, b))
        return kept[-1]

    monkeypatch.setattr(pair_moves_module, "_pair_move", spy)
    return tried, kept


@pytest.mark.parametrize("seed", range(4))
def test_pair_moves_end_at_the_first_schedule_proven(seed, monkeypatch):
    # a test that proves every schedule: the pass ends at the first kept pair, with that
    # pair's schedule completed by HiGHS (every row satisfied, its cost its columns')
    p = random_day(seed, demand=3000.0)
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    tried, kept = _spy_pairs(monkeypatch)
    checked = []

    def proves(objective_usd, values):
        checked.append(objective_usd)
        return True

    moved = pair_moves_module.pair_moves(h, cm, m, start, proves=proves)
    assert kept[-1] and kept.count(True) == 1  # ended at the first kept pair
    assert len(tried) < len(p.jobs) * (len(p.jobs) - 1) // 2
    assert len(checked) == 2  # that pair's LP, then its schedule
    assert moved.objective_usd < start.objective_usd
    assert moved.objective_usd == pytest.approx(checked[1]) and checked[0] <= checked[1] + 1e-6
    assert_satisfies_every_row(cm, moved.values)
    assert float(cm.col_cost @ moved.values) + cm.offset == pytest.approx(moved.objective_usd)
    _assert_h_as_compiled(h, cm)


@pytest.mark.parametrize("seed", range(4))
def test_pair_moves_go_on_where_the_schedule_is_not_proven(seed, monkeypatch):
    # a test that passes every LP and no schedule: each kept pair's schedule is completed
    # and turned down, and the pass goes on over every pair to the schedule the pass
    # without the test gives
    p = random_day(seed, demand=3000.0)
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    plain = pair_moves_module.pair_moves(h, cm, m, start)
    tried, kept = _spy_pairs(monkeypatch)
    calls = []

    def proves(objective_usd, values):
        calls.append(objective_usd)
        return len(calls) % 2 == 1  # the LP passes, its schedule does not

    moved = pair_moves_module.pair_moves(h, cm, m, start, proves=proves)
    assert len(tried) == len(p.jobs) * (len(p.jobs) - 1) // 2
    assert len(calls) == 2 * kept.count(True) > 0
    assert moved.objective_usd == pytest.approx(plain.objective_usd, rel=1e-9)
    assert_satisfies_every_row(cm, moved.values)
    _assert_h_as_compiled(h, cm)


def test_pair_moves_run_only_on_a_start_not_proven_within_the_gap(monkeypatch):
    p = random_day(1, demand=3000.0)
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, SolverOptions())
    pf = price_fix(h, cm, m)
    calls = []
    monkeypatch.setattr(start_steps, "pair_moves", lambda *a, **k: calls.append(a[3]) or a[3])
    options = SolverOptions(mip_rel_gap=0.01)
    proven = replace(pf, bound_usd=pf.objective_usd)
    assert start_steps.paired(h, cm, m, options, proven) is proven and calls == []
    loose = replace(pf, bound_usd=pf.objective_usd - 0.5 * abs(pf.objective_usd))
    assert start_steps.paired(h, cm, m, options, loose) is loose and calls == [loose]


def test_pair_moves_try_no_pair_past_their_time_limit(monkeypatch):
    p = random_day(2, demand=3000.0)
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    tried = []
    move = pair_moves_module._pair_move
    monkeypatch.setattr(pair_moves_module, "_pair_move", lambda *a: tried.append(a) or move(*a))
    out = pair_moves_module.pair_moves(h, cm, m, start, time_limit_s=0.0)
    assert tried == [] and out.objective_usd == start.objective_usd
    assert np.array_equal(out.values, start.values)
    assert pair_moves_module.pair_moves(h, cm, m, start).objective_usd < start.objective_usd


def test_pair_moves_take_the_pairs_of_the_jobs_of_most_energy_and_report(monkeypatch):
    # capped at 2 jobs (1 pair) of 3: the pass tries the pair of the 2 jobs of the most
    # energy at full power, in the jobs' order, and prints a line once progress is due
    # (an outside audit: 200 jobs, 19,900 pairs, no end and no line after 16 minutes)
    p = random_day(1, demand=3000.0)
    assert len(p.jobs) == 3
    big = sorted(p.jobs, key=lambda j: -j.full_power_it_mw)[:2]
    cm, m, h, start = _dearest_start(p, monkeypatch, {j.id for j in big})
    tried, _ = _spy_pairs(monkeypatch)
    monkeypatch.setattr(pair_moves_module, "MAX_PAIR_JOBS", 2)
    monkeypatch.setattr(pair_moves_module, "MAX_PAIRS", 1)
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    lines = io.StringIO()
    with progress.solve_progress(True, lines):
        pair_moves_module.pair_moves(h, cm, m, start)
    energy = {j.id: j.full_power_it_mw * j.work_h for j in p.jobs}
    assert len(set(energy.values())) == 3
    top = sorted(p.jobs, key=lambda j: -energy[j.id])[:2]
    assert tried == [tuple(j.id for j in p.jobs if j in top)]
    shown = [t for t in lines.getvalue().splitlines() if t.startswith("pair moves: pair")]
    assert [t.split(" · ")[0] for t in shown] == ["pair moves: pair 1/1"]
