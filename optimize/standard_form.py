"""A Pyomo model's active objective and constraints as standard-form arrays, the same
arrays Pyomo's ``LinearStandardFormCompiler`` writes (``mixed_form=True``, minimising),
in about 60 % of its time (B2's 52 window models: 2.34-2.42 s against 3.5-4.5 s).

Why: a rolling year builds 53 windows, and on two threads the builds run beside the
solves on the same two cores. Pyomo's writer walks every row through its general
expression visitor, about 30 µs a row; most of a job model's rows are flat (a few
variables with number coefficients on each side, no constant), which a loop reads in
5-7 µs. Every row that is not flat goes through Pyomo's own visitor, so the
arrays are Pyomo's, number for number and in the same order (the columns in the order
Pyomo's recorder gives them, the rows in the model's order; ``tests/optimize/
test_standard_form.py`` compares them), and HiGHS's search is unchanged.

A flat row is ``lhs <= rhs`` or ``lhs == rhs`` whose sides are each a number, a
variable, a number times a variable, or a ``LinearExpression`` of those with no number
term, with no variable twice and none fixed. Its body is ``lhs - rhs`` (a number side is
the bound, as in ``ConstraintData.to_bounded_expression``); a term's coefficient is
negated on the right-hand side, which is exact, so the arrays match Pyomo's bit for bit.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pyomo.environ as pyo
import scipy.sparse
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.numvalue import native_numeric_types, native_types
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression
from pyomo.repn.linear import LinearRepnVisitor
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from pyomo.repn.util import (
    FileDeterminism,
    FileDeterminism_to_SortComponents,
    TemplateVarRecorder,
)

_SORTER = FileDeterminism_to_SortComponents(FileDeterminism.ORDERED)


class NotFlat(Exception):
    """A row the loop does not read (Pyomo's visitor reads it)."""


class Unsupported(Exception):
    """A model this module does not compile (a fixed variable in a row, or not one active
    objective): ``write`` uses Pyomo's writer for it."""


@dataclasses.dataclass
class StandardForm:
    """The arrays of ``write``: ``a`` (rows × columns, CSC) with ``rhs`` and each row's
    kind (0 ``==``, 1 ``<=``, -1 ``>=``) and constraint, the objective's ``cost`` per
    column and ``offset``, and the columns (``VarData``, those with a coefficient)."""

    columns: list
    row_constraints: list
    row_kind: np.ndarray
    rhs: np.ndarray
    a: scipy.sparse.csc_array
    cost: np.ndarray
    offset: float


def _side(expr, negate: bool, terms: list) -> None:
    """Append ``(coefficient, variable)`` of a flat side ``expr`` (negated with
    ``negate``): a variable, a number times one, or a ``LinearExpression`` of those."""
    for arg in expr.args if expr.__class__ is LinearExpression else (expr,):
        if arg.__class__ is MonomialTermExpression:
            coef, var = arg._args_
            if coef.__class__ not in native_numeric_types or not isinstance(var, VarData):
                raise NotFlat
            terms.append((-coef if negate else coef, var))
        elif isinstance(arg, VarData):
            terms.append((-1 if negate else 1, arg))
        else:
            raise NotFlat


def flat_row(con) -> tuple[float | None, list, float | None]:
    """``(lb, terms, ub)`` of a flat row (module docstring); raises ``NotFlat``."""
    expr = con._expr
    cls = expr.__class__
    if cls is InequalityExpression:
        if expr._strict:
            raise NotFlat
        equality = False
    elif cls is EqualityExpression:
        equality = True
    else:
        raise NotFlat
    lhs, rhs = expr._args_
    terms: list = []
    if rhs.__class__ in native_numeric_types:
        _side(lhs, False, terms)
        return (rhs if equality else None), terms, rhs
    if lhs.__class__ in native_numeric_types:
        _side(rhs, False, terms)
        return lhs, terms, (lhs if equality else None)
    _side(lhs, False, terms)
    _side(rhs, True, terms)
    return (0 if equality else None), terms, 0


class _Rows:
    """The rows as Pyomo's writer tabulates them (mixed form)."""

    def __init__(self, recorder: TemplateVarRecorder, visitor: LinearRepnVisitor) -> None:
        self.recorder, self.visitor = recorder, visitor
        self.constraints: list = []
        self.kind: list[int] = []
        self.rhs: list[float] = []
        self.index: list = []
        self.data: list = []
        self.ptr = [0]

    def add(self, con) -> None:
        try:
            lb, linear, offset, ub = self._flat(con)
        except NotFlat:
            lb, linear, offset, ub = self._walked(con)
        self._tabulate(con, lb, linear, offset, ub)

    def _flat(self, con):
        lb, terms, ub = flat_row(con)
        var_map, linear, new, zero = self.recorder.var_map, {}, [], False
        for coef, var in terms:
            vid = id(var)
            if vid in linear:
                raise NotFlat  # a variable twice: Pyomo's sum order decides
            if vid not in var_map:
                if var.fixed:
                    raise NotFlat
                new.append(var)
            linear[vid] = coef
            zero = zero or not coef
        for var in new:  # the columns in the order Pyomo's visitor meets them
            if id(var) not in var_map:
                self.recorder.add(var)
        if zero:
            linear = {vid: c for vid, c in linear.items() if c}
        return lb, linear, 0, ub

    def _walked(self, con):
        lb, body, ub = con.to_bounded_expression()
        if lb.__class__ not in native_types:
            lb = pyo.value(lb)
        if ub.__class__ not in native_types:
            ub = pyo.value(ub)
        repn = self.visitor.walk_expression(body)
        if repn.nonlinear is not None:
            raise ValueError(f"constraint {con.name} is not linear")
        return lb, repn.linear, repn.constant, ub

    def _tabulate(self, con, lb, linear: dict, offset, ub) -> None:
        if lb is None and ub is None:
            return
        if not linear and offset.__class__ in native_types:
            if (lb is None or lb <= offset) and (ub is None or ub >= offset):
                return
            raise ValueError(f"constraint {con.name} is infeasible")
        if lb == ub:
            self._row(con, 0, ub - offset, linear)
            return
        if ub is not None:
            self._row(con, 1, ub - offset, linear)
        if lb is not None:
            self._row(con, -1, lb - offset, linear)

    def _row(self, con, kind: int, rhs, linear: dict) -> None:
        self.constraints.append(con)
        self.kind.append(kind)
        self.rhs.append(rhs)
        self.index.append(linear.keys())
        self.data.append(linear.values())
        self.ptr.append(self.ptr[-1] + len(linear))


def _objective(model, visitor: LinearRepnVisitor) -> tuple[dict, float]:
    """The active objective's linear part (minimised) and constant."""
    objectives = list(
        model.component_data_objects(pyo.Objective, active=True, descend_into=True, sort=_SORTER)
    )
    if len(objectives) != 1:
        raise Unsupported(f"{len(objectives)} active objectives")
    obj = objectives[0]
    repn = visitor.walk_expression(obj.expr)
    if repn.nonlinear is not None:
        raise ValueError(f"objective {obj.name} is not linear")
    linear, constant = dict(repn.linear), repn.constant
    if obj.sense != pyo.minimize:
        linear = {vid: -c for vid, c in linear.items()}
        constant = -constant
    return linear, constant


def _csc(data, index, ptr, order: dict, n_cols: int) -> scipy.sparse.csc_array:
    """Pyomo's ``_create_csc``: rows (keys mapped to columns by ``order``) to CSC."""
    nnz = ptr[-1]
    values = np.fromiter(itertools.chain.from_iterable(data), np.float64, nnz)
    cols = np.fromiter(map(order.__getitem__, itertools.chain.from_iterable(index)), np.int32, nnz)
    a = scipy.sparse.csr_array(
        (values, cols, np.array(ptr, dtype=np.int32)), [len(ptr) - 1, n_cols]
    ).tocsc()
    a.sum_duplicates()
    a.eliminate_zeros()
    return a


def write(model: pyo.Block) -> StandardForm:
    """``model``'s active objective and constraints as Pyomo's writer gives them (module
    docstring); columns without a coefficient are left out. A model ``fast_write`` does not
    compile (``Unsupported``) goes to Pyomo's writer whole (``pyomo_write``)."""
    try:
        return fast_write(model)
    except Unsupported:
        return pyomo_write(model)


def pyomo_write(model: pyo.Block) -> StandardForm:
    """``write`` by Pyomo's ``LinearStandardFormCompiler`` itself."""
    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=pyo.minimize)
    cost = np.zeros(len(info.columns))
    if info.c.shape[0]:
        cost = np.asarray(info.c[[0], :].toarray()).ravel()
    return StandardForm(
        columns=info.columns,
        row_constraints=[r.constraint for r in info.rows],
        row_kind=np.fromiter((r.bound_type for r in info.rows), np.int8, len(info.rows)),
        rhs=np.asarray(info.rhs, dtype=float),
        a=info.A.tocsc() if info.A.format != "csc" else info.A,
        cost=cost,
        offset=float(info.c_offset[0]) if len(info.c_offset) else 0.0,
    )


def fast_write(model: pyo.Block) -> StandardForm:
    """``write`` with the flat rows read by a loop; raises ``ValueError`` for a nonlinear
    or infeasible constant row, ``Unsupported`` (see there)."""
    with PauseGC():
        recorder = TemplateVarRecorder({}, _SORTER)
        visitor = LinearRepnVisitor({}, var_recorder=recorder)
        obj_linear, offset = _objective(model, visitor)
        rows = _Rows(recorder, visitor)
        for con in model.component_data_objects(
            pyo.Constraint, active=True, descend_into=True, sort=_SORTER
        ):
            rows.add(con)
        return _assemble(recorder, rows, obj_linear, offset)


def _assemble(recorder, rows: _Rows, obj_linear: dict, offset: float) -> StandardForm:
    """The arrays, with the columns no row or the objective uses left out."""
    columns = list(recorder.var_map.values())
    order = recorder.var_order
    n = len(columns)
    c = _csc([obj_linear.values()], [obj_linear.keys()], [0, len(obj_linear)], order, n)
    a = _csc(rows.data, rows.index, rows.ptr, order, n)
    used = (a.indptr[1:] > a.indptr[:-1]) | (c.indptr[1:] > c.indptr[:-1])
    if any(columns[i].fixed for i in np.flatnonzero(used)):
        raise Unsupported("a fixed variable in a row")
    keep = np.concatenate((used, [True]))
    kept = [columns[i] for i in np.flatnonzero(used)]
    shape = [a.shape[0], len(kept)]
    a = scipy.sparse.csc_array((a.data, a.indices, a.indptr[keep]), shape)
    c = scipy.sparse.csc_array((c.data, c.indices, c.indptr[keep]), [1, len(kept)])
    return StandardForm(
        columns=kept,
        row_constraints=rows.constraints,
        row_kind=np.array(rows.kind, dtype=np.int8),
        rhs=np.array(rows.rhs, dtype=float),
        a=a,
        cost=np.asarray(c.toarray()).ravel(),
        offset=float(offset),
    )
