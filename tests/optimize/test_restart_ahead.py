"""The peak-capped restart run ahead on a second thread (optimize/restart_ahead.py): started
only where it may be needed, the answer of the restart on a Highs of its own, stopped
at its next step when closed, and a two-thread solve that meets it is the same twice."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from optimize import price_fix as price_fix_module
from optimize import restart_ahead as restart_ahead_module
from optimize import restart_chain
from optimize.highs import (
    compile_model,
    gap_basis_usd,
    make_highs,
    new_highs,
    relative_gap,
    second_highs,
)
from optimize.model import build_model
from optimize.pair_moves import pair_moves
from optimize.peak_cap import capped_restart, midway_caps, peak_columns
from optimize.price_fix import price_fix
from optimize.restart_ahead import RestartAhead, restart_ahead
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import random_day
from tests.optimize.test_carried_state import assert_highs_holds

OPTS = SolverOptions(threads=1, mip_rel_gap=1e-4)
TWO = replace(OPTS, threads=2)


@pytest.fixture(autouse=True)
def _pool_of_one_after():
    """Leave HiGHS's process-wide pool at one thread, as the other tests expect it."""
    yield
    new_highs(threads=1)


def _steep():
    # a steep demand charge (3,000 USD/MW): the peak is most of price-fix's gap, which
    # the restart then closes in part (seed 3: fast, and the restart is met at 1e-4)
    return random_day(3, demand=3000.0)


@functools.cache  # built and price-fixed once for all tests (none changes the model)
def _case():
    m = build_model(_steep())
    cm = compile_model(m)
    pf = price_fix(make_highs(cm, OPTS), cm, m)
    gap = relative_gap(
        pf.objective_usd, pf.bound_usd, gap_basis_usd(cm, pf.values, pf.objective_usd)
    )
    return m, cm, pf, gap


@functools.cache
def _quick_case():
    # seed 1: the quick placement is the cheaper under the LP's peaks (31,841 against
    # 32,833 USD), so an answer without it would show
    m = build_model(random_day(1, demand=3000.0))
    cm = compile_model(m)
    return m, cm, price_fix(make_highs(cm, OPTS), cm, m)


def _restart_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "restart-ahead"]


def test_the_restart_runs_ahead_only_where_it_may_be_needed():
    m, cm, pf, gap = _case()
    assert gap > 0
    unproven = replace(TWO, mip_rel_gap=gap / 2)
    h = make_highs(cm, unproven)
    ahead = restart_ahead(h, cm, m, unproven, pf, gap, None)
    assert isinstance(ahead, RestartAhead)
    ahead.close()
    # one thread; a start proven within the gap; the restart off; no LP values to cap at
    assert restart_ahead(h, cm, m, replace(unproven, threads=1), pf, gap, None) is None
    assert restart_ahead(h, cm, m, replace(unproven, mip_rel_gap=gap), pf, gap, None) is None
    off = replace(unproven, peak_cap_restart=False)
    assert restart_ahead(h, cm, m, off, pf, gap, None) is None
    assert restart_ahead(h, cm, m, unproven, replace(pf, lp_values=None), gap, None) is None
    assert not _restart_threads()


def test_the_restart_ahead_is_the_restart_on_a_fresh_highs():
    m, cm, pf, _ = _case()
    # the LP's values (here every job is left to the final MILP: none fits under its
    # peak), and the peak 1 % above them (one job is: the caps shape the schedule)
    raised = pf.lp_values.copy()
    raised[peak_columns(m, cm)] *= 1.01
    answers = []
    for lp_values in (pf.lp_values, raised):
        ref = capped_restart(make_highs(cm, OPTS), cm, m, lp_values, lp_basis=pf.lp_basis)
        assert ref.values is not None
        ahead = RestartAhead(make_highs(cm, OPTS), cm, m, lp_values, None, pf.lp_basis)
        got = ahead.result()
        assert np.array_equal(got.values, ref.values)
        assert got.objective_usd == ref.objective_usd
        assert got.bound_usd is None
        answers.append(got.objective_usd)
    # three schedules: the caps matter, and neither is price-fix's own
    assert len({*answers, pf.objective_usd}) == 3


def test_the_restart_ahead_stops_where_the_restart_on_a_fresh_highs_stops():
    # `enough` at any incumbent within 100 %: the final MILP's first incumbent, on both
    m, cm, pf, _ = _case()
    enough = (np.inf, 1.0)
    ref = capped_restart(make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=pf.lp_basis)
    first = capped_restart(
        make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=pf.lp_basis, enough=enough
    )
    ahead = RestartAhead(make_highs(cm, OPTS), cm, m, pf.lp_values, None, pf.lp_basis, enough)
    got = ahead.result()
    assert np.array_equal(got.values, first.values)
    assert got.objective_usd == first.objective_usd
    assert first.objective_usd > ref.objective_usd  # it stopped short of the root's best
    ahead.close()


def test_the_midway_restart_ahead_runs_after_the_first_on_the_same_highs():
    m, cm, pf, _ = _case()
    caps = midway_caps(m, cm, pf.lp_values, pf.values)
    ref = capped_restart(make_highs(cm, OPTS), cm, m, caps, lp_basis=pf.lp_basis)
    first = capped_restart(make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=pf.lp_basis)
    ahead = RestartAhead(make_highs(cm, OPTS), cm, m, pf.lp_values, None, pf.lp_basis)
    ahead.start_midway(caps)
    got = ahead.midway_result()
    assert ref.values is not None and np.array_equal(got.values, ref.values)
    assert got.objective_usd == ref.objective_usd
    assert np.array_equal(ahead.result().values, first.values)
    assert ref.objective_usd != first.objective_usd  # other caps, another schedule
    ahead.close()
    assert not _restart_threads()


def test_the_restart_ahead_with_the_quick_placement_is_the_restart_on_a_used_highs():
    # both placements run on one Highs, the second after the first's MILP: the same on a
    # second thread's fresh Highs as on the caller's used one
    m, cm, pf, _ = _case()
    used = make_highs(cm, OPTS)
    price_fix(used, cm, m)
    on_used = capped_restart(used, cm, m, pf.lp_values, lp_basis=pf.lp_basis, quick_too=True)
    ahead = RestartAhead(
        make_highs(cm, OPTS), cm, m, pf.lp_values, None, pf.lp_basis, quick_too=True
    )
    got = ahead.result()
    assert on_used.values is not None
    assert np.array_equal(got.values, on_used.values)
    assert got.objective_usd == on_used.objective_usd
    ahead.close()


def _held_runs(monkeypatch, own):
    """``capped_run`` spied: which ``Highs`` ran each placement (``own`` or another), the
    plain runs on ``own`` held until a quick run elsewhere has ended (5 s at most)."""
    real = restart_ahead_module.capped_run
    ran, quick_done = [], threading.Event()

    def held(h, cm, m, cap_values, place_unfitted, **kwargs):
        if h is own and not place_unfitted:
            quick_done.wait(5.0)
        out = real(h, cm, m, cap_values, place_unfitted, **kwargs)
        ran.append(("own" if h is own else "spare", place_unfitted))
        if h is not own and place_unfitted:
            quick_done.set()
        return out

    monkeypatch.setattr(restart_ahead_module, "capped_run", held)
    return ran


def test_the_caller_helps_with_the_quick_placement_and_gets_the_same_restart(monkeypatch):
    # the caller, waiting for the first restart, runs its quick placement on the spare
    # Highs while the second thread still runs the plain one: the answer is the restart's
    m, cm, pf = _quick_case()
    basis = pf.lp_basis
    ref = capped_restart(make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=basis, quick_too=True)
    plain = capped_restart(make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=basis)
    own = make_highs(cm, OPTS)
    ran = _held_runs(monkeypatch, own)
    spare = make_highs(cm, OPTS)
    ahead = RestartAhead(own, cm, m, pf.lp_values, None, basis, quick_too=True, spare=spare)
    got = ahead.result()
    ahead.close()
    assert ran == [("spare", True), ("own", False)]
    assert np.array_equal(got.values, ref.values)
    assert got.objective_usd == ref.objective_usd
    assert ref.objective_usd < plain.objective_usd  # the quick placement's is the cheaper


def test_the_caller_runs_the_midway_restart_the_second_thread_has_not_begun(monkeypatch):
    # the second thread is still on the first restart's plain run (held): the caller,
    # asking for the second restart, runs both its placements on the spare Highs
    m, cm, pf = _quick_case()
    basis = pf.lp_basis
    caps = midway_caps(m, cm, pf.lp_values, pf.values)
    ref = capped_restart(make_highs(cm, OPTS), cm, m, caps, lp_basis=basis, quick_too=True)
    first = capped_restart(
        make_highs(cm, OPTS), cm, m, pf.lp_values, lp_basis=basis, quick_too=True
    )
    own = make_highs(cm, OPTS)
    ran = _held_runs(monkeypatch, own)
    spare = make_highs(cm, OPTS)
    ahead = RestartAhead(own, cm, m, pf.lp_values, None, basis, quick_too=True, spare=spare)
    ahead.start_midway(caps)
    mid = ahead.midway_result()
    assert ran[:2] == [("spare", False), ("spare", True)]
    assert np.array_equal(mid.values, ref.values) and mid.objective_usd == ref.objective_usd
    got = ahead.result()  # the first's quick placement: the caller's or the second thread's
    assert np.array_equal(got.values, first.values) and got.objective_usd == first.objective_usd
    ahead.close()
    # each of the four runs once: the first's plain one on the second thread
    assert len(ran) == 4 and ("own", False) in ran[2:]
    assert sorted(quick for _, quick in ran[2:]) == [False, True]


def test_an_error_in_a_run_is_raised_where_the_answer_is_asked(monkeypatch):
    m, cm, pf, _ = _case()

    def broken(*args, **kwargs):
        raise RuntimeError("a run failed")

    monkeypatch.setattr(restart_ahead_module, "capped_run", broken)
    ahead = RestartAhead(
        make_highs(cm, OPTS), cm, m, pf.lp_values, None, quick_too=True, spare=make_highs(cm, OPTS)
    )
    with pytest.raises(RuntimeError, match="a run failed"):
        ahead.result()
    ahead.close()
    assert not _restart_threads()


def test_one_thread_and_two_run_the_same_restarts(monkeypatch):
    # whether the restarts also place quickly is read off price-fix's start on either
    # thread (by then the caller holds the edge-searched one)
    one, two = [], []
    real_restart, real_run = restart_chain.capped_restart, restart_ahead_module.capped_run

    def restart_spy(h, cm, m, cap_values, **kwargs):
        one.append(kwargs.get("quick_too"))
        return real_restart(h, cm, m, cap_values, **kwargs)

    def run_spy(h, cm, m, cap_values, place_unfitted, **kwargs):
        two.append(place_unfitted)
        return real_run(h, cm, m, cap_values, place_unfitted, **kwargs)

    monkeypatch.setattr(restart_chain, "capped_restart", restart_spy)
    monkeypatch.setattr(restart_ahead_module, "capped_run", run_spy)
    solve(_steep(), OPTS)
    solve(_steep(), TWO)
    assert set(one) == {True}
    assert set(two) == {False, True}  # both placements, on one of the two threads each


def test_the_restart_from_the_lps_basis_is_the_same_on_a_used_highs():
    # one thread runs the restart on the caller's Highs after the edge search, two on a
    # fresh one: from the LP's basis both start at the same point
    m, cm, pf, _ = _case()
    raised = pf.lp_values.copy()
    raised[peak_columns(m, cm)] *= 1.01
    used = make_highs(cm, OPTS)
    used.setOptionValue("mip_max_nodes", 20)
    used.run()  # a MILP leaves its last basis behind
    used.setOptionValue("mip_max_nodes", OPTS.node_limit)
    on_used = capped_restart(used, cm, m, raised, lp_basis=pf.lp_basis)
    on_fresh = capped_restart(make_highs(cm, OPTS), cm, m, raised, lp_basis=pf.lp_basis)
    assert on_used.values is not None
    assert np.array_equal(on_used.values, on_fresh.values)
    assert on_used.objective_usd == on_fresh.objective_usd


@pytest.mark.parametrize("seed", range(12))
def test_the_restart_is_the_same_after_price_fix_and_the_pair_moves(seed):
    # one thread runs the second restart on the caller's Highs after the pair moves, two
    # on the Highs the first restart ran on: HiGHS's state from those runs must not steer
    # it (seed 11 kept a state that changed the schedule, 32,055 against 33,964 USD, until
    # the restart cleared the solver before it set the LP's basis)
    m = build_model(random_day(seed, demand=3000.0))
    cm = compile_model(m)
    pf = price_fix(make_highs(cm, OPTS), cm, m)
    caps = midway_caps(m, cm, pf.lp_values, pf.values)
    used = make_highs(cm, OPTS)
    price_fix(used, cm, m)
    pair_moves(used, cm, m, pf)
    on_used = capped_restart(used, cm, m, caps, lp_basis=pf.lp_basis)
    on_fresh = capped_restart(make_highs(cm, OPTS), cm, m, caps, lp_basis=pf.lp_basis)
    assert on_fresh.values is not None
    assert np.array_equal(on_used.values, on_fresh.values)
    assert on_used.objective_usd == on_fresh.objective_usd


def test_the_second_highs_holds_the_model_and_the_callers_options():
    _, cm, _, _ = _case()
    h = make_highs(cm, OPTS)
    h.setOptionValue("mip_max_nodes", 7)  # an extra HiGHS option of the caller's
    other = second_highs(h, cm)
    assert other is not h
    assert other.getOptionValue("mip_max_nodes")[1] == 7
    assert_highs_holds(other, cm)


def test_close_stops_the_restart_at_its_next_step(monkeypatch):
    m, cm, pf, _ = _case()
    real = restart_ahead_module.capped_run

    def held(*args, stop, **kwargs):  # the restart waits for close (5 s at most)
        stop.wait(5.0)
        return real(*args, stop=stop, **kwargs)

    monkeypatch.setattr(restart_ahead_module, "capped_run", held)
    ahead = RestartAhead(make_highs(cm, OPTS), cm, m, pf.lp_values, None)
    ahead.start_midway(midway_caps(m, cm, pf.lp_values, pf.values))
    assert len(_restart_threads()) == 2  # the second waits for the first
    t0 = time.perf_counter()
    ahead.close()
    assert time.perf_counter() - t0 < 2.0
    assert not _restart_threads()
    assert ahead.result().values is None  # stopped before its schedule
    assert ahead.midway_result().values is None  # and so was the second


def test_price_fix_stopped_before_it_starts_gives_no_schedule(monkeypatch):
    m, cm, pf, _ = _case()
    assert pf.values is not None  # the same without the stop
    runs = []
    run = price_fix_module.run_for_schedule
    monkeypatch.setattr(price_fix_module, "run_for_schedule", lambda h: runs.append(1) or run(h))
    h = make_highs(cm, OPTS)
    stop = threading.Event()
    stop.set()
    assert price_fix(h, cm, m, stop=stop).values is None
    assert not runs  # no final MILP
    assert_highs_holds(h, cm)  # its bounds and integrality are back


def test_a_two_thread_solve_that_meets_the_restart_is_the_same_twice(monkeypatch):
    met = []
    result = RestartAhead.result

    def counted(self):
        met.append(1)
        return result(self)

    monkeypatch.setattr(RestartAhead, "result", counted)
    options = replace(TWO, method="milp")
    first = solve(_steep(), options)
    assert len(met) == 1  # the restart ran ahead and its answer was waited for
    second = solve(_steep(), options)
    assert len(met) == 2
    assert (first.objective_usd, first.mip_gap, first.bound_usd) == (
        second.objective_usd,
        second.mip_gap,
        second.bound_usd,
    )
    assert first.series.keys() == second.series.keys()
    for key, x in first.series.items():
        assert np.array_equal(x, second.series[key]), key


def test_the_solve_time_counts_the_wait_for_the_restarts_thread(monkeypatch):
    """``solve_s`` is the clock around the solve: the caller's wait for the restarts'
    thread to end (here held 1 s longer) is time the user waits too, though no step of
    the chain counts it. All but the model's build and the answer's extraction of the
    call's wall time is the solve's."""
    close = RestartAhead.close

    def slow_close(self):
        time.sleep(1.0)
        close(self)

    monkeypatch.setattr(RestartAhead, "close", slow_close)
    t0 = time.perf_counter()
    held = solve(_steep(), TWO)
    wall = time.perf_counter() - t0
    assert held.solve_s >= 1.0
    assert held.solve_s > wall - held.build_s - 0.5
