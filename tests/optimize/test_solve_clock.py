"""One time limit for the whole solve (``optimize.solve_clock``).

An outside audit (2026-12-07) gave R1's week 1 s at 0.1 %: 9.4 s of solve, status
"optimal", since the edge search, the probes (bounded by counts only), the restarts and
the MILP each took their own share of the limit or none. Here price-fix is made to spend
the whole limit: no later step may run, and the answer is price-fix's schedule with the
status that names the clock."""

from __future__ import annotations

import time

import pytest

import optimize
import optimize.solving as solving
import optimize.start_steps as start_steps
from optimize import SolverOptions, solve_clock
from optimize.fixer import job_columns
from optimize.highs import compile_model
from optimize.model import build_model
from optimize.probing import probe_bound
from tests.optimize.small_problems import random_day

LIMIT_S = 0.2


def test_a_spent_time_limit_stops_the_chain_with_status_time_limit(monkeypatch):
    problem = random_day(41)
    ran: list[str] = []
    slow_price_fix = solving.price_fix

    def spends_the_limit(*args, **kwargs):
        out = slow_price_fix(*args, **kwargs)
        time.sleep(1.5 * LIMIT_S)
        return out

    def recorded(name, fn):
        def wrapper(*args, **kwargs):
            ran.append(name)
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(solving, "price_fix", spends_the_limit)
    monkeypatch.setattr(solving, "milp_after_start", recorded("milp", solving.milp_after_start))
    monkeypatch.setattr(start_steps, "edge_search", recorded("edges", start_steps.edge_search))
    options = SolverOptions(mip_rel_gap=0.001, time_limit_s=LIMIT_S)
    d = optimize.solve(problem, options)
    assert ran == []  # no step after the one that spent the limit
    assert d.status == "time_limit"
    assert d.mip_gap > options.mip_rel_gap
    assert d.mip_gap == pytest.approx((d.objective_usd - d.bound_usd) / d.gap_basis_usd)


def test_a_probe_does_no_disjunction_once_the_limit_is_spent():
    problem = random_day(41)
    m = build_model(problem)
    cm = compile_model(m)
    options = SolverOptions(mip_rel_gap=0.001)
    jobs = job_columns(m, cm)
    with solve_clock.deadline(1e-9):
        time.sleep(0.01)
        probe = probe_bound(cm, options, jobs, 1e12, max_probes=200, max_nodes=50)
    assert probe.probes == 0 and not probe.proven


def test_the_clock_is_read_only_under_a_limit_and_the_tighter_limit_wins():
    assert solve_clock.left_s() is None and not solve_clock.spent()
    assert solve_clock.capped_s(3.0) == 3.0
    with solve_clock.deadline(100.0):
        with solve_clock.deadline(None):
            assert 99.0 < solve_clock.left_s() <= 100.0  # the enclosing limit holds
        with solve_clock.deadline(1.0):
            assert solve_clock.left_s() <= 1.0
            assert solve_clock.capped_s(None) <= 1.0
            assert solve_clock.capped_s(0.5) == 0.5
    with solve_clock.deadline(1e-9):
        time.sleep(0.01)
        assert solve_clock.spent() and solve_clock.left_s() == 0.0
