"""The probing bound (optimize.probing): never above the optimum, a proof only below it."""

from __future__ import annotations

import functools

import pytest

from optimize.highs import compile_model
from optimize.model import build_model
from optimize.price_fix import job_columns
from optimize.probing import probe_bound
from optimize.problem import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import random_day

EXACT = SolverOptions(mip_rel_gap=1e-6, price_fix_start=False, node_limit=None)


def _probe(p, target_usd: float, max_probes: int = 200):
    m = build_model(p)
    cm = compile_model(m)
    jobs = job_columns(m, cm)
    return probe_bound(
        cm, SolverOptions(), jobs, target_usd, max_probes=max_probes, stall_probes=200
    )


@functools.cache  # both tests draw the same cases: solve each exactly once
def _case(seed: int):
    p = random_day(seed)
    exact = solve(p, EXACT)
    assert exact.status == "optimal"
    lp = solve(p, SolverOptions(mip_rel_gap=1.0, method="price-fix"))  # its bound: the LP's
    return p, exact.objective_usd, lp.bound_usd


@pytest.mark.parametrize("seed", range(6))
def test_the_probe_proves_only_targets_at_or_below_the_optimum(seed):
    p, opt_usd, lp_usd = _case(seed)
    tol = 1e-6 * abs(opt_usd) + 1e-6
    span = max(opt_usd - lp_usd, 1.0)
    for share in (0.1, 0.3, 0.6, 0.98, 1.02, 1.5):  # from near the LP to above the optimum
        target = lp_usd + share * span
        r = _probe(p, target)
        assert r.bound_usd <= opt_usd + tol, (share, r)
        assert r.bound_usd >= min(target, lp_usd) - tol  # never below the plain LP's
        if target > opt_usd + tol:
            assert not r.proven, (share, r)
        if r.proven:
            assert r.bound_usd == target


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
