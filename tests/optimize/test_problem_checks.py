"""The optimize dataclasses refuse what has no meaning with one ValueError naming the
field. Before: `Job(max_interruptions=1.5)` failed in numba 12 frames deep, a NaN restart
overhead in the job DP, `work_h=inf` with an OverflowError, an infinite battery in HiGHS's
passModel, a negative unfinished-work penalty as "infeasible", a negative carbon price
was solved (paid to emit), `mip_rel_gap=nan` and `node_limit=-5` solved as "optimal";
and a caller's array changed after the checks was solved unchecked."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from optimize.problem import Battery, Facility, Generator, Grid, Job, Objective
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import random_day

JOB = {"id": "j", "full_power_it_mw": 10.0, "work_h": 6.0, "release_step": 0, "deadline_step": 24}
BATTERY = {
    "power_mw": 5.0,
    "energy_mwh": 10.0,
    "charge_efficiency": 0.95,
    "discharge_efficiency": 0.95,
    "soc_min_frac": 0.1,
    "soc_max_frac": 0.9,
    "soc_initial_frac": 0.5,
}


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("max_interruptions", 1.5, "Job[j].max_interruptions must be a whole number >= 0"),
        ("restart_overhead_h", math.nan, "Job[j].restart_overhead_h must be a finite number"),
        ("work_h", math.inf, "Job[j].work_h must be a finite number >= 0"),
        ("release_step", 2.5, "Job[j].release_step must be a whole number"),
        ("full_power_it_mw", True, "Job[j].full_power_it_mw must be a finite number"),
        ("id", 3, "Job.id must be a non-empty string, got 3"),
        ("id", "", "Job.id must be a non-empty string, got ''"),
    ],
)
def test_a_job_field_without_meaning_is_refused(field, value, needle):
    with pytest.raises(ValueError) as info:
        Job(**{**JOB, field: value})
    assert needle in str(info.value)


def test_infinite_battery_and_generator_are_refused():
    with pytest.raises(ValueError, match=r"Battery.energy_mwh must be a finite number >= 0"):
        Battery(**{**BATTERY, "energy_mwh": math.inf})
    with pytest.raises(ValueError, match=r"Battery.power_mw must be a finite number >= 0"):
        Battery(**{**BATTERY, "power_mw": math.inf})
    with pytest.raises(ValueError, match=r"Generator\[g\].capacity_mw must be a finite"):
        Generator("g", capacity_mw=math.inf, fuel_usd_per_mwh=80.0, carbon_g_per_kwh=500.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("carbon_price_usd_per_t", -500.0), ("unfinished_work_penalty_usd_per_h", -1000.0)]
    + [("unfinished_work_penalty_usd_per_h", math.nan), ("carbon_budget_t", math.inf)],
)
def test_an_objective_without_a_minimum_is_refused(field, value):
    with pytest.raises(ValueError, match=f"Objective.{field} must be a finite number >= 0"):
        Objective(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [("mip_rel_gap", math.nan), ("mip_rel_gap", -1.0), ("time_limit_s", -5.0)]
    + [("time_limit_s", math.nan), ("node_limit", -5), ("node_limit", 0)],
)
def test_solver_options_without_meaning_are_refused(field, value):
    with pytest.raises(ValueError, match=f"SolverOptions.{field} must"):
        SolverOptions(**{field: value})


def test_a_problem_keeps_its_own_copy_of_the_callers_arrays():
    price = np.full(24, 50.0)
    grid = Grid(
        import_max_mw=np.full(24, 100.0),
        export_max_mw=np.zeros(24),
        import_price_usd_per_mwh=price,
        export_price_usd_per_mwh=np.zeros(24),
        carbon_g_per_kwh=np.full(24, 400.0),
    )
    price[:] = -1e3
    assert (grid.import_price_usd_per_mwh == 50.0).all()


def test_parts_and_arguments_of_the_wrong_kind_are_named():
    problem = random_day(0)
    with pytest.raises(TypeError, match="Problem.jobs: Job objects, not dict"):
        dataclasses.replace(problem, jobs=(JOB,))
    with pytest.raises(TypeError, match="options: a SolverOptions, not dict"):
        solve(problem, {"mip_rel_gap": 0.01})
    with pytest.raises(ValueError, match=r"start_on\['x'\]|no job 'x'"):
        solve(problem, start_on={"x": np.ones(5, bool)})
    job = problem.jobs[0].id
    with pytest.raises(ValueError, match=rf"start_on\['{job}'\] has shape \(5,\)"):
        solve(problem, start_on={job: np.ones(5, bool)})


def _grid(n: int = 24, **fields) -> Grid:
    arrays = {
        "import_max_mw": np.full(n, 100.0),
        "export_max_mw": np.zeros(n),
        "import_price_usd_per_mwh": np.full(n, 50.0),
        "export_price_usd_per_mwh": np.zeros(n),
        "carbon_g_per_kwh": np.full(n, 400.0),
    }
    return Grid(**{**arrays, **fields})


GENERATOR = {"name": "g", "capacity_mw": 5.0, "fuel_usd_per_mwh": 80.0, "carbon_g_per_kwh": 500.0}
FACILITY = {"inference_it_mw": np.full(24, 5.0), "pue": np.full(24, 1.2)}


@pytest.mark.parametrize(
    ("make", "field", "value", "needle"),
    [
        (Battery, "charge_efficiency", "0.95", "Battery.charge_efficiency must lie in (0, 1]"),
        (Battery, "discharge_efficiency", None, "Battery.discharge_efficiency must lie in"),
        (Battery, "soc_min_frac", "a", "Battery.soc_min_frac must lie in [0, 1]"),
        (Generator, "min_load_frac", "x", "Generator[g].min_load_frac must lie in [0, 1]"),
        (Generator, "fuel_usd_per_mwh", "80", "Generator[g].fuel_usd_per_mwh must be a finite"),
        (Job, "f_min", "1", "Job[j].f_min must lie in (0, 1]"),
        (Job, "throughput_curve", [(1.0,)], "Job[j].throughput_curve: (power, throughput)"),
        (_grid, "ramp_mw_per_h", "5", "Grid.ramp_mw_per_h must be a number >= 0"),
        (_grid, "import_max_mw", ["a"] * 24, "Grid.import_max_mw must be an array of numbers"),
        (Facility, "pue", ["x"] * 24, "Facility.pue must be an array of numbers"),
        (SolverOptions, "threads", "2", "SolverOptions.threads must be a whole number >= 1"),
        (SolverOptions, "probe_limit", "2", "SolverOptions.probe_limit must be a whole number"),
        (SolverOptions, "edge_search_steps", 2.5, "SolverOptions.edge_search_steps must be"),
        (SolverOptions, "heuristic_effort", 5.0, "SolverOptions.heuristic_effort must lie in"),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_value_error_naming_its_field(make, field, value, needle):
    """Text or None where a number belongs failed in a comparison that named no field
    (TypeError: '<' not supported between instances of 'int' and 'str'), text in an array
    with numpy's words alone; a whole-number option took 2.5."""
    base = {Battery: BATTERY, Generator: GENERATOR, Job: JOB, Facility: FACILITY}.get(make, {})
    with pytest.raises(ValueError) as info:
        make(**{**base, field: value})
    assert needle in str(info.value)


@pytest.mark.parametrize("step_h", ["1", math.inf, math.nan, 0.0])
def test_a_step_without_a_length_in_hours_is_refused(step_h):
    problem = random_day(0)
    with pytest.raises(ValueError, match="Problem.step_h must be a finite number of hours > 0"):
        dataclasses.replace(problem, step_h=step_h)


def test_a_problems_arrays_cannot_be_changed_in_place():
    """A frozen problem's arrays were writable: a price or a limit set in place after the
    checks (a NaN, a negative limit) went to the solver unchecked."""
    grid = _grid()
    facility = Facility(**FACILITY)
    battery = Battery(**{**BATTERY, "available_frac": np.ones(24)})
    for arr in (grid.import_max_mw, grid.carbon_g_per_kwh, facility.pue, battery.available_frac):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = np.nan
    assert (grid.import_max_mw == 100.0).all() and (facility.pue == 1.2).all()
    # a new problem from them is made as ever (dataclasses.replace copies what it is given)
    cheaper = dataclasses.replace(grid, import_price_usd_per_mwh=grid.import_price_usd_per_mwh / 2)
    assert (cheaper.import_price_usd_per_mwh == 25.0).all()
