"""The closed loop as a short driver over named steps (in the manner of pandapower's
``run_timeseries``): for each step, re-plan when due (forecast, window, solve), take the
plan's set-points, run the plant step, advance its state, record.

``OperateCase`` is built once per run (the problem with its demand-response caps, the
forecast base, the solver options) and passed to every closed-loop run of it (the run and
its re-runs without one event each).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optimize
import optimize.progress as progress
from microgrid.assemble import Inputs, load_inputs, solver_options
from microgrid.coincident_peak import (
    alert_visible_from_step,
    hindsight_grid,
    load_coincident_peaks,
)
from microgrid.dispatch import plan_problem
from microgrid.dr_program import with_fixed_commit
from microgrid.operate.conditions import plant_conditions
from microgrid.operate.controller import Controller
from microgrid.operate.forecast import ForecastBase, forecast_base
from microgrid.operate.plant import Plant
from microgrid.operate.record import OperateRun, Recorder
from microgrid.operate.state import initial_state
from microgrid.scenario import Scenario


@dataclass(frozen=True)
class OperateCase:
    """What every closed-loop run of a scenario shares."""

    scenario: Scenario
    inputs: Inputs
    problem: optimize.Problem  # the whole period, with the demand-response caps
    forecasts: ForecastBase
    options: optimize.SolverOptions
    lookahead_steps: int
    replan_every_steps: int
    # coincident-peak alert key -> first step the controller knows it (its notice)
    visible_from_step: dict[str, int]
    # what the actual rows are billed on: the plan's grid, with the real coincident-peak
    # intervals in place of the alerts' expected charges
    billing_grid: optimize.Grid


def operate_case(
    scenario: Scenario, inputs: Inputs | None = None, problem: optimize.Problem | None = None
) -> OperateCase:
    """The case of ``scenario``; ``problem`` is the plan's (built with its DR caps when
    not given)."""
    inputs = inputs or load_inputs(scenario)
    if problem is None:
        problem = plan_problem(scenario, inputs)
    problem = with_fixed_commit(scenario, problem, solver_options(scenario))  # DR program
    op = scenario.operate
    return OperateCase(
        scenario=scenario,
        inputs=inputs,
        problem=problem,
        forecasts=forecast_base(scenario, inputs, problem),
        options=solver_options(scenario),
        lookahead_steps=max(1, round(op.lookahead_h / problem.step_h)),
        replan_every_steps=max(1, int(op.replan_every_steps)),
        visible_from_step=alert_visible_from_step(load_coincident_peaks(scenario), inputs.index),
        billing_grid=hindsight_grid(scenario, inputs.index, problem.grid),
    )


def simulate(
    scenario: Scenario,
    inputs: Inputs | None = None,
    events=None,
    *,
    problem: optimize.Problem | None = None,
) -> OperateRun:
    """Run the closed loop once; ``events`` overrides ``scenario.operate.events``."""
    return run_loop(operate_case(scenario, inputs, problem), events)


@dataclass
class _ReplanProgress:
    """Progress lines of a closed loop's re-plans (on when the CLI turns progress on, see
    ``optimize.progress``), paced by ``progress.LinePacer``, e.g. "operate: re-plan 37 ·
    step 37/168 · 12.3 s"."""

    label: str
    n_steps: int
    pacer: progress.LinePacer = field(default_factory=progress.LinePacer)
    replans: int = 0

    def replanned(self, k: int) -> None:
        """Count the re-plan at step ``k`` (0-based) and print a line when one is due."""
        self.replans += 1
        elapsed_s = self.pacer.due_s()
        if elapsed_s is None:
            return
        progress.report(
            f"{self.label}: re-plan {self.replans} · step {k + 1}/{self.n_steps} · "
            f"{elapsed_s:.1f} s"
        )


def new_controller(case: OperateCase) -> Controller:
    """The controller of ``case``, before its first re-plan."""
    return Controller(
        problem=case.problem,
        forecasts=case.forecasts,
        options=case.options,
        lookahead_steps=case.lookahead_steps,
        replan_every_steps=case.replan_every_steps,
        replan_on_events=case.scenario.operate.replan_on_events,
        visible_from_step=case.visible_from_step,
        grid_back_mw=(case.scenario.grid.import_max_mw, case.scenario.grid.export_max_mw),
        voll_usd_per_mwh=case.scenario.operate.value_of_lost_load_usd_per_mwh,
    )


def run_loop(case: OperateCase, events=None, label: str = "operate") -> OperateRun:
    """The closed loop of ``case`` under ``events`` (default: the scenario's);
    ``label`` names it in the progress lines."""
    sc = case.scenario
    events = list(sc.operate.events if events is None else events)
    conditions = plant_conditions(sc, case.inputs, case.problem, events)
    plant = Plant.of(case.problem, conditions)
    controller = new_controller(case)
    state = initial_state(case.problem)
    recorder = Recorder.of(case.problem, case.inputs.index)
    job_ids = [j.id for j in case.problem.jobs]
    shown = _ReplanProgress(label, case.problem.n_steps)
    for k in range(case.problem.n_steps):
        if controller.due(k, conditions):
            controller.replan(k, state, conditions)  # forecast and re-plan
            shown.replanned(k)
        plan = controller.plan
        row = plan.row(k)
        set_points = plan.set_points(k, row, conditions, job_ids)
        step = plant.step(k, set_points, state)  # plant step
        work_h = plant.advance(k, state, step)  # advance
        recorder.save_setpoints(k, plan, row, set_points)  # record
        recorder.save_step(k, step, work_h, state, conditions)
    voll = sc.operate.value_of_lost_load_usd_per_mwh
    return recorder.finish(state, controller, conditions, voll, case.billing_grid)
