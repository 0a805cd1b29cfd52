"""The three problems of a sizing study, all from `microgrid.assemble.build_problem`:

- `template_problem`: the scenario's problem, with a battery template when the battery is
  sized but the scenario's own battery has no power or energy (build_problem leaves such a
  battery out); the template's sizes are the scenario's, replaced by the sized ones;
- `sizing_problem`: the template with the optimiser's `Sizing` (the grid's import limit
  becomes the grid_import bound, 0 in outages);
- `fixed_problem`: the template with the chosen sizes fixed (renewable available MW =
  per-MW profile × size; battery power and energy; import limit; generator capacity),
  no `Sizing`: the verification dispatch;
- `inflexible_problem`: the jobs as fixed load, asap at full power
  (microgrid/baselines/jobs.py), no flexible jobs left and no IT capacity: the rule starts
  each job at its release whatever else runs, so that load may pass the campus's IT
  capacity, a breach `inflexible_it_breaches` reports (as `run`'s `asap` and
  `storage-optimal` baselines do) rather than a load no plan could serve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, build_problem
from microgrid.baselines.jobs import job_it_mw, schedule_jobs
from microgrid.baselines.limits import TOL
from microgrid.breaches import breach_fields
from microgrid.scenario import Scenario
from microgrid.sizing.assets import AssetSpec

_BATTERY = ("battery_power", "battery_energy")
_TEMPLATE_MW = 1.0  # a placeholder battery size, replaced by the sized or fixed one


def template_problem(
    scenario: Scenario, inputs: Inputs, caps_mw: np.ndarray | None, specs: tuple[AssetSpec, ...]
) -> optimize.Problem:
    """The scenario's problem; a sized battery always has its template."""
    sized = {s.name for s in specs}
    b = scenario.battery
    if not (sized & set(_BATTERY)) or (b.power_mw > 0 and b.energy_mwh > 0):
        return build_problem(scenario, inputs, net_import_cap_mw=caps_mw)
    with_battery = scenario.with_updates(
        {"battery.power_mw": _TEMPLATE_MW, "battery.energy_mwh": _TEMPLATE_MW}
    )
    problem = build_problem(with_battery, inputs, net_import_cap_mw=caps_mw)
    battery = replace(problem.battery, power_mw=b.power_mw, energy_mwh=b.energy_mwh)
    return replace(problem, battery=battery)


def _import_limit_mw(inputs: Inputs, limit_mw: float) -> np.ndarray:
    """`limit_mw` in every step, 0 in outages."""
    return np.where(inputs.frame["outage"].to_numpy(), 0.0, limit_mw)


def sizing_problem(
    template: optimize.Problem, inputs: Inputs, sizing: optimize.Sizing
) -> optimize.Problem:
    """The template with `sizing`: the sizes are decided with the dispatch."""
    grid_import = sizing.get("grid_import")
    problem = template
    if grid_import is not None:
        grid = replace(template.grid, import_max_mw=_import_limit_mw(inputs, grid_import.max_size))
        problem = replace(problem, grid=grid)
    return replace(problem, sizing=sizing)


def _fixed_battery(
    battery: optimize.Battery | None, sizes: dict[str, float]
) -> optimize.Battery | None:
    if battery is None:
        return None
    power = sizes.get("battery_power", battery.power_mw)
    energy = sizes.get("battery_energy", battery.energy_mwh)
    if power <= 0 or energy <= 0:
        return None  # as build_problem: a battery without power or energy is none
    return replace(battery, power_mw=power, energy_mwh=energy)


def fixed_problem(
    template: optimize.Problem,
    inputs: Inputs,
    sizes: dict[str, float],
    profiles: dict[str, np.ndarray],
) -> optimize.Problem:
    """The template with the assets in `sizes` (optimiser name -> MW or MWh) fixed."""
    renewables = tuple(
        replace(r, available_mw=profiles[r.name] * sizes[r.name]) if r.name in sizes else r
        for r in template.renewables
    )
    generators = tuple(
        replace(g, capacity_mw=sizes.get(f"generator:{g.name}", g.capacity_mw))
        for g in template.generators
    )
    grid = template.grid
    if "grid_import" in sizes:
        grid = replace(grid, import_max_mw=_import_limit_mw(inputs, sizes["grid_import"]))
    return replace(
        template,
        renewables=renewables,
        generators=generators,
        battery=_fixed_battery(template.battery, sizes),
        grid=grid,
        sizing=None,
    )


def inflexible_problem(problem: optimize.Problem) -> optimize.Problem:
    """`problem` with its jobs run asap at full power as fixed IT load (REopt's view),
    without the IT capacity that load may pass (`inflexible_it_breaches`)."""
    fracs, _ = schedule_jobs(problem, "asap")
    _, it_mw = job_it_mw(problem, fracs)
    facility = replace(problem.facility, inference_it_mw=it_mw, it_capacity_mw=None)
    return replace(problem, facility=facility, jobs=())


def inflexible_it_breaches(
    problem: optimize.Problem, inflexible: optimize.Problem, index: pd.DatetimeIndex
) -> dict:
    """Where the inflexible IT load (inference + asap jobs) passes `problem`'s IT capacity:
    the `it_capacity_*` fields of a baseline's limit breaches (microgrid/breaches.py);
    `index` the steps' UTC time stamps."""
    cap_mw = problem.facility.it_capacity_mw
    it_mw = inflexible.facility.inference_it_mw
    excess = np.zeros_like(it_mw) if cap_mw is None else np.maximum(it_mw - cap_mw, 0.0)
    return breach_fields("it_capacity", np.where(excess > TOL, excess, 0.0), index)
