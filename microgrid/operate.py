"""Closed-loop co-simulation (mode ``operate``): a forecasting controller against a plant.

Controller: a rolling-horizon MILP (``optimize.solve``) over ``operate.lookahead_h``, re-planned
every ``operate.replan_every_steps`` steps. It sees forecasts only (``perfect``,
``persistence`` = the same hour one day earlier, or ``noisy`` = actual x (1 + seeded
Gaussian noise)) for PV, wind, price and carbon; inference load and PUE are taken as known.
At each re-plan it sees the plant's state: battery SOC, each job's remaining work, whether it
is running, its restarts so far, the last net import (ramp), and any event going on right
now (grid outage, PV/wind trip, price spike), which it assumes lasts until its next re-plan.

Plant: the actual weather and signals with the scenario's ``operate.events`` injected
without warning. Each step applies the controller's decision for that step; deviations are
balanced by (1) the grid within its (actual) limits, (2) the battery within power and SOC,
(3) backup generation, (4) pausing training jobs, and (5) what is left of the facility load
is reported as unserved energy. Surplus is absorbed by the grid, the battery, then
curtailment. SOC and job progress advance from what was delivered.

See docs/cosimulation.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, build_problem, load_inputs, solver_options
from microgrid.scenario import step_of
from optimize.throughput import throughput

FORECAST_SERIES = ("pv_available_mw", "wind_available_mw", "price_usd_per_mwh", "carbon_g_per_kwh")
#: Large but finite: the controller never plans an infeasible window after a shed.
CONTROLLER_UNFINISHED_USD_PER_H = 1.0e6
_EPS = 1e-9


@dataclass
class OperateRun:
    """One closed-loop run: actual rows, planned rows, costs, forecasts used."""

    actual: pd.DataFrame
    planned: pd.DataFrame
    costs: dict[str, float]
    jobs: dict[str, dict]
    forecast_used: pd.DataFrame
    n_solves: int
    solve_s: float
    unserved_mwh: float
    shed_job_steps: int
    infeasible_replans: int = 0
    time_limited_solves: int = 0


def _event_mask(scenario, index: pd.DatetimeIndex, ev) -> np.ndarray:
    step = step_of(index)
    s, e = scenario.to_utc(ev.start), scenario.to_utc(ev.end)
    return np.asarray((index < e) & (index + step > s))


@dataclass
class Plant:
    """Actual per-step conditions with the events applied."""

    pv_mw: np.ndarray
    wind_mw: np.ndarray
    price: np.ndarray  # LMP, USD/MWh
    import_max_mw: np.ndarray
    export_max_mw: np.ndarray
    outage: np.ndarray
    pv_trip: np.ndarray
    wind_trip: np.ndarray
    spike: np.ndarray  # price factor (1 = none)
    line_out: dict[str, np.ndarray] = field(default_factory=dict)


def _plant(scenario, inputs: Inputs, problem: optimize.Problem, events) -> Plant:
    n = problem.n_steps
    ren = {r.name: r.available_mw for r in problem.renewables}
    pv = ren.get("pv", np.zeros(n)).copy()
    wind = ren.get("wind", np.zeros(n)).copy()
    price = inputs.frame["price_usd_per_mwh"].to_numpy(float).copy()
    imax = problem.grid.import_max_mw.copy()
    emax = problem.grid.export_max_mw.copy()
    outage = np.zeros(n, bool)
    pv_trip = np.zeros(n, bool)
    wind_trip = np.zeros(n, bool)
    spike = np.ones(n)
    line_out: dict[str, np.ndarray] = {}
    for ev in events:
        m = _event_mask(scenario, inputs.index, ev)
        if ev.kind == "grid_outage":
            outage |= m
        elif ev.kind == "pv_trip":
            pv_trip |= m
        elif ev.kind == "wind_trip":
            wind_trip |= m
        elif ev.kind == "price_spike":
            spike[m] *= ev.factor
        elif ev.kind == "line_out":
            line_out[ev.line] = line_out.get(ev.line, np.zeros(n, bool)) | m
    imax[outage] = 0.0
    emax[outage] = 0.0
    pv[pv_trip] = 0.0
    wind[wind_trip] = 0.0
    return Plant(pv, wind, price * spike, imax, emax, outage, pv_trip, wind_trip, spike, line_out)


def _persistence_base(scenario, inputs: Inputs) -> pd.DataFrame:
    """Actual series shifted by one day (the first day from the day before the period when
    the data have it, else the first day itself)."""
    cols = ["pv_available_mw", "wind_available_mw", "price_usd_per_mwh", "carbon_g_per_kwh"]
    cur = inputs.frame.reindex(columns=cols).fillna(0.0)
    day = round(24 / scenario.step_h)
    try:
        earlier = scenario.with_updates({"period.start": scenario.period.start - timedelta(days=1)})
        prev = load_inputs(earlier).frame.reindex(columns=cols).fillna(0.0)
        shifted = prev.iloc[: len(cur)].to_numpy()
    except Exception:  # no data before the period: persistence starts from day one
        shifted = np.vstack([cur.iloc[:day].to_numpy(), cur.iloc[:-day].to_numpy()])[: len(cur)]
    return pd.DataFrame(shifted, index=cur.index, columns=cols)


def _forecast(kind: str, actual: pd.DataFrame, persist: pd.DataFrame | None, k: int, h: int,
              std: float, seed: int) -> pd.DataFrame:  # fmt: skip
    """Forecast of FORECAST_SERIES for steps [k, k+h) issued at step k."""
    a = actual.iloc[k : k + h]
    if kind == "perfect":
        return a.copy()
    if kind == "persistence":
        return persist.iloc[k : k + h].copy()
    rng = np.random.default_rng([int(seed), int(k)])
    eps = rng.standard_normal((h, len(FORECAST_SERIES)))
    vals = a.to_numpy() * (1.0 + std * eps)
    # price may be negative: noise relative to its magnitude; the others stay >= 0
    vals[:, 2] = a.iloc[:, 2].to_numpy() + std * np.abs(a.iloc[:, 2].to_numpy()) * eps[:, 2]
    for c in (0, 1, 3):
        vals[:, c] = np.maximum(vals[:, c], 0.0)
    return pd.DataFrame(vals, index=a.index, columns=a.columns)


@dataclass
class _JobState:
    remaining_h: float
    running: bool = False
    has_run: bool = False
    restarts: int = 0


def _window_problem(full: optimize.Problem, fc: pd.DataFrame, k: int, h: int, state: dict,
                    known: dict) -> optimize.Problem:  # fmt: skip
    g = full.grid
    n = full.n_steps
    sl = slice(k, k + h)
    imax = g.import_max_mw[sl].copy()
    emax = g.export_max_mw[sl].copy()
    price = fc["price_usd_per_mwh"].to_numpy(float).copy()
    hold = min(known["hold_steps"], h)
    if known["outage"]:
        imax[:hold] = 0.0
        emax[:hold] = 0.0
    price[:hold] *= known["spike"]
    imp_adder = g.import_price_usd_per_mwh[sl] - known["lmp"][sl]
    exp_adder = g.export_price_usd_per_mwh[sl] - known["lmp"][sl]
    cap = None if g.net_import_cap_mw is None else g.net_import_cap_mw[sl]
    grid = dataclasses.replace(
        g,
        import_max_mw=imax,
        export_max_mw=emax,
        import_price_usd_per_mwh=price + imp_adder,
        export_price_usd_per_mwh=price + exp_adder,
        carbon_g_per_kwh=fc["carbon_g_per_kwh"].to_numpy(float),
        month_of_step=None if g.month_of_step is None else g.month_of_step[sl],
        net_import_cap_mw=cap,
        initial_net_import_mw=state["net_import"] if k > 0 else g.initial_net_import_mw,
        prior_peak_import_mw=dict(state["month_peak"]),
    )
    renewables = []
    for r in full.renewables:
        avail = np.maximum(fc[f"{r.name}_available_mw"].to_numpy(float), 0.0)
        avail = avail * known["derate"][r.name][sl]
        if known["trip"].get(r.name):
            avail[:hold] = 0.0
        renewables.append(optimize.Renewable(name=r.name, available_mw=avail))
    battery = None
    if full.battery is not None:
        b = full.battery
        e = b.energy_mwh
        soc0 = float(np.clip(state["soc_mwh"] / e, b.soc_min_frac, b.soc_max_frac))
        final = b.soc_final_frac if k + h >= n else b.soc_initial_frac
        if final is not None:
            final = min(final, b.soc_max_frac)
        battery = dataclasses.replace(
            b,
            soc_initial_frac=soc0,
            soc_final_frac=final,
            available_frac=None if b.available_frac is None else b.available_frac[sl],
        )
    gens = tuple(
        dataclasses.replace(
            x, available_frac=None if x.available_frac is None else x.available_frac[sl]
        )  # fmt: skip
        for x in full.generators
    )
    jobs = []
    step_h = full.step_h
    for j in full.jobs:
        js: _JobState = state["jobs"][j.id]
        if js.remaining_h <= 1e-7 or j.deadline_step <= k:
            continue
        rel = max(0, j.release_step - k)
        dl = j.deadline_step - k
        need = js.remaining_h
        if dl > h:
            after_h = (j.deadline_step - (k + h)) * step_h
            need = max(0.0, js.remaining_h - after_h)
            dl = h
        if rel >= dl:
            continue
        mi = j.max_interruptions
        jobs.append(
            dataclasses.replace(
                j,
                work_h=need,
                release_step=rel,
                deadline_step=dl,
                max_interruptions=None if mi is None else max(0, mi - js.restarts),
                running_at_start=bool(js.running and rel == 0),
            )
        )
    obj = full.objective
    if obj.unfinished_work_penalty_usd_per_h is None and jobs:
        obj = dataclasses.replace(
            obj, unfinished_work_penalty_usd_per_h=CONTROLLER_UNFINISHED_USD_PER_H
        )
    return optimize.Problem(
        step_h=full.step_h,
        n_steps=h,
        grid=grid,
        facility=optimize.Facility(
            inference_it_mw=full.facility.inference_it_mw[sl], pue=full.facility.pue[sl]
        ),
        renewables=tuple(renewables),
        battery=battery,
        generators=gens,
        jobs=tuple(jobs),
        objective=obj,
    )


def _rebalance(deficit: float, x: dict, lim: dict) -> float:
    """Cover ``deficit`` (MW, < 0 = surplus) by grid, battery, backup, curtailment, in place
    on ``x`` (net, ch, dis, gen, pv, wind); return what is left."""
    new = min(max(x["net"] + deficit, -lim["emax"]), lim["imax"])  # (1) grid within limits
    deficit -= new - x["net"]
    x["net"] = new
    if deficit > 0:  # (2) battery: charge less, then discharge more
        r = min(x["ch"], deficit)
        x["ch"] -= r
        deficit -= r
        r = max(min(lim["dis_max"] - x["dis"], deficit), 0.0)
        x["dis"] += r
        deficit -= r
    elif deficit < 0:
        r = min(x["dis"], -deficit)
        x["dis"] -= r
        deficit += r
        r = max(min(lim["ch_max"] - x["ch"], -deficit), 0.0)
        x["ch"] += r
        deficit += r
    if deficit > 0:  # (3) backup generation
        r = max(min(lim["gen_cap"] - x["gen"], deficit), 0.0)
        x["gen"] += r
        deficit -= r
    elif deficit < 0:
        r = min(x["gen"], -deficit)
        x["gen"] -= r
        deficit += r
    for name in ("pv", "wind"):  # surplus left: curtail
        if deficit < 0:
            r = min(x[name], -deficit)
            x[name] -= r
            deficit += r
    return deficit


def simulate(scenario, inputs: Inputs | None = None, events=None) -> OperateRun:
    """Run the closed loop once; ``events`` overrides ``scenario.operate.events``."""
    op = scenario.operate
    events = list(op.events if events is None else events)
    inputs = inputs or load_inputs(scenario)
    full = build_problem(scenario, inputs)
    n, step_h = full.n_steps, full.step_h
    plant = _plant(scenario, inputs, full, events)
    lmp = inputs.frame["price_usd_per_mwh"].to_numpy(float)
    actual_fc = pd.DataFrame(
        {
            "pv_available_mw": next(
                (r.available_mw for r in full.renewables if r.name == "pv"), np.zeros(n)
            ),
            "wind_available_mw": next(
                (r.available_mw for r in full.renewables if r.name == "wind"), np.zeros(n)
            ),
            "price_usd_per_mwh": lmp,
            "carbon_g_per_kwh": full.grid.carbon_g_per_kwh,
        },
        index=inputs.index,
    )
    derate = {}
    for r in full.renewables:
        col = f"{r.name}_available_frac"
        derate[r.name] = inputs.frame[col].to_numpy(float) if col in inputs.frame else np.ones(n)
    # forecasts are of the underived resource; derates are known outages of the plan
    raw_fc = actual_fc.copy()
    for r in full.renewables:
        with np.errstate(invalid="ignore", divide="ignore"):
            raw_fc[f"{r.name}_available_mw"] = np.where(
                derate[r.name] > 0, actual_fc[f"{r.name}_available_mw"] / derate[r.name], 0.0
            )
    persist = _persistence_base(scenario, inputs) if op.forecast == "persistence" else None
    lookahead = max(1, round(op.lookahead_h / step_h))
    replan = max(1, int(op.replan_every_steps))
    options = solver_options(scenario)

    b = full.battery
    state = {
        "soc_mwh": b.soc_initial_frac * b.energy_mwh if b is not None else 0.0,
        "net_import": full.grid.initial_net_import_mw,
        # billing month -> peak import delivered so far (the controller pays only for more)
        "month_peak": {},
        "jobs": {j.id: _JobState(remaining_h=j.work_h) for j in full.jobs},
    }
    jobs_by_id = {j.id: j for j in full.jobs}
    gen_cap = np.zeros(n)
    for gdef in full.generators:
        gen_cap += gdef.capacity_mw * (1.0 if gdef.available_frac is None else gdef.available_frac)
    gen_fuel = {gdef.name: gdef for gdef in full.generators}

    cols = ["grid_import_mw", "grid_export_mw", "pv_available_mw", "pv_used_mw",
            "wind_available_mw", "wind_used_mw", "battery_charge_mw", "battery_discharge_mw",
            "backup_gen_mw", "it_load_mw", "facility_load_mw", "battery_soc_mwh",
            "unserved_mw", "job_it_mw"]  # fmt: skip
    act = {c: np.zeros(n) for c in cols}
    plan = {c: np.zeros(n) for c in cols}
    job_mw = {j.id: np.zeros(n) for j in full.jobs}
    job_frac = {j.id: np.zeros(n) for j in full.jobs}
    job_work = {j.id: np.zeros(n) for j in full.jobs}
    fc_used = pd.DataFrame(np.nan, index=inputs.index, columns=list(FORECAST_SERIES))
    gen_mw_by = {name: np.zeros(n) for name in gen_fuel}
    cur = None  # (start step, dispatch, forecast frame)
    n_solves, solve_s, shed_steps, infeasible_replans = 0, 0.0, 0, 0
    time_limited = 0
    for k in range(n):
        if (
            cur is None
            or k - cur[0] >= replan
            or k - cur[0] >= cur[1].series["grid_import_mw"].shape[0]
        ):
            h = min(lookahead, n - k)
            fc = _forecast(op.forecast, raw_fc, persist, k, h, op.noise_std_frac, op.seed)
            known = {
                "hold_steps": replan,
                "outage": bool(plant.outage[k]),
                "spike": float(plant.spike[k]),
                "trip": {"pv": bool(plant.pv_trip[k]), "wind": bool(plant.wind_trip[k])},
                "lmp": lmp,
                "derate": derate,
            }
            wp = _window_problem(full, fc, k, h, state, known)
            try:
                d = optimize.solve(wp, options)
            except optimize.Infeasible:
                # the plant cannot serve the load under the event (e.g. islanded with a small
                # battery): plan as if the grid were back; the plant sheds what it must
                known = {**known, "outage": False, "trip": {}}
                wp = _window_problem(full, fc, k, h, state, known)
                d = optimize.solve(wp, options)
                infeasible_replans += 1
            n_solves += 1
            time_limited += d.status in ("time_limit", "node_limit")
            solve_s += d.solve_s + d.build_s
            cur = (k, d, fc, wp)
        k0, d, fc, wp = cur
        i = k - k0
        s = d.series
        for c in FORECAST_SERIES:
            fc_used.iloc[k, fc_used.columns.get_loc(c)] = fc[c].iloc[i]
        plan_row = {c: (float(s[c][i]) if c in s else 0.0) for c in s if s[c].ndim == 1}
        for c in cols:
            plan[c][k] = plan_row.get(c, 0.0)
        # ---- plant ----
        pue = float(full.facility.pue[k])
        inf_it = float(full.facility.inference_it_mw[k])
        fracs = {jid: plan_row.get(f"job_{jid}_power_fraction", 0.0) for jid in jobs_by_id}
        plan["job_it_mw"][k] = sum(jobs_by_id[j].full_power_it_mw * f for j, f in fracs.items())
        pv_av, wind_av = plant.pv_mw[k], plant.wind_mw[k]
        rens = {r.name: float(r.available_mw[i]) for r in wp.renewables}
        x = {"net": plan_row.get("grid_import_mw", 0.0) - plan_row.get("grid_export_mw", 0.0)}
        for name, av in (("pv", pv_av), ("wind", wind_av)):
            used = plan_row.get(f"{name}_used_mw", 0.0)
            if name not in rens:
                x[name] = 0.0
            else:  # follow an uncurtailed plan to the actual resource; else its set point
                x[name] = av if used >= rens[name] - 1e-6 else min(used, av)
        x["gen"] = min(plan_row.get("backup_gen_mw", 0.0), gen_cap[k])
        lim = {"imax": plant.import_max_mw[k], "emax": plant.export_max_mw[k],
               "gen_cap": gen_cap[k], "dis_max": 0.0, "ch_max": 0.0}  # fmt: skip
        x["ch"], x["dis"] = 0.0, 0.0
        if b is not None:
            pmax = b.power_mw * (1.0 if b.available_frac is None else b.available_frac[k])
            soc = state["soc_mwh"]
            e_lo, e_hi = b.soc_min_frac * b.energy_mwh, b.soc_max_frac * b.energy_mwh
            kc, kd = step_h * b.charge_efficiency, step_h / b.discharge_efficiency
            lim["dis_max"] = max(0.0, min(pmax, (soc - e_lo) / kd))
            lim["ch_max"] = max(0.0, min(pmax, (e_hi - soc) / kc))
            x["dis"] = min(plan_row.get("battery_discharge_mw", 0.0), lim["dis_max"])
            x["ch"] = min(plan_row.get("battery_charge_mw", 0.0), lim["ch_max"])

        def supply(x: dict) -> float:
            return x["net"] + x["pv"] + x["wind"] + x["dis"] - x["ch"] + x["gen"]

        job_it = sum(jobs_by_id[j].full_power_it_mw * f for j, f in fracs.items())
        load = (inf_it + job_it) * pue
        deficit = _rebalance(load - supply(x), x, lim)
        if deficit > 1e-9:
            # (4) pause training, largest job first, until the deficit is covered
            for jid in sorted(fracs, key=lambda j: -jobs_by_id[j].full_power_it_mw * fracs[j]):
                if deficit <= 1e-9:
                    break
                if fracs[jid] > 0:
                    deficit -= jobs_by_id[jid].full_power_it_mw * fracs[jid] * pue
                    fracs[jid] = 0.0
                    shed_steps += 1
            job_it = sum(jobs_by_id[j].full_power_it_mw * f for j, f in fracs.items())
            load = (inf_it + job_it) * pue
            deficit = _rebalance(load - supply(x), x, lim)
        unserved = deficit if deficit > 1e-9 else 0.0  # (5) inference energy not served
        net, ch, dis, gen, pv, wind = x["net"], x["ch"], x["dis"], x["gen"], x["pv"], x["wind"]
        imp, exp = max(net, 0.0), max(-net, 0.0)
        if b is not None:
            state["soc_mwh"] = state["soc_mwh"] + kc * ch - kd * dis
        state["net_import"] = imp - exp
        if full.grid.month_of_step is not None:
            mo = int(full.grid.month_of_step[k])
            state["month_peak"][mo] = max(state["month_peak"].get(mo, 0.0), imp)
        # jobs advance from what ran
        for jid, f in fracs.items():
            js = state["jobs"][jid]
            on = f > 1e-9
            jdef = jobs_by_id[jid]
            if on and not js.running and js.has_run:
                js.restarts += 1
                js.remaining_h += jdef.restart_overhead_h
            w = float(throughput(jdef.throughput_curve, f)) * step_h if on else 0.0
            js.remaining_h -= w
            js.running = on
            js.has_run = js.has_run or on
            job_mw[jid][k] = jdef.full_power_it_mw * f
            job_frac[jid][k] = f
            job_work[jid][k] = w
        # generator split in proportion to capacity (for fuel/carbon)
        if gen_fuel:
            tot = sum(x.capacity_mw for x in gen_fuel.values()) or 1.0
            for name, x in gen_fuel.items():
                gen_mw_by[name][k] = gen * x.capacity_mw / tot
        it = load / pue
        for c, v in (("grid_import_mw", imp), ("grid_export_mw", exp), ("pv_available_mw", pv_av),
                     ("pv_used_mw", pv), ("wind_available_mw", wind_av), ("wind_used_mw", wind),
                     ("battery_charge_mw", ch), ("battery_discharge_mw", dis),
                     ("backup_gen_mw", gen), ("it_load_mw", it), ("facility_load_mw", load),
                     ("battery_soc_mwh", state["soc_mwh"]), ("unserved_mw", unserved),
                     ("job_it_mw", it - inf_it)):  # fmt: skip
            act[c][k] = v

    actual = pd.DataFrame(act, index=inputs.index)
    for jid in job_mw:
        actual[f"job_{jid}_mw"] = job_mw[jid]
        actual[f"job_{jid}_power_fraction"] = job_frac[jid]
        actual[f"job_{jid}_work_h"] = job_work[jid]
    planned = pd.DataFrame(plan, index=inputs.index)
    costs = _actual_costs(scenario, full, actual, plant, gen_mw_by)
    jobs_summary = {}
    for jid, js in state["jobs"].items():
        unfinished = max(0.0, js.remaining_h)
        jobs_summary[jid] = {
            "work_done_h": jobs_by_id[jid].work_h - unfinished,
            "unfinished_h": unfinished if unfinished > 1e-6 else 0.0,
            "restarts": js.restarts,
            "deadline_met": unfinished <= 1e-6,
        }
    pen = scenario.objective.unfinished_work_penalty_usd_per_h or 0.0
    costs["unfinished_penalty_usd"] = pen * sum(j["unfinished_h"] for j in jobs_summary.values())
    voll = scenario.operate.value_of_lost_load_usd_per_mwh
    costs["unserved_usd"] = voll * float(actual["unserved_mw"].sum()) * step_h
    return OperateRun(
        actual=actual,
        planned=planned,
        costs=costs,
        jobs=jobs_summary,
        forecast_used=fc_used,
        n_solves=n_solves,
        solve_s=solve_s,
        unserved_mwh=float(actual["unserved_mw"].sum() * step_h),
        shed_job_steps=shed_steps,
        infeasible_replans=infeasible_replans,
        time_limited_solves=time_limited,
    )


def _actual_costs(scenario, full, actual, plant, gen_mw_by) -> dict[str, float]:
    g = full.grid
    step_h = full.step_h
    imp, exp = actual["grid_import_mw"].to_numpy(), actual["grid_export_mw"].to_numpy()
    # adders are the plan's price minus its LMP; the plant's LMP carries price spikes
    base_lmp = plant.price / plant.spike
    imp_price = g.import_price_usd_per_mwh - base_lmp + plant.price
    exp_price = g.export_price_usd_per_mwh - base_lmp + plant.price
    energy = step_h * float(imp @ imp_price - exp @ exp_price)
    demand = 0.0
    if g.demand_charge_usd_per_mw > 0:
        months = g.month_of_step
        for mth in np.unique(months):
            demand += g.demand_charge_usd_per_mw * float(imp[months == mth].max(initial=0.0))
    fuel = sum(gd.fuel_usd_per_mwh * step_h * float(gen_mw_by[gd.name].sum())
               for gd in full.generators)  # fmt: skip
    gen_t = sum(gd.carbon_g_per_kwh * step_h * float(gen_mw_by[gd.name].sum()) / 1000.0
                for gd in full.generators)  # fmt: skip
    emissions = float(imp @ g.carbon_g_per_kwh) * step_h / 1000.0 + gen_t
    wear = 0.0
    if full.battery is not None:
        wear = full.battery.wear_usd_per_mwh * step_h * float(actual["battery_discharge_mw"].sum())
    return {
        "energy_usd": energy,
        "demand_usd": demand,
        "fuel_usd": fuel,
        "wear_usd": wear,
        "carbon_usd": full.objective.carbon_price_usd_per_t * emissions,
        "emissions_t": emissions,
    }


def run_cost(costs: dict) -> float:
    """The run's cost: energy + demand + fuel + wear + carbon + unfinished + unserved (USD)."""
    keys = ("energy_usd", "demand_usd", "fuel_usd", "wear_usd", "carbon_usd",
            "unfinished_penalty_usd", "unserved_usd")  # fmt: skip
    return float(sum(costs.get(k, 0.0) for k in keys))


def forecast_errors(run: OperateRun, inputs: Inputs, full: optimize.Problem) -> dict:
    """MAE, RMSE and bias (forecast − actual, pre-event) of the forecasts the controller used
    for each step when it decided that step."""
    n = full.n_steps
    actual = {
        "pv_available_mw": next(
            (r.available_mw for r in full.renewables if r.name == "pv"), np.zeros(n)
        ),
        "wind_available_mw": next(
            (r.available_mw for r in full.renewables if r.name == "wind"), np.zeros(n)
        ),
        "price_usd_per_mwh": inputs.frame["price_usd_per_mwh"].to_numpy(float),
        "carbon_g_per_kwh": full.grid.carbon_g_per_kwh,
    }
    out = {}
    for name, a in actual.items():
        f = run.forecast_used[name].to_numpy(float)
        err = f - a
        out[name] = {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "bias": float(np.mean(err)),
        }
    return out


def planned_vs_actual(run: OperateRun) -> pd.DataFrame:
    cols = ["grid_import_mw", "grid_export_mw", "pv_used_mw", "wind_used_mw",
            "battery_charge_mw", "battery_discharge_mw", "backup_gen_mw", "job_it_mw",
            "facility_load_mw", "battery_soc_mwh"]  # fmt: skip
    out = pd.DataFrame(index=run.actual.index)
    for c in cols:
        out[f"planned_{c}"] = run.planned[c]
        out[f"actual_{c}"] = run.actual[c]
    out["actual_unserved_mw"] = run.actual["unserved_mw"]
    out["actual_balance_residual_mw"] = balance_residual(run.actual)
    return out


def balance_residual(a: pd.DataFrame) -> pd.Series:
    """import − export + pv + wind + discharge − charge + backup − (facility load − unserved)."""
    return (
        a["grid_import_mw"] - a["grid_export_mw"] + a["pv_used_mw"] + a["wind_used_mw"]
        + a["battery_discharge_mw"] - a["battery_charge_mw"] + a["backup_gen_mw"]
        - (a["facility_load_mw"] - a["unserved_mw"])
    )  # fmt: skip


def _dispatch_of(run: OperateRun, step_h: float) -> optimize.Dispatch:
    """The actual rows as an ``optimize.Dispatch`` so the plan-mode result tables apply."""
    series = {c: run.actual[c].to_numpy() for c in run.actual.columns}
    return optimize.Dispatch(
        status="operate",
        objective_usd=run_cost(run.costs),
        mip_gap=0.0,
        build_s=0.0,
        solve_s=run.solve_s,
        series=series,
        costs=dict(run.costs),
        jobs=run.jobs,
    )


def event_costs(scenario, inputs: Inputs, base: OperateRun, rerun: bool = True) -> pd.DataFrame:
    """One row per event: kind, window (local), and its cost = cost of the run minus the cost
    of the same run without that event (re-simulated; ``rerun=False`` leaves it NaN)."""
    rows = []
    events = list(scenario.operate.events)
    total = run_cost(base.costs)
    for i, ev in enumerate(events):
        row = {
            "event": i,
            "kind": ev.kind,
            "start_local": str(ev.start),
            "end_local": str(ev.end),
            "detail": ev.line if ev.kind == "line_out" else (ev.factor or ""),
            "cost_usd": np.nan,
            "unserved_mwh_delta": np.nan,
        }
        if rerun:
            other = simulate(scenario, inputs, events=events[:i] + events[i + 1 :])
            row["cost_usd"] = total - run_cost(other.costs)
            row["unserved_mwh_delta"] = base.unserved_mwh - other.unserved_mwh
        rows.append(row)
    cols = ["event", "kind", "start_local", "end_local", "detail", "cost_usd",
            "unserved_mwh_delta"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def actual_powerflow(scenario, actual: pd.DataFrame, plant_lines: dict[str, np.ndarray]):
    """AC power flow of the actual rows; steps with a ``line_out`` event run on a net with one
    circuit of that line removed (the whole line when it has one circuit)."""
    from microgrid.assemble import network_parameters
    from microgrid.network import INJECTION_COLUMNS, build_network
    from microgrid.powerflow import run_timeseries

    inj = actual[[c for c in INJECTION_COLUMNS if c in actual]].copy()
    inj["facility_load_mw"] = actual["facility_load_mw"] - actual["unserved_mw"]
    n = len(inj)
    key = np.zeros(n, dtype=object)
    key[:] = ""
    for name, mask in plant_lines.items():
        key[mask] = np.char.add(key[mask].astype(str), f"{name};")
    parts, nets = [], []
    combos = list(pd.unique(key))
    for combo in combos:
        sel = key == combo
        net = build_network(network_parameters(scenario))
        for name in filter(None, str(combo).split(";")):
            idx = net.line.index[net.line.name == name]
            if not len(idx):
                idx = net.line.index[net.line.name == f"line_{name}"]
            if not len(idx):
                i = next(i for i, ev in enumerate(scenario.operate.events) if ev.line == name)
                lines = ", ".join(net.line.name)
                raise scenario.error(
                    f"no line named {name!r} in the network (lines: {lines})",
                    f"operate.events.{i}.line",
                )
            for li in idx:
                if net.line.at[li, "parallel"] > 1:
                    net.line.at[li, "parallel"] -= 1
                else:
                    net.line.at[li, "in_service"] = False
        parts.append(run_timeseries(net, inj[sel], engine=scenario.network.engine))
        nets.append(net)
    # the intact net (the first topology when every step has a line out)
    base = next((nt for nt, c in zip(nets, combos, strict=True) if c == ""), nets[0])
    return base, pd.concat(parts).reindex(inj.index)


def run_operate(scenario, inputs: Inputs | None = None) -> dict:
    """The closed loop with its outputs: ``run``, ``dispatch`` (actual rows as a Dispatch),
    ``planned_vs_actual``, ``events`` and ``summary`` (``summary.json["operate"]``)."""
    op = scenario.operate
    inputs = inputs or load_inputs(scenario)
    full = build_problem(scenario, inputs)
    try:
        run = simulate(scenario, inputs)
        ev = event_costs(scenario, inputs, run, rerun=op.event_costs == "rerun")
    except optimize.Infeasible as exc:
        # A re-plan has no schedule even with the grid back (e.g. a carbon budget no
        # dispatch meets): a property of the inputs, reported like plan mode's.
        relax = "; ".join(str(s) for s in exc.diagnosis) or "no single limit explains it"
        raise scenario.error(f"infeasible scenario (a re-plan in operate mode): {relax}") from None
    resid = balance_residual(run.actual)
    summary = {
        "forecast": op.forecast,
        "noise_std_frac": op.noise_std_frac if op.forecast == "noisy" else None,
        "seed": op.seed,
        "lookahead_h": op.lookahead_h,
        "replan_every_steps": op.replan_every_steps,
        "n_solves": run.n_solves,
        "solve_s": run.solve_s,
        "actual_cost_usd": run_cost(run.costs),
        "costs": run.costs,
        "unserved_energy_mwh": run.unserved_mwh,
        "shed_job_steps": run.shed_job_steps,
        "infeasible_replans": run.infeasible_replans,
        # solves stopped by solver.time_limit_s depend on wall time: event costs then carry
        # solver noise (and differ between machines)
        "time_limited_solves": run.time_limited_solves,
        "forecast_errors": forecast_errors(run, inputs, full),
        "max_balance_residual_mw": float(resid.abs().max()),
        "events": ev.to_dict(orient="records"),
        "event_cost_method": (
            "re-simulation without the event" if op.event_costs == "rerun" else "not computed"
        ),
    }
    return {
        "run": run,
        "dispatch": _dispatch_of(run, full.step_h),
        "planned_vs_actual": planned_vs_actual(run),
        "events": ev,
        "summary": summary,
        "inputs": inputs,
        "plant_lines": _plant(scenario, inputs, full, op.events).line_out,
    }


def add_cosim_outputs(scenario, mode: str, cosim: dict, ts: pd.DataFrame, summary: dict) -> dict:
    """Add the mode's sections to ``summary`` (``mode``, ``ac_plan``, ``operate``,
    ``swings``) and columns to ``ts``; return the extra tables of the result directory."""
    summary["mode"] = mode
    tables: dict[str, pd.DataFrame] = {}
    if "ac_plan" in cosim:
        summary["ac_plan"] = cosim["ac_plan"]
    if mode == "operate":
        ts["unserved_mw"] = cosim["run"].actual["unserved_mw"].to_numpy()
        summary["operate"] = cosim["summary"]
        tables["planned_vs_actual.csv"] = cosim["planned_vs_actual"]
        tables["events.csv"] = cosim["events"]
    if scenario.swings is not None:
        from microgrid.swings import analyse_swings

        summary["swings"], tables["swings_profile.csv"] = analyse_swings(scenario, ts)
    return tables
