"""The first restart's schedule searched in rounds before its plain edge search
(optimize/restart_chain.py, ``_proven_rounds``): kept only where the rounds end proven; where
they do not, the solve goes on as it would have without them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimize import restart_chain
from optimize.highs import make_highs
from optimize.solving import solve
from tests.optimize.small_problems import assert_same_dispatch
from tests.optimize.test_restart_ahead import OPTS, _case, _steep


def test_rounds_that_end_proven_are_kept_with_the_bound_that_proved_them():
    m, cm, pf, gap = _case()
    assert gap > OPTS.mip_rel_gap  # the rounds run
    # a probe that proves each incumbent cheaper than the start (as the solve's probe asks
    # only of those) at its own cost: the first cheaper one ends the rounds

    def prove(usd: float, basis_usd: float) -> float | None:
        return usd if usd < pf.objective_usd - 1e-6 else None

    h = make_highs(cm, OPTS)
    kept, rs = restart_chain._proven_rounds(h, cm, m, OPTS, pf, prove)
    assert kept is not None and kept.objective_usd < pf.objective_usd
    assert kept.bound_usd == pytest.approx(kept.objective_usd)
    assert rs is pf


def test_rounds_left_unproven_give_back_the_schedule_with_their_time_added():
    m, cm, pf, _ = _case()
    h = make_highs(cm, OPTS)
    kept, rs = restart_chain._proven_rounds(h, cm, m, OPTS, pf, lambda usd, basis: None)
    assert kept is None
    assert rs.values is pf.values and rs.objective_usd == pf.objective_usd
    assert rs.bound_usd == pf.bound_usd and rs.seconds > pf.seconds


def test_a_solve_whose_rounds_prove_nothing_is_the_solve_without_them(monkeypatch):
    # the steep day at 1e-4 meets the first restart; its rounds end unproven
    outcomes = []
    real = restart_chain._proven_rounds

    def spy(*args):
        kept, rs = real(*args)
        outcomes.append(kept)
        return kept, rs

    searched = []
    rounds = restart_chain.recentred_edge_search

    def counted(*args, **kwargs):
        searched.append(1)
        return rounds(*args, **kwargs)

    monkeypatch.setattr(restart_chain, "_proven_rounds", spy)
    monkeypatch.setattr(restart_chain, "recentred_edge_search", counted)
    options = replace(OPTS, method="milp")
    with_rounds = solve(_steep(), options)
    assert outcomes == [None] and searched == [1]
    monkeypatch.setattr(restart_chain, "_proven_rounds", lambda *args: (None, args[4]))
    without = solve(_steep(), options)
    assert_same_dispatch(with_rounds, without)
