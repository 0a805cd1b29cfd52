"""HiGHS stops at the gap measured against the answer's own gap basis, in one run.

Case: a covering MIP (integer units of 8 items, each with a cost and three kinds of
cover, at least 101.5 of each kind; optimum 172 USD), started from a dear schedule (10
units of every item: 5,260 USD). The start's gap basis is its cost, so an absolute gap set
from it alone is 30 times too loose for the answers HiGHS finds: HiGHS stopped at 176 USD
with a bound of 168 (4.5 % of the answer) and needed a second run to reach the gap.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo

import optimize.progress as progress
from optimize import milp_from_start
from optimize.callbacks import subscribe
from optimize.highs import StopAtGap, compile_model, gap_basis_usd, make_highs, set_start
from optimize.price_fix import PriceFixResult
from optimize.solver_options import SolverOptions

COST_USD = [57, 60, 80, 96, 22, 31, 85, 95]
COVER = [
    [16, 19, 44, 24, 17, 42, 16, 23],
    [33, 29, 8, 6, 43, 38, 42, 29],
    [41, 19, 25, 40, 10, 18, 10, 25],
]
REL_GAP = 0.002


def _cover_model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.item = pyo.RangeSet(0, len(COST_USD) - 1)
    m.kind = pyo.RangeSet(0, len(COVER) - 1)
    m.x = pyo.Var(m.item, domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.cover = pyo.Constraint(
        m.kind, rule=lambda m, k: sum(COVER[k][i] * m.x[i] for i in m.item) >= 101.5
    )
    m.cost = pyo.Objective(expr=sum(COST_USD[i] * m.x[i] for i in m.item))
    return m


def _start(rel_gap: float):
    cm = compile_model(_cover_model())
    h = make_highs(cm, SolverOptions(mip_rel_gap=rel_gap, threads=1))
    h.setOptionValue("presolve", "off")  # keep the cover rows for the branch and bound
    start = np.full(cm.num_col, 10.0)
    start_usd = float(cm.col_cost @ start)
    set_start(h, start)
    pf = PriceFixResult(start, start_usd, None)
    return h, cm, pf, gap_basis_usd(cm, start, start_usd)


def test_milp_stops_within_the_gap_of_its_answer_basis_in_one_run(monkeypatch):
    h, cm, pf, basis = _start(REL_GAP)
    start = pf.values
    runs = []
    real_run = milp_from_start.run_highs

    def counted(*args, **kwargs):
        runs.append(1)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(milp_from_start, "run_highs", counted)
    res, _ = milp_from_start.run_to_gap(h, cm, REL_GAP, pf, basis, 1e-6)
    assert res.status == "optimal"
    assert res.objective == 172.0
    assert res.gap_basis == res.objective  # a pure cost: the basis is the answer's cost
    assert res.mip_gap <= REL_GAP
    assert len(runs) == 1
    # the callback is gone after the run: a later run of h leaves the option alone
    h.setOptionValue("mip_abs_gap", 1e-6)
    set_start(h, start)
    h.run()
    assert h.getOptionValue("mip_abs_gap")[1] == 1e-6


def test_progress_lines_measure_the_gap_against_the_incumbent_basis(monkeypatch):
    """The lines' gap is the one the stop and the answer use: against each new incumbent's
    basis (here its cost), not the start's 30 times larger one."""
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    h, cm, pf, basis = _start(0.0)
    stream = io.StringIO()
    with progress.solve_progress(True, stream):
        res, _ = milp_from_start.run_to_gap(h, cm, 0.0, pf, basis, 1e-6)
    assert res.objective == 172.0
    line = re.compile(r"bound ([\d,]+) USD · incumbent ([\d,]+) USD · gap (\d+\.\d\d) %")
    figures = [
        [float(x.replace(",", "")) for x in hit.groups()]
        for hit in map(line.search, stream.getvalue().splitlines())
        if hit
    ]
    improved = [f for f in figures if f[1] < pf.objective_usd]
    assert improved, "no line after HiGHS's first incumbent"
    for bound, incumbent, gap_pct in improved:  # figures printed to 1 USD and 0.01 %
        tolerance_pct = 100 * 0.5 / incumbent + 0.006
        assert abs(gap_pct - 100 * (incumbent - bound) / incumbent) <= tolerance_pct


def test_a_bound_found_before_the_milp_stops_it_at_the_first_answer_it_proves():
    """With the optimum (172 USD, a valid bound) known before the MILP, HiGHS stops at the
    first incumbent within the gap of it, before its first node; with the cover LP's own
    bound it branches. A bound too low to prove anything changes nothing."""
    runs = {}
    for label, bound in (("none", None), ("optimum", 172.0), ("low", 100.0)):
        h, cm, pf, basis = _start(0.01)
        pf = PriceFixResult(pf.values, pf.objective_usd, bound)
        res, _ = milp_from_start.run_to_gap(h, cm, 0.01, pf, basis, 1e-6)
        runs[label] = (res, h.getInfo().mip_node_count)
    res, nodes = runs["optimum"]
    assert (res.status, res.objective, res.bound, nodes) == ("optimal", 172.0, 172.0, 0)
    assert res.mip_gap <= 0.01
    assert runs["none"][1] >= 1 and runs["none"][0].status == "optimal"
    low, low_nodes = runs["low"]
    assert (low.objective, low.bound, low_nodes) == (172.0, 172.0, runs["none"][1])


class _Event:
    """A HiGHS callback event at one run time: the flag ``interrupt`` sets."""

    def __init__(self, running_time: float) -> None:
        self.data_out = SimpleNamespace(running_time=running_time)
        self.flag = False

    def interrupt(self, value: bool = True) -> None:
        self.flag = value


def _interrupts(stop: StopAtGap, running_time: float) -> bool:
    e = _Event(running_time)
    stop.interrupt(e)
    return e.flag


def test_the_stop_follows_the_latest_incumbent_and_needs_a_bound():
    """``StopAtGap`` (the edge search's and the MILP's stop) interrupts HiGHS only while
    its latest incumbent is within the gap of the bound found before, and never without
    one."""
    cm = compile_model(_cover_model())
    stop = StopAtGap(cm, 172.0, 0.01)
    assert not _interrupts(stop, 0.1)
    stop.mark(173.0, 173.0)  # 0.58 % of its basis
    assert _interrupts(stop, 0.2)
    stop.mark(175.0, 400.0)  # 0.75 % of a basis its gross cost makes larger
    assert _interrupts(stop, 0.3)
    stop.mark(176.0, 176.0)  # 2.3 %
    assert not stop.reached and not _interrupts(stop, 0.4)
    unbound = StopAtGap(cm, None, 0.01)
    unbound.mark(172.0, 172.0)
    assert not unbound.reached


def test_a_run_after_a_stopped_one_is_not_stopped_by_its_stale_flag():
    """HiGHS keeps the interrupt flag of a stopped run for the next run of the same object
    (with an interrupt callback subscribed, it stops at once). A later run with a stop
    that is not reached runs to its optimum."""
    h, cm, pf, _ = _start(0.0)
    # highspy's own subscriptions, its callback function set throughout (a
    # ``optimize.callbacks.unsubscribe`` of the last would clear the flag with it)
    h.enableCallbacks()
    first = StopAtGap(cm, 5200.0, 0.05)  # the start (5,260 USD) is within 5 % of 5,200
    h.cbMipImprovingSolution.subscribe(first.improving)
    h.cbMipInterrupt.subscribe(first.interrupt)
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Interrupted by user"
    assert h.getInfo().objective_function_value == 5260.0
    h.cbMipImprovingSolution.unsubscribe(first.improving)
    h.cbMipInterrupt.unsubscribe(first.interrupt)
    later = StopAtGap(cm, None, 0.0)
    h.cbMipImprovingSolution.subscribe(later.improving)
    h.cbMipInterrupt.subscribe(later.interrupt)
    set_start(h, pf.values)
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Optimal"
    assert h.getInfo().objective_function_value == 172.0


def test_a_bound_proven_for_an_incumbent_stops_the_run_there():
    """``prove`` is asked for each incumbent; the bound it returns for one (here the
    optimum, 172 USD, for incumbents up to 174) raises the stop's bound, and HiGHS stops
    at that incumbent without proving the gap itself."""
    asked = []

    def prove(objective: float, basis_usd: float) -> float | None:
        asked.append((objective, basis_usd))
        return 172.0 if objective <= 174.0 else None

    runs = {}
    for label, hook in (("plain", None), ("prove", prove)):
        h, cm, pf, _ = _start(0.0)
        stop = StopAtGap(cm, None, 0.012, hook)
        subscribe(h, h.cbMipImprovingSolution, stop.improving)
        subscribe(h, h.cbMipInterrupt, stop.interrupt)
        h.run()
        runs[label] = (h.modelStatusToString(h.getModelStatus()), stop.bound_usd)
        runs[label] += (h.getInfo().objective_function_value, h.getInfo().mip_node_count)
    assert runs["plain"][:3] == ("Optimal", None, 172.0)
    status, bound, objective, nodes = runs["prove"]
    assert (status, bound) == ("Interrupted by user", 172.0)
    assert objective <= 174.0 and objective == asked[-1][0]
    assert all(b == o for o, b in asked)  # a pure cost: the basis is the incumbent's cost
    assert [o for o, _ in asked] == sorted((o for o, _ in asked), reverse=True)
    assert asked[0][0] == 5260.0  # the start is an incumbent too


def test_a_stop_below_a_cost_ends_the_run_at_the_first_cheaper_incumbent():
    """``below_usd`` (the edge search's rounds): an incumbent cheaper than it stops HiGHS,
    one at its cost does not; a run from the 5,260 USD start stops at the first cheaper
    incumbent HiGHS finds, above the optimum (172 USD) that a run to the end reaches."""
    cm = compile_model(_cover_model())
    stop = StopAtGap(cm, None, 0.0, below_usd=180.0)
    stop.mark(180.0, 180.0)
    assert not stop.reached and not _interrupts(stop, 0.1)
    stop.mark(179.9, 179.9)
    assert stop.reached and _interrupts(stop, 0.2)
    h, cm, pf, _ = _start(0.0)
    first = StopAtGap(cm, None, 0.0, below_usd=pf.objective_usd)
    found = []
    subscribe(
        h, h.cbMipImprovingSolution, lambda e: found.append(e.data_out.objective_function_value)
    )
    subscribe(h, h.cbMipImprovingSolution, first.improving)
    subscribe(h, h.cbMipInterrupt, first.interrupt)
    h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Interrupted by user"
    cheaper = [x for x in found if x < pf.objective_usd]
    assert h.getInfo().objective_function_value == cheaper[0] > 172.0
