"""The plant: one step of the controller's set-points against the actual conditions.

Deviations from the plan are balanced in this order:

1. the grid, within its actual limits (0 in an outage), the demand-response cap and the
   ramp limit (net import within ``ramp_mw_per_h · step_h`` of the last step's);
2. the battery (charge less / discharge more, within power and SOC), and the reverse for
   a surplus;
3. backup generation, unit by unit in merit order, each off or between its minimum load
   and its available capacity (``backup``: a unit whose minimum load the plant cannot
   absorb stays off);
4. a surplus left is curtailed (PV, then wind); a deficit left pauses training jobs,
   largest first, and steps 1-3 run again;
5. what is still out of balance goes to the grid beyond the ramp limit and the DR cap, up
   to its physical limits (a breach, reported per step; e.g. an outage forces import to 0
   faster than the ramp allows), and a deficit left is unserved facility energy.

Then SOC advances from the actual charge and discharge, jobs from the actual power
fraction (``throughput(f) · step_h``; a restart adds its overhead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import optimize
from microgrid.operate.backup import (
    lower_units,
    raise_units,
    stop_units,
    units_at,
    within_limits_mw,
)
from microgrid.operate.conditions import PlantConditions
from microgrid.operate.state import Flows, PlantState, SetPoints, StepLimits
from optimize.throughput import throughput

#: A balance residual below this (MW) is round-off, not unserved energy.
_EPS_MW = 1e-9
#: Slack (MW) on the ramp limit and the DR cap: a plan that keeps them up to the solver's
#: feasibility tolerance is followed as planned and not reported as a breach.
LIMIT_TOL_MW = 1e-6
#: Work below this (h) counts as done, by the plant and the controller alike.
DONE_H = 1e-7


@dataclass(frozen=True)
class StepResult:
    """What the plant did in one step (MW)."""

    flows: Flows
    job_power_frac: dict[str, float]  # after pauses
    facility_load_mw: float  # of the jobs that ran and inference (served or not)
    unserved_mw: float
    jobs_paused: int
    ramp_excess_mw: float  # |Δ net import| beyond the ramp limit (0: kept)
    dr_cap_excess_mw: float  # net import above the demand-response cap (0: kept)


@dataclass(frozen=True)
class Plant:
    """The run's assets under the actual conditions."""

    problem: optimize.Problem
    conditions: PlantConditions

    @classmethod
    def of(cls, problem: optimize.Problem, conditions: PlantConditions) -> Plant:
        return cls(problem, conditions)

    def step(self, k: int, sp: SetPoints, state: PlantState) -> StepResult:
        """Apply the set-points of step k; balance the deviations (module docstring)."""
        lim = self.limits(k, state)
        x = Flows(
            net_import_mw=sp.net_import_mw,
            pv_mw=sp.pv_mw,
            wind_mw=sp.wind_mw,
            charge_mw=min(sp.battery_charge_mw, lim.charge_max_mw),
            discharge_mw=min(sp.battery_discharge_mw, lim.discharge_max_mw),
            gen_mw={u.name: within_limits_mw(u, sp.gen_mw.get(u.name, 0.0)) for u in lim.units},
        )
        fracs = dict(sp.job_power_frac)
        load = self._load_mw(k, fracs)
        deficit = rebalance(load - x.supply_mw(), x, lim)
        paused = 0
        if deficit > _EPS_MW:
            paused = self._pause_jobs(k, deficit, fracs)
            load = self._load_mw(k, fracs)
            deficit = rebalance(load - x.supply_mw(), x, lim)
        if abs(deficit) > _EPS_MW and _relaxable(lim):
            deficit = rebalance(load - x.supply_mw(), x, lim, relaxed=True)
        ramp_excess, cap_excess = self._breaches(k, x.net_import_mw, state.net_import_mw)
        return StepResult(
            flows=x,
            job_power_frac=fracs,
            facility_load_mw=load,
            unserved_mw=deficit if deficit > _EPS_MW else 0.0,
            jobs_paused=paused,
            ramp_excess_mw=ramp_excess,
            dr_cap_excess_mw=cap_excess,
        )

    def limits(self, k: int, state: PlantState) -> StepLimits:
        """The grid band (physical limits, DR cap, ramp from the last net import), battery
        power within SOC room, and the generators (merit order) at step k."""
        c = self.conditions
        imax, emax = c.import_max_mw[k], c.export_max_mw[k]
        lo, hi = -emax, imax
        if c.net_import_cap_mw is not None and not math.isnan(c.net_import_cap_mw[k]):
            hi = min(hi, max(c.net_import_cap_mw[k] + LIMIT_TOL_MW, lo))
        if c.ramp_mw_per_h is not None and state.net_import_mw is not None:
            r = c.ramp_mw_per_h * self.problem.step_h
            lo = min(max(lo, state.net_import_mw - r - LIMIT_TOL_MW), hi)
            hi = max(min(hi, state.net_import_mw + r + LIMIT_TOL_MW), lo)
        ch_max = dis_max = 0.0
        b = self.problem.battery
        if b is not None:
            pmax = b.power_mw * (1.0 if b.available_frac is None else b.available_frac[k])
            kc, kd = self._battery_factors()
            e_lo, e_hi = b.soc_min_frac * b.energy_mwh, b.soc_max_frac * b.energy_mwh
            dis_max = max(0.0, min(pmax, (state.soc_mwh - e_lo) / kd))
            ch_max = max(0.0, min(pmax, (e_hi - state.soc_mwh) / kc))
        return StepLimits(
            import_max_mw=imax,
            export_max_mw=emax,
            net_import_min_mw=lo,
            net_import_max_mw=hi,
            charge_max_mw=ch_max,
            discharge_max_mw=dis_max,
            units=units_at(self.problem, k),
        )

    def _battery_factors(self) -> tuple[float, float]:
        """MWh stored per MW charged, and MWh drawn per MW discharged, in one step."""
        b, step_h = self.problem.battery, self.problem.step_h
        return step_h * b.charge_efficiency, step_h / b.discharge_efficiency

    def _load_mw(self, k: int, fracs: dict[str, float]) -> float:
        """Facility load: (inference + jobs at their power fractions) × PUE."""
        full_mw = {j.id: j.full_power_it_mw for j in self.problem.jobs}
        job_it = sum(full_mw[j] * f for j, f in fracs.items())
        inf_it = float(self.problem.facility.inference_it_mw[k])
        return (inf_it + job_it) * float(self.problem.facility.pue[k])

    def _pause_jobs(self, k: int, deficit: float, fracs: dict[str, float]) -> int:
        """Pause training, largest job first, until ``deficit`` (MW) is covered; in place
        on ``fracs``; return the number paused."""
        full_mw = {j.id: j.full_power_it_mw for j in self.problem.jobs}
        pue = float(self.problem.facility.pue[k])
        paused = 0
        for jid in sorted(fracs, key=lambda j: -full_mw[j] * fracs[j]):
            if deficit <= _EPS_MW:
                break
            if fracs[jid] > 0:
                deficit -= full_mw[jid] * fracs[jid] * pue
                fracs[jid] = 0.0
                paused += 1
        return paused

    def _breaches(self, k: int, net_mw: float, last_net_mw: float | None) -> tuple[float, float]:
        """Net import beyond the ramp limit and above the DR cap (MW; 0 when kept)."""
        c = self.conditions
        ramp = 0.0
        if c.ramp_mw_per_h is not None and last_net_mw is not None:
            ramp = abs(net_mw - last_net_mw) - c.ramp_mw_per_h * self.problem.step_h
        cap = 0.0
        if c.net_import_cap_mw is not None and not math.isnan(c.net_import_cap_mw[k]):
            cap = net_mw - c.net_import_cap_mw[k]
        # the band's edge is the limit plus LIMIT_TOL_MW: a net import on it is no breach
        beyond = LIMIT_TOL_MW + _EPS_MW
        return float(ramp) if ramp > beyond else 0.0, float(cap) if cap > beyond else 0.0

    def advance(self, k: int, state: PlantState, step: StepResult) -> dict[str, float]:
        """Move the state past step k; return each job's work done in it (h)."""
        x = step.flows
        if self.problem.battery is not None:
            kc, kd = self._battery_factors()
            state.soc_mwh = state.soc_mwh + kc * x.charge_mw - kd * x.discharge_mw
        imp, exp = max(x.net_import_mw, 0.0), max(-x.net_import_mw, 0.0)
        state.net_import_mw = imp - exp
        state.net_import_history_mw.append(state.net_import_mw)
        state.import_history_mw.append(float(imp))
        jobs = {j.id: j for j in self.problem.jobs}
        step_h = self.problem.step_h
        work = {}
        for jid, f in step.job_power_frac.items():
            js, job = state.jobs[jid], jobs[jid]
            on = f > _EPS_MW
            if js.running and not on and not job.preemptible and js.remaining_h > DONE_H:
                js.forced_interruptions += 1  # resumes from its checkpoint, progress kept
            if on and not js.running and js.has_run:
                js.restarts += 1
                js.remaining_h += job.restart_overhead_h
            work[jid] = float(throughput(job.throughput_curve, f)) * step_h if on else 0.0
            js.remaining_h -= work[jid]
            js.running = on
            js.has_run = js.has_run or on
        return work


def _relaxable(lim: StepLimits) -> bool:
    """The grid band is narrower than the physical limits (a ramp limit or DR cap)."""
    return lim.net_import_min_mw != -lim.export_max_mw or lim.net_import_max_mw != lim.import_max_mw


def rebalance(deficit: float, x: Flows, lim: StepLimits, relaxed: bool = False) -> float:
    """Cover ``deficit`` (MW, < 0: surplus) by the grid (within its band, or its physical
    limits when ``relaxed``), the battery, the generators (``backup``) and curtailment, in
    place on ``x``; return what is left."""
    lo, hi = (-lim.export_max_mw, lim.import_max_mw) if relaxed else (
        lim.net_import_min_mw, lim.net_import_max_mw)  # fmt: skip
    deficit = _battery(_grid(deficit, x, lo, hi), x, lim)
    deficit = _generators(deficit, x, lim, lo, hi)
    curtailable_mw = x.pv_mw + x.wind_mw
    if deficit < -curtailable_mw - _EPS_MW:
        # minimum loads nothing takes (an islanded bus, a full battery): units stop, the
        # grid and the battery cover what they carried, and the rest is shed
        deficit = stop_units(lim.units, x.gen_mw, deficit, curtailable_mw)
        deficit = _battery(_grid(deficit, x, lo, hi), x, lim)
    return _curtail(deficit, x)


def _generators(deficit: float, x: Flows, lim: StepLimits, lo: float, hi: float) -> float:
    """A deficit: units raised or started in merit order (a minimum load's surplus back to
    the grid and the battery); a surplus: units lowered, dearest first."""
    if deficit > 0:
        deficit = raise_units(lim.units, x.gen_mw, deficit, _absorb_room_mw(x, lim, lo))
        if deficit < 0:  # a unit started at its minimum load: its surplus goes back
            deficit = _battery(_grid(deficit, x, lo, hi), x, lim)
    elif deficit < 0:
        deficit = lower_units(lim.units, x.gen_mw, deficit)
    return deficit


def _grid(deficit: float, x: Flows, lo: float, hi: float) -> float:
    """Net import moved by ``deficit`` within ``[lo, hi]``; return what is left."""
    new = min(max(x.net_import_mw + deficit, lo), hi)
    deficit -= new - x.net_import_mw
    x.net_import_mw = new
    return deficit


def _absorb_room_mw(x: Flows, lim: StepLimits, lo: float) -> float:
    """The surplus the plant could still take (MW): net import down to ``lo``, battery
    discharge to 0 and charge to its limit, renewables curtailed."""
    charge_room_mw = max(lim.charge_max_mw - x.charge_mw, 0.0)
    return max(x.net_import_mw - lo, 0.0) + x.discharge_mw + charge_room_mw + x.pv_mw + x.wind_mw


def _curtail(deficit: float, x: Flows) -> float:
    """A surplus left: curtail PV, then wind; return what is left."""
    if deficit < 0:
        r = min(x.pv_mw, -deficit)
        x.pv_mw -= r
        deficit += r
    if deficit < 0:
        r = min(x.wind_mw, -deficit)
        x.wind_mw -= r
        deficit += r
    return deficit


def _battery(deficit: float, x: Flows, lim: StepLimits) -> float:
    """A deficit: charge less, then discharge more; a surplus: the reverse."""
    if deficit > 0:
        r = min(x.charge_mw, deficit)
        x.charge_mw -= r
        deficit -= r
        r = max(min(lim.discharge_max_mw - x.discharge_mw, deficit), 0.0)
        x.discharge_mw += r
        deficit -= r
    elif deficit < 0:
        r = min(x.discharge_mw, -deficit)
        x.discharge_mw -= r
        deficit += r
        r = max(min(lim.charge_max_mw - x.charge_mw, -deficit), 0.0)
        x.charge_mw += r
        deficit += r
    return deficit
