"""`microgrid.size(scenario)`: size the assets with the dispatch, verify, value flexibility.

1. planning: ONE solve over the whole horizon (sizes couple all of it) of the sizing
   problem, with `sizing.method` and the scenario's gap, node and time limits (a rolling
   scenario, `solver.window_h`, still sizes on one solve);
2. verification: the sizes fixed, the dispatch solved as `microgrid run` solves it (one
   solve, or rolling windows); both costs on one basis, operating objective + capacity
   cost over the horizon; planning_vs_verified_gap = (verified - planning) / verified;
3. flexibility (`sizing.flexibility`): the same sizing with the jobs inflexible (asap at
   full power, fixed load); where that load passes the IT capacity is reported, as a
   baseline's breach, not refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import optimize
from microgrid.assemble import Inputs, load_inputs, solver_options
from microgrid.dispatch import (
    demand_response_caps,
    infeasible_error,
    optimize_dispatch,
    solve_dispatch,
)
from microgrid.dr_program import REFERENCE_BASELINE
from microgrid.scenario import Scenario, scenario_and_path
from microgrid.sizing.assets import AssetSpec, asset_specs, optimizer_sizing
from microgrid.sizing.billing_check import (
    check_coincident_peaks_yearly,
    check_whole_month_billing,
)
from microgrid.sizing.outcome import AssetOutcome, Sized, SizingStudy, SolveFigures, Supply
from microgrid.sizing.problems import (
    fixed_problem,
    inflexible_it_breaches,
    inflexible_problem,
    sizing_problem,
    template_problem,
)
from microgrid.sizing.profiles import unit_profiles
from microgrid.sizing.summary import sizing_summary, write_sizing_dir
from microgrid.solver_errors import solver_failure
from microgrid.tariffs import scenario_fixed_charge_usd
from optimize.sizing_parts import PartsSizing, size_by_parts

_UNSERVED_TOL_MWH = 1e-3  # the parts' unserved load that counts as none (solver tolerance)
# a connection no whole-job schedule fits is raised by this factor, up to its bound
CONNECTION_STEP = 1.3


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
    # the sizing's own settings are no override of the caller's: an error names none
    one_solve = one_solve.model_copy(update={"overrides": scenario.overrides})
    d = solve_dispatch(one_solve, inputs, problem, slack_fields=sizing_slack_fields(specs))
    return Sized(
        assets=_outcomes(problem, specs, d.sizes),
        planning=SolveFigures.of(d),
        peak_import_mw=float(d.series["grid_import_mw"].max()),
    )


def sizing_slack_fields(specs: tuple[AssetSpec, ...]) -> dict[str, str]:
    """The field of an infeasible sizing's limit where it is not the scenario's own: a
    sized connection is capped by its sizing bound, not by grid.import_max_mw."""
    sized = {s.name: s.field for s in specs}
    return {"import_limit": f"{sized['grid_import']}.max_mw"} if "grid_import" in sized else {}


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
    """`method: parts`: Benders over parts of `sizing.part_h` hours, relaxed and then with
    whole-job schedules; its figures are the whole-job plan's cost (its dispatch's bill),
    the parts' own figure and the relaxed parts' lower bound (optimize/sizing_parts.py), a
    bound of the horizon only without a battery (`_parts_figures`)."""
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
    return Sized(_outcomes(problem, specs, r.sizes), _parts_figures(problem, r), r.peak_import_mw)


def _parts_figures(problem: optimize.Problem, r: PartsSizing) -> SolveFigures:
    """The parts' plan, cost (its dispatch's bill; the parts' split figure apart) and
    bound. A battery starts and ends each part at its set charge, so cuts restrict the
    horizon's dispatch (the charge cannot cross them) and the parts' bound is no bound of
    the horizon (a one-solve dispatch at the plan's sizes can cost less): `bound_usd` None,
    the parts' own in `parts_bound_usd`, status heuristic."""
    basis_usd = max(abs(r.objective_usd), r.gross_usd)  # the gap's (size_by_parts)
    f = SolveFigures(
        r.status,
        r.objective_usd,
        r.bound_usd,
        r.mip_gap,
        r.solve_s,
        basis_usd,
        parts_objective_usd=r.parts_objective_usd,
    )
    if problem.battery is None or r.n_parts == 1:
        return f
    status = "heuristic" if r.status == "optimal" else r.status
    return replace(f, status=status, bound_usd=None, parts_bound_usd=r.bound_usd)


def verified_sizes(
    scenario: Scenario,
    inputs: Inputs,
    template: optimize.Problem,
    sized: Sized,
    profiles: dict,
) -> tuple[Sized, optimize.Problem, optimize.Dispatch]:
    """The dispatch at the sizes, solved as `microgrid run` solves it. A plan by parts
    (`method: parts`) schedules each part on its own; rolling windows cut the horizon
    elsewhere and may find no schedule at its connection: then the connection is raised by
    CONNECTION_STEP (up to its bound) and the plan's cost by the capacity added (its
    dispatch stays feasible), until one does (`connection_raised_from_mw`)."""
    spec = next((a.spec for a in sized.assets if a.spec.name == "grid_import"), None)
    while True:
        fixed = fixed_problem(template, inputs, sized.sizes, profiles)
        try:
            return sized, fixed, optimize_dispatch(scenario, fixed, "plan at the sizes")
        except optimize.Infeasible as exc:
            mw = sized.sizes.get("grid_import", 0.0)
            if spec is None or mw >= spec.max_size or mw <= 0:
                fields = sizing_slack_fields(tuple(a.spec for a in sized.assets))
                raise infeasible_error(scenario, inputs, fixed, exc, slack_fields=fields) from None
            sized = sized.with_connection(min(spec.max_size, mw * CONNECTION_STEP))
        except optimize.SolveError as exc:
            raise solver_failure(scenario, exc, inputs.index) from None


@dataclass(frozen=True)
class SizingSetup:
    """A scenario's sizing study before any solve: its inputs, the assets to size, their
    per-MW profiles, the template problem and the sizing problem."""

    inputs: Inputs
    specs: tuple[AssetSpec, ...]
    horizon_h: float
    profiles: dict
    template: optimize.Problem
    problem: optimize.Problem


def sizing_setup(scenario: Scenario) -> SizingSetup:
    """Read the scenario's data and build its sizing problem; a scenario that sizes no
    asset is one error line."""
    sz = scenario.sizing
    specs = () if sz is None else asset_specs(sz)
    if not specs:
        raise scenario.error(
            "the scenario sizes no asset: add a sizing section naming at least one "
            "(docs/sizing.md)",
            "sizing",  # without the section the file has no line for it: the field alone
        )
    _check_dr_baseline(scenario)
    inputs = load_inputs(scenario)
    horizon_h = len(inputs.index) * scenario.step_h
    profiles = unit_profiles(scenario, inputs, [s.name for s in specs])
    caps = demand_response_caps(scenario, inputs)
    template = template_problem(scenario, inputs, caps, specs)
    check_whole_month_billing(scenario, inputs, template, horizon_h)
    check_coincident_peaks_yearly(scenario, horizon_h)
    sizing = optimizer_sizing(specs, sz.discount_rate, horizon_h, profiles)
    problem = sizing_problem(template, inputs, sizing)
    return SizingSetup(inputs, specs, horizon_h, profiles, template, problem)


def _check_dr_baseline(scenario: Scenario) -> None:
    """A baseline fixed on the plan without the program needs that plan, whose assets are
    what the sizing decides: refused in one line."""
    program = scenario.demand_response_program
    if program is not None and program.baseline == REFERENCE_BASELINE:
        raise scenario.error(
            f"sizing cannot fix a baseline on the plan without the program ({REFERENCE_BASELINE}"
            "): that plan depends on the sizes; use prior_days_average or declared",
            "demand_response_program.baseline",
        )


def size(scenario: Scenario | str | os.PathLike) -> SizingResult:
    """Size the scenario's `sizing` assets with its dispatch and jobs, verify the sizes
    with the exact dispatch and, if asked, size again with the jobs inflexible.

    `scenario`: a `Scenario` or the path of its YAML file. Sizes are in MW (MWh for
    storage energy), costs in USD over the horizon (`horizon_h` hours) unless named per
    year; nothing is written (`SizingResult.write`).

    Raises `microgrid.errors.InputError` (several at once: `InputErrors`) for bad input:
    no `sizing` section or no asset to size, the scenario's schema or cross-field rules,
    a data file, no feasible plan or a number the solver cannot handle. `method: parts`
    solves its parts itself: a part HiGHS fails on raises `optimize.SolveError` or
    RuntimeError."""
    scenario, path = scenario_and_path(scenario)
    st = sizing_setup(scenario)
    sized = solve_sizing(scenario, st.inputs, st.problem, st.specs)
    sized, fixed, verified = verified_sizes(scenario, st.inputs, st.template, sized, st.profiles)
    flexibility = breaches = None
    if scenario.sizing.flexibility:
        inflexible = inflexible_problem(st.problem)
        flexibility = solve_sizing(scenario, st.inputs, inflexible, st.specs)
        breaches = inflexible_it_breaches(st.problem, inflexible, st.inputs.index)
    return SizingResult(
        scenario=scenario,
        scenario_path=path,
        horizon_h=st.horizon_h,
        sized=sized,
        verified=SolveFigures.of(verified, extra_usd=sized.capacity_usd),
        supply=Supply.of(verified, scenario.step_h, [r.name for r in fixed.renewables]),
        flexibility=flexibility,
        inflexible_breaches=breaches,
        fixed_cost_usd=scenario_fixed_charge_usd(scenario, st.inputs.index),
    )
