"""AC-feasible planning (mode ``plan-ac``): power flow on the plan, linearised cuts, re-solve.

The dispatch optimiser sees a copper plate. Here each planned step is run through the AC
power flow of the scenario's pandapower network; for every step where a bus voltage or a
branch loading is outside its limit, the violated quantity is linearised at that step's
operating point with respect to the active-power dispatch variables (see
:func:`sensitivities`) and added to the problem as a :class:`optimize.network_cuts.LinearCut`
for that step. A step whose power flow has no solution is linearised where its
injections, scaled back, first break a limit (:func:`backoff_cuts`). The problem is
re-solved with all cuts found so far, and the loop repeats
until the plan is AC-feasible, ``max_iterations`` is reached or the cuts admit no dispatch;
the plan with the smallest violations is kept. See docs/cosimulation.md.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.pypower.dSbus_dV import dSbus_dV
from scipy.sparse import bmat
from scipy.sparse.linalg import splu

import optimize
from microgrid.assemble import network_parameters
from microgrid.dispatch import optimize_dispatch
from microgrid.network import INJECTION_COLUMNS, apply_injections, build_network
from microgrid.powerflow import run_timeseries_detailed
from microgrid.results import timeseries_frame
from optimize.network_cuts import LinearCut
from optimize.progress import report as report_progress

#: Dispatch variables whose injections the sensitivities are taken for.
SENS_VARIABLES = INJECTION_COLUMNS


@dataclass
class Sensitivities:
    """d(quantity)/d(dispatch variable, MW) at one operating point.

    ``vm_pu`` (buses x variables, pu/MW) and ``line_loading_pct`` / ``trafo_loading_pct``
    (branches x variables, %/MW), indexed by pandapower element index and variable name
    (:data:`SENS_VARIABLES`); ``base`` holds the operating point's values.
    """

    vm_pu: pd.DataFrame
    line_loading_pct: pd.DataFrame
    trafo_loading_pct: pd.DataFrame
    base_vm_pu: pd.Series
    base_line_loading_pct: pd.Series
    base_trafo_loading_pct: pd.Series


def _tan(pf: float) -> float:
    return math.tan(math.acos(pf))


def _injection_directions(net) -> dict[str, tuple[int, float, float]]:
    """Variable -> (pandapower bus, dP_inj, dQ_inj) per MW of the variable (generation > 0)."""
    el = net["microgrid"]["elements"]
    params = net["microgrid"]["params"]
    out: dict[str, tuple[int, float, float]] = {}
    load_bus = int(net.load.at[el["load"], "bus"])
    # the load's Q follows its power factor: dQ/dP = tan(phi) (lagging, consumed)
    out["facility_load_mw"] = (load_bus, -1.0, -_tan(params["load_power_factor"]))
    for key, var, pf_key in (
        ("sgen_pv", "pv_used_mw", "pv_power_factor"),
        ("sgen_wind", "wind_used_mw", "wind_power_factor"),
        ("sgen_backup_gen", "backup_gen_mw", None),
    ):
        if key in el:
            tan = _tan(params[pf_key]) if pf_key else 0.0
            # renewables at pf < 1 absorb Q (see network.injection_profiles)
            out[var] = (int(net.sgen.at[el[key], "bus"]), 1.0, -tan)
    if "storage" in el:
        bus = int(net.storage.at[el["storage"], "bus"])
        out["battery_discharge_mw"] = (bus, 1.0, 0.0)
        out["battery_charge_mw"] = (bus, -1.0, 0.0)
    return out


def sensitivities(net, step: dict | pd.Series) -> Sensitivities:
    """Run ``runpp`` at the dispatch ``step`` and linearise around it.

    Newton's power-flow equations ``F(theta, |V|) = S_calc(V) - S_inj = 0`` give, for a
    change ``dS_inj`` of the injections, ``J [d theta_pvpq; d|V|_pq] = [dP_pvpq; dQ_pq]``
    with ``J`` the Jacobian built from ``Ybus`` and ``V`` (``dSbus_dV``). A MW of facility
    load is ``dP = -1, dQ = -tan(phi)`` at the data-center bus; a MW of PV/wind/backup
    ``dP = +1`` (and ``dQ = -tan(phi_gen)``) at its bus; battery discharge ``+1`` and charge
    ``-1`` at the storage bus. Branch currents ``I_f = Y_f V`` change by
    ``Y_f dV`` with ``dV = V (j d theta + d|V| / |V|)``, so
    ``d|I_f| = Re(conj(I_f) dI_f) / |I_f|``; loading (pandapower's max over both ends) scales
    with the larger end current.
    """
    apply_injections(net, {k: step.get(k, 0.0) for k in INJECTION_COLUMNS if k in step})
    pp.runpp(net, numba=False)
    ppci = net._ppc["internal"]
    ybus, v = ppci["Ybus"], ppci["V"]
    pv, pq = np.asarray(ppci["pv"], int), np.asarray(ppci["pq"], int)
    pvpq = np.r_[pv, pq]
    ds_dvm, ds_dva = dSbus_dV(ybus, v)
    j = bmat(
        [
            [ds_dva[pvpq][:, pvpq].real, ds_dvm[pvpq][:, pq].real],
            [ds_dva[pq][:, pvpq].imag, ds_dvm[pq][:, pq].imag],
        ],
        format="csc",
    )
    lu = splu(j)
    base_mva = float(ppci["baseMVA"])
    lookup = net._pd2ppc_lookups["bus"]
    dirs = _injection_directions(net)
    variables = list(dirs)
    nb = len(v)
    dva = np.zeros((nb, len(variables)))
    dvm = np.zeros((nb, len(variables)))
    for k, var in enumerate(variables):
        bus, dp, dq = dirs[var]
        i = int(lookup[bus])
        ds = np.zeros(nb, dtype=complex)
        ds[i] = (dp + 1j * dq) / base_mva
        x = lu.solve(np.r_[ds[pvpq].real, ds[pq].imag])
        dva[pvpq, k] = x[: len(pvpq)]
        dvm[pq, k] = x[len(pvpq) :]
    buses = net.bus.index
    vm_sens = pd.DataFrame(dvm[lookup[buses]], index=buses, columns=variables)
    dv = v[:, None] * (1j * dva + dvm / np.abs(v)[:, None])

    def branch_sens(table: str, loading: pd.Series) -> pd.DataFrame:
        rng = net._pd2ppc_lookups["branch"].get(table)
        out = pd.DataFrame(0.0, index=net[table].index, columns=variables)
        if rng is None or not len(net[table]):
            return out
        rows = np.arange(rng[0], rng[1])
        i_f = ppci["Yf"][rows] @ v
        i_t = ppci["Yt"][rows] @ v
        di_f = ppci["Yf"][rows] @ dv
        di_t = ppci["Yt"][rows] @ dv
        use_f = np.abs(i_f) >= np.abs(i_t)
        i_end = np.where(use_f, i_f, i_t)
        di_end = np.where(use_f[:, None], di_f, di_t)
        with np.errstate(invalid="ignore", divide="ignore"):
            dmag = (np.conj(i_end)[:, None] * di_end).real / np.abs(i_end)[:, None]
            scale = loading.to_numpy(float) / np.abs(i_end)
        sens = np.nan_to_num(dmag * scale[:, None])
        out.loc[:, :] = sens
        return out

    return Sensitivities(
        vm_pu=vm_sens,
        line_loading_pct=branch_sens("line", net.res_line.loading_percent),
        trafo_loading_pct=branch_sens("trafo", net.res_trafo.loading_percent),
        base_vm_pu=net.res_bus.vm_pu.copy(),
        base_line_loading_pct=net.res_line.loading_percent.copy(),
        base_trafo_loading_pct=net.res_trafo.loading_percent.copy(),
    )


def _cut(
    step: int,
    sens: pd.Series,
    x0: dict[str, float],
    base: float,
    lower: float | None,
    upper: float | None,
    name: str,
) -> LinearCut:
    """``lower <= base + sum s_k (x_k - x0_k) <= upper`` as a cut on ``sum s_k x_k``."""
    coeffs = {k: float(c) for k, c in sens.items() if abs(c) > 1e-12}
    shift = sum(coeffs[k] * float(x0.get(k, 0.0)) for k in coeffs) - base
    return LinearCut(
        step=step,
        coeffs=coeffs,
        lower=None if lower is None else lower + shift,
        upper=None if upper is None else upper + shift,
        name=name,
        unit="pu" if name.startswith("vm_") else "%",  # voltage or branch loading
    )


def cuts_for_step(
    net, step: int, row: pd.Series, limits: dict, margin_pu: float, margin_pct: float
) -> list[LinearCut]:
    """Linearised cuts for every quantity of ``row`` (a dispatch step) outside its limit."""
    s = sensitivities(net, row)
    x0 = {k: float(row.get(k, 0.0)) for k in SENS_VARIABLES}
    cuts = []
    for bus, vm in s.base_vm_pu.items():
        lo, hi = limits["vm_min_pu"].get(bus, 0.95), limits["vm_max_pu"].get(bus, 1.05)
        name = net.bus.at[bus, "name"]
        if vm < lo:
            cuts.append(
                _cut(step, s.vm_pu.loc[bus], x0, vm, lo + margin_pu, None, f"vm_min:{name}:{step}")
            )
        elif vm > hi:
            cuts.append(
                _cut(step, s.vm_pu.loc[bus], x0, vm, None, hi - margin_pu, f"vm_max:{name}:{step}")
            )
    for table, base, sens, lim in (
        ("line", s.base_line_loading_pct, s.line_loading_pct, limits["line_max_pct"]),
        ("trafo", s.base_trafo_loading_pct, s.trafo_loading_pct, limits["trafo_max_pct"]),
    ):
        for el, ld in base.items():
            cap = float(lim.get(el, 100.0))
            if ld > cap:
                label = f"{table}:{net[table].at[el, 'name']}:{step}"
                cuts.append(_cut(step, sens.loc[el], x0, ld, None, cap - margin_pct, label))
    return cuts


def _check(net, ts: pd.DataFrame, engine: str):
    cols = [c for c in INJECTION_COLUMNS if c in ts]
    res = run_timeseries_detailed(net, ts[cols].reset_index(drop=True), engine=engine)
    return res


#: violations listed one by one in ``summary.json["ac_plan"]["remaining_violations"]``
MAX_LISTED_VIOLATIONS = 20
#: USD per % (voltage: of nominal; loading: of the limit) per step by which a soft cut is
#: missed: above what moving a step's load costs in real cases (a few 1,000 USD), so the
#: solver first gets as close to the limits as it can; below what upsets HiGHS's
#: numerics (costs of 1e10 beside ordinary ones do, see optimize/ranges.py)
SOFT_CUT_PENALTY_USD_PER_PCT = 1e5
#: re-solves with soft cuts that keep no better plan before the loop stops: the cuts are
#: known unreachable, and a feeder that carries no step (300 km) gains nothing from more
SOFT_STALL_ITERATIONS = 2


def _plan_cost(dispatch: optimize.Dispatch) -> float:
    """The dispatch's objective without the price of missed soft cuts (USD)."""
    return dispatch.objective_usd - dispatch.costs.get("network_cut_penalty_usd", 0.0)


def _resolve(scenario, problem, cuts: list[LinearCut], penalty: float | None):
    """The plan with ``cuts`` (hard, or priced at ``penalty`` USD per % when set)."""
    cut_problem = dataclasses.replace(
        problem, network_cuts=tuple(cuts), network_cut_penalty_usd_per_pct=penalty
    )
    return optimize_dispatch(scenario, cut_problem, "plan with network cuts")


@dataclass
class _Checked:
    """A plan and its AC check: limit violations on the steps whose power flow converged
    (``viol``, see ``powerflow.list_violations``) and the steps where it did not."""

    iteration: int
    dispatch: optimize.Dispatch
    viol: pd.DataFrame
    diverged_steps: np.ndarray

    @property
    def n_violations(self) -> int:
        """Limit violations, counting a step without a power-flow solution as one."""
        return len(self.viol) + len(self.diverged_steps)

    @property
    def steps(self) -> set[int]:
        """The steps with a violation or no power-flow solution."""
        steps = set(self.viol["step"].astype(int)) if len(self.viol) else set()
        return steps | {int(t) for t in self.diverged_steps}

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def excess_pct(self) -> float:
        """The violations' size, in the unit the soft cuts price: % of nominal voltage
        (pu × 100) or % points of loading beyond each limit, summed over the violations."""
        if not len(self.viol):
            return 0.0
        beyond = (self.viol["value"] - self.viol["limit"]).abs()
        scale = np.where(self.viol["quantity"] == "vm_pu", 100.0, 1.0)
        return float((beyond * scale).sum())

    @property
    def rank(self) -> tuple[int, float, int, float]:
        """Fewest steps without a power-flow solution, then the smallest violations (a plan
        with more but smaller violations is nearer the limits: the weak case at 40 km once
        kept 0.750 pu over the soft cuts' 0.839 pu for one violation fewer), then the
        fewest violations, then the lowest cost."""
        return (
            len(self.diverged_steps),
            self.excess_pct,
            self.n_violations,
            _plan_cost(self.dispatch),
        )


def _checked(it: int, dispatch, res) -> _Checked:
    diverged = np.flatnonzero(~res.summary["converged"].to_numpy(dtype=bool))
    return _Checked(it, dispatch, res.violations(), diverged)


def _history_row(c: _Checked, res, n_cuts: int, soft: bool) -> dict:
    return {
        "iteration": c.iteration,
        "soft_cuts": soft,  # the plan was solved with the cuts priced, not hard
        "objective_usd": _plan_cost(c.dispatch),
        "violations": c.n_violations,
        "violation_excess_pct": c.excess_pct,  # their size: what the plan kept is ranked on
        "violation_steps": c.n_steps,
        "diverged_steps": len(c.diverged_steps),
        "min_dc_bus_vm_pu": float(res.summary["dc_bus_vm_pu"].min()),
        "max_line_loading_pct": float(res.summary["max_line_loading_pct"].max()),
        "n_cuts": n_cuts,
    }


def _listed_violations(viol: pd.DataFrame, index: pd.DatetimeIndex) -> list[dict]:
    """The first ``MAX_LISTED_VIOLATIONS`` violations with their UTC time (JSON-ready)."""
    return [
        {
            "time_utc": index[int(v.step)].isoformat(),
            "element_type": str(v.element_type),
            "name": str(v.name),
            "quantity": str(v.quantity),
            "value": float(v.value),
            "limit": float(v.limit),
        }
        for v in viol.head(MAX_LISTED_VIOLATIONS).itertuples(index=False)
    ]


def _unreachable(diagnosis: list, index: pd.DatetimeIndex) -> list[dict]:
    """The network cuts the elastic diagnosis relaxed, JSON-ready: ``limit`` (``vm_min``,
    ``vm_max``, ``line``, ``trafo``), ``element``, ``time_utc``, ``short_by`` and ``unit``
    (the cut names are ``limit:element:step``, see :func:`cuts_for_step`)."""
    out = []
    for s in diagnosis[:MAX_LISTED_VIOLATIONS]:
        if s.kind != "network_cut":
            continue
        limit, rest = s.name.split(":", 1)
        element, step = rest.rsplit(":", 1)
        out.append(
            {
                "limit": limit,
                "element": element,
                "time_utc": index[int(step)].isoformat(),
                "short_by": float(s.amount),
                "unit": s.unit,
            }
        )
    return out


#: halvings of the back-off search at a step without a power-flow solution: the point
#: linearised at lies within 2**-8 (0.4 %) of the step's dispatch of the boundary found
BACKOFF_HALVINGS = 8


def _scaled(row: pd.Series, alpha: float) -> pd.Series:
    """The step's injections (:data:`SENS_VARIABLES`) scaled by ``alpha``."""
    return pd.Series({k: alpha * float(row.get(k, 0.0)) for k in SENS_VARIABLES})


def collapse_cut(net, step: int, row: pd.Series, margin_pu: float) -> LinearCut:
    """Hold the bus voltage that moves most along the ray from no injection to ``row`` (a
    dispatch step whose power flow has a solution) on ``row``'s side: the cut at a step
    whose power flow collapses before any limit is broken."""
    s = sensitivities(net, row)
    x0 = {k: float(row.get(k, 0.0)) for k in SENS_VARIABLES}
    slope = s.vm_pu.mul(pd.Series(x0)[s.vm_pu.columns], axis=1).sum(axis=1)  # dV/dalpha
    bus = slope.abs().idxmax()
    vm, name = float(s.base_vm_pu[bus]), net.bus.at[bus, "name"]
    label = f"vm_collapse:{name}:{step}"
    if slope[bus] < 0:
        return _cut(step, s.vm_pu.loc[bus], x0, vm, vm + margin_pu, None, label)
    return _cut(step, s.vm_pu.loc[bus], x0, vm, None, vm - margin_pu, label)


def backoff_cuts(
    net, step: int, row: pd.Series, limits: dict, margin_pu: float, margin_pct: float
) -> list[LinearCut]:
    """Cuts for a step ``row`` whose power flow has no solution, so no point to linearise at.

    The step's injections scaled by ``alpha`` in [0, 1] (no injection has a solution) are
    searched by halving for the boundary where the power flow first breaks a limit or finds
    no solution. The cuts are those of the nearest point beyond it that has a solution and
    breaks a limit (:func:`cuts_for_step`); where the flow collapses first, with every
    limit kept up to it, :func:`collapse_cut` at the last point kept.
    """
    alpha_ok, alpha_bad, beyond = 0.0, 1.0, []
    for _ in range(BACKOFF_HALVINGS):
        alpha = 0.5 * (alpha_ok + alpha_bad)
        try:
            cuts = cuts_for_step(net, step, _scaled(row, alpha), limits, margin_pu, margin_pct)
        except pp.LoadflowNotConverged:
            alpha_bad = alpha
            continue
        if cuts:
            alpha_bad, beyond = alpha, cuts
        else:
            alpha_ok = alpha
    if beyond:
        return beyond
    return [collapse_cut(net, step, _scaled(row, alpha_ok), margin_pu)]


def _new_cuts(net, ts, res, checked: _Checked, margin_pu: float, margin_pct: float):
    """Cuts for every step of ``ts`` with a violation in ``res`` or no power-flow solution."""
    limits = {
        "vm_min_pu": res.vm_min_pu,
        "vm_max_pu": res.vm_max_pu,
        "line_max_pct": res.line_max_pct,
        "trafo_max_pct": res.trafo_max_pct,
    }
    diverged = {int(t) for t in checked.diverged_steps}
    cuts = []
    for step in sorted(checked.steps):
        args = (net, step, ts.iloc[step], limits, margin_pu, margin_pct)
        try:
            cuts += backoff_cuts(*args) if step in diverged else cuts_for_step(*args)
        except pp.LoadflowNotConverged:
            continue  # runpp finds no solution where the time series did: no cut here
    return cuts


def _outcome(best: _Checked, first: optimize.Dispatch, history: list, index) -> dict:
    """The report's entries on the plan kept (``best``) against the first one."""
    return {
        "converged": best.n_violations == 0,
        "best_iteration": best.iteration,
        "violations_initial": history[0]["violations"],
        "violations_left": best.n_violations,
        "violation_steps_left": best.n_steps,
        "remaining_violations": _listed_violations(best.viol, index),
        "diverged_steps_left": len(best.diverged_steps),
        "diverged_times_utc": [
            index[int(t)].isoformat() for t in best.diverged_steps[:MAX_LISTED_VIOLATIONS]
        ],
        "objective_before_usd": first.objective_usd,
        "objective_after_usd": _plan_cost(best.dispatch),
        "cost_of_ac_feasibility_usd": _plan_cost(best.dispatch) - first.objective_usd,
    }


def _stop_reason(best: _Checked, stopped: str, soft: bool) -> str:
    """Why the loop stopped (``stopped``: "max_iterations" where it ran out of re-solves or
    stalled on soft cuts, "power_flow_diverged" where it found no cut)."""
    if best.n_violations == 0:
        return "ac_feasible"
    if stopped == "max_iterations" and soft:
        return "limits_unreachable"
    return stopped


def plan_ac(
    scenario,
    inputs,
    problem: optimize.Problem,
    dispatch: optimize.Dispatch,
    *,
    max_iterations: int = 8,
    margin_pu: float = 0.002,
    margin_pct: float = 1.0,
) -> tuple[optimize.Dispatch, dict]:
    """Iterate AC check -> cuts -> re-solve; return the best dispatch and the report.

    The loop stops when a plan is AC-feasible (``stopped_because: "ac_feasible"``), after
    ``max_iterations`` re-solves (``"max_iterations"``), or when no cut is found
    (``"power_flow_diverged"``: only steps whose power flow has no solution are left, and
    no point short of them could be linearised at). A step without a solution counts as one
    violation; it is cut where its injections, scaled back, first break a limit
    (:func:`backoff_cuts`). When the cuts found so far admit
    no dispatch at all (e.g. a feeder too long for the fixed load), the elastic diagnosis
    names the cuts that cannot be met (``unreachable_limits``) and the loop goes on with
    all cuts soft, priced at ``SOFT_CUT_PENALTY_USD_PER_PCT``, to get as close as it can
    (``"limits_unreachable"`` if it ends with violations, or once
    ``SOFT_STALL_ITERATIONS`` such re-solves keep no better plan). The dispatch returned is the
    plan with the fewest steps without a solution, then the smallest violations
    (``_Checked.excess_pct``), then the fewest, then the lowest cost (objectives exclude
    the price of missed soft cuts).

    The report (``summary.json["ac_plan"]``): ``iterations`` (re-solves done),
    ``converged`` (the returned plan is AC-feasible), ``stopped_because``,
    ``best_iteration``, ``violations_initial`` / ``violations_left`` (bus and branch limit
    violations, counted per step and element, plus the steps without a power-flow
    solution), ``violation_steps_left``, ``remaining_violations`` (the first 20),
    ``diverged_steps_left`` and ``diverged_times_utc``, ``unreachable_limits``,
    ``objective_before_usd`` / ``objective_after_usd`` and ``cost_of_ac_feasibility_usd``,
    ``n_cuts``, and per iteration the violations and minimum data-center voltage.
    """
    net = build_network(network_parameters(scenario))
    cuts: list[LinearCut] = []
    history, unreachable = [], []
    first, penalty = dispatch, None  # penalty: set once the cuts turn out unreachable
    stopped, best, stalled = "max_iterations", None, 0  # stalled: soft plans none better
    for it in range(max_iterations + 1):
        ts = timeseries_frame(inputs.index, inputs.frame, dispatch)
        res = _check(net, ts, scenario.network.engine)
        cur = _checked(it, dispatch, res)
        history.append(_history_row(cur, res, len(cuts), penalty is not None))
        report_progress(
            f"plan-ac: iteration {it} of at most {max_iterations}: {cur.n_violations} AC "
            "limit violations"
        )
        if best is None or cur.rank < best.rank:
            best, stalled = cur, 0
        elif penalty is not None:
            stalled += 1
        if cur.n_violations == 0 or it == max_iterations or stalled == SOFT_STALL_ITERATIONS:
            break
        found = _new_cuts(net, ts, res, cur, margin_pu, margin_pct)
        if not found:  # only steps whose back-off search found no point to linearise at
            stopped = "power_flow_diverged"
            break
        cuts += found
        try:
            dispatch = _resolve(scenario, problem, cuts, penalty)
        except optimize.Infeasible as exc:
            # no dispatch meets every cut: go on with the cuts priced, to get as close
            unreachable = _unreachable(exc.diagnosis, inputs.index)
            penalty = SOFT_CUT_PENALTY_USD_PER_PCT
            dispatch = _resolve(scenario, problem, cuts, penalty)
    report = {
        "iterations": len(history) - 1,
        "max_iterations": max_iterations,
        "stopped_because": _stop_reason(best, stopped, soft=penalty is not None),
        **_outcome(best, first, history, inputs.index),
        "unreachable_limits": unreachable,
        "n_cuts": len(cuts),
        "margin_pu": margin_pu,
        "margin_pct": margin_pct,
        "history": history,
    }
    return best.dispatch, report
