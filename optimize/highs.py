"""HiGHS plumbing: a Pyomo model in standard form, passed to ``highspy`` in memory.

The model is compiled to Pyomo's standard form (``optimize.standard_form``, the arrays of
Pyomo's ``LinearStandardFormCompiler``; mixed form: each row is ``=``, ``<=`` or ``>=``)
as scipy sparse matrices that are passed to ``highspy`` with
``Highs.passModel``; no files are written. ``run_highs`` runs it (with progress lines,
``optimize.progress``) and maps HiGHS's status to ours; ``load_solution`` writes the
column values back into the Pyomo variables.

Before a model reaches HiGHS its numbers are checked (``optimize.ranges``): out-of-range
costs, coefficients or bounds raise ``NumericRangeError`` naming the Pyomo component.
HiGHS prints nothing (no banner, no log) unless ``SolverOptions.log_to_console`` is set or
the call runs inside ``solver_log_to_console(True)`` (the CLI's ``--verbose``).

Used by ``optimize.solving`` (the solve methods) and ``optimize.diagnosis`` (the elastic
model), which sit above it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np
import pyomo.environ as pyo

from optimize._util import PRICED_SLACKS
from optimize.callbacks import leave_unset
from optimize.errors import SolveError
from optimize.progress import run_with_progress
from optimize.ranges import check_ranges
from optimize.solver_options import SolverOptions
from optimize.standard_form import pyomo_write
from optimize.standard_form import write as write_standard_form

# the process-wide default of SolverOptions.log_to_console (set by the CLI's --verbose)
_LOG_TO_CONSOLE = contextvars.ContextVar("highs_log_to_console", default=False)
# an integer column is integral in a solution within this (HiGHS's default
# mip_feasibility_tolerance)
INTEGRAL_TOL = 1e-6
# file descriptor 1 is process-wide: one thread at a time may point it elsewhere
_STDOUT_LOCK = threading.Lock()
# HiGHS runs every Highs object of a process on one thread pool, sized at its first run;
# a run that asks for another size fails (status "Not Set"): resized one at a time
_POOL_LOCK = threading.Lock()


@contextlib.contextmanager
def solver_log_to_console(enabled: bool) -> Iterator[None]:
    """Within the block, HiGHS prints its banner and log on stdout if ``enabled``."""
    token = _LOG_TO_CONSOLE.set(bool(enabled))
    try:
        yield
    finally:
        _LOG_TO_CONSOLE.reset(token)


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null: HiGHS's C++ code writes there directly."""
    with _STDOUT_LOCK:
        if sys.stdout is not None:
            sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no file descriptor 1 (a daemon): nothing to silence
            yield
            return
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)


def new_highs(log_to_console: bool = False, threads: int | None = None) -> highspy.Highs:
    """A ``Highs`` object that is silent unless ``log_to_console``, on ``threads`` threads
    (``use_threads``; None: on HiGHS's pool as it is, for an LP whose answer no thread
    count changes).

    HiGHS's constructor prints its banner on stdout (the first time in a process) before
    any option can be set, so the construction runs with stdout sent to /dev/null.
    """
    if log_to_console:
        h = highspy.Highs()
    else:
        with _stdout_to_devnull():
            h = highspy.Highs()
    leave_unset(h)  # set while a callback is subscribed (optimize.callbacks)
    h.setOptionValue("output_flag", bool(log_to_console))
    if threads is not None:  # None: HiGHS's default 0, any pool that exists
        use_threads(h, threads)
    return h


def use_threads(h: highspy.Highs, threads: int) -> None:
    """Run ``h`` on ``threads`` threads (``SolverOptions.threads``): from 2, HiGHS's branch
    and bound searches with several workers (``parallel="on"``), whose rounds HiGHS
    synchronises in a fixed order, so the answer depends on the count, not on the cores.

    HiGHS's process-wide pool is resized where it was made for another count (by a solve
    with other options, or by another library's HiGHS; an empty run tells, ~0.1 ms). A
    resize waits for the pool's threads to stop, so no HiGHS run may be under way in
    another thread of the process then (sweep workers run one case at a time).
    """
    threads = int(threads)
    with _POOL_LOCK:
        if not _pool_fits(threads):
            highspy.Highs.resetGlobalScheduler(True)
    h.setOptionValue("threads", threads)
    h.setOptionValue("parallel", "on" if threads > 1 else "off")


@dataclass
class CompiledModel:
    """A Pyomo model compiled to HiGHS arrays (column ``i`` is Pyomo var ``columns[i]``,
    row ``r`` is Pyomo constraint ``rows[r]``)."""

    columns: list
    rows: list
    num_col: int
    num_row: int
    offset: float
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    integrality: np.ndarray | None
    # columns of slacks priced at a penalty, not a cost of the site (``mark_priced_slack``):
    # left out of the gap's basis (``gap_basis_usd``)
    priced_slacks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def column_index(self) -> dict[int, int]:
        """``id(var)`` -> HiGHS column, for the Pyomo vars the compiler kept (a fixed var
        has no column). Computed once per compiled model: callers read it, never change it."""
        return self._column_index

    @cached_property
    def _column_index(self) -> dict[int, int]:
        return {id(v): i for i, v in enumerate(self.columns)}

    @cached_property
    def row_components(self) -> np.ndarray:
        """The name of each row's Pyomo constraint component (``job_tp``, ``power_balance``,
        ...), computed once per compiled model (price-fix reads it on every call)."""
        return np.array([r.parent_component().local_name for r in self.rows], dtype=object)

    def integer_columns(self) -> np.ndarray:
        """The HiGHS columns that are integer (none for an LP)."""
        if self.integrality is None:
            return np.zeros(0, dtype=np.int32)
        return np.flatnonzero(self.integrality > 0).astype(np.int32)


def fractional_columns(values: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The columns of ``cols`` whose ``values`` lie more than ``INTEGRAL_TOL`` from an
    integer (in a solution of the LP relaxation: the integer columns it leaves fractional)."""
    cols = np.asarray(cols)
    x = np.asarray(values)[cols]
    return cols[np.abs(x - np.round(x)) > INTEGRAL_TOL]


def set_integrality(h: highspy.Highs, cols: np.ndarray, integer: bool) -> None:
    """Make HiGHS columns ``cols`` integer or continuous (relaxed)."""
    kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
    if len(cols):
        h.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind))


@dataclass
class HighsResult:
    # "optimal", "time_limit", "node_limit", "heuristic" (price-fix beyond the gap),
    # "infeasible", or HiGHS's status text
    status: str
    objective: float
    mip_gap: float
    has_solution: bool
    solve_s: float
    # a proven lower bound of the optimum (HiGHS's dual bound, or the LP relaxation's
    # objective for price-fix); the objective itself for an LP
    bound: float | None = None
    # USD the relative gap is measured against (``gap_basis_usd``); None: HiGHS's own
    gap_basis: float | None = None


def gap_basis_usd(cm: CompiledModel, values, objective: float) -> float:
    """The USD a relative MIP gap is measured against: the larger of ``|objective|`` and
    the schedule's gross cost, the sum of its positive objective terms (energy bought,
    demand charge, fuel, wear, carbon, penalties, the sized assets' capacity cost, which
    ``optimize.sizing`` puts on the units built, with no constant; revenue not netted
    against them). A slack priced at a made-up penalty (``cm.priced_slacks``: the soft
    demand-response cap's MWh above it at 10⁶ USD/MWh) is left out of both: at that
    price it would make the basis, and so the gap the rest of the schedule is proven
    within, a multiple of what the site pays.

    A week whose export revenue nearly cancels its costs has a net objective near 0 (R1's
    week with a pro-rated demand charge: -35,663 USD net of 902,764 USD bought), against
    which any gap is huge; measured against what the site pays, the gap says what share
    of the bill the schedule may still leave on the table."""
    contrib = cm.col_cost * np.asarray(values, dtype=float)
    slack_usd = float(contrib[cm.priced_slacks].sum())
    contrib[cm.priced_slacks] = 0.0
    gross = float(contrib[contrib > 0].sum()) + max(float(cm.offset), 0.0)
    return max(abs(float(objective) - slack_usd), gross, 1e-9)


def cheaper(usd: float, than_usd: float) -> bool:
    """True where ``usd`` is below ``than_usd`` by more than a relative 1e-9 (LP and MILP
    objectives of the same schedule differ by solver round-off, which is no move)."""
    return usd < than_usd - 1e-9 * max(1.0, abs(than_usd))


def highest_bound(*bounds_usd: float | None) -> float | None:
    """The highest of ``bounds_usd`` (lower bounds of one model's optimum, USD) that are
    known; None where none is."""
    return max((b for b in bounds_usd if b is not None), default=None)


def relative_gap(objective: float, bound: float | None, basis_usd: float) -> float:
    """``(objective - bound) / basis_usd``, at least 0 (0 without a bound: an LP)."""
    if bound is None:
        return 0.0
    return max(0.0, (float(objective) - float(bound)) / basis_usd)


class StopAtGap:
    """HiGHS callbacks that stop a MIP at an incumbent within ``rel_gap`` of a bound
    proven elsewhere (``bound_usd``; the gap measured against the incumbent's
    ``gap_basis_usd``, as the answer's is): ``improving`` (improving-solution callback)
    marks whether the latest incumbent is that close, and the next ``interrupt``
    (MIP-interrupt callback) stops HiGHS if it is. Where HiGHS finds that incumbent
    depends on its search alone, not on the clock, so the stop is the same on every
    machine. Used by the edge search and the MILP after the start.

    ``prove`` (optional): called with each incumbent's objective and gap basis (USD), it
    returns a lower bound of the optimum proven for it elsewhere (e.g. by probing), or
    None; a bound it returns raises ``bound_usd`` before the incumbent is marked.
    ``below_usd`` (optional): also stop at the first incumbent ``cheaper`` than this: the
    edge search's rounds (``optimize.edge_search``). With ``below_within``, only where
    such an incumbent, at the first interrupt callback after HiGHS found it, also lies
    within that relative gap of the larger of ``bound_usd`` and HiGHS's dual bound then
    (``below_stop``): the MILP at a tight gap (``optimize.cutoff_restart``).

    HiGHS keeps the interrupt flag a callback set for the next run of the same ``Highs``
    object: a run with any interrupt callback subscribed then stops at its first one (in
    HiGHS 1.16, ERGO-Code/HiGHS#1761). ``interrupt`` clears it at the first call of each
    run (HiGHS's run clock went back), before setting it again when reached."""

    def __init__(
        self,
        cm: CompiledModel,
        bound_usd: float | None,
        rel_gap: float,
        prove: Callable[[float, float], float | None] | None = None,
        below_usd: float | None = None,
        below_within: float | None = None,
    ) -> None:
        self.cm, self.bound_usd, self.rel_gap, self.prove = cm, bound_usd, rel_gap, prove
        self.below_usd, self.below_within = below_usd, below_within
        self.latest: tuple[float, float] | None = None  # the latest incumbent, its basis
        self._fresh = False  # no interrupt callback since the latest incumbent
        self.reached = False
        self.dual_bound_at_below_stop: float | None = None  # HiGHS's, at that callback
        self._last_s = float("inf")  # HiGHS's run clock at the last interrupt callback

    def mark(self, objective: float, basis_usd: float, solution=None) -> None:
        """Note an incumbent of ``objective`` with gap basis ``basis_usd`` (``solution``,
        its columns, is for a stop that keeps them: ``optimize.probe_beside``)."""
        self.latest, self._fresh = (objective, basis_usd), True
        if self.bound_usd is not None:
            gap = relative_gap(objective, self.bound_usd, basis_usd)
            self.reached = gap <= self.rel_gap
        if self.below_within is None and self.below_stop(objective, basis_usd, None):
            self.reached = True

    def below_stop(self, objective: float, basis_usd: float, dual_bound_usd) -> bool:
        """Whether the stop below ``below_usd`` holds for an incumbent, where HiGHS's dual
        bound is ``dual_bound_usd`` (USD; unused without ``below_within``)."""
        if self.below_usd is None or not cheaper(objective, than_usd=self.below_usd):
            return False
        if self.below_within is None:
            return True
        bound = highest_bound(dual_bound_usd, self.bound_usd)
        return bound is not None and relative_gap(objective, bound, basis_usd) <= self.below_within

    def note_callback(self, e) -> None:
        """At an interrupt callback: the stop below ``below_usd`` with ``below_within``
        reached, where it holds for an incumbent found since the last callback, at
        HiGHS's dual bound now."""
        fresh, self._fresh = self._fresh, False
        if self.below_within is not None and fresh:
            dual_bound_usd = float(e.data_out.mip_dual_bound)
            if self.below_stop(*self.latest, dual_bound_usd):
                self.reached = True
                self.dual_bound_at_below_stop = dual_bound_usd

    def improving(self, e) -> None:
        d = e.data_out
        objective = float(d.objective_function_value)
        basis = gap_basis_usd(self.cm, d.mip_solution, objective)
        proven = None if self.prove is None else self.prove(objective, basis)
        if proven is not None and (self.bound_usd is None or proven > self.bound_usd):
            self.bound_usd = proven
        self.mark(objective, basis)

    def interrupt(self, e) -> None:
        self.clear_stale(e)
        self.note_callback(e)
        if self.reached:
            e.interrupt()

    def clear_stale(self, e) -> None:
        """Clear the interrupt flag at the first interrupt callback of a run."""
        run_s = float(e.data_out.running_time)
        if run_s < self._last_s:  # a new run: an earlier run's flag is stale
            e.interrupt(False)
        self._last_s = run_s


def prepare_compiler() -> None:
    """Set Pyomo's standard-form compiler up on this thread. It sets its array hooks on its
    first use, one after another with scipy's import between, so two threads compiling
    first at once in a fresh process could find them half set (a ``TypeError`` from
    ``_create_csc``): a rolling solve's worker and solving thread do
    (``optimize.window_prebuild``). Compiling a one-row model sets them (about 1 ms)."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.row = pyo.Constraint(expr=m.x <= 1)
    m.cost = pyo.Objective(expr=m.x)
    pyomo_write(m)


def compile_model(m: pyo.Block) -> CompiledModel:
    """Compile the active objective and constraints of ``m`` to column-wise HiGHS arrays
    (``optimize.standard_form``: Pyomo's standard form, number for number)."""
    sf = write_standard_form(m)
    inf = highspy.kHighsInf
    lower, upper, is_int = column_bounds(sf.columns)
    integrality = None
    if is_int.any():
        integrality = np.where(is_int, 1, 0).astype(np.int32)
    return CompiledModel(
        columns=sf.columns,
        rows=sf.row_constraints,
        num_col=len(sf.columns),
        num_row=sf.a.shape[0],
        offset=sf.offset,
        col_cost=sf.cost,
        col_lower=lower,
        col_upper=upper,
        row_lower=np.where(sf.row_kind <= 0, sf.rhs, -inf),
        row_upper=np.where(sf.row_kind >= 0, sf.rhs, inf),
        a_start=sf.a.indptr.astype(np.int32),
        a_index=sf.a.indices.astype(np.int32),
        a_value=sf.a.data.astype(float),
        integrality=integrality,
        priced_slacks=_priced_slack_columns(m, sf.columns),
    )


def _priced_slack_columns(m: pyo.Block, columns: list) -> np.ndarray:
    """The columns of the Var components ``m`` marks as priced slacks."""
    names = set(getattr(m, PRICED_SLACKS, ()))
    if not names:
        return np.zeros(0, dtype=np.int64)
    return np.array(
        [i for i, v in enumerate(columns) if v.parent_component().local_name in names],
        dtype=np.int64,
    )


def column_bounds(columns: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Effective bounds (variable bounds ∩ domain) and integrality of each column.

    Fast path for continuous variables: plain float bounds are read from the VarData
    directly and intersected with the domain's bounds (cached per domain); anything else
    (integer domains, Param or expression bounds) goes through ``VarData.bounds``.
    """
    n = len(columns)
    inf = highspy.kHighsInf
    lower = np.empty(n)
    upper = np.empty(n)
    is_int = np.zeros(n, dtype=bool)
    domains: dict[int, tuple] = {}
    plain = (float, int, type(None))
    for i, v in enumerate(columns):
        dom = v._domain
        info = domains.get(id(dom))
        if info is None:
            dlb, dub = dom.bounds()
            info = domains[id(dom)] = (dlb, dub, not v.is_continuous())
        lb, ub = v._lb, v._ub
        if not info[2] and lb.__class__ in plain and ub.__class__ in plain:
            dlb, dub = info[0], info[1]
            if dlb is not None and (lb is None or dlb > lb):
                lb = dlb
            if dub is not None and (ub is None or dub < ub):
                ub = dub
        else:
            lb, ub = v.bounds
        lower[i] = -inf if lb is None else lb
        upper[i] = inf if ub is None else ub
        is_int[i] = info[2]
    return lower, upper, is_int


def _pool_fits(threads: int) -> bool:
    """Whether HiGHS's pool (if any) is made for ``threads`` threads: an empty model's run
    fails where it is not (and makes the pool where there is none)."""
    h = new_highs()
    h.setOptionValue("threads", threads)
    return h.run() != highspy.HighsStatus.kError


def make_highs(cm: CompiledModel, options: SolverOptions) -> highspy.Highs:
    """A ``Highs`` object with the compiled model passed in and the options set.

    Raises ``NumericRangeError`` (a ``SolveError``) if a number of ``cm`` is out of range.
    """
    check_ranges(cm)
    h = configured_highs(options)
    pass_model(h, cm)
    return h


def configured_highs(options: SolverOptions) -> highspy.Highs:
    """An empty ``Highs`` object with the options set (``make_highs`` without its model).
    Made on the thread whose output is muted: see ``new_highs``."""
    h = new_highs(options.log_to_console or _LOG_TO_CONSOLE.get(), options.threads)
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    if options.pscost_min_reliable is not None:
        h.setOptionValue("mip_pscost_minreliable", int(options.pscost_min_reliable))
    h.setOptionValue("mip_heuristic_effort", float(options.heuristic_effort))
    h.setOptionValue("mip_allow_restart", bool(options.root_restart))
    if options.time_limit_s is not None:
        h.setOptionValue("time_limit", float(options.time_limit_s))
    if options.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(options.node_limit))
    return h


def pass_model(h: highspy.Highs, cm: CompiledModel) -> None:
    """Pass the compiled model ``cm`` to ``h`` (its numbers checked by the caller:
    ``optimize.ranges.check_ranges``)."""
    lp = highspy.HighsLp()
    lp.num_col_ = cm.num_col
    lp.num_row_ = cm.num_row
    lp.offset_ = cm.offset
    lp.col_cost_ = cm.col_cost
    lp.col_lower_ = cm.col_lower
    lp.col_upper_ = cm.col_upper
    lp.row_lower_ = cm.row_lower
    lp.row_upper_ = cm.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = cm.a_start
    lp.a_matrix_.index_ = cm.a_index
    lp.a_matrix_.value_ = cm.a_value
    if cm.integrality is not None:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[k] for k in cm.integrality.tolist()]
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolveError("HiGHS rejected the model (passModel returned kError)")


def second_highs(h: highspy.Highs, cm: CompiledModel) -> highspy.Highs:
    """Another ``Highs`` holding ``cm`` as compiled (its numbers checked when ``h`` was
    made), with ``h``'s options (the caller's extra HiGHS options included) and on its
    thread count: for work on a second thread beside ``h``'s (``optimize.restart_ahead``),
    or kept apart from the state of ``h``'s runs (``optimize.pair_moves``). Made on the
    caller's thread, where HiGHS's constructor output is muted."""
    threads = int(h.getOptionValue("threads")[1])
    other = new_highs(threads=threads or None)  # 0: HiGHS's default, any pool
    other.passOptions(h.getOptions())
    pass_model(other, cm)
    return other


def run_highs(
    h: highspy.Highs,
    is_mip: bool,
    cm: CompiledModel | None = None,
    gap_basis_hint_usd: float | None = None,
    label: str = "solve",
) -> HighsResult:
    """Run ``h`` and map its status; with ``cm`` a MIP's gap is measured against the
    answer's ``gap_basis_usd`` (progress lines, named ``label``, use
    ``gap_basis_hint_usd`` meanwhile)."""
    t0 = time.perf_counter()
    run_with_progress(h, label, gap_basis_hint_usd)  # lines on stderr if progress is on
    solve_s = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    gap = float(info.mip_gap) if is_mip else 0.0
    if ms == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif ms == highspy.HighsModelStatus.kTimeLimit:
        status = "time_limit"
    elif ms == highspy.HighsModelStatus.kSolutionLimit:  # mip_max_nodes
        status = "node_limit"
    elif ms in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        status = "infeasible"
    else:
        status = h.modelStatusToString(ms)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if is_mip else objective
    res = HighsResult(status, objective, gap, has_solution, solve_s, bound)
    if is_mip and has_solution and cm is not None:
        res.gap_basis = gap_basis_usd(cm, h.getSolution().col_value, objective)
        res.mip_gap = relative_gap(objective, bound, res.gap_basis)
    return res


def load_solution(m: pyo.Block, cm: CompiledModel, h: highspy.Highs) -> None:
    """Copy HiGHS's column values into the Pyomo variables (unused variables get 0 or lb)."""
    load_values(m, cm, h.getSolution().col_value)


def load_values(m: pyo.Block, cm: CompiledModel, values) -> None:
    """Copy a column vector into the Pyomo variables (unused variables get 0 or lb)."""
    for v, x in zip(cm.columns, values, strict=True):
        v.set_value(x, skip_validation=True)
    n_vars = sum(len(c) for c in m.component_objects(pyo.Var, active=True))
    if n_vars != cm.num_col:
        for v in m.component_data_objects(pyo.Var, active=True):
            if v.value is None:
                lb, ub = v.bounds
                x = 0.0
                if lb is not None and x < lb:
                    x = lb
                if ub is not None and x > ub:
                    x = ub
                v.set_value(x, skip_validation=True)


def set_start(h: highspy.Highs, values) -> None:
    """Give HiGHS the column values ``values`` (every column) as its MIP start."""
    start = highspy.HighsSolution()
    start.col_value = list(values)
    start.value_valid = True
    h.setSolution(start)
