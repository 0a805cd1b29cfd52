"""``optimize.standard_form`` writes Pyomo's standard form number for number.

The loop that reads the flat rows must give the arrays of Pyomo's own writer exactly
(columns in the same order, rows in the same order, the same coefficients, right-hand
sides, costs and offset): HiGHS's search, and so every answer, depends on that order.
Compared on job models of several shapes (non-preemptible and preemptible jobs, a battery
or none, a ramp, a demand charge, a penalty for unfinished work, the elastic model, a
rolling window's carried state and horizon credit) and on small models with rows the loop
leaves to Pyomo's visitor.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from optimize.carried_state import state_columns
from optimize.jobs import horizon_credit
from optimize.model import build_model
from optimize.standard_form import NotFlat, fast_write, flat_row, pyomo_write, write
from tests.optimize.small_problems import random_day, small_problem


def assert_same(ours, pyomos) -> None:
    assert len(ours.columns) == len(pyomos.columns)
    assert all(a is b for a, b in zip(ours.columns, pyomos.columns, strict=True))
    assert all(a is b for a, b in zip(ours.row_constraints, pyomos.row_constraints, strict=True))
    assert ours.row_kind.tolist() == pyomos.row_kind.tolist()
    for name in ("rhs", "cost"):
        a, b = getattr(ours, name), getattr(pyomos, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(ours.a, name), getattr(pyomos.a, name)), name
    assert ours.a.shape == pyomos.a.shape
    assert ours.offset == pyomos.offset


def _window_model():
    with state_columns(), horizon_credit(0.5):
        return build_model(random_day(5, demand=3000.0))


# each test builds its own model only
JOB_MODELS = [
    *(
        lambda seed=seed, demand=demand: build_model(random_day(seed, demand=demand))
        for seed, demand in ((0, 0.0), (1, 300.0), (2, 3000.0), (3, 300.0))
    ),
    lambda: build_model(small_problem(n=24, penalty=500.0, battery=False)),
    lambda: build_model(random_day(4), elastic=True),
    _window_model,
]


@pytest.mark.parametrize("k", range(len(JOB_MODELS)))
def test_job_models_compile_to_pyomos_arrays(k):
    m = JOB_MODELS[k]()
    assert_same(fast_write(m), pyomo_write(m))


def _odd_rows() -> pyo.ConcreteModel:
    """Rows the loop leaves to Pyomo: a constant term, a variable twice, a Param bound,
    a ranged row, a named expression, a product of a number and a sum; and flat ones."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(4), bounds=(0, 10))
    m.y = pyo.Var()
    m.p = pyo.Param(initialize=2.5, mutable=True)
    m.e = pyo.Expression(expr=0.3 * m.x[0] + 0.7 * m.x[1] + 0.1)
    m.c = pyo.ConstraintList()
    m.c.add(m.x[0] + 1.1 <= m.x[1] + 0.2)
    m.c.add(m.x[0] + 0.3 * m.x[0] >= m.x[2])
    m.c.add(m.x[3] <= m.p)
    m.c.add(pyo.inequality(1.0, m.x[0] - m.x[3], 4.0))
    m.c.add(m.e <= 3 * m.y)
    m.c.add(0.1 * (m.x[1] + m.x[2] - 0.3) == m.y)
    m.c.add(m.y == 0.5 * m.x[2] - m.x[3])
    m.c.add(m.x[1] + m.x[2] >= 2.0)
    m.c.add(0 * m.x[0] + m.x[1] >= -1.0)
    m.obj = pyo.Objective(expr=sum(m.x.values()) - m.y, sense=pyo.maximize)
    return m


def test_rows_pyomo_reads_compile_to_pyomos_arrays():
    m = _odd_rows()
    assert_same(fast_write(m), pyomo_write(m))


def test_flat_rows_are_read_by_the_loop_and_the_rest_are_not():
    m = _odd_rows()
    rows = list(m.c.values())
    for k in (0, 2, 3, 4, 5):  # row 1, a variable twice, is turned down as it is read
        with pytest.raises(NotFlat):
            flat_row(rows[k])
    assert flat_row(rows[6])[0] == 0 and flat_row(rows[6])[2] == 0
    lb, terms, ub = flat_row(rows[7])
    assert (lb, ub) == (2.0, None) and [c for c, _ in terms] == [1, 1]


def test_a_fixed_variable_goes_to_pyomos_writer_whole():
    m = _odd_rows()
    m.x[2].fix(4.0)
    ours, pyomos = write(m), pyomo_write(m)
    assert_same(ours, pyomos)
    assert all(v is not m.x[2] for v in ours.columns)
