"""Starting a solve from a given job schedule (``optimize.solve(..., start_on=...)``)."""

from __future__ import annotations

import numpy as np
import pytest

import optimize
from optimize import price_fix as price_fix_module
from optimize.highs import compile_model, make_highs
from optimize.model import build_model
from optimize.price_fix import PriceFixResult, seeded_schedule
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from optimize.start_steps import cheaper_start
from tests.optimize.small_problems import small_problem

EXACT = SolverOptions(mip_rel_gap=0.0)


def _job_problem():
    # one non-preemptible 4 h job at 10 MW, free over the first day
    return small_problem(n=24, jobs=(Job("a", 10.0, 4.0, 0, 24, preemptible=False),))


def test_job_patterns_are_the_steps_a_job_runs():
    d = optimize.solve(_job_problem(), EXACT)
    on = optimize.job_patterns(d)["a"]
    assert on.dtype == bool and on.sum() == 4
    assert np.array_equal(on, d.series["job_a_power_fraction"] > 0)
    starts = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(int)))) == 1)
    assert len(starts) == 1  # one contiguous block


def test_seeded_schedule_runs_the_job_where_the_seed_says():
    p = _job_problem()
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, EXACT)
    on = np.zeros(24, dtype=bool)
    on[14:18] = True  # afternoon, dearer than the night the optimum picks
    seed = seeded_schedule(h, cm, m, {"a": on})
    assert seed.values is not None
    col = {id(v): i for i, v in enumerate(cm.columns)}
    ran = [round(seed.values[col[id(m.job_on["a", t])]]) for t in range(24)]
    assert np.array_equal(np.array(ran, dtype=bool), on)
    best = optimize.solve(p, EXACT)
    assert seed.objective_usd > best.objective_usd + 1.0
    # a 2-step block cannot do 4 h of work: infeasible, so no schedule
    short = np.zeros(24, dtype=bool)
    short[3:5] = True
    assert seeded_schedule(h, cm, m, {"a": short}).values is None


def test_the_cheaper_start_wins():
    pf = PriceFixResult(np.array([1.0]), 100.0, 90.0, seconds=1.0)
    dear = PriceFixResult(np.array([2.0]), 120.0, None, seconds=0.5)
    cheap = PriceFixResult(np.array([3.0]), 95.0, None, seconds=0.5)
    assert cheaper_start(pf, dear).values[0] == 1.0
    got = cheaper_start(pf, cheap)
    assert got.values[0] == 3.0 and got.objective_usd == 95.0 and got.bound_usd == 90.0
    assert got.gap == pytest.approx(5.0 / 95.0) and got.seconds == 1.5
    none = PriceFixResult(None, None, None, seconds=0.2)
    assert cheaper_start(pf, none).values[0] == 1.0


@pytest.mark.parametrize("method", ["milp", "price-fix"])
def test_a_start_never_makes_the_answer_worse_and_a_bad_one_is_ignored(method):
    p = _job_problem()
    opts = SolverOptions(method=method, mip_rel_gap=0.0)
    best = optimize.solve(p, EXACT)
    good = optimize.solve(p, opts, start_on=optimize.job_patterns(best))
    assert good.objective_usd == pytest.approx(best.objective_usd, rel=1e-9)
    short = np.zeros(24, dtype=bool)
    short[3:5] = True
    plain = optimize.solve(p, opts)
    ignored = optimize.solve(p, opts, start_on={"a": short})
    assert ignored.objective_usd == pytest.approx(plain.objective_usd, rel=1e-9)


def _counting_fixes(monkeypatch) -> list[int]:
    """Count price-fix's fixing passes (``_fix_jobs``) from here on."""
    calls: list[int] = []
    real = price_fix_module._fix_jobs

    def spy(fx, jobs):
        calls.append(len(jobs))
        return real(fx, jobs)

    monkeypatch.setattr(price_fix_module, "_fix_jobs", spy)
    return calls


@pytest.mark.parametrize("method", ["milp", "price-fix"])
def test_a_start_the_lp_bound_proves_spares_price_fix_its_fixing(method, monkeypatch):
    p = _job_problem()
    best = optimize.solve(p, EXACT)
    calls = _counting_fixes(monkeypatch)
    opts = SolverOptions(method=method, mip_rel_gap=0.5)  # the LP proves the optimum at 50 %
    d = optimize.solve(p, opts, start_on=optimize.job_patterns(best))
    assert calls == []  # the start was the answer before any job was fixed
    assert np.array_equal(optimize.job_patterns(d)["a"], optimize.job_patterns(best)["a"])
    assert d.objective_usd == pytest.approx(best.objective_usd, rel=1e-9)
    assert d.bound_usd <= d.objective_usd and d.status == "optimal"
    optimize.solve(p, opts)
    assert calls == [1]  # without a start, price-fix fixes the job as before


def test_a_start_the_bound_does_not_prove_leaves_price_fix_as_it_was(monkeypatch):
    p = _job_problem()
    m = build_model(p)
    cm = compile_model(m)
    h = make_highs(cm, EXACT)
    on = np.zeros(24, dtype=bool)
    on[14:18] = True  # dearer than the optimum: no bound proves it within 0
    seed = seeded_schedule(h, cm, m, {"a": on})
    h.clearSolver()
    calls = _counting_fixes(monkeypatch)
    with_seed = price_fix_module.price_fix(h, cm, m, target_gap=0.0, known_start=seed)
    assert calls == [1] and with_seed.values is not seed.values
    h2 = make_highs(cm, EXACT)
    alone = price_fix_module.price_fix(h2, cm, m, target_gap=0.0)
    assert np.array_equal(with_seed.values, alone.values)
    assert with_seed.bound_usd == alone.bound_usd


def test_a_dispatch_prints_on_one_short_line():
    d = optimize.solve(_job_problem(), EXACT)
    text = repr(d)
    assert "\n" not in text and len(text) < 240, text
    assert text.startswith("Dispatch(status='optimal', objective_usd=")
    assert f"steps=24, series={len(d.series)}, jobs=1)" in text
