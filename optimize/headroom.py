"""Interconnection headroom ("time to power"): the largest campus a grid connection can
carry if training may be curtailed, and the reverse, the connection a campus needs.

The campus runs at its full IT capacity ``L`` (MW) at every step (a planning view: no
schedule, the question is whether the connection can carry the campus when it wants to
run). Per step ``t`` (MW, step averages; ``Δ = step_h``):

- facility demand ``L · pue[t]``; of it ``L · s[t] · pue[t]`` is inference (``s[t]``, the
  inference share of IT, never curtailed) and ``L · (1 − s[t]) · pue[t]`` is training;
- curtailment ``c[t]`` in ``[0, L · (1 − s[t]) · pue[t]]`` (``headroom_curtail_max[t]``);
- balance (``headroom_balance[t]``): ``L · pue[t] − c[t] = import[t] + used[t] +
  discharge[t] − charge[t] + backup[t]``, with ``used[t]`` in ``[0, renewable_mw[t]]``
  (renewables may spill; no export: it cannot help serve load) and ``backup[t]`` in
  ``[0, backup_mw[t]]`` (the caller decides where backup may serve load; none by default);
- ``import[t] <= C · avail[t]`` (``headroom_import_limit[t]``; ``avail`` is 0 in outages,
  the derate's fraction in derates);
- battery as ``optimize.battery`` without the no-simultaneous binaries (charging and
  discharging at once only loses energy, it cannot help serve load) and with the final
  state of charge at least the initial one (no free energy from the store);
- measure ``"energy"`` (``headroom_curtail_energy``):
  ``Σ c[t] · Δ <= X · Σ L · (1 − s[t]) · pue[t] · Δ`` (a share of the training energy);
- measure ``"hours"`` (a binary ``z[t]`` per step): ``c[t] <= M[t] · z[t]``
  (``headroom_curtail_on[t]``, ``M[t] = L_max · (1 − s[t]) · pue[t]``) and
  ``Σ z[t] <= X · n`` (``headroom_curtail_hours``).

``max_campus(C, X)`` maximises ``L`` with ``C`` fixed; ``min_connection(L, X)`` minimises
``C`` with ``L`` fixed. Both are LPs with the energy measure (a MILP with hours). A second
solve fixes the first answer (or, should that be infeasible within the solver's
tolerances, lets it give way by ``_GIVE_REL``) and minimises ``Σ c[t] · Δ``, so
the curtailment reported is the least the answer needs (the first solve leaves it free
wherever the limit does not bind).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from optimize import progress
from optimize._util import linear_sum, set_upper_bounds, var_list
from optimize.answer_cost import checked_answer
from optimize.battery import define_battery
from optimize.ctrl_c import quiet_pyomo_interrupts
from optimize.errors import SolveError
from optimize.highs import compile_model, load_values, make_highs, run_highs, set_start
from optimize.problem import Battery
from optimize.solver_options import SolverOptions

MEASURES = ("energy", "hours")
# the second solve may move the size by this share should the exact size be infeasible
_GIVE_REL = 1e-7
# bounds taken from the energy LP's answer are moved outwards by this much (relative, MW)
_BOUND_GIVE_REL, _BOUND_GIVE_MW = 1e-6, 1e-6
# the energy share from the hours limit, kept below 1 (the energy measure needs X < 1)
_MAX_SHARE = 1.0 - 1e-9
# a step counts as curtailed when c[t] exceeds this share of the campus facility MW
_CURTAILED_TOL_REL = 1e-6
# a MILP's statuses when it stopped early (its answer, if it has one, is not proven)
_STOPPED = ("node_limit", "time_limit")


@dataclass(frozen=True)
class HeadroomCase:
    """A campus's per-step shape and its on-site supply (arrays of length ``n_steps``)."""

    step_h: float
    pue: np.ndarray  # facility MW per IT MW
    inference_frac: np.ndarray  # share of IT that is inference (never curtailed), in [0, 1]
    connection_avail_frac: np.ndarray  # import limit per MW of connection (0 in outages)
    renewable_mw: np.ndarray | None = None  # available renewable MW (PV + wind)
    battery: Battery | None = None
    backup_mw: np.ndarray | None = None  # generator MW that may serve load (0: may not)

    def __post_init__(self) -> None:
        for name in ("pue", "inference_frac", "connection_avail_frac", "renewable_mw", "backup_mw"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, np.asarray(value, dtype=float))
        n = self.n_steps
        for name in ("inference_frac", "connection_avail_frac", "renewable_mw", "backup_mw"):
            arr = getattr(self, name)
            if arr is not None and (arr.shape != (n,) or not np.all(np.isfinite(arr))):
                raise ValueError(f"HeadroomCase.{name} must be finite, of length {n}")
            if arr is not None and np.any(arr < 0):
                raise ValueError(f"HeadroomCase.{name} must be >= 0")
        if not (self.step_h > 0 and n >= 1 and np.all(self.pue >= 1)):
            raise ValueError("HeadroomCase: need step_h > 0, n_steps >= 1 and pue >= 1")
        for name in ("inference_frac", "connection_avail_frac"):
            if np.any(getattr(self, name) > 1):
                raise ValueError(f"HeadroomCase.{name} must lie in [0, 1]")
        frac = None if self.battery is None else self.battery.available_frac
        if frac is not None and frac.shape != (n,):
            raise ValueError(f"HeadroomCase.battery.available_frac must be of length {n}")

    @property
    def n_steps(self) -> int:
        return int(self.pue.shape[0])


@dataclass(frozen=True)
class HeadroomPoint:
    """One answer: the campus (IT MW) and the connection (MW) and the curtailment it takes.

    ``feasible`` is False when no connection serves the campus (inference in an outage
    with nothing on site); the sizes are then NaN and the rest 0.
    """

    measure: str
    max_curtail_frac: float  # X: the limit (share of training energy, or of steps)
    # "optimal"; with the hours measure "node_limit"/"time_limit" (best found, not proven);
    # "infeasible"
    status: str
    feasible: bool
    campus_it_mw: float
    connection_mw: float
    curtailed_mwh: float
    curtailed_hours: float  # steps with curtailment, times step_h
    curtailed_share_training: float  # of the campus's training energy
    curtailed_share_energy: float  # of the campus's facility energy
    max_curtailed_mw: float  # the largest single step's curtailment
    training_mwh: float
    facility_mwh: float
    solve_s: float
    curtailed_mw: np.ndarray  # per step
    # the proven bound on the size solved for: no campus above it fits (max_campus), no
    # connection below it serves the campus (min_connection); the size itself for the
    # energy measure (an LP) or a proven optimum
    size_bound_mw: float = math.nan


def max_campus(
    case: HeadroomCase,
    connection_mw: float,
    max_curtail_frac: float,
    measure: str = "energy",
    options: SolverOptions | None = None,
) -> HeadroomPoint:
    """The largest campus (IT MW) that a connection of ``connection_mw`` carries with
    training curtailed at most ``max_curtail_frac`` (of its energy, or of the steps)."""
    _check_args(max_curtail_frac, measure, connection_mw, "connection_mw")
    if measure == "energy":
        bounds = ((0.0, None), (connection_mw, connection_mw))
        return _solve(case, max_curtail_frac, measure, bounds, True, options)
    relaxed = max_campus(case, connection_mw, _hours_energy_share(case, max_curtail_frac))
    if not relaxed.feasible:
        return _infeasible_point(case, max_curtail_frac, measure, relaxed.solve_s)
    l_max = min(_campus_upper_bound_mw(case, connection_mw), _loosened(relaxed.campus_it_mw, 1))
    bounds = ((0.0, l_max), (connection_mw, connection_mw))
    return _solve_hours(case, max_curtail_frac, bounds, True, options, relaxed)


def min_connection(
    case: HeadroomCase,
    campus_it_mw: float,
    max_curtail_frac: float,
    measure: str = "energy",
    options: SolverOptions | None = None,
) -> HeadroomPoint:
    """The smallest connection (MW) that carries a campus of ``campus_it_mw`` IT MW with
    training curtailed at most ``max_curtail_frac`` (of its energy, or of the steps)."""
    _check_args(max_curtail_frac, measure, campus_it_mw, "campus_it_mw")
    if measure == "energy":
        bounds = ((campus_it_mw, campus_it_mw), (0.0, None))
        return _solve(case, max_curtail_frac, measure, bounds, False, options)
    relaxed = min_connection(case, campus_it_mw, _hours_energy_share(case, max_curtail_frac))
    if not relaxed.feasible:
        return _infeasible_point(case, max_curtail_frac, measure, relaxed.solve_s)
    bounds = ((campus_it_mw, campus_it_mw), (_loosened(relaxed.connection_mw, -1), None))
    return _solve_hours(case, max_curtail_frac, bounds, False, options, relaxed)


def _solve_hours(case, frac, bounds, maximise_campus: bool, options, relaxed) -> HeadroomPoint:
    """The hours MILP within ``bounds`` (from the energy LP's answer ``relaxed``), started
    from the steps that LP curtails most; its time includes the LP's."""
    start = _most_curtailed_steps(relaxed, frac)
    point = _solve(case, frac, "hours", bounds, maximise_campus, options, start)
    return dataclasses.replace(point, solve_s=point.solve_s + relaxed.solve_s)


def _hours_energy_share(case: HeadroomCase, frac: float) -> float:
    """The largest share of the training energy that curtailing ``X · n`` steps can take
    (those of most training demand, whole): every answer under the hours measure meets the
    energy measure at this share, so the energy LP's answer bounds the hours MILP's (a
    campus no larger, a connection no smaller), which tightens the MILP's big-M."""
    train = (1.0 - case.inference_frac) * case.pue
    k = _curtailable_steps(frac, case.n_steps)
    if k == 0 or train.sum() <= 0:
        return 0.0
    return min(float(np.sort(train)[-k:].sum() / train.sum()), _MAX_SHARE)


def _most_curtailed_steps(relaxed: HeadroomPoint, frac: float) -> np.ndarray:
    """The MILP's start: curtailment allowed in the ``X · n`` steps the energy LP curtails
    most (one LP with those steps fixed: on R1's year with its battery, a campus 1.7 %
    larger than HiGHS's own heuristics found in 120 s)."""
    n = len(relaxed.curtailed_mw)
    on = np.zeros(n, dtype=bool)
    on[np.argsort(-relaxed.curtailed_mw, kind="stable")[: _curtailable_steps(frac, n)]] = True
    return on


def _curtailable_steps(frac: float, n: int) -> int:
    """``X · n`` rounded down: the most steps the hours measure lets training curtail (the
    tolerance keeps 0.29 · 100, which is 28.999… in floating point, at 29)."""
    return int(math.floor(frac * n + 1e-9))


def _loosened(size: float, direction: int) -> float:
    """``size`` moved by the solver's tolerance, up (``direction`` 1) or down (-1): a bound
    from an LP's answer that must not cut off the MILP's."""
    return max(0.0, size + direction * (_BOUND_GIVE_REL * abs(size) + _BOUND_GIVE_MW))


def _check_args(frac: float, measure: str, size: float, name: str) -> None:
    if not (math.isfinite(frac) and 0 <= frac < 1):
        raise ValueError(f"max_curtail_frac must lie in [0, 1), got {frac}")
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if not (math.isfinite(size) and size >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {size}")


def _campus_upper_bound_mw(case: HeadroomCase, connection_mw: float) -> float:
    """An upper bound on L with the hours measure (its big-M needs one): with X < 1 some
    step is not curtailed, so ``L <= max_t supply_max[t] / min_t pue[t]``."""
    supply = connection_mw * case.connection_avail_frac
    for arr in (case.renewable_mw, case.backup_mw):
        if arr is not None:
            supply = supply + arr
    if case.battery is not None:
        supply = supply + case.battery.power_mw
    return float(np.max(supply)) / float(np.min(case.pue))


def _solve(
    case, frac, measure, bounds, maximise_campus: bool, options, start: np.ndarray | None = None
) -> HeadroomPoint:
    """Build, solve for the size (``bounds``: (campus, connection) MW; ``start``: the steps
    whose curtailment the hours MILP starts from), then keep the size and minimise the
    curtailment."""
    options = options or default_options(measure)
    quiet_pyomo_interrupts()  # a Ctrl-C in the build: no Pyomo log of it (optimize.ctrl_c)
    with PauseGC():
        m = _build_model(case, frac, measure, *bounds)
    size_var = m.campus_it_mw if maximise_campus else m.connection_mw
    sense = -1.0 if maximise_campus else 1.0
    m.obj_size = pyo.Objective(expr=sense * size_var)
    # progress lines: the objective is a size in MW (negated where the campus is maximised)
    with progress.objective_unit("MW"):
        status, solve_s, bound = _run(m, options, start)
    if status == "infeasible":
        return _infeasible_point(case, frac, measure, solve_s)
    size_bound = sense * bound if bound is not None else float(size_var.value)
    m.obj_size.deactivate()
    m.obj_curtail = pyo.Objective(expr=linear_sum([1.0] * case.n_steps, var_list(m.curtail_mw)))
    with progress.objective_unit("MW-steps of curtailment"):
        status2, solve2_s = _least_curtailment(m, size_var, maximise_campus, options)
    status = status if status != "optimal" else status2
    point = _point(m, case, frac, measure, solve_s + solve2_s, status)
    return dataclasses.replace(point, size_bound_mw=size_bound)


def _least_curtailment(m, size_var, maximise_campus: bool, options) -> tuple[str, float]:
    """The second solve: the size fixed at the first answer; should that be infeasible
    within the solver's tolerances (seen with the hours MILP), the size may give way by
    ``_GIVE_REL`` (towards the safe side: a smaller campus, a larger connection)."""
    size = max(0.0, float(size_var.value))
    size_var.fix(size)
    status, solve_s = _run_or_keep(m, options)
    if status != "infeasible":
        return status, solve_s
    size_var.unfix()
    give = _GIVE_REL * max(size, 1.0)
    size_var.setlb(max(0.0, size - give) if maximise_campus else size)
    size_var.setub(size if maximise_campus else size + give)
    status, solve2_s = _run_or_keep(m, options)
    if status == "infeasible":
        raise SolveError("headroom: the curtailment solve failed after the size solve")
    return status, solve_s + solve2_s


def _run_or_keep(m: pyo.Block, options: SolverOptions) -> tuple[str, float]:
    """``_run`` of the curtailment solve (status, seconds). Where the hours MILP stops at
    its node or time limit before it finds an answer of its own, ``m`` keeps the size
    solve's values, an answer at that size, and the stop's status is returned: two weeks
    at 15-minute steps had failed whole ("HiGHS stopped with status node_limit")."""
    t0 = time.perf_counter()
    try:
        status, solve_s, _ = _run(m, options)
    except SolveError as exc:
        if exc.status not in _STOPPED:
            raise
        return exc.status, time.perf_counter() - t0
    return status, solve_s


def default_options(measure: str) -> SolverOptions:
    """The energy measure is an LP (solved exactly); the hours measure's MILP stops at a
    proven 0.1 % or after 1,000 nodes (status ``"node_limit"``: the best answer found, with
    its proven bound in ``size_bound_mw``)."""
    if measure == "hours":
        return SolverOptions(mip_rel_gap=1e-3, node_limit=1_000)
    return SolverOptions(mip_rel_gap=1e-6, node_limit=None)


def _run(
    m: pyo.Block, options: SolverOptions, start: np.ndarray | None = None
) -> tuple[str, float, float | None]:
    """Solve ``m`` (from ``start``, see ``_set_hours_start``); return its status
    (``"infeasible"``, ``"optimal"``, ``"node_limit"``, ``"time_limit"``; ``"heuristic"``
    where HiGHS misvalued the start and its plain re-solve proved nothing better:
    ``optimize.answer_cost``), the solve time (s) and the proven bound of its objective;
    raise ``SolveError`` on any other failure."""
    cm = compile_model(m)
    h = make_highs(cm, options)
    start_s = 0.0 if start is None else _set_hours_start(h, cm, m, start)
    res = run_highs(h, cm.integrality is not None, cm)
    if res.status == "infeasible":
        return res.status, res.solve_s + start_s, None
    if not res.has_solution or res.status not in ("optimal", "node_limit", "time_limit"):
        raise SolveError(f"headroom: HiGHS stopped with status {res.status}", res.status)
    # a start HiGHS values below its cost: the answer at its own cost, or plain HiGHS's
    res, values = checked_answer(h, cm, options, res, None)
    load_values(m, cm, h.getSolution().col_value if values is None else values)
    return res.status, res.solve_s + start_s, res.bound


def _set_hours_start(h, cm, m, on: np.ndarray) -> float:
    """Solve ``h`` with the curtailment binaries fixed to ``on`` and give the answer to
    HiGHS as its start (none if that is infeasible); return the seconds taken."""
    t0 = time.perf_counter()
    col = cm.column_index()
    steps = [t for t in m.T if id(m.headroom_curtailed[t]) in col]
    cols = np.array([col[id(m.headroom_curtailed[t])] for t in steps], dtype=np.int32)
    fixed = on[steps].astype(float)
    h.changeColsBounds(len(cols), cols, fixed, fixed)
    h.run()
    feasible = h.getInfo().primal_solution_status == 2
    values = np.asarray(h.getSolution().col_value) if feasible else None
    h.changeColsBounds(len(cols), cols, cm.col_lower[cols], cm.col_upper[cols])
    h.clearSolver()
    if values is not None:
        set_start(h, values)
    return time.perf_counter() - t0


def _build_model(case, frac, measure, campus_bounds, conn_bounds) -> pyo.ConcreteModel:
    n, step_h = case.n_steps, float(case.step_h)
    m = pyo.ConcreteModel(name="headroom")
    m.T = pyo.RangeSet(0, n - 1)
    m.bus_injections = []
    m.campus_it_mw = pyo.Var(bounds=campus_bounds, within=pyo.NonNegativeReals)
    m.connection_mw = pyo.Var(bounds=conn_bounds, within=pyo.NonNegativeReals)
    m.grid_import_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.curtail_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    imp, cut = var_list(m.grid_import_mw), var_list(m.curtail_mw)
    m.bus_injections.append((1.0, imp))
    _add_supply(m, case, step_h)
    pue = case.pue.tolist()
    train = ((1.0 - case.inference_frac) * case.pue).tolist()
    avail = case.connection_avail_frac.tolist()
    lv, cv = m.campus_it_mw, m.connection_mw
    m.headroom_import_limit = pyo.Constraint(
        m.T, rule=lambda m, t: linear_sum((1.0, -avail[t]), (imp[t], cv)) <= 0.0
    )
    m.headroom_curtail_max = pyo.Constraint(
        m.T, rule=lambda m, t: linear_sum((1.0, -train[t]), (cut[t], lv)) <= 0.0
    )
    inj = m.bus_injections

    def balance(m, t):
        coefs = [c for c, _ in inj] + [-pue[t], 1.0]
        return linear_sum(coefs, [v[t] for _, v in inj] + [lv, cut[t]]) == 0.0

    m.headroom_balance = pyo.Constraint(m.T, rule=balance)
    m.headroom_curtail_energy = pyo.Constraint(
        expr=linear_sum([step_h] * n + [-frac * step_h * sum(train)], cut + [lv]) <= 0.0
    )
    if measure == "hours":
        m.headroom_curtail_energy.deactivate()
        useful = _useful_curtailment_mw(case, campus_bounds[1], conn_bounds[0])
        _add_hours_limit(m, frac, np.minimum(campus_bounds[1] * np.array(train), useful))
    return m


def _add_supply(m: pyo.Block, case: HeadroomCase, step_h: float) -> None:
    """Renewables (spillable), backup and the battery, as bus injections."""
    if case.renewable_mw is not None:
        m.renewable_used_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
        set_upper_bounds(m.renewable_used_mw, case.renewable_mw.tolist())
        m.bus_injections.append((1.0, var_list(m.renewable_used_mw)))
    if case.backup_mw is not None:
        m.backup_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
        set_upper_bounds(m.backup_mw, case.backup_mw.tolist())
        m.bus_injections.append((1.0, var_list(m.backup_mw)))
    b = case.battery
    if b is not None and b.power_mw > 0 and b.energy_mwh > 0:
        final = b.soc_initial_frac if b.soc_final_frac is None else b.soc_final_frac
        b = dataclasses.replace(
            b, no_simultaneous=False, soc_final_frac=max(final, b.soc_initial_frac)
        )
        define_battery(m, b, step_h)  # its wear term is not part of the headroom objective


def _useful_curtailment_mw(case: HeadroomCase, l_max: float, c_min: float) -> np.ndarray:
    """Per step, the most curtailment that can help (MW): the campus's demand at ``l_max``
    less what the connection (at least ``c_min``), the renewables and the backup can supply,
    plus the battery's charge power. Curtailing more leaves supply that the import or the
    renewables give up instead: the same answer, with less curtailment in the same steps."""
    supply = c_min * case.connection_avail_frac
    for arr in (case.renewable_mw, case.backup_mw):
        if arr is not None:
            supply = supply + arr
    charge_mw = 0.0 if case.battery is None else case.battery.power_mw
    return np.maximum(0.0, l_max * case.pue - supply + charge_mw)


def _add_hours_limit(m, frac: float, big_m: np.ndarray) -> None:
    """``c[t] <= M[t] · z[t]`` and ``Σ z[t] <= X · n``; ``M[t]``: the most curtailment step
    ``t`` can use (the smaller, the tighter the relaxation)."""
    n = len(big_m)
    m.headroom_curtailed = pyo.Var(m.T, within=pyo.Binary)
    z, cut = var_list(m.headroom_curtailed), var_list(m.curtail_mw)
    coef = big_m.tolist()
    m.headroom_curtail_on = pyo.Constraint(
        m.T, rule=lambda m, t: linear_sum((1.0, -coef[t]), (cut[t], z[t])) <= 0.0
    )
    m.headroom_curtail_hours = pyo.Constraint(expr=linear_sum([1.0] * n, z) <= frac * n)


def _point(m, case: HeadroomCase, frac, measure, solve_s: float, status: str) -> HeadroomPoint:
    step_h = case.step_h
    campus = float(m.campus_it_mw.value)
    cut = np.maximum(np.array([v.value for v in var_list(m.curtail_mw)], dtype=float), 0.0)
    facility_mwh = campus * float(case.pue.sum()) * step_h
    training_mwh = campus * float(((1 - case.inference_frac) * case.pue).sum()) * step_h
    curtailed_mwh = float(cut.sum()) * step_h
    tol_mw = _CURTAILED_TOL_REL * max(1.0, campus * float(case.pue.max()))
    return HeadroomPoint(
        measure=measure,
        max_curtail_frac=float(frac),
        status=status,
        feasible=True,
        campus_it_mw=campus,
        connection_mw=float(m.connection_mw.value),
        curtailed_mwh=curtailed_mwh,
        curtailed_hours=float(np.count_nonzero(cut > tol_mw)) * step_h,
        curtailed_share_training=curtailed_mwh / training_mwh if training_mwh > 0 else 0.0,
        curtailed_share_energy=curtailed_mwh / facility_mwh if facility_mwh > 0 else 0.0,
        max_curtailed_mw=float(cut.max()),
        training_mwh=training_mwh,
        facility_mwh=facility_mwh,
        solve_s=solve_s,
        curtailed_mw=cut,
    )


def _infeasible_point(case: HeadroomCase, frac, measure, solve_s: float) -> HeadroomPoint:
    return HeadroomPoint(
        measure=measure,
        max_curtail_frac=float(frac),
        status="infeasible",
        feasible=False,
        campus_it_mw=math.nan,
        connection_mw=math.nan,
        curtailed_mwh=0.0,
        curtailed_hours=0.0,
        curtailed_share_training=0.0,
        curtailed_share_energy=0.0,
        max_curtailed_mw=0.0,
        training_mwh=0.0,
        facility_mwh=0.0,
        solve_s=solve_s,
        curtailed_mw=np.zeros(case.n_steps),
    )
