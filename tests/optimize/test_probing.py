"""The probing bound (optimize.probing): never above the optimum, a proof only below it,
at the root alone and as a search over nodes."""

from __future__ import annotations

import functools
import threading

import pytest

from optimize import restart_chain, solving
from optimize.fixer import job_columns
from optimize.highs import compile_model
from optimize.model import build_model
from optimize.probing import _Relaxation, prepared_probe, probe_bound
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import random_day

EXACT = SolverOptions(mip_rel_gap=1e-6, price_fix_start=False, node_limit=None)


def _probe(p, target_usd: float, max_nodes: int = 1, max_probes: int = 200):
    m = build_model(p)
    cm = compile_model(m)
    jobs = job_columns(m, cm)
    return probe_bound(
        cm, SolverOptions(), jobs, target_usd, max_probes=max_probes, max_nodes=max_nodes
    )


@functools.cache  # both tests draw the same cases: solve each exactly once
def _case(seed: int):
    p = random_day(seed)
    exact = solve(p, EXACT)
    assert exact.status == "optimal"
    lp = solve(p, SolverOptions(mip_rel_gap=1.0, method="price-fix"))  # its bound: the LP's
    return p, exact.objective_usd, lp.bound_usd


@pytest.mark.parametrize("max_nodes", [1, 60])
@pytest.mark.parametrize("seed", range(6))
def test_the_probe_proves_only_targets_at_or_below_the_optimum(seed, max_nodes):
    p, opt_usd, lp_usd = _case(seed)
    tol = 1e-6 * abs(opt_usd) + 1e-6
    span = max(opt_usd - lp_usd, 1.0)
    for share in (0.1, 0.3, 0.6, 0.98, 1.02, 1.5):  # from near the LP to above the optimum
        target = lp_usd + share * span
        r = _probe(p, target, max_nodes)
        assert r.bound_usd <= opt_usd + tol, (share, r)
        assert r.bound_usd >= min(target, lp_usd) - tol  # never below the plain LP's
        if target > opt_usd + tol:
            assert not r.proven, (share, r)
        if r.proven:
            assert r.bound_usd == target
        if r.values is not None:  # a schedule below the target: a real one
            assert opt_usd - tol <= r.objective_usd < target, (share, r)
            assert r.bound_usd <= r.objective_usd


def test_the_probe_proves_what_the_lp_does_not():
    # a target 30 % of the way from the LP (1.5-6.3 % below the optimum here) to the
    # optimum is proven on most cases, with fixings on the way: the proofs above are real
    proofs = []
    for seed in range(6):
        p, opt_usd, lp_usd = _case(seed)
        assert opt_usd - lp_usd > 1e-2 * abs(opt_usd)
        r = _probe(p, lp_usd + 0.3 * (opt_usd - lp_usd))
        proofs.append(r.proven and r.fixings > 0)
    assert sum(proofs) >= 4, proofs


def test_the_search_over_nodes_proves_what_the_root_does_not():
    # a target 95 % of the way from the LP to the optimum: the root's disjunctions alone
    # prove it on at most a few cases, the search over nodes on most, and only by branching
    root, tree = [], []
    for seed in range(6):
        p, opt_usd, lp_usd = _case(seed)
        target = lp_usd + 0.95 * (opt_usd - lp_usd)
        root.append(_probe(p, target).proven)
        r = _probe(p, target, max_nodes=200, max_probes=2000)
        tree.append(r.proven and r.nodes > 1)
    assert sum(tree) >= 4 and sum(tree) > sum(root), (root, tree)


def test_a_schedule_below_the_target_is_returned_with_its_cost():
    # a target well above the optimum: the search reaches a node whose LP solution is a
    # schedule (all integer columns integral); it is returned, cheaper than the target
    found = []
    for seed in range(6):
        p, opt_usd, lp_usd = _case(seed)
        r = _probe(p, opt_usd + 0.5 * (opt_usd - lp_usd), max_nodes=200, max_probes=2000)
        if r.values is not None:
            found.append(r.objective_usd)
            assert not r.proven and r.bound_usd <= r.objective_usd
    assert found, "no schedule found on any case"


@pytest.mark.parametrize("seed", range(4))
def test_solves_through_the_search_report_bounds_at_or_below_the_optimum(seed):
    # steep demand charges (the gap the search closes): the default path at 1 % and
    # 0.1 %, where the search over nodes runs after the restart, against the exact MILP
    p = random_day(seed, demand=3000.0)
    opt = solve(p, EXACT).objective_usd
    tol = 1e-6 * abs(opt) + 1e-6
    for gap in (1e-2, 1e-3):
        d = solve(p, SolverOptions(mip_rel_gap=gap))
        assert d.status == "optimal"
        assert d.bound_usd <= opt + tol and d.objective_usd >= opt - tol
        assert d.objective_usd - opt <= gap * d.gap_basis_usd + tol


@pytest.mark.parametrize("seed", [32, 35])
def test_the_first_probes_nodes_prove_a_start_before_the_restart(seed, monkeypatch):
    # random days (1,000 USD/MW, 1 %) whose start the root's probe alone leaves unproven,
    # so that the peak-capped restart runs: the first probe's few nodes past the root
    # (FIRST_PROBE_NODES) prove the same start, and no restart runs; the bound is at or
    # below the exact optimum
    p = random_day(seed, demand=1000.0)
    opt = solve(p, EXACT).objective_usd
    restarts, probes = [], []
    restart, probe = restart_chain.capped_restart, solving.probe_start
    monkeypatch.setattr(
        restart_chain, "capped_restart", lambda *a, **k: restarts.append(1) or restart(*a, **k)
    )

    def recorded(*args, **kwargs):
        out = probe(*args, **kwargs)
        probes.append(out[1])
        return out

    monkeypatch.setattr(solving, "probe_start", recorded)
    first, answers = solving.FIRST_PROBE_NODES, {}
    assert first > 1
    for nodes in (1, first):
        monkeypatch.setattr(solving, "FIRST_PROBE_NODES", nodes)
        restarts.clear()
        probes.clear()
        d = solve(p, SolverOptions(mip_rel_gap=1e-2))
        assert d.status == "optimal" and d.bound_usd <= opt + 1e-6 * abs(opt)
        assert len(probes) == 1 and probes[0].proven == (nodes > 1)
        assert bool(restarts) == (nodes == 1)
        answers[nodes] = d.objective_usd
    assert probes[0].nodes > 1  # the proof took nodes past the root
    assert answers[1] == pytest.approx(answers[first], rel=1e-9)


def _outcome(r) -> tuple:
    """What a probe ends with: proof, bound, counts and the schedule's cost."""
    return (r.proven, r.bound_usd, r.probes, r.fixings, r.nodes, r.objective_usd)


def test_a_resumed_search_from_the_roots_probe():
    # the root's probe (one node), resumed with 200 nodes, ends where a search from the
    # root with 200 nodes does: the same counts, bound, proof and schedule, less the
    # root's time; a higher target starts from the root again, a lower one goes on
    resumed = 0
    lower_proven = 0
    for seed in range(6):
        p, opt_usd, lp_usd = _case(seed)
        m = build_model(p)
        cm = compile_model(m)
        jobs = job_columns(m, cm)
        target = lp_usd + 0.95 * (opt_usd - lp_usd)
        budget = {"max_probes": 2000}
        root = probe_bound(cm, SolverOptions(), jobs, target, max_nodes=1, **budget)
        fresh = probe_bound(cm, SolverOptions(), jobs, target, max_nodes=200, **budget)
        if root.search is None:  # proven (or a schedule found) at the root: nothing to resume
            assert root.proven or root.values is not None
            continue
        resumed += 1
        on = probe_bound(cm, SolverOptions(), jobs, target, max_nodes=200, resume=root, **budget)
        assert _outcome(on) == _outcome(fresh), seed
        assert on.nodes > root.nodes
        # a higher target (a dearer start): the search starts from the root again
        higher = target + 0.5 * (opt_usd - target)
        root = probe_bound(cm, SolverOptions(), jobs, target, max_nodes=1, **budget)
        new = probe_bound(cm, SolverOptions(), jobs, higher, max_nodes=200, resume=root, **budget)
        ref = probe_bound(cm, SolverOptions(), jobs, higher, max_nodes=200, **budget)
        assert _outcome(new) == _outcome(ref), seed
        # a lower target (a cheaper start): the search goes on from the root's probe (its
        # counts include the root's), and its bound holds as a search's from the root does
        lower = target - 0.5 * (target - lp_usd)
        root = probe_bound(cm, SolverOptions(), jobs, target, max_nodes=1, **budget)
        on = probe_bound(cm, SolverOptions(), jobs, lower, max_nodes=200, resume=root, **budget)
        tol = 1e-6 * abs(opt_usd) + 1e-6
        assert on.probes > root.probes and on.nodes > root.nodes, seed
        assert lp_usd - tol <= on.bound_usd <= min(lower, opt_usd) + tol, seed
        lower_proven += on.proven
        # both targets above the optimum: the search resumed under the lower one proves
        # nothing false (the optimum is cheaper than it), and its bound stays below the optimum
        span = max(opt_usd - lp_usd, 1.0)
        root = probe_bound(cm, SolverOptions(), jobs, opt_usd + 0.3 * span, max_nodes=1, **budget)
        above = opt_usd + 0.1 * span
        on = probe_bound(cm, SolverOptions(), jobs, above, max_nodes=200, resume=root, **budget)
        assert not on.proven and on.bound_usd <= opt_usd + tol, seed
        if on.values is not None:  # a schedule it found: cheaper than the target, not the optimum
            assert opt_usd - tol <= on.objective_usd < above, seed
    assert resumed >= 3
    assert lower_proven >= 3


def test_a_cancelled_search_stops_at_its_next_disjunction(monkeypatch):
    """``cancel`` (a caller giving up, e.g. a Ctrl-C beside the probe) stops the search
    where it is: set before it starts, no disjunction is tried; set from a side's LP
    on, at most the one under way ends. The search without it runs on."""
    p, opt_usd, lp_usd = _case(0)
    m = build_model(p)
    cm = compile_model(m)
    jobs = job_columns(m, cm)
    target = lp_usd + 0.95 * (opt_usd - lp_usd)
    budget = (2000, 200)
    cancel = threading.Event()
    cancel.set()
    assert prepared_probe(cm, SolverOptions(), jobs, target, budget, cancel=cancel)().probes == 0
    full = prepared_probe(cm, SolverOptions(), jobs, target, budget)()
    assert full.probes > 3
    cancel = threading.Event()
    search = prepared_probe(cm, SolverOptions(), jobs, target, budget, cancel=cancel)
    side = _Relaxation.side
    sides = []

    def counted(self, col, value):  # cancel after the third disjunction's "on" side
        sides.append(value)
        if sides.count(1.0) == 3:
            cancel.set()
        return side(self, col, value)

    monkeypatch.setattr(_Relaxation, "side", counted)
    r = search()
    assert r.probes == 3 and not r.proven
