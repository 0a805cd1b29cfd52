"""AC-feasible planning (mode ``plan-ac``): power flow on the plan, linearised cuts, re-solve.

The dispatch optimiser sees a copper plate. Here each planned step is run through the AC
power flow of the scenario's pandapower network; for every step where a bus voltage or a
branch loading is outside its limit, the violated quantity is linearised at that step's
operating point with respect to the active-power dispatch variables (see
:func:`sensitivities`) and added to the problem as a :class:`optimize.network_cuts.LinearCut`
for that step. The problem is re-solved with all cuts found so far, and the loop repeats
until the plan is AC-feasible or ``max_iterations`` is reached. See docs/cosimulation.md.
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
from microgrid.network import INJECTION_COLUMNS, apply_injections
from microgrid.powerflow import run_timeseries_detailed
from optimize.network_cuts import LinearCut

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
    """Iterate AC check -> cuts -> re-solve; return the last dispatch and the report.

    The report (``summary.json["ac_plan"]``): ``iterations`` (re-solves done),
    ``converged`` (AC-feasible at the end), ``violations_initial`` / ``violations_left``
    (bus and branch limit violations, counted per step and element), ``violation_steps_left``,
    ``objective_before_usd`` / ``objective_after_usd`` and ``cost_of_ac_feasibility_usd``,
    ``n_cuts``, and per iteration the violations and minimum data-center voltage.
    """
    from microgrid.network import build_network
    from microgrid.results import timeseries_frame
    from microgrid.run import network_parameters, solve_dispatch

    net = build_network(network_parameters(scenario))
    engine = scenario.network.engine
    cuts: list[LinearCut] = []
    history = []
    first = dispatch
    for it in range(max_iterations + 1):
        ts = timeseries_frame(inputs.index, inputs.frame, dispatch)
        res = _check(net, ts, engine)
        viol = res.violations()
        dc_vm = res.summary["dc_bus_vm_pu"]
        history.append(
            {
                "iteration": it,
                "objective_usd": dispatch.objective_usd,
                "violations": len(viol),
                "violation_steps": int(viol["step"].nunique()) if len(viol) else 0,
                "min_dc_bus_vm_pu": float(dc_vm.min()),
                "max_line_loading_pct": float(res.summary["max_line_loading_pct"].max()),
                "n_cuts": len(cuts),
            }
        )
        if not len(viol) or it == max_iterations:
            break
        limits = {
            "vm_min_pu": res.vm_min_pu,
            "vm_max_pu": res.vm_max_pu,
            "line_max_pct": res.line_max_pct,
            "trafo_max_pct": res.trafo_max_pct,
        }
        for step in sorted(int(s) for s in viol["step"].unique()):
            cuts += cuts_for_step(net, step, ts.iloc[step], limits, margin_pu, margin_pct)
        problem = dataclasses.replace(problem, network_cuts=tuple(cuts))
        dispatch = solve_dispatch(scenario, inputs, problem)
    last = history[-1]
    report = {
        "iterations": len(history) - 1,
        "max_iterations": max_iterations,
        "converged": last["violations"] == 0,
        "violations_initial": history[0]["violations"],
        "violations_left": last["violations"],
        "violation_steps_left": last["violation_steps"],
        "objective_before_usd": first.objective_usd,
        "objective_after_usd": dispatch.objective_usd,
        "cost_of_ac_feasibility_usd": dispatch.objective_usd - first.objective_usd,
        "n_cuts": len(cuts),
        "margin_pu": margin_pu,
        "margin_pct": margin_pct,
        "history": history,
    }
    return dispatch, report
