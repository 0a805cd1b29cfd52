"""Interconnection headroom LPs (optimize/headroom.py) on hand-checkable cases.

Notation: connection C (MW), campus L (IT MW), limit X (share of training energy, or of
steps with the hours measure), n steps of 1 h, availability a[t] of the connection.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyomo.environ as pyo
import pytest

from optimize import headroom as hr
from optimize.headroom import HeadroomCase, max_campus, min_connection
from optimize.highs import make_highs
from optimize.problem import Battery
from optimize.solver_options import SolverOptions
from tests.optimize.misvaluing_highs import MisvaluingHighs


def flat_case(n=100, pue=1.0, inference=0.0, avail=None, **kw) -> HeadroomCase:
    return HeadroomCase(
        step_h=1.0,
        pue=np.full(n, pue),
        inference_frac=np.full(n, inference),
        connection_avail_frac=np.ones(n) if avail is None else np.asarray(avail, float),
        **kw,
    )


def outage_case(**kw) -> HeadroomCase:
    """100 steps: one outage (a = 0), four derates (a = 0.5), the rest a = 1."""
    avail = np.ones(100)
    avail[10] = 0.0
    avail[[20, 21, 22, 23]] = 0.5
    return flat_case(avail=avail, **kw)


@pytest.mark.parametrize("x", [0.0, 0.0025, 0.01, 0.02, 0.1])
def test_flat_connection_carries_c_over_one_minus_x(x):
    # every step curtails L - C; n (L - C) <= X n L  =>  L = C / (1 - X)
    p = max_campus(flat_case(), 100.0, x)
    assert p.feasible
    assert p.campus_it_mw == pytest.approx(100.0 / (1 - x), rel=1e-7)
    assert p.curtailed_mwh == pytest.approx(x * 100 * p.campus_it_mw, rel=1e-6, abs=1e-6)
    assert p.curtailed_share_training == pytest.approx(x, abs=1e-9)
    assert p.curtailed_hours == (100.0 if x > 0 else 0.0)
    assert p.max_curtailed_mw == pytest.approx(p.campus_it_mw - 100.0, abs=1e-6)
    assert p.connection_mw == 100.0


@pytest.mark.parametrize("x", [0.0, 0.02, 0.5])
def test_flat_with_pue_and_inference(x):
    # demand L pue, training L (1 - s) pue: L <= C / (pue (1 - X (1 - s))) and, as inference
    # is never curtailed, L <= C / (s pue)
    pue, s = 1.25, 0.2
    p = max_campus(flat_case(pue=pue, inference=s), 100.0, x)
    expect = min(100.0 / (s * pue), 100.0 / (pue * (1 - x * (1 - s))))
    assert p.campus_it_mw == pytest.approx(expect, rel=1e-7)
    assert p.training_mwh == pytest.approx(100 * p.campus_it_mw * (1 - s) * pue)
    assert p.facility_mwh == pytest.approx(100 * p.campus_it_mw * pue)
    # the inverse: the connection this campus needs is the 100 MW it was given
    q = min_connection(flat_case(pue=pue, inference=s), p.campus_it_mw, x)
    assert q.connection_mw == pytest.approx(100.0, rel=1e-6)


@pytest.mark.parametrize(
    ("x", "expect"),
    # Σ_t max(0, L - C a[t]) <= X n L, the shortfalls sorted: outage L, derates 4 (L - 50),
    # then 95 (L - 100). X = 1 %: L <= L and 4 (L - 50) <= 0 -> 50; 2 %: L + 4 (L - 50)
    # <= 2 L -> 200 / 3; 3 %: 100 (the derates fit, L > 100 gives 97 L <= 9700); 5 %:
    # 5 L + 95 (L - 100) - 200 ... -> 95 L <= 9700
    [(0.0, 0.0), (0.01, 50.0), (0.02, 200 / 3), (0.03, 100.0), (0.05, 9700 / 95)],
)
def test_outages_and_derates_sorted_curtailment(x, expect):
    p = max_campus(outage_case(), 100.0, x)
    assert p.campus_it_mw == pytest.approx(expect, rel=1e-7, abs=1e-7)
    shortfall = np.maximum(0.0, p.campus_it_mw - 100.0 * outage_case().connection_avail_frac)
    np.testing.assert_allclose(p.curtailed_mw, shortfall, atol=1e-6)


def test_min_connection_is_the_inverse_with_outages():
    case = outage_case()
    # X = 0: an outage step cannot be served by any connection
    q = min_connection(case, 50.0, 0.0)
    assert not q.feasible and np.isnan(q.connection_mw)
    # X = 1 %: the outage takes the whole budget (50 MWh), the derates need 0.5 C >= 50
    q = min_connection(case, 50.0, 0.01)
    assert q.feasible
    assert q.connection_mw == pytest.approx(100.0, rel=1e-7)
    assert q.curtailed_mwh == pytest.approx(50.0, rel=1e-7)
    for x in (0.02, 0.03, 0.05):
        p = max_campus(case, 100.0, x)
        q = min_connection(case, p.campus_it_mw, x)
        assert q.connection_mw == pytest.approx(100.0, rel=1e-6)


def test_pv_adds_headroom_only_where_it_produces():
    pv = np.array([0.0, 60.0, 60.0, 0.0])
    # the connection binds at night: PV at noon adds nothing at X = 0
    no_pv = max_campus(flat_case(n=4), 100.0, 0.0)
    with_pv = max_campus(flat_case(n=4, renewable_mw=pv), 100.0, 0.0)
    assert no_pv.campus_it_mw == pytest.approx(100.0)
    assert with_pv.campus_it_mw == pytest.approx(100.0)
    # the connection is out at noon: PV carries 60 MW there; with X = 25 % (budget L MWh)
    # 2 (L - 60) + 2 (L - 100) <= L  ->  L = 320 / 3
    out_noon = [1.0, 0.0, 0.0, 1.0]
    assert max_campus(flat_case(n=4, avail=out_noon), 100.0, 0.0).campus_it_mw == 0.0
    case = flat_case(n=4, avail=out_noon, renewable_mw=pv)
    assert max_campus(case, 100.0, 0.0).campus_it_mw == pytest.approx(60.0)
    assert max_campus(case, 100.0, 0.25).campus_it_mw == pytest.approx(320 / 3, rel=1e-7)
    assert max_campus(flat_case(n=4, avail=out_noon), 100.0, 0.25).campus_it_mw == 0.0


def two_level_battery(eff: float) -> Battery:
    return Battery(
        power_mw=50.0,
        energy_mwh=100.0,
        charge_efficiency=eff,
        discharge_efficiency=eff,
        soc_min_frac=0.0,
        soc_max_frac=1.0,
        soc_initial_frac=0.5,
        no_simultaneous=True,  # dropped by the headroom LP
    )


@pytest.mark.parametrize(
    ("eff", "expect"),
    # 100, 100, 50, 50 MW: charge 2 (100 - L) eff >= discharge 2 (L - 50) / eff; eff = 1:
    # L = 75 (25 MW for 2 h in, 25 MW for 2 h out, SOC 50 -> 100 -> 50 MWh); eff = 0.9:
    # 0.81 (100 - L) = L - 50  ->  L = 131 / 1.81
    [(1.0, 75.0), (0.9, 131 / 1.81)],
)
def test_battery_raises_campus_on_a_two_level_connection(eff, expect):
    avail = [1.0, 1.0, 0.5, 0.5]
    assert max_campus(flat_case(n=4, avail=avail), 100.0, 0.0).campus_it_mw == pytest.approx(50)
    case = flat_case(n=4, avail=avail, battery=two_level_battery(eff))
    p = max_campus(case, 100.0, 0.0)
    assert p.campus_it_mw == pytest.approx(expect, rel=1e-7)
    assert p.curtailed_mwh == pytest.approx(0.0, abs=1e-7)
    q = min_connection(case, p.campus_it_mw, 0.0)
    assert q.connection_mw == pytest.approx(100.0, rel=1e-6)


def test_backup_serves_load_only_where_given():
    # an outage step served by 80 MW of backup: L = 80 at X = 0 (100 without the outage)
    avail = [1.0, 0.0, 1.0]
    case = flat_case(n=3, avail=avail, backup_mw=np.array([0.0, 80.0, 0.0]))
    assert max_campus(case, 100.0, 0.0).campus_it_mw == pytest.approx(80.0)


def test_monotone_in_x():
    rng = np.random.default_rng(0)
    n = 96
    t = np.arange(n)
    case = HeadroomCase(
        step_h=0.5,
        pue=1.1 + 0.2 * rng.random(n),
        inference_frac=0.1 + 0.2 * rng.random(n),
        connection_avail_frac=np.where(t % 37 == 5, 0.0, np.where(t % 11 == 3, 0.6, 1.0)),
        renewable_mw=np.clip(40 * np.sin(2 * np.pi * (t - 12) / 48), 0, None),
        battery=two_level_battery(0.95),
    )
    campus = [max_campus(case, 100.0, x).campus_it_mw for x in (0, 0.0025, 0.005, 0.01, 0.02)]
    assert all(b >= a - 1e-7 for a, b in zip(campus, campus[1:], strict=False))
    assert campus[-1] > campus[0]
    conn = [min_connection(case, 35.0, x) for x in (0, 0.0025, 0.005, 0.01, 0.02)]
    assert all(q.feasible for q in conn)
    c = [q.connection_mw for q in conn]
    assert all(b <= a + 1e-7 for a, b in zip(c, c[1:], strict=False))
    assert c[-1] < c[0]


@pytest.mark.parametrize(
    ("x", "expect"),
    # hours: curtail at most X n steps, by any amount. 1 step: the outage, and the derated
    # steps must carry L (50); 4 steps: one derated step still uncurtailed (50); 5: 100
    [(0.01, 50.0), (0.04, 50.0), (0.05, 100.0)],
)
def test_hours_measure(x, expect):
    p = max_campus(outage_case(), 100.0, x, measure="hours")
    assert p.campus_it_mw == pytest.approx(expect, rel=1e-7)
    assert p.curtailed_hours <= x * 100 + 1e-9


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"max_curtail_frac": 1.0}, "max_curtail_frac"),
        ({"max_curtail_frac": -0.01}, "max_curtail_frac"),
        ({"max_curtail_frac": 0.01, "measure": "days"}, "measure"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        max_campus(flat_case(n=2), 100.0, **kw)
    with pytest.raises(ValueError, match="pue"):
        flat_case(n=2, pue=0.9)


def _small_site(n: int = 12) -> HeadroomCase:
    rng = np.random.default_rng(3)
    t = np.arange(n)
    return HeadroomCase(
        step_h=1.0,
        pue=1.1 + 0.2 * rng.random(n),
        inference_frac=0.1 + 0.2 * rng.random(n),
        connection_avail_frac=np.where(t % 5 == 2, 0.4, 1.0),
        renewable_mw=np.clip(30 * np.sin(2 * np.pi * (t - 3) / 12), 0, None),
        battery=two_level_battery(0.9),
    )


def _best_over_step_sets(case: HeadroomCase, k: int, maximise_campus: bool, size: float):
    """The hours answer by enumeration: curtailment allowed in exactly the steps of each
    k-subset, one LP each (the model's own rows, its binaries fixed)."""
    best = None
    for chosen in itertools.combinations(range(case.n_steps), k):
        bounds = ((0.0, 1e4), (size, size)) if maximise_campus else ((size, size), (0.0, None))
        m = hr._build_model(case, k / case.n_steps, "hours", *bounds)
        for t in m.T:
            m.headroom_curtailed[t].fix(1 if t in chosen else 0)
        var = m.campus_it_mw if maximise_campus else m.connection_mw
        m.obj = pyo.Objective(expr=(-1 if maximise_campus else 1) * var)
        status, _, _ = hr._run(m, SolverOptions(mip_rel_gap=0.0, node_limit=None))
        if status == "infeasible":
            continue
        v = float(var.value)
        better = best is None or (v > best if maximise_campus else v < best)
        best = v if better else best
    return best


@pytest.mark.parametrize("k", [1, 2])
def test_hours_answers_and_bounds_match_enumeration(k):
    """With a battery, PV, inference and derates the hours MILP (its big-M cut to the
    curtailment a step can use, its size bounded by the energy LP, started from the steps
    that LP curtails most) finds the best k steps to curtail, as enumeration does, and its
    proven bound is that answer."""
    case = _small_site()
    exact = SolverOptions(mip_rel_gap=0.0, node_limit=None)
    frac = k / case.n_steps
    p = max_campus(case, 60.0, frac, measure="hours", options=exact)
    assert p.campus_it_mw == pytest.approx(_best_over_step_sets(case, k, True, 60.0), rel=1e-6)
    assert p.size_bound_mw == pytest.approx(p.campus_it_mw, rel=1e-6)
    assert p.curtailed_hours <= k + 1e-9
    q = min_connection(case, 40.0, frac, measure="hours", options=exact)
    assert q.connection_mw == pytest.approx(_best_over_step_sets(case, k, False, 40.0), rel=1e-6)
    assert q.size_bound_mw == pytest.approx(q.connection_mw, rel=1e-6)


def test_a_stopped_hours_solve_reports_a_valid_bound():
    """One node only: the answer may fall short, but the bound it reports holds the true
    answer (no larger campus exists)."""
    case = _small_site(24)
    exact = max_campus(case, 60.0, 3 / 24, "hours", SolverOptions(mip_rel_gap=0.0, node_limit=None))
    quick = max_campus(case, 60.0, 3 / 24, "hours", SolverOptions(mip_rel_gap=0.0, node_limit=1))
    assert quick.campus_it_mw <= exact.campus_it_mw + 1e-6
    assert quick.size_bound_mw >= exact.campus_it_mw - 1e-6
    # the energy LP at the share of the 3 largest steps bounds it too
    assert quick.size_bound_mw <= max_campus(case, 60.0, 0.5).campus_it_mw + 1e-6


def test_a_curtailment_solve_stopped_without_an_answer_keeps_the_size_solves(monkeypatch):
    """The second solve (the size fixed, least curtailment) may stop at its node or time
    limit before HiGHS finds an answer of its own: an audit's two weeks at 15-minute steps
    (`headroom --measure hours`) then failed whole ('HiGHS stopped with status
    node_limit'). The size solve's answer is feasible at that size: it stands, marked."""
    case = _small_site(24)
    exact = SolverOptions(mip_rel_gap=0.0, node_limit=None)
    full = max_campus(case, 60.0, 3 / 24, "hours", exact)
    run = hr._run

    def stops_without_answer(m, options, start=None):
        if m.component("obj_curtail") is not None and m.obj_curtail.active:
            raise hr.SolveError("headroom: HiGHS stopped with status node_limit", "node_limit")
        return run(m, options, start)

    monkeypatch.setattr(hr, "_run", stops_without_answer)
    p = max_campus(case, 60.0, 3 / 24, "hours", exact)
    assert p.status == "node_limit"
    assert p.campus_it_mw == pytest.approx(full.campus_it_mw, rel=1e-6)
    assert p.curtailed_hours <= 3 + 1e-9
    q = min_connection(case, 40.0, 3 / 24, "hours", exact)
    assert q.status == "node_limit" and q.curtailed_hours <= 3 + 1e-9
    with pytest.raises(hr.SolveError, match="numerical"):  # other failures still raise
        monkeypatch.setattr(hr, "_run", _fails_numerically(run))
        max_campus(case, 60.0, 3 / 24, "hours", exact)


def _fails_numerically(run):
    def solve(m, options, start=None):
        if m.component("obj_curtail") is not None and m.obj_curtail.active:
            raise hr.SolveError("headroom: HiGHS stopped with status numerical error", None)
        return run(m, options, start)

    return solve


def test_an_hours_answer_is_valued_at_its_columns_where_highs_misvalues_its_start(monkeypatch):
    """HiGHS 1.16 may return a MIP start's columns as "optimal", valued below their cost
    (``optimize.answer_cost``). The hours MILP starts from the steps the energy LP
    curtails most; on this site that start carries a 52.5 MW campus where 56.6 MW fit.
    Misvalued, it was the answer, "optimal"; valued at its columns, HiGHS solves again
    from no start and the answer is the one HiGHS proves without the misvaluation."""
    case = _small_site(24)
    exact = SolverOptions(mip_rel_gap=0.0, node_limit=None)
    best = max_campus(case, 60.0, 3 / 24, measure="hours", options=exact).campus_it_mw
    wrapped = []

    def misvaluing(cm, options):
        wrapped.append(MisvaluingHighs(make_highs(cm, options), below=1.0))
        return wrapped[-1]

    monkeypatch.setattr(hr, "make_highs", misvaluing)
    p = max_campus(case, 60.0, 3 / 24, measure="hours", options=exact)
    assert sum(h.misvalued_runs for h in wrapped) == 1  # the start was handed over
    assert p.campus_it_mw == pytest.approx(best, rel=1e-6)
    assert p.campus_it_mw > 56.0  # the start's 52.5 MW is not the answer
    assert p.status == "optimal" and p.size_bound_mw == pytest.approx(best, rel=1e-6)
