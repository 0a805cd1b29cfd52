"""What the closed loop records: the actual rows, the controller's set-point rows, the
forecasts used, the jobs, the limit breaches, and the run's costs (priced by
``microgrid.costs.cost_breakdown`` at the plant's prices)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import optimize
from microgrid.baselines.limits import soc_final_short_mwh
from microgrid.breaches import breach_fields
from microgrid.costs import cost_breakdown
from microgrid.operate.conditions import PlantConditions
from microgrid.operate.controller import LOST_LOAD, Controller, Plan
from microgrid.operate.forecast import FORECAST_SERIES
from microgrid.operate.plant import StepResult
from microgrid.operate.state import PlantState, SetPoints

ROW_COLUMNS = ("grid_import_mw", "grid_export_mw", "pv_available_mw", "pv_used_mw",
               "wind_available_mw", "wind_used_mw", "battery_charge_mw", "battery_discharge_mw",
               "backup_gen_mw", "it_load_mw", "facility_load_mw", "battery_soc_mwh",
               "unserved_mw", "job_it_mw")  # fmt: skip
#: The cost keys of ``summary.operate.costs`` (from ``cost_breakdown``), in that order.
_COST_KEYS = ("energy_usd", "demand_usd", "fuel_usd", "wear_usd", "carbon_usd", "emissions_t",
              "unfinished_penalty_usd", "dr_program_usd")  # fmt: skip
#: Unfinished work below this (h) counts as done.
_DONE_H = 1e-6


@dataclass(frozen=True)
class LimitBreaches:
    """Per step, how far the plant's net import went beyond the ramp limit and above the
    demand-response cap (MW; 0 where kept); and the stored energy the plant ended below
    the scenario's final state of charge (MWh; 0 where kept or none is set): the plan
    keeps it, but the plant follows the actual resource and load in the last steps."""

    ramp_excess_mw: np.ndarray
    dr_cap_excess_mw: np.ndarray
    step_h: float
    soc_final_short_mwh: float = 0.0

    def summary(self, index: pd.DatetimeIndex) -> dict:
        """Counts, largest excess and first steps (UTC) of each (``breach_fields``), the
        energy imported above the DR cap (``dr_cap_breach_mwh``), then
        ``soc_final_short_mwh``: the keys of a baseline's breaches but the import limit's,
        which the plant never passes (what the grid cannot carry is unserved)."""
        return {
            **breach_fields("ramp", self.ramp_excess_mw, index),
            **breach_fields("dr_cap", self.dr_cap_excess_mw, index),
            "dr_cap_breach_mwh": float(self.dr_cap_excess_mw.sum() * self.step_h),
            "soc_final_short_mwh": self.soc_final_short_mwh,
        }


@dataclass
class OperateRun:
    """One closed-loop run: actual rows, set-point rows, costs, forecasts used.

    ``setpoints``: per step, the row of the controller's plan in force then (its latest
    re-plan): what it told the plant to do in that step and the SOC and facility load that
    plan expected. It is no plan of the period: each step comes from the latest re-plan at
    or before it."""

    actual: pd.DataFrame
    setpoints: pd.DataFrame
    costs: dict[str, float]
    jobs: dict[str, dict]
    forecast_used: pd.DataFrame
    n_solves: int
    solve_s: float
    unserved_mwh: float
    shed_job_steps: int
    infeasible_replans: int = 0
    time_limited_solves: int = 0
    replans: tuple[tuple[str, float | None], ...] = ()  # each re-plan's status and gap
    breaches: LimitBreaches | None = None
    line_out: dict[str, np.ndarray] = field(default_factory=dict)  # line -> steps out
    # the plant's grid import and export limits per step (MW; 0 in a grid outage)
    grid_limits_mw: tuple[np.ndarray, np.ndarray] | None = None
    # the bill of the actual rows (line item + _usd -> USD) and the grid it was priced on
    # (the plan's tariff at the plant's prices, spikes included)
    bill: dict[str, float] = field(default_factory=dict)
    billed_grid: optimize.Grid | None = None


@dataclass
class Recorder:
    """Arrays of n_steps filled step by step (the loop's output writer)."""

    problem: optimize.Problem
    index: pd.DatetimeIndex
    actual: dict[str, np.ndarray]
    setpoints: dict[str, np.ndarray]
    jobs: dict[str, dict[str, np.ndarray]]  # "mw" / "power_fraction" / "work_h" -> job -> MW
    forecast_used: np.ndarray  # n_steps × FORECAST_SERIES
    gen_mw: dict[str, np.ndarray]  # generator -> MW (as the plant ran each unit)
    ramp_excess_mw: np.ndarray
    dr_cap_excess_mw: np.ndarray
    full_power_it_mw: dict[str, float]  # job -> IT power at fraction 1
    jobs_paused: int = 0

    @classmethod
    def of(cls, problem: optimize.Problem, index: pd.DatetimeIndex) -> Recorder:
        n = problem.n_steps
        return cls(
            problem=problem,
            index=index,
            actual={c: np.zeros(n) for c in ROW_COLUMNS},
            setpoints={c: np.zeros(n) for c in ROW_COLUMNS},
            jobs={
                key: {j.id: np.zeros(n) for j in problem.jobs}
                for key in ("mw", "power_fraction", "work_h")
            },
            forecast_used=np.full((n, len(FORECAST_SERIES)), np.nan),
            gen_mw={g.name: np.zeros(n) for g in problem.generators},
            ramp_excess_mw=np.zeros(n),
            dr_cap_excess_mw=np.zeros(n),
            full_power_it_mw={j.id: j.full_power_it_mw for j in problem.jobs},
        )

    def save_setpoints(self, k: int, plan: Plan, row: dict[str, float], sp: SetPoints) -> None:
        """The row of the plan in force at step k (the set-points) and its forecast."""
        i = k - plan.start_step
        for c_i, c in enumerate(FORECAST_SERIES):
            self.forecast_used[k, c_i] = plan.forecast[c].iloc[i]
        for c in ROW_COLUMNS:
            self.setpoints[c][k] = row.get(c, 0.0)
        # a plan with load shed (``controller.with_lost_load``): its shed is no backup
        shed_mw = row.get(f"gen_{LOST_LOAD}_mw", 0.0)
        self.setpoints["backup_gen_mw"][k] -= shed_mw
        self.setpoints["unserved_mw"][k] = shed_mw
        full_mw = self.full_power_it_mw
        self.setpoints["job_it_mw"][k] = sum(full_mw[j] * f for j, f in sp.job_power_frac.items())

    def save_step(
        self,
        k: int,
        step: StepResult,
        work_h: dict[str, float],
        state: PlantState,
        conditions: PlantConditions,
    ) -> None:
        """The plant's step k (after ``Plant.advance``: the SOC is the step's end)."""
        x = step.flows
        for jid, f in step.job_power_frac.items():
            self.jobs["mw"][jid][k] = self.full_power_it_mw[jid] * f
            self.jobs["power_fraction"][jid][k] = f
            self.jobs["work_h"][jid][k] = work_h[jid]
        for name, mw in x.gen_mw.items():  # per unit: fuel and carbon
            self.gen_mw[name][k] = mw
        pue = float(self.problem.facility.pue[k])
        it = step.facility_load_mw / pue
        row = {
            "grid_import_mw": max(x.net_import_mw, 0.0),
            "grid_export_mw": max(-x.net_import_mw, 0.0),
            "pv_available_mw": conditions.pv_mw[k],
            "pv_used_mw": x.pv_mw,
            "wind_available_mw": conditions.wind_mw[k],
            "wind_used_mw": x.wind_mw,
            "battery_charge_mw": x.charge_mw,
            "battery_discharge_mw": x.discharge_mw,
            "backup_gen_mw": x.backup_mw,
            "it_load_mw": it,
            "facility_load_mw": step.facility_load_mw,
            "battery_soc_mwh": state.soc_mwh,
            "unserved_mw": step.unserved_mw,
            "job_it_mw": it - float(self.problem.facility.inference_it_mw[k]),
        }
        for c, v in row.items():
            self.actual[c][k] = v
        self.ramp_excess_mw[k] = step.ramp_excess_mw
        self.dr_cap_excess_mw[k] = step.dr_cap_excess_mw
        self.jobs_paused += step.jobs_paused

    def finish(
        self,
        state: PlantState,
        controller: Controller,
        conditions: PlantConditions,
        voll_usd_per_mwh: float,
        billing_grid: optimize.Grid,
    ) -> OperateRun:
        """The run's tables, jobs and costs (unserved energy priced at ``voll``; the grid
        lines billed on ``billing_grid`` at the plant's prices)."""
        cols = dict(self.actual)
        # the price the plant settled at (events' spikes included), so that the rows
        # rebuild the bill; the plan's rows carry the signals' price
        cols["price_usd_per_mwh"] = conditions.price_usd_per_mwh
        for jid in self.jobs["mw"]:
            for key in ("mw", "power_fraction", "work_h"):
                cols[f"job_{jid}_{key}"] = self.jobs[key][jid]
        for name, mw in self.gen_mw.items():  # each unit as the plant ran it
            cols[f"gen_{name}_mw"] = mw
        actual = pd.DataFrame(cols, index=self.index)
        jobs = self._jobs_summary(state)
        unfinished_h = sum(j["unfinished_h"] for j in jobs.values())
        grid = actual_grid(billing_grid, conditions)
        costs = actual_costs(self.problem, grid, actual, self.gen_mw, unfinished_h)
        bill = costs.pop("bill")
        step_h = self.problem.step_h
        costs["unserved_usd"] = voll_usd_per_mwh * float(actual["unserved_mw"].sum()) * step_h
        return OperateRun(
            actual=actual,
            setpoints=pd.DataFrame(self.setpoints, index=self.index),
            costs=costs,
            jobs=jobs,
            forecast_used=pd.DataFrame(
                self.forecast_used, index=self.index, columns=list(FORECAST_SERIES)
            ),
            n_solves=controller.n_solves,
            solve_s=controller.solve_s,
            unserved_mwh=float(actual["unserved_mw"].sum() * step_h),
            shed_job_steps=self.jobs_paused,
            infeasible_replans=controller.infeasible_replans,
            time_limited_solves=controller.time_limited_solves,
            replans=tuple(controller.replans),
            breaches=LimitBreaches(
                self.ramp_excess_mw,
                self.dr_cap_excess_mw,
                step_h,
                soc_final_short_mwh(self.problem, actual),
            ),
            line_out=conditions.line_out,
            grid_limits_mw=(conditions.import_max_mw, conditions.export_max_mw),
            bill=bill,
            billed_grid=grid,
        )

    def _jobs_summary(self, state: PlantState) -> dict[str, dict]:
        work = {j.id: j.work_h for j in self.problem.jobs}
        out = {}
        for jid, js in state.jobs.items():
            unfinished = max(0.0, js.remaining_h)
            out[jid] = {
                "work_done_h": work[jid] - unfinished,
                "unfinished_h": unfinished if unfinished > _DONE_H else 0.0,
                "restarts": js.restarts,
                "forced_interruptions": js.forced_interruptions,
                "deadline_met": unfinished <= _DONE_H,
            }
        return out


def actual_grid(g: optimize.Grid, conditions: PlantConditions) -> optimize.Grid:
    """Grid ``g`` at the plant's prices: its adders (import/export price minus its LMP)
    on the plant's LMP, which carries the spikes (the bill's first price part takes the
    difference)."""
    lmp = conditions.price_usd_per_mwh
    plan_lmp = lmp / conditions.price_factor
    return dataclasses.replace(
        g,
        import_price_usd_per_mwh=g.import_price_usd_per_mwh - plan_lmp + lmp,
        export_price_usd_per_mwh=g.export_price_usd_per_mwh - plan_lmp + lmp,
    )


def actual_costs(
    problem: optimize.Problem,
    grid: optimize.Grid,
    actual: pd.DataFrame,
    gen_mw: dict[str, np.ndarray],
    unfinished_h: float,
) -> dict:
    """``cost_breakdown`` of the actual rows priced on ``grid`` (``actual_grid``), with the
    DR program settled at its fixed commitment; the ``bill`` included."""
    priced = dataclasses.replace(problem, grid=grid)
    program = problem.dr_program
    commit = program.commit_mw if program is not None else None
    costs = cost_breakdown(
        priced, actual, gen_mw=gen_mw, unfinished_h=unfinished_h, dr_commit_mw=commit
    )
    return {k: costs[k] for k in (*_COST_KEYS, "bill")}
