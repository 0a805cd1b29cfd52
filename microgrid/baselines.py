"""Rule-based baselines: what a plain operator would do, to show what optimisation buys.

Two simulations (not optimisations) of the same `optimize.Problem` the optimizer solves;
rules in docs/baselines.md:

- `asap`: every job starts at its release at full power and runs without interruption
  until its work is done (it stops part-way through its last step, so that step's mean
  power fraction is the fraction of the step it ran).
- `carbon-threshold`: like `asap`, but preemptible jobs do not start, or pause, while the
  grid carbon intensity is above its trailing 24-hour median (current step included);
  a job runs regardless when skipping the step would leave less time before its deadline
  than its remaining work (plus the restart overhead it would pay to resume), and a
  running job never pauses once its `max_interruptions` are used up. Each resume after a
  pause costs `restart_overhead_h` of work, as in the optimizer. Non-preemptible jobs run
  as in `asap`.

Energy rules (both): renewables serve the load first; a local surplus charges the
battery, then is exported up to the export limit, and only the rest is curtailed. A
deficit is met by the battery when import would exceed the previous local day's mean
import (first day: the mean facility load of the horizon), by as much as the excess;
then by grid import up to its limit (the outage limit of 0 and a demand-response cap
included); then by the battery beyond the rule, then by the generators (cheapest
fuel + carbon cost first). Anything left is imported anyway and reported as a limit
violation (`import_over_limit_mwh`), not hidden. The ramp limit and the final state of
charge are not rules of the baseline: their violations are reported.

Costs come from `microgrid.costs.cost_breakdown`, the optimizer's own accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import optimize
from microgrid.costs import cost_breakdown
from microgrid.results import TIMESERIES_COLUMNS

BASELINES = ("asap", "carbon-threshold")
_TOL = 1e-9


@dataclass
class BaselineResult:
    """A simulated baseline: time series with the optimum's columns, costs, and checks."""

    name: str
    timeseries: pd.DataFrame
    costs: dict[str, float]
    jobs: dict[str, dict]
    checks: dict[str, float | int]
    gen_mw: dict[str, np.ndarray] = field(default_factory=dict)


# --- jobs ----------------------------------------------------------------------------


def trailing_median(carbon: np.ndarray, step_h: float, hours: float = 24.0) -> np.ndarray:
    """Median of the last `hours` of carbon intensity, the current step included."""
    window = max(1, round(hours / step_h))
    return pd.Series(carbon).rolling(window=window, min_periods=1).median().to_numpy()


def schedule_job(
    job: optimize.Job,
    n: int,
    step_h: float,
    dirty: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Mean power fraction per step of one job, and its summary.

    `dirty[t]` True: a preemptible job would rather not run in step t (carbon-threshold);
    None: run as soon as released (asap).
    """
    frac = np.zeros(n)
    remaining = float(job.work_h)
    started = running = False
    restarts = 0
    last = min(int(job.deadline_step), n)
    for t in range(max(0, int(job.release_step)), last):
        if remaining <= _TOL:
            break
        run = True
        if dirty is not None and job.preemptible and dirty[t]:
            # would skipping step t still leave time to finish (resuming costs overhead)?
            overhead = job.restart_overhead_h if started else 0.0
            time_after = (last - t - 1) * step_h
            may_pause = not running or (
                job.max_interruptions is None or restarts < job.max_interruptions
            )
            run = not may_pause or time_after < remaining + overhead - _TOL
        if run:
            if started and not running:
                restarts += 1
                remaining += job.restart_overhead_h
            started = True
            w = min(step_h, remaining)
            frac[t] = w / step_h
            remaining -= w
        running = run
    unfinished = remaining if remaining > 1e-6 else 0.0
    return frac, {
        "work_done_h": float(job.work_h) - unfinished,
        "unfinished_h": unfinished,
        "restarts": restarts,
        "deadline_met": unfinished == 0.0,
    }


def schedule_jobs(problem: optimize.Problem, policy: str) -> tuple[dict[str, np.ndarray], dict]:
    """Power fraction per job under `policy` ("asap" or "carbon-threshold")."""
    if policy not in BASELINES:
        raise ValueError(f"unknown baseline {policy!r}; use one of {', '.join(BASELINES)}")
    n, step_h = problem.n_steps, problem.step_h
    dirty = None
    if policy == "carbon-threshold":
        carbon = problem.grid.carbon_g_per_kwh
        dirty = carbon > trailing_median(carbon, step_h) + 1e-9
    fracs, summary = {}, {}
    for job in problem.jobs:
        fracs[job.id], summary[job.id] = schedule_job(job, n, step_h, dirty)
    return fracs, summary


# --- energy --------------------------------------------------------------------------


@dataclass
class _Plant:
    """What the energy rules work with, per step: facility load (MW), renewables
    available (MW, by name and in total), export and import limits (MW; the import limit
    with outages and demand-response caps), and the generators in merit order (cheapest
    fuel + carbon cost first)."""

    step_h: float
    load_mw: np.ndarray
    renewable_names: list[str]
    available_mw: dict[str, np.ndarray]
    renewable_total_mw: np.ndarray
    export_max_mw: np.ndarray
    import_limit_mw: np.ndarray
    generators: list[optimize.Generator]


@dataclass
class _Flows:
    """The simulated series: MW per step, ``soc_mwh`` the stored energy (MWh) at the end
    of each step, renewables used and generator output by name."""

    import_mw: np.ndarray
    export_mw: np.ndarray
    charge_mw: np.ndarray
    discharge_mw: np.ndarray
    soc_mwh: np.ndarray
    used_mw: dict[str, np.ndarray]
    gen_mw: dict[str, np.ndarray]


@dataclass
class _BatteryState:
    """The battery during the simulation: its energy limits and stored energy (MWh) and
    its available power per step (MW)."""

    spec: optimize.Battery
    e_lo_mwh: float
    e_hi_mwh: float
    level_mwh: float
    power_mw: np.ndarray

    def charge_room_mw(self, step_h: float) -> float:
        """The charging power (MW) that fills the battery up to its maximum in one step."""
        return max(0.0, (self.e_hi_mwh - self.level_mwh) / (self.spec.charge_efficiency * step_h))

    def discharge_room_mw(self, t: int, step_h: float) -> float:
        """The discharging power (MW) available in step ``t`` (power and energy limits)."""
        b = self.spec
        return max(
            0.0,
            min(
                self.power_mw[t], (self.level_mwh - self.e_lo_mwh) * b.discharge_efficiency / step_h
            ),
        )

    def advance(self, charge_mw: float, discharge_mw: float, step_h: float) -> float:
        """Stored energy (MWh) after a step of ``charge_mw`` and ``discharge_mw``."""
        b = self.spec
        self.level_mwh += step_h * (
            b.charge_efficiency * charge_mw - discharge_mw / b.discharge_efficiency
        )
        return self.level_mwh


@dataclass
class _DayMeanImport:
    """The battery rule's threshold (MW): the previous local day's mean import; on the
    first day the horizon's mean facility load."""

    threshold_mw: float
    day: int
    sum_mw: float = 0.0
    steps: int = 0

    def start_step(self, day: int) -> None:
        if day != self.day:
            self.threshold_mw = self.sum_mw / self.steps
            self.sum_mw, self.steps, self.day = 0.0, 0, day

    def end_step(self, import_mw: float) -> None:
        self.sum_mw += import_mw
        self.steps += 1


def simulate(
    problem: optimize.Problem,
    policy: str,
    day_of_step: np.ndarray,
) -> BaselineResult:
    """Simulate `policy` on `problem`; `day_of_step` is the local calendar day of each step
    (any increasing integers) for the battery's previous-day-mean rule."""
    n = problem.n_steps
    day_of_step = np.asarray(day_of_step)
    if day_of_step.shape != (n,):
        raise ValueError(f"day_of_step has shape {day_of_step.shape}, expected ({n},)")
    fracs, jobs = schedule_jobs(problem, policy)
    job_mw, it_mw = _it_load(problem, fracs)
    plant = _plant(problem, it_mw * problem.facility.pue)
    flows = _Flows(
        import_mw=np.zeros(n),
        export_mw=np.zeros(n),
        charge_mw=np.zeros(n),
        discharge_mw=np.zeros(n),
        soc_mwh=np.zeros(n),
        used_mw={k: np.zeros(n) for k in plant.renewable_names},
        gen_mw={g.name: np.zeros(n) for g in problem.generators},
    )
    bat = _battery_state(problem.battery, n)
    rule = _DayMeanImport(float(plant.load_mw.mean()), day_of_step[0])
    for t in range(n):
        rule.start_step(day_of_step[t])
        net = plant.load_mw[t] - plant.renewable_total_mw[t]
        if net <= 0:
            _surplus_step(plant, flows, bat, t, -net)
        else:
            _deficit_step(plant, flows, bat, t, net, rule.threshold_mw)
        if bat is not None:
            flows.soc_mwh[t] = bat.advance(flows.charge_mw[t], flows.discharge_mw[t], plant.step_h)
        rule.end_step(flows.import_mw[t])

    ts = _timeseries(problem, plant, flows, it_mw, job_mw)
    unfinished = sum(j["unfinished_h"] for j in jobs.values())
    costs = cost_breakdown(problem, ts, gen_mw=flows.gen_mw, unfinished_h=unfinished)
    return BaselineResult(policy, ts, costs, jobs, _checks(problem, ts), flows.gen_mw)


def _it_load(
    problem: optimize.Problem, fracs: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each job's IT MW, and the IT load (MW): inference plus all jobs."""
    jobs_it = np.zeros(problem.n_steps)
    job_mw = {}
    for job in problem.jobs:
        job_mw[job.id] = job.full_power_it_mw * fracs[job.id]
        jobs_it += job_mw[job.id]
    return job_mw, problem.facility.inference_it_mw + jobs_it


def _plant(problem: optimize.Problem, load_mw: np.ndarray) -> _Plant:
    """The rules' view of `problem` with the facility load `load_mw` (MW)."""
    n, grid = problem.n_steps, problem.grid
    names = [r.name for r in problem.renewables]
    avail = {r.name: r.available_mw for r in problem.renewables}
    cap = grid.net_import_cap_mw
    limit = grid.import_max_mw.copy()
    if cap is not None:
        limit = np.where(np.isnan(cap), limit, np.minimum(limit, np.maximum(cap, 0.0)))
    carbon_usd_per_t = problem.objective.carbon_price_usd_per_t
    gens = sorted(
        problem.generators,
        key=lambda g: g.fuel_usd_per_mwh + carbon_usd_per_t * g.carbon_g_per_kwh / 1000.0,
    )
    return _Plant(
        step_h=problem.step_h,
        load_mw=load_mw,
        renewable_names=names,
        available_mw=avail,
        renewable_total_mw=sum((avail[k] for k in names), np.zeros(n)),
        export_max_mw=grid.export_max_mw,
        import_limit_mw=limit,
        generators=gens,
    )


def _battery_state(b: optimize.Battery | None, n: int) -> _BatteryState | None:
    if b is None:
        return None
    return _BatteryState(
        spec=b,
        e_lo_mwh=b.soc_min_frac * b.energy_mwh,
        e_hi_mwh=b.soc_max_frac * b.energy_mwh,
        level_mwh=b.soc_initial_frac * b.energy_mwh,
        power_mw=b.power_mw * (np.ones(n) if b.available_frac is None else b.available_frac),
    )


def _surplus_step(
    plant: _Plant, flows: _Flows, bat: _BatteryState | None, t: int, surplus: float
) -> None:
    """A local surplus (MW) in step `t`: charge, export, then curtail the renewables."""
    if bat is not None:
        room = bat.charge_room_mw(plant.step_h)
        flows.charge_mw[t] = min(surplus, bat.power_mw[t], room)
        surplus -= flows.charge_mw[t]
    flows.export_mw[t] = min(surplus, plant.export_max_mw[t])
    surplus -= flows.export_mw[t]
    total = plant.renewable_total_mw[t]
    keep = 1.0 - surplus / total if total > 0 else 0.0
    names, used = plant.renewable_names, flows.used_mw
    for k in names:
        used[k][t] = plant.available_mw[k][t] * keep
    # exact balance: the last renewable takes the rounding
    if names:
        others = sum(used[k][t] for k in names[:-1])
        used[names[-1]][t] = plant.load_mw[t] + flows.charge_mw[t] + flows.export_mw[t] - others


def _deficit_step(
    plant: _Plant,
    flows: _Flows,
    bat: _BatteryState | None,
    t: int,
    need: float,
    threshold_mw: float,
) -> None:
    """A local deficit (MW) in step `t`: the battery for the import above the threshold,
    import up to its limit, the battery beyond the rule, then the generators; what is
    left is imported beyond the limit (reported by the checks)."""
    for k in plant.renewable_names:
        flows.used_mw[k][t] = plant.available_mw[k][t]
    room_dis = 0.0
    if bat is not None:
        room_dis = bat.discharge_room_mw(t, plant.step_h)
        if need > threshold_mw:
            flows.discharge_mw[t] = min(need - threshold_mw, room_dis)
            need -= flows.discharge_mw[t]
    flows.import_mw[t] = min(need, plant.import_limit_mw[t])
    need -= flows.import_mw[t]
    if need > 0 and bat is not None:
        extra = min(need, room_dis - flows.discharge_mw[t])
        flows.discharge_mw[t] += extra
        need -= extra
    need = _run_generators(plant, flows, t, need)
    if need > 0:  # nothing left: import beyond the limit, reported
        flows.import_mw[t] += need
    elif need < 0:  # a generator's minimum load overshoots
        _absorb_excess(plant, flows, bat, t, -need)


def _run_generators(plant: _Plant, flows: _Flows, t: int, need: float) -> float:
    """Generators in merit order for `need` (MW) in step `t`; returns what is still
    needed (negative: a minimum load overshoots)."""
    for g in plant.generators:
        if need <= 0:
            break
        avail_g = g.capacity_mw * (1.0 if g.available_frac is None else g.available_frac[t])
        p = min(need, avail_g)
        if p > 0 and g.min_load_frac > 0:
            p = max(p, g.min_load_frac * avail_g)  # min load: the excess is
            # absorbed below by importing less (or charging/exporting)
        flows.gen_mw[g.name][t] = p
        need -= p
    return need


def _absorb_excess(
    plant: _Plant, flows: _Flows, bat: _BatteryState | None, t: int, excess: float
) -> None:
    """Absorb a generator's minimum-load excess (MW): import less, discharge less, charge,
    export; raises RuntimeError if some is left."""
    cut = min(excess, flows.import_mw[t])
    flows.import_mw[t] -= cut
    excess -= cut
    cut = min(excess, flows.discharge_mw[t])
    flows.discharge_mw[t] -= cut
    excess -= cut
    if excess > 0 and bat is not None:
        room = bat.charge_room_mw(plant.step_h)
        flows.charge_mw[t] = min(excess, bat.power_mw[t], room)
        excess -= flows.charge_mw[t]
    if excess > 0:
        flows.export_mw[t] = min(excess, plant.export_max_mw[t])
        excess -= flows.export_mw[t]
    if excess > 0:
        raise RuntimeError(f"baseline: generator minimum load cannot be absorbed at step {t}")


def _timeseries(
    problem: optimize.Problem,
    plant: _Plant,
    flows: _Flows,
    it_mw: np.ndarray,
    job_mw: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The simulated plan with the optimum's columns (no power-flow columns: NaN)."""
    n, grid, fac = problem.n_steps, problem.grid, problem.facility
    series = {
        "grid_import_mw": flows.import_mw,
        "grid_export_mw": flows.export_mw,
        "battery_charge_mw": flows.charge_mw,
        "battery_discharge_mw": flows.discharge_mw,
        "battery_soc_mwh": flows.soc_mwh,
        "backup_gen_mw": sum(flows.gen_mw.values(), np.zeros(n)),
        "it_load_mw": it_mw,
        "facility_load_mw": plant.load_mw,
        "price_usd_per_mwh": grid.import_price_usd_per_mwh,
        "carbon_g_per_kwh": grid.carbon_g_per_kwh,
    }
    for k in plant.renewable_names:
        series[f"{k}_available_mw"] = plant.available_mw[k]
        series[f"{k}_used_mw"] = flows.used_mw[k]
    no_powerflow = ("dc_bus_vm_pu", "max_line_loading_pct")  # no AC check of baselines
    cols = {
        c: series.get(c, np.full(n, np.nan) if c in no_powerflow else np.zeros(n))
        for c in TIMESERIES_COLUMNS
    }
    # all columns at once: one insert per job (416 in a year) fragments the frame
    cols |= {f"job_{jid}_mw": job_mw[jid] for jid in sorted(job_mw)}
    cols["inference_it_mw"] = fac.inference_it_mw
    cols["pue"] = fac.pue
    return pd.DataFrame(cols)


def _checks(problem: optimize.Problem, ts: pd.DataFrame) -> dict[str, float | int]:
    """Limits the rules do not enforce, measured on the simulated plan."""
    step_h, grid = problem.step_h, problem.grid
    imp = ts["grid_import_mw"].to_numpy()
    exp = ts["grid_export_mw"].to_numpy()
    over = np.maximum(imp - grid.import_max_mw, 0.0)
    net = imp - exp
    dr_over = np.zeros_like(net)
    if grid.net_import_cap_mw is not None:
        cap = grid.net_import_cap_mw
        dr_over = np.where(np.isnan(cap), 0.0, np.maximum(net - np.nan_to_num(cap), 0.0))
    ramp_steps = 0
    if grid.ramp_mw_per_h is not None and len(net) > 1:
        ramp_steps = int(np.sum(np.abs(np.diff(net)) > grid.ramp_mw_per_h * step_h + 1e-6))
    out: dict[str, float | int] = {
        "import_over_limit_mwh": float(over.sum() * step_h),
        "import_over_limit_steps": int(np.sum(over > 1e-6)),
        "dr_cap_over_mwh": float(dr_over.sum() * step_h),
        "dr_cap_over_steps": int(np.sum(dr_over > 1e-6)),
        "ramp_violation_steps": ramp_steps,
    }
    b = problem.battery
    if b is not None and b.soc_final_frac is not None:
        short = b.soc_final_frac * b.energy_mwh - float(ts["battery_soc_mwh"].iloc[-1])
        out["soc_final_shortfall_mwh"] = max(0.0, short)
    return out


def _pct(base: float, opt: float) -> float | None:
    """Saving of `opt` against `base` in % of |base|; 0 when both are 0, None when only
    the baseline is 0 (no meaningful percentage)."""
    if abs(base) < 1e-9:
        return 0.0 if abs(opt) < 1e-9 else None
    return 100.0 * (base - opt) / abs(base)


def baseline_summary(result: BaselineResult, optimum: dict) -> dict:
    """One baseline's figures for summary.json, with the optimum's savings against it."""
    c = result.costs
    opt_total = optimum["total_cost_usd"]
    opt_objective = opt_total + optimum.get("carbon_cost_usd", 0.0)
    n_jobs = len(result.jobs)
    return {
        "total_cost_usd": c["total_cost_usd"],
        "energy_cost_usd": c["energy_usd"],
        "demand_cost_usd": c["demand_usd"],
        "fuel_cost_usd": c["fuel_usd"],
        "wear_cost_usd": c["wear_usd"],
        "carbon_cost_usd": c["carbon_usd"],
        "objective_usd": c["objective_usd"],
        "emissions_t": c["emissions_t"],
        "cost_saving_pct": _pct(c["total_cost_usd"], opt_total),
        "emissions_saving_pct": _pct(c["emissions_t"], optimum["emissions_t"]),
        "objective_saving_pct": _pct(c["objective_usd"], opt_objective),
        "peak_import_mw": float(result.timeseries["grid_import_mw"].max()),
        "jobs": {
            "n_jobs": n_jobs,
            "deadlines_met": sum(1 for j in result.jobs.values() if j["deadline_met"]),
            "restarts": sum(j["restarts"] for j in result.jobs.values()),
        },
        "violations": result.checks,
    }


def local_days(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Local calendar day number of each step."""
    local = index.tz_convert(timezone)
    return np.asarray(local.year * 10000 + local.month * 100 + local.day, dtype=np.int64)


def run_baselines(
    problem: optimize.Problem,
    index: pd.DatetimeIndex,
    timezone: str,
    price_usd_per_mwh: np.ndarray | None = None,
) -> dict[str, BaselineResult]:
    """Both baselines on the optimizer's problem; time series on the UTC `index`.
    `price_usd_per_mwh` (the market price column of the results; default: the import
    price, adder included) only fills that column."""
    days = local_days(index, timezone)
    out = {}
    for name in BASELINES:
        res = simulate(problem, name, days)
        res.timeseries.index = index
        if price_usd_per_mwh is not None:
            res.timeseries["price_usd_per_mwh"] = np.asarray(price_usd_per_mwh, dtype=float)
        out[name] = res
    return out


def baseline_summaries(
    problem: optimize.Problem,
    index: pd.DatetimeIndex,
    timezone: str,
    optimum: dict,
    price_usd_per_mwh: np.ndarray | None = None,
) -> dict[str, dict]:
    """`summary["baselines"]`: each baseline's costs and the optimum's savings."""
    results = run_baselines(problem, index, timezone, price_usd_per_mwh)
    return {name: baseline_summary(res, optimum) for name, res in results.items()}
