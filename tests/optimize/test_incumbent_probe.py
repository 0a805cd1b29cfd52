"""The restart's incumbents probed as they come (``optimize.start_probe.ProbeIncumbents``):
which incumbents are probed, that a proof is never above the optimum, and that the
probes go on from one another."""

from __future__ import annotations

import functools

import pytest

from optimize import start_probe
from optimize.highs import compile_model
from optimize.model import build_model
from optimize.price_fix import PriceFixResult
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from optimize.start_probe import ProbeIncumbents
from tests.optimize.small_problems import random_day

EXACT = SolverOptions(mip_rel_gap=1e-6, price_fix_start=False, node_limit=None)


@functools.cache
def _case(seed: int):
    """A random day: its model, its optimum and its LP bound (USD)."""
    p = random_day(seed)
    opt = solve(p, EXACT).objective_usd
    lp = solve(p, SolverOptions(mip_rel_gap=1.0, method="price-fix")).bound_usd
    m = build_model(p)
    return m, compile_model(m), opt, lp


def _prover(seed: int, rel_gap: float, start_usd: float):
    m, cm, opt, lp = _case(seed)
    start = PriceFixResult(None, start_usd, lp)
    return ProbeIncumbents(cm, m, SolverOptions(mip_rel_gap=rel_gap), start, None), opt, lp


def test_only_incumbents_cheaper_than_the_start_and_near_its_bound_are_probed(monkeypatch):
    targets = []
    real = start_probe.probe_bound

    def recorded(cm, options, jobs, target_usd, **kw):
        targets.append(target_usd)
        return real(cm, options, jobs, target_usd, **kw)

    monkeypatch.setattr(start_probe, "probe_bound", recorded)
    _, _, opt, lp = _case(0)
    rel_gap = 1.05 * (opt - lp) / opt  # the optimum is within the gap of the LP bound
    prove, _, _ = _prover(0, rel_gap, start_usd=opt)
    assert prove(opt, opt) is None and not targets  # not cheaper than the start
    far = lp + 1.2 * rel_gap * 2 * opt  # 1.2 gaps above the bound on its basis
    prove, _, _ = _prover(0, rel_gap, start_usd=2 * far)
    assert prove(far, 2 * opt) is None and not targets  # too far above the bound
    bound = prove(opt, opt)
    assert len(targets) == 1 and targets[0] == pytest.approx(opt - rel_gap * opt)
    assert bound == targets[0]  # the optimum is within the gap: the probe proves it
    assert prove(0.999 * opt, opt) is None and len(targets) == 1  # done after a proof


def test_a_proof_is_never_above_the_optimum(monkeypatch):
    """On six random days, incumbents from 5 % above the optimum down to it, each probed
    (every one counts as near here) against its 2 % target, the first three targets
    above the optimum: no bound returned is above the optimum, each day stops probing at
    its first proof, and some days prove one."""
    monkeypatch.setattr(start_probe, "PROBE_INCUMBENT_GAPS", 1e9)
    proven = 0
    for seed in range(6):
        _, _, opt, _ = _case(seed)
        prove, _, _ = _prover(seed, 0.02, start_usd=1.1 * opt)
        proofs = []
        for share in (1.05, 1.04, 1.03, 1.02, 1.01, 1.0):
            bound = prove(share * opt, share * opt)
            if bound is not None:
                proofs.append((share, bound))
        assert len(proofs) <= 1
        for share, bound in proofs:
            assert bound <= opt * (1 + 1e-9)
            assert share <= 1.02 and bound == pytest.approx(share * opt * 0.98, rel=1e-6)
        proven += len(proofs)
    assert proven >= 1
