"""The start's proof split on a demand-charge peak (optimize.peak_split): each half's bound
and the model's bound never exceed the optimum, the schedule after the split is feasible
and no dearer than the start, the answer is within the gap of the optimum, and the halves
give the same result side by side as one after the other.

Cases: ``random_day`` with a steep demand charge (3,000 USD/MW), where the peak is most of
the LP relaxation's gap."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from optimize import peak_split as split
from optimize import solving
from optimize.highs import compile_model, gap_basis_usd, make_highs, relative_gap, run_highs
from optimize.model import build_model
from optimize.price_fix import price_fix, start_gap
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import assert_satisfies_every_row, random_day

SEEDS = range(8)
TOL_USD = 1e-6


@functools.cache
def _case(seed: int, demand: float = 3000.0):
    m = build_model(random_day(seed, demand=demand))
    cm = compile_model(m)
    h = make_highs(cm, SolverOptions(threads=2))
    return m, cm, h, price_fix(h, cm, m)


@functools.cache
def _optimum_usd(seed: int, col: int | None = None, lo: float = 0.0, hi: float = np.inf):
    """The optimum of case ``seed`` (with column ``col`` in ``[lo, hi]``), HiGHS to gap 0."""
    m, cm, _, _ = _case(seed)
    h = make_highs(cm, SolverOptions(mip_rel_gap=0.0, node_limit=None))
    if col is not None:
        h.changeColBounds(col, max(lo, float(cm.col_lower[col])), hi)
    res = run_highs(h, True, cm)
    return res.objective if res.has_solution else np.inf


def _options(rel_gap: float) -> SolverOptions:
    return SolverOptions(threads=2, mip_rel_gap=rel_gap)


@pytest.mark.parametrize("rel_gap", [1e-2, 1e-3])
def test_the_bound_after_the_split_is_below_the_optimum_and_the_schedule_feasible(rel_gap):
    split_cases = 0
    for seed in SEEDS:
        m, cm, h, pf = _case(seed)
        if split.split_point(m, cm, pf) is None:
            continue
        split_cases += 1
        after = split.peak_split(h, cm, m, _options(rel_gap), pf)
        optimum = _optimum_usd(seed)
        assert after.bound_usd <= optimum + TOL_USD
        assert after.bound_usd >= pf.bound_usd
        assert after.objective_usd <= pf.objective_usd
        assert_satisfies_every_row(cm, after.values)
        assert float(cm.col_cost @ after.values + cm.offset) == pytest.approx(after.objective_usd)
        basis = gap_basis_usd(cm, after.values, after.objective_usd)
        if relative_gap(after.objective_usd, after.bound_usd, basis) <= rel_gap:  # proven
            assert after.objective_usd <= optimum + rel_gap * basis + TOL_USD
    assert split_cases >= len(SEEDS) // 2  # the LP's peak lies below the start's on most


def test_each_half_bounds_every_schedule_in_it():
    for seed in SEEDS[:4]:
        m, cm, h, pf = _case(seed)
        point = split.split_point(m, cm, pf)
        if point is None:
            continue
        col, theta = point
        start = split.Incumbent(pf.objective_usd, pf.objective_usd, np.asarray(pf.values))
        target = pf.objective_usd - 0.01 * pf.objective_usd
        for lo, hi, given in ((0.0, theta, None), (theta, np.inf, start)):
            half = split._half_highs(h, cm, col, (lo, hi), None)
            got = split._run_half(half, cm, target, given, 1e-2, f"≥ {lo:g}")
            assert got.bound_usd <= target
            assert got.bound_usd <= _optimum_usd(seed, col, lo, hi) + TOL_USD


def test_the_halves_side_by_side_give_what_they_give_one_after_the_other():
    m, cm, h, pf = next(c for c in map(_case, SEEDS) if split.split_point(*c[0:2], c[3]))
    point = split.split_point(m, cm, pf)
    start = split.Incumbent(pf.objective_usd, pf.objective_usd, np.asarray(pf.values))
    target = pf.objective_usd * (1 - 1e-3)
    runs = (h, cm, point, target, start, 1e-3, None, True)  # the half above searching
    apart = split._run_both(split._halves(*runs), side_by_side=False)
    beside = split._run_both(split._halves(*runs), side_by_side=True)
    for a, b in zip(apart, beside, strict=True):
        assert a.bound_usd == b.bound_usd
        assert (a.incumbent is None) == (b.incumbent is None)
        if a.incumbent is not None:
            assert np.array_equal(a.incumbent.values, b.incumbent.values)


def test_no_split_without_a_demand_charge_or_where_the_peak_did_not_rise():
    m, cm, _, pf = _case(0, demand=0.0)
    assert split.split_point(m, cm, pf) is None
    m, cm, _, pf = _case(0)
    flat = dataclasses.replace(pf, lp_values=np.asarray(pf.values))
    assert split.split_point(m, cm, flat) is None


def test_no_split_where_the_peak_explains_too_little_of_the_gap():
    m, cm, _, pf = next(c for c in map(_case, SEEDS) if split.split_point(*c[0:2], c[3]))
    col, _ = split.split_point(m, cm, pf)
    worth_usd = (pf.values[col] - pf.lp_values[col]) * cm.col_cost[col]
    # the start's gap widened (a lower bound) until the rise is just under the least share
    gap_usd = worth_usd / split.SPLIT_MIN_SHARE
    wide = dataclasses.replace(pf, bound_usd=pf.objective_usd - 1.01 * gap_usd)
    assert split.split_point(m, cm, wide) is None
    narrow = dataclasses.replace(pf, bound_usd=pf.objective_usd - 0.99 * gap_usd)
    assert split.split_point(m, cm, narrow) is not None


def test_only_the_half_above_keeps_highs_root_heuristics():
    m, cm, h, pf = _case(0)
    col = int(split.peak_columns(m, cm)[0])
    below = split._half_highs(h, cm, col, (0.0, 1.0), None)
    above = split._half_highs(h, cm, col, (1.0, np.inf), None, searches=True)
    for name, off in split.HALF_HEURISTICS_OFF:
        assert below.getOptionValue(name)[1] == off
        assert above.getOptionValue(name)[1] == h.getOptionValue(name)[1]
    assert h.getOptionValue("mip_heuristic_effort")[1] > 0.0  # so "on" differs from "off"


def test_the_half_above_searches_only_where_the_start_is_far_above_its_bound():
    m, cm, _, pf = _case(0)
    basis = gap_basis_usd(cm, pf.values, pf.objective_usd)
    line = split.ABOVE_SEARCH_GAPS * 1e-2 * basis  # USD above the bound, at a 1 % gap
    far = dataclasses.replace(pf, bound_usd=pf.objective_usd - 1.01 * line)
    near = dataclasses.replace(pf, bound_usd=pf.objective_usd - 0.99 * line)
    assert split._above_searches(start_gap(cm, far)[1], 1e-2)
    assert not split._above_searches(start_gap(cm, near)[1], 1e-2)


@pytest.mark.parametrize("searches", [True, False])
def test_the_split_runs_the_half_above_as_the_gate_says(searches, monkeypatch):
    m, cm, h, pf = next(c for c in map(_case, SEEDS) if split.split_point(*c[0:2], c[3]))
    asked = []
    real = split._half_highs

    def spy(h, cm, col, bounds, limit_s, searches=False):
        asked.append((bounds[1] == np.inf, searches))
        return real(h, cm, col, bounds, limit_s, searches=searches)

    monkeypatch.setattr(split, "_above_searches", lambda *a: searches)
    monkeypatch.setattr(split, "_half_highs", spy)
    split.peak_split(h, cm, m, _options(1e-2), pf)
    assert sorted(asked) == [(False, False), (True, searches)]


def test_the_split_point_lies_between_the_lp_peak_and_the_start_peak():
    for seed in SEEDS:
        m, cm, _, pf = _case(seed)
        point = split.split_point(m, cm, pf)
        if point is not None:
            col, theta = point
            assert pf.lp_values[col] < theta < pf.values[col]


@pytest.mark.parametrize("seed", [1, 5])
def test_solves_with_and_without_the_split_agree_within_the_gap(seed, monkeypatch):
    problem = random_day(seed, demand=3000.0)
    optimum = _optimum_usd(seed)
    splits = []
    monkeypatch.setattr(solving, "peak_split", lambda *a: splits.append(1) or split.peak_split(*a))
    for on in (True, False):
        d = solve(problem, dataclasses.replace(_options(1e-2), peak_split=on))
        assert len(splits) == 1  # these starts reach the split, and only when it is on
        assert d.status == "optimal"
        assert d.objective_usd <= optimum + 1e-2 * d.gap_basis_usd + TOL_USD
        assert d.bound_usd <= optimum + TOL_USD
