"""Training jobs (optimize/jobs.py) on tiny hand-checkable models.

Each model is only the jobs: ``cost = Σ_t price[t] * jobs_it_mw[t] * step_h`` (+ optional IT
capacity per step), solved by HiGHS through Pyomo's APPSI interface.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.contrib.appsi.solvers import Highs

from optimize import jobs as jobs_module
from optimize.highs import compile_model, make_highs, set_integrality
from optimize.jobs import BLOCK_ROWS, define_jobs, job_results
from optimize.model import build_model
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from optimize.throughput import curve_pieces, curve_segments, throughput
from tests.optimize.small_problems import random_day, small_problem

CURVE = ((0.6, 0.78), (0.7, 0.87), (0.8, 0.94), (0.9, 0.98), (1.0, 1.0))


def solve_jobs(jobs, price, step_h=1.0, cap_mw=None, elastic=False, penalty=None):
    price = np.asarray(price, dtype=float)
    n = len(price)
    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, n - 1)
    terms = define_jobs(m, jobs, step_h, elastic=elastic, unfinished_penalty_usd_per_h=penalty)
    if cap_mw is not None:
        m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.jobs_it_mw[t] <= cap_mw)
    obj = sum(price[t] * step_h * m.jobs_it_mw[t] for t in range(n)) + sum(terms)
    if elastic:
        obj = obj + 1e6 * sum(e.var for e in m.elastic_slacks)
    m.obj = pyo.Objective(expr=obj)
    opt = Highs()
    opt.config.mip_gap = 1e-6
    opt.highs_options = {"threads": 1, "random_seed": 0}
    opt.config.load_solution = False
    res = opt.solve(m)
    assert res.termination_condition.name == "optimal", res.termination_condition
    res.solution_loader.load_vars()
    series, summary = job_results(m, jobs)
    return m, pyo.value(m.obj), series, summary


def on_steps(series, jid):
    return [int(t) for t in np.flatnonzero(series[f"job_{jid}_mw"] > 1e-6)]


def test_curve_segments_concave_envelope():
    segs = curve_segments(CURVE, 0.6)
    assert len(segs) == 4
    f = np.array([0.6, 0.65, 0.7, 0.85, 1.0])
    np.testing.assert_allclose(throughput(CURVE, f), [0.78, 0.825, 0.87, 0.96, 1.0])
    # f_min above a segment drops it
    assert len(curve_segments(CURVE, 0.8)) == 2
    with pytest.raises(ValueError, match="concave"):
        curve_segments(((0.5, 0.2), (0.8, 0.5), (1.0, 1.0)))


def test_curve_pieces_filled_in_order_give_the_curve():
    g_min, pieces = curve_pieces(CURVE, 0.65)  # f_min inside the first segment
    assert g_min == pytest.approx(0.825)
    np.testing.assert_allclose(pieces, [(0.05, 0.9), (0.1, 0.7), (0.1, 0.4), (0.1, 0.2)])
    assert curve_pieces(CURVE, 1.0) == (pytest.approx(1.0), [])
    assert curve_pieces(((1.0, 1.0),), 0.5) == (pytest.approx(0.5), [(0.5, pytest.approx(1.0))])
    rng = np.random.default_rng(0)
    for _ in range(50):  # random concave curves through (1, 1), f_min anywhere below 1
        slopes = np.sort(rng.uniform(0.0, 1.5, 3))[::-1]
        xs = np.append(np.sort(rng.uniform(0.1, 0.95, 3)), 1.0)
        g = [1.0]  # from (1, 1) down: each segment's slope below the next one's
        for k in (2, 1, 0):
            g.insert(0, g[0] - slopes[k] * (xs[k + 1] - xs[k]))
        curve = tuple(zip(xs, g, strict=True))
        f_min = rng.uniform(0.05, 1.0)
        g_min, pieces = curve_pieces(curve, f_min)
        assert sum(w for w, _ in pieces) == pytest.approx(1.0 - f_min)
        assert all(a >= b - 1e-9 for (_, a), (_, b) in zip(pieces[:-1], pieces[1:], strict=True))
        for x in rng.uniform(f_min, 1.0, 5):
            left, work = x - f_min, g_min
            for w, s in pieces:  # the pieces filled in order up to x
                work += s * min(w, max(left, 0.0))
                left -= w
            assert work == pytest.approx(float(throughput(curve, x)), abs=1e-12)


@pytest.mark.parametrize("frac", [0.3, 0.4, 0.5])
def test_the_relaxation_at_half_on_is_the_perspective_of_the_curve(frac):
    # on = 0.5 (relaxed): the largest work at power fraction frac is 0.5 * g(frac / 0.5),
    # the tightest convex relaxation; frac outside [0.5 * f_min, 0.5] is infeasible
    job = Job("a", 10.0, 0.1, 0, 1, f_min=0.6, throughput_curve=CURVE)
    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, 0)
    define_jobs(m, [job], 1.0, unfinished_penalty_usd_per_h=1.0)
    m.job_on["a", 0].domain = pyo.UnitInterval
    m.job_on["a", 0].fix(0.5)
    m.job_frac["a", 0].fix(frac)
    m.obj = pyo.Objective(expr=m.job_work["a", 0], sense=pyo.maximize)
    opt = Highs()
    opt.config.load_solution = False
    opt.highs_options = {"threads": 1}  # HiGHS's thread pool stays the other tests' size
    res = opt.solve(m)
    assert res.termination_condition.name == "optimal"
    assert res.best_feasible_objective == pytest.approx(0.5 * float(throughput(CURVE, frac / 0.5)))
    m.job_frac["a", 0].fix(0.29)
    assert opt.solve(m).termination_condition.name == "infeasible"


def test_one_job_runs_in_cheap_hours():
    job = Job("a", 10.0, 3.0, 0, 8)
    price = [50, 10, 50, 10, 50, 10, 50, 50]
    _, obj, series, summary = solve_jobs([job], price)
    assert on_steps(series, "a") == [1, 3, 5]
    assert obj == pytest.approx(3 * 10 * 10)
    assert summary["a"]["work_done_h"] == pytest.approx(3.0)
    assert summary["a"]["deadline_met"]
    assert summary["a"]["restarts"] == 2


def test_non_preemptible_does_not_split():
    # cheap hours 0-1 and 4-5; a 3 h contiguous block must take one expensive hour
    job = Job("np", 10.0, 3.0, 0, 6, preemptible=False, max_interruptions=0)
    price = [10, 10, 60, 90, 10, 10]
    _, obj, series, summary = solve_jobs([job], price)
    steps = on_steps(series, "np")
    assert steps == [0, 1, 2]
    assert obj == pytest.approx(10 * (10 + 10 + 60))
    assert summary["np"]["restarts"] == 0
    # the same job preemptible splits across the cheap hours
    _, obj_p, series_p, _ = solve_jobs([Job("p", 10.0, 3.0, 0, 6)], price)
    assert obj_p == pytest.approx(10 * 30)
    assert on_steps(series_p, "p") != [0, 1, 2]


def test_preemptible_max_one_interruption():
    price = [10, 50, 12, 80, 11, 90, 90, 90]
    # unlimited: the three separate cheap hours 0, 2, 4 (two restarts)
    _, obj_u, series_u, summary_u = solve_jobs([Job("p1", 10.0, 3.0, 0, 8)], price)
    assert obj_u == pytest.approx(330) and summary_u["p1"]["restarts"] == 2
    # at most one interruption: two blocks [0, 1] + [4]
    job = Job("p1", 10.0, 3.0, 0, 8, preemptible=True, max_interruptions=1)
    _, obj, series, summary = solve_jobs([job], price)
    assert summary["p1"]["restarts"] == 1
    assert on_steps(series, "p1") == [0, 1, 4]
    assert obj == pytest.approx(710)
    # no interruption: one block [0, 1, 2]
    job = Job("p1", 10.0, 3.0, 0, 8, preemptible=True, max_interruptions=0)
    _, obj, series, summary = solve_jobs([job], price)
    assert on_steps(series, "p1") == [0, 1, 2] and obj == pytest.approx(720)


def test_power_cap_follows_throughput_curve():
    # 4 steps available, 3.12 h of work: running at f = 0.6 for all 4 gives 4 * 0.78 = 3.12
    job = Job("cap", 10.0, 3.12, 0, 4, f_min=0.6, throughput_curve=CURVE)
    _, obj, series, summary = solve_jobs([job], [20, 20, 20, 20])
    np.testing.assert_allclose(series["job_cap_power_fraction"], 0.6, atol=1e-6)
    energy = series["job_cap_mw"].sum()
    # energy per unit of work is 0.6 / 0.78 of full power
    assert energy / summary["cap"]["work_done_h"] == pytest.approx(10.0 * 0.6 / 0.78)
    assert obj == pytest.approx(20 * 10 * 0.6 * 4)


def test_power_cap_exact_when_energy_is_negative():
    # negative price: running more pays, but work cannot exceed the curve, and the job
    # runs at full power (f=1) in every step with the physical throughput reported
    job = Job("neg", 10.0, 2.0, 0, 3, f_min=0.6, throughput_curve=CURVE)
    _, obj, series, summary = solve_jobs([job], [-5, -5, -5])
    np.testing.assert_allclose(series["job_neg_power_fraction"], 1.0)
    np.testing.assert_allclose(series["job_neg_work_h"], 1.0)
    assert obj == pytest.approx(-5 * 10 * 3)
    assert summary["neg"]["work_done_h"] == pytest.approx(3.0)


def test_restart_overhead_makes_split_not_worth_it():
    price = [10, 10, 30, 10, 10, 12, 50, 50]
    # no overhead: splits around the 30 $ hour (4 cheap hours)
    _, obj0, series0, sum0 = solve_jobs([Job("r", 10.0, 4.0, 0, 8)], price)
    assert on_steps(series0, "r") == [0, 1, 3, 4]
    assert obj0 == pytest.approx(400) and sum0["r"]["restarts"] == 1
    # 0.5 h overhead: 4.5 h of work needs a 5th step; splitting (400 + 120) still beats
    # the best block (10+10+30+10)*10 = 600
    job = Job("r", 10.0, 4.0, 0, 8, restart_overhead_h=0.5)
    _, obj1, series1, sum1 = solve_jobs([job], price)
    assert on_steps(series1, "r") == [0, 1, 3, 4, 5]
    assert obj1 == pytest.approx(520)
    assert sum1["r"]["restarts"] == 1
    assert sum1["r"]["work_done_h"] == pytest.approx(4.5)  # 5 h run minus 0.5 h overhead
    # 2 h overhead: splitting needs 6 steps (>= 1020): one block of 4 h is cheaper
    job = Job("r", 10.0, 4.0, 0, 8, restart_overhead_h=2.0)
    _, obj2, series2, sum2 = solve_jobs([job], price)
    assert sum2["r"]["restarts"] == 0
    assert obj2 == pytest.approx(600)
    assert on_steps(series2, "r") in ([0, 1, 2, 3], [1, 2, 3, 4])


def test_release_and_deadline_respected():
    job = Job("w", 5.0, 2.0, 3, 6)
    price = [1, 1, 1, 40, 50, 60, 1, 1]
    _, obj, series, summary = solve_jobs([job], price)
    assert on_steps(series, "w") == [3, 4]
    assert obj == pytest.approx(5 * 90)
    assert summary["w"]["deadline_met"]


def test_capacity_shared_between_jobs():
    jobs = [Job("x", 10.0, 2.0, 0, 4), Job("y", 10.0, 2.0, 0, 4)]
    _, obj, series, _ = solve_jobs(jobs, [1, 2, 3, 4], cap_mw=10.0)
    total = series["job_x_mw"] + series["job_y_mw"]
    np.testing.assert_allclose(total, 10.0)
    assert obj == pytest.approx(10 * (1 + 2 + 3 + 4))


def test_running_at_start_non_preemptible_continues():
    job = Job("c", 10.0, 2.0, 0, 6, preemptible=False, max_interruptions=0, running_at_start=True)
    _, obj, series, summary = solve_jobs([job], [50, 50, 1, 1, 1, 1])
    assert on_steps(series, "c") == [0, 1]
    assert summary["c"]["restarts"] == 0


def test_running_at_start_preemptible_pays_restart():
    # pausing the running job costs a restart (1 h overhead): continue through step 0-1
    job = Job("c", 10.0, 2.0, 0, 4, max_interruptions=0, running_at_start=True)
    _, obj, series, summary = solve_jobs([job], [30, 30, 1, 1])
    assert on_steps(series, "c") == [0, 1]
    job = Job("c", 10.0, 2.0, 0, 4, max_interruptions=1, running_at_start=True)
    _, obj, series, summary = solve_jobs([job], [30, 30, 1, 1])
    assert on_steps(series, "c") == [2, 3]
    assert summary["c"]["restarts"] == 1


def test_impossible_deadline_is_infeasible_and_elastic_names_job():
    job = Job("late", 10.0, 5.0, 0, 3)
    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, 3)
    define_jobs(m, [job], 1.0)
    m.obj = pyo.Objective(expr=sum(m.jobs_it_mw[t] for t in m.T))
    opt = Highs()
    opt.config.load_solution = False
    res = opt.solve(m)
    assert res.termination_condition.name in ("infeasible", "infeasibleOrUnbounded")

    _, _, _, summary = solve_jobs([job, Job("ok", 1.0, 1.0, 0, 3)], [1, 1, 1, 1], elastic=True)
    assert summary["late"]["unfinished_h"] == pytest.approx(2.0)
    assert not summary["late"]["deadline_met"]
    assert summary["ok"]["deadline_met"]


def test_elastic_registers_named_slack():
    job = Job("late", 10.0, 5.0, 0, 3)
    m, _, _, _ = solve_jobs([job], [1, 1, 1, 1], elastic=True)
    entries = [e for e in m.elastic_slacks if e.kind == "job_unfinished"]
    assert [e.name for e in entries] == ["late"]
    assert pyo.value(entries[0].var) == pytest.approx(2.0)
    assert entries[0].unit == "h" and entries[0].step == 2


def test_unfinished_penalty_trades_off():
    job = Job("pen", 10.0, 3.0, 0, 3)
    # penalty 150 $/h < 10 MW * 20 $/MWh = 200 $/h of work: leave it all unfinished
    _, obj, _, summary = solve_jobs([job], [20, 20, 20], penalty=150.0)
    assert summary["pen"]["unfinished_h"] == pytest.approx(3.0)
    assert obj == pytest.approx(450.0)
    _, obj, _, summary = solve_jobs([job], [20, 20, 20], penalty=250.0)
    assert summary["pen"]["unfinished_h"] == pytest.approx(0.0)
    assert obj == pytest.approx(600.0)


@pytest.mark.parametrize("preemptible", [True, False])
def test_a_job_with_no_step_in_the_horizon_is_left_undone_at_its_penalty(preemptible):
    """A job released at the horizon's end has no step to run in: with priced unfinished
    work it is left undone at its penalty, and the rest is solved as without it. Before
    (an outside audit) price-fix indexed its empty column list
    (``IndexError``), and a non-preemptible one's ``Σ start <= 1`` over no step was no
    Pyomo constraint (``InvalidConstraintError``)."""
    now = Job("now", 5.0, 6.0, 0, 24)
    late = Job("late", 5.0, 3.0, 24, 30, preemptible=preemptible)
    exact = SolverOptions(mip_rel_gap=0.0)
    both = solve(small_problem(24, jobs=(now, late), penalty=200.0), exact)
    alone = solve(small_problem(24, jobs=(now,), penalty=200.0), exact)
    assert both.jobs["late"]["unfinished_h"] == pytest.approx(3.0)
    assert not both.series["job_late_mw"].any()
    assert both.objective_usd == pytest.approx(alone.objective_usd + 3.0 * 200.0)


def test_a_non_preemptible_job_with_no_work_left_need_not_run():
    """A non-preemptible job with ``work_h = 0`` (what a window leaves of one due after
    it) may stay off. Before (an outside audit) the single-block hull's block of at least
    one step forced it on for a step: the answer ran it 5 MW for an hour and was "optimal"
    with its bound above the optimum."""
    idle = Job("idle", 5.0, 0.0, 0, 24, preemptible=False)
    now = Job("now", 5.0, 6.0, 0, 24)
    exact = SolverOptions(mip_rel_gap=0.0)
    with_idle = solve(small_problem(24, jobs=(now, idle)), exact)
    alone = solve(small_problem(24, jobs=(now,)), exact)
    assert not with_idle.series["job_idle_mw"].any()
    assert with_idle.objective_usd == pytest.approx(alone.objective_usd, rel=1e-9)
    assert with_idle.bound_usd <= alone.objective_usd + 1e-6


def test_quarter_hour_steps():
    job = Job("q", 4.0, 1.0, 0, 8, preemptible=False)
    price = [90, 90, 90, 90, 10, 10, 10, 10]
    _, obj, series, _ = solve_jobs([job], price, step_h=0.25)
    assert on_steps(series, "q") == [4, 5, 6, 7]
    assert obj == pytest.approx(4 * 0.25 * 10 * 4)


def test_horizon_credit_for_deadlines_beyond_the_model():
    from optimize.jobs import horizon_credit

    price = [1, 2, 3, 50]
    # without a credit the deadline is clipped: 4 h of work in the 4 steps
    _, obj, series, _ = solve_jobs([Job("p", 10.0, 4.0, 0, 10)], price)
    assert obj == pytest.approx(10 * 56)
    # preemptible, credit 0.5: 6 steps after the horizon -> 3 h may wait, 1 h inside
    with horizon_credit(0.5):
        _, obj, series, _ = solve_jobs([Job("p", 10.0, 4.0, 0, 10)], price)
    assert on_steps(series, "p") == [0]
    # non-preemptible: it may start at the last step and continue after the horizon
    with horizon_credit(0.5):
        _, obj, series, _ = solve_jobs([Job("n", 10.0, 6.0, 0, 10, preemptible=False)], price)
    assert on_steps(series, "n") == [3]
    assert obj == pytest.approx(500)
    # ... but not stop before the horizon end unless finished
    with horizon_credit(0.5):
        _, obj, series, _ = solve_jobs(
            [Job("n", 10.0, 6.0, 0, 10, preemptible=False)], [1, 2, 3, 50, 60]
        )
    steps = on_steps(series, "n")
    assert steps[-1] == 4 and np.all(np.diff(steps) == 1)


def _objective(jobs, price, blocks: bool, relax: bool, credit: float = 0.0) -> float:
    """Optimum of the jobs-only model, with or without the block constraints, as a MILP
    or as its LP relaxation."""
    from optimize.jobs import horizon_credit

    n = len(price)
    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, n - 1)
    with horizon_credit(credit):
        define_jobs(m, jobs, 1.0)
    m.cap = pyo.Constraint(m.T, rule=lambda m, t: m.jobs_it_mw[t] <= 12.0)
    m.obj = pyo.Objective(expr=sum(price[t] * m.jobs_it_mw[t] for t in range(n)))
    if not blocks:
        for name in BLOCK_ROWS:
            getattr(m, name).deactivate()
    if relax:
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    opt = Highs()
    opt.config.mip_gap = 1e-9
    opt.highs_options = {"threads": 1, "random_seed": 0}
    res = opt.solve(m)
    assert res.termination_condition.name == "optimal", res.termination_condition
    return pyo.value(m.obj)


@pytest.mark.parametrize("seed", range(12))
def test_single_block_hull_cuts_off_no_schedule_and_tightens_the_lp(seed):
    # random non-preemptible jobs (power caps, prices below zero at times, a capacity they
    # share, and half the cases with work credited after the horizon)
    rng = np.random.default_rng(seed)
    n = 14
    price = rng.normal(40, 40, n).round(1)
    jobs = [
        Job(
            f"j{k}",
            float(rng.choice([4.0, 6.0, 8.0])),
            float(rng.integers(2, 6)),
            int(rng.integers(0, 4)),
            int(rng.integers(10, 20)),
            preemptible=False,
            f_min=float(rng.choice([0.6, 1.0])),
            throughput_curve=CURVE,
        )
        for k in range(3)
    ]
    credit = 0.5 if seed % 2 else 0.0
    with_blocks = _objective(jobs, price, blocks=True, relax=False, credit=credit)
    without = _objective(jobs, price, blocks=False, relax=False, credit=credit)
    assert with_blocks == pytest.approx(without, rel=1e-7, abs=1e-6)
    lp_with = _objective(jobs, price, blocks=True, relax=True, credit=credit)
    lp_without = _objective(jobs, price, blocks=False, relax=True, credit=credit)
    assert lp_without - 1e-6 <= lp_with <= with_blocks + 1e-6


def test_single_block_hull_lifts_the_lp_of_a_block_through_a_price_spike():
    # every 3 h block in these 8 h holds one 500 USD/MWh hour: the LP without blocks
    # spreads `on` over the cheap hours around the spikes; with the single-block hull (one
    # job at full power: the hull is the whole model) it pays the spike like the MILP
    jobs = [Job("np", 10.0, 3.0, 0, 8, preemptible=False)]
    price = [10, 10, 500, 10, 10, 500, 10, 10]
    milp = _objective(jobs, price, blocks=True, relax=False)
    assert milp == pytest.approx(10 * (10 + 10 + 500))
    assert _objective(jobs, price, blocks=True, relax=True) == pytest.approx(milp)
    assert _objective(jobs, price, blocks=False, relax=True) < milp - 1


def _segment_rows(m, js):
    """The reference formulation the pieces replaced: ``f_min * on <= frac <= on`` and
    ``work <= step_h * (a_k * frac + b_k * on)`` per segment line, ``work`` a column."""
    m.job_work = pyo.Var(m.job_steps, bounds=(0.0, float(js.step_h)))
    m.ref_lo = pyo.Constraint(
        m.job_steps, rule=lambda m, j, t: m.job_frac[j, t] >= js.by_id[j].f_min * m.job_on[j, t]
    )
    m.ref_hi = pyo.Constraint(m.job_steps, rule=lambda m, j, t: m.job_frac[j, t] <= m.job_on[j, t])
    segs = {j.id: curve_segments(j.throughput_curve, j.f_min) for j in js.jobs}
    idx = [(j, t, k) for j, t in js.idx for k in range(len(segs[j]))]

    def seg_rule(m, j, t, k):
        a, b = segs[j][k]
        return m.job_work[j, t] <= js.step_h * (a * m.job_frac[j, t] + b * m.job_on[j, t])

    m.ref_seg = pyo.Constraint(idx, rule=seg_rule)


def _tight(p):
    """The day with every job's work at 90 % of its window: most steps near full power."""
    jobs = tuple(replace(j, work_h=0.9 * (j.deadline_step - j.release_step)) for j in p.jobs)
    return replace(p, jobs=jobs)


@pytest.mark.parametrize("seed,tight", [(0, False), (1, False), (2, False), (0, True), (1, True)])
def test_the_pieces_have_the_optimum_and_relaxation_of_the_segment_rows(seed, tight, monkeypatch):
    # random days with f_min 0.6 or 0.7, a battery, a ramp and a demand charge (tight: the
    # upper pieces are needed): the same MILP optimum and the same LP relaxation as the
    # segment rows (a different LP vertex is allowed)
    problem = _tight(random_day(seed)) if tight else random_day(seed)

    def optimum_and_relaxation():
        cm = compile_model(build_model(problem))
        h = make_highs(cm, SolverOptions(mip_rel_gap=0.0, threads=1))
        h.run()
        milp = h.getInfo().objective_function_value
        set_integrality(h, cm.integer_columns(), False)
        h.run()
        return milp, h.getInfo().objective_function_value

    pieces = optimum_and_relaxation()
    monkeypatch.setattr(jobs_module, "_define_power_fraction", _segment_rows)
    segments = optimum_and_relaxation()
    assert pieces == pytest.approx(segments, rel=1e-7)
