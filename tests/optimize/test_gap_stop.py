"""HiGHS stops at the gap measured against the answer's own gap basis, in one run.

Case: a covering MIP (integer units of 8 items, each with a cost and three kinds of
cover, at least 101.5 of each kind; optimum 172 USD), started from a dear schedule (10
units of every item: 5,260 USD). The start's gap basis is its cost, so an absolute gap set
from it alone is 30 times too loose for the answers HiGHS finds: HiGHS stopped at 176 USD
with a bound of 168 (4.5 % of the answer) and needed a second run to reach the gap.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize import solving
from optimize.highs import compile_model, gap_basis_usd, make_highs, set_start
from optimize.price_fix import PriceFixResult
from optimize.problem import SolverOptions

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


def test_milp_stops_within_the_gap_of_its_answer_basis_in_one_run(monkeypatch):
    cm = compile_model(_cover_model())
    h = make_highs(cm, SolverOptions(mip_rel_gap=REL_GAP, threads=1))
    h.setOptionValue("presolve", "off")  # keep the cover rows for the branch and bound
    start = np.full(cm.num_col, 10.0)
    start_usd = float(cm.col_cost @ start)
    set_start(h, start)
    runs = []
    real_run = solving.run_highs

    def counted(*args, **kwargs):
        runs.append(1)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(solving, "run_highs", counted)
    pf = PriceFixResult(start, start_usd, None)
    basis = gap_basis_usd(cm, start, start_usd)
    res = solving._run_to_gap(h, cm, REL_GAP, pf, basis, 1e-6)
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
