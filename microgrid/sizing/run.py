"""`microgrid.size(scenario)`: size the assets with the dispatch, verify, value flexibility.

1. planning: ONE solve over the whole horizon (sizes couple all of it) of the sizing
   problem, with `sizing.method` and the scenario's gap, node and time limits (a rolling
   scenario, `solver.window_h`, still sizes on one solve);
2. verification: the sizes fixed, the dispatch solved as `microgrid run` solves it (one
   solve, or rolling windows); both costs on one basis, operating objective + capacity
   cost over the horizon; planning_vs_verified_gap = (verified - planning) / verified;
3. flexibility (`sizing.flexibility`): the same sizing with the jobs inflexible (asap at
   full power, fixed load).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import optimize
from microgrid.assemble import Inputs, load_inputs, solver_options
from microgrid.dispatch import demand_response_caps, solve_dispatch
from microgrid.scenario import Scenario, load_scenario
from microgrid.sizing.assets import AssetSpec, asset_specs, optimizer_sizing
from microgrid.sizing.outcome import AssetOutcome, Sized, SizingStudy, SolveFigures, Supply
from microgrid.sizing.problems import (
    fixed_problem,
    inflexible_problem,
    sizing_problem,
    template_problem,
)
from microgrid.sizing.profiles import unit_profiles
from microgrid.sizing.summary import sizing_summary, write_sizing_dir
from optimize.sizing_parts import ConnectionCheck, integer_parts_cost, size_by_parts

_UNSERVED_TOL_MWH = 1e-3  # the parts' unserved load that counts as none (solver tolerance)
# `method: parts` prices the LP's connection and these multiples of it with whole jobs
CONNECTION_FACTORS = (1.0, 1.15, 1.3)


@dataclass(frozen=True)
class SizingResult(SizingStudy):
    """A sizing study (microgrid/sizing/outcome.py) that writes its folder."""

    def summary(self) -> dict:
        """The content of sizing.json."""
        return sizing_summary(self)

    def write(self, out: str | os.PathLike) -> Path:
        """Write sizing.json, sizes.csv and scenario.yaml into `out` (new, empty or an
        earlier sizing folder; built beside it and swapped in); return it absolute."""
        return write_sizing_dir(self, Path(out))


def _load(scenario: Scenario | str | os.PathLike) -> tuple[Scenario, Path | None]:
    """The scenario, and the resolved path of its file (None when given as an object)."""
    if isinstance(scenario, Scenario):
        return scenario, None
    path = Path(scenario).resolve()
    return load_scenario(path), path


def _clipped(size: float, spec: AssetSpec) -> float:
    """The solver's size inside [lower_size, max_size] (it may stray by its tolerance)."""
    return min(max(float(size), spec.lower_size), spec.max_size)


def solve_sizing(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem, specs: tuple[AssetSpec, ...]
) -> Sized:
    """One solve of a sizing problem over the whole horizon with `sizing.method`, or the
    horizon by parts (`method: parts`, `size_by_parts`)."""
    if scenario.sizing.method == "parts":
        return _sized_by_parts(scenario, problem, specs)
    one_solve = scenario.with_updates(
        {"solver.window_h": None, "solver.method": scenario.sizing.method}
    )
    d = solve_dispatch(one_solve, inputs, problem)
    return Sized(
        assets=_outcomes(problem, specs, d.sizes),
        planning=SolveFigures.of(d),
        peak_import_mw=float(d.series["grid_import_mw"].max()),
    )


def _outcomes(
    problem: optimize.Problem, specs: tuple[AssetSpec, ...], sizes: dict[str, float]
) -> tuple[AssetOutcome, ...]:
    return tuple(
        AssetOutcome(
            spec=s,
            total=_clipped(sizes[s.name], s),
            horizon_usd_per_unit=problem.sizing.get(s.name).usd_per_unit,
        )
        for s in specs
    )


def _sized_by_parts(
    scenario: Scenario, problem: optimize.Problem, specs: tuple[AssetSpec, ...]
) -> Sized:
    """`method: parts`: Benders over LP parts of `sizing.part_h` hours; its figures are the
    parts' LP sizing optimum's bounds (the jobs relaxed: planning, not a schedule)."""
    part_steps = round(scenario.sizing.part_h / scenario.step_h)
    try:
        r = size_by_parts(problem, part_steps, solver_options(scenario))
    except ValueError as exc:
        raise scenario.error(f"{exc} (use sizing.method price-fix)", "sizing.method") from None
    if r.unserved_mwh > _UNSERVED_TOL_MWH:
        raise scenario.error(
            f"the sizes found leave {r.unserved_mwh:,.1f} MWh of load unserved (the sizing "
            "bounds allow no more supply): raise the max_mw of the grid connection or supply",
            "sizing",
        )
    sizes, objective, checks = r.sizes, r.objective_usd, ()
    if problem.jobs and "grid_import" in sizes:
        sizes, objective, checks = _checked_connection(scenario, problem, r, part_steps)
    basis = max(abs(objective), r.gross_usd)
    gap = (objective - r.bound_usd) / basis if basis > 0 else 0.0
    figures = SolveFigures(
        status=r.status if gap <= scenario.solver.mip_rel_gap else "heuristic",
        objective_usd=objective,
        bound_usd=r.bound_usd,
        mip_gap=gap,
        solve_s=r.solve_s + sum(c.solve_s for c in checks),
    )
    peak = min(r.peak_import_mw, sizes.get("grid_import", r.peak_import_mw))
    return Sized(_outcomes(problem, specs, sizes), figures, peak, checks)


def _checked_connection(
    scenario: Scenario, problem: optimize.Problem, r, part_steps: int
) -> tuple[dict[str, float], float, tuple[ConnectionCheck, ...]]:
    """The parts' LP runs jobs at any fraction of their power, so it sizes the connection
    as if the jobs could fill every MW of it: whole jobs need room. The connection it finds
    and larger ones (× CONNECTION_FACTORS, then on by the last factor while the cost still
    falls, within the bound) are priced with whole-job schedules (price-fix per part, the
    other sizes as found, unserved load at its 100,000 USD/MWh); the cheapest wins.
    Returns the sizes, their planning cost (capacity + whole-job operating cost) and the
    checks."""
    spec = problem.sizing.get("grid_import")
    lp_mw = r.sizes["grid_import"]
    checks, totals, f = [], [], 1.0
    for k in itertools.count():
        f = CONNECTION_FACTORS[k] if k < len(CONNECTION_FACTORS) else f * CONNECTION_FACTORS[-1]
        if k >= len(CONNECTION_FACTORS) and totals[-1] > min(totals[:-1]):
            break  # past the factors, go on only while the cost falls
        mw = min(spec.max_size, lp_mw * f)
        sizes = {**r.sizes, "grid_import": mw}
        check = integer_parts_cost(problem, sizes, part_steps, solver_options(scenario))
        checks.append(check)
        totals.append(r.capacity_usd + spec.usd_per_unit * (mw - lp_mw) + check.operating_usd)
        if mw >= spec.max_size or lp_mw <= 0:
            break
    best = int(np.argmin(totals))
    return {**r.sizes, "grid_import": checks[best].grid_import_mw}, totals[best], tuple(checks)


def size(scenario: Scenario | str | os.PathLike) -> SizingResult:
    """Size the scenario's `sizing` assets with its dispatch and jobs, verify the sizes
    with the exact dispatch and, if asked, size again with the jobs inflexible."""
    scenario, path = _load(scenario)
    sz = scenario.sizing
    specs = () if sz is None else asset_specs(sz)
    if not specs:
        raise scenario.error(
            "the scenario sizes no asset: add a sizing section naming at least one "
            "(docs/sizing.md)",
            "sizing" if sz is not None else None,
        )
    inputs = load_inputs(scenario)
    horizon_h = len(inputs.index) * scenario.step_h
    profiles = unit_profiles(scenario, inputs, [s.name for s in specs])
    caps = demand_response_caps(scenario, inputs)
    template = template_problem(scenario, inputs, caps, specs)
    sizing = optimizer_sizing(specs, sz.discount_rate, horizon_h, profiles)
    problem = sizing_problem(template, inputs, sizing)
    sized = solve_sizing(scenario, inputs, problem, specs)
    fixed = fixed_problem(template, inputs, sized.sizes, profiles)
    verified = solve_dispatch(scenario, inputs, fixed)
    flexibility = None
    if sz.flexibility:
        flexibility = solve_sizing(scenario, inputs, inflexible_problem(problem), specs)
    return SizingResult(
        scenario=scenario,
        scenario_path=path,
        horizon_h=horizon_h,
        sized=sized,
        verified=SolveFigures.of(verified, extra_usd=sized.capacity_usd),
        supply=Supply.of(verified, scenario.step_h, [r.name for r in fixed.renewables]),
        flexibility=flexibility,
    )
