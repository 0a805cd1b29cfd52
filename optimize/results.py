"""``Dispatch``: the solved schedule as numpy series, cost breakdown and job summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from optimize.bill import grid_bill, split_bill
from optimize.dr_program import solved_settlement
from optimize.jobs import job_results
from optimize.problem import Problem, Renewable
from optimize.sizing import capacity_usd, solved_sizes

BALANCE_TOL_MW = 1e-6


@dataclass
class Dispatch:
    """Result of ``optimize.solve``.

    status: ``"optimal"`` (within ``mip_rel_gap``), or the stop that came first with the
    best feasible schedule: ``"node_limit"``, ``"time_limit"`` or ``"heuristic"`` (price-fix;
    or a MILP answer ``optimize.answer_cost`` restated at its cost and could not prove).
    objective_usd: objective value; mip_gap: the proven gap reached, ``(objective_usd -
    bound_usd) / gap_basis_usd`` (0 for an LP); bound_usd: the proven lower bound of the
    optimum (None where no single bound exists, e.g. rolling windows: see their
    ``windows``); gap_basis_usd: what the gap is relative to, the larger of
    ``|objective_usd|`` and the schedule's gross cost (``optimize.highs.gap_basis_usd``).
    build_s: model build + compilation; solve_s: the solve by the clock (every step of the
    method, on either thread) + loading the solution.
    series: MW (or MWh, h) arrays of length n_steps, see docs/architecture.md.
    costs: ``energy_usd, demand_usd, fuel_usd, wear_usd, carbon_usd, unfinished_penalty_usd,
    emissions_t`` (and ``network_cut_penalty_usd`` with soft network cuts, ``capacity_usd``
    with sizing: the sized assets' cost over the horizon). jobs: per job
    ``work_done_h, unfinished_h, restarts``. bill: the grid bill of the schedule, line item
    + ``_usd`` -> USD (``optimize.bill.grid_bill``); its lines sum to ``energy_usd +
    demand_usd``.
    """

    status: str
    objective_usd: float
    mip_gap: float
    build_s: float
    solve_s: float
    series: dict[str, np.ndarray] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    jobs: dict[str, dict] = field(default_factory=dict)
    bound_usd: float | None = None
    gap_basis_usd: float | None = None
    bill: dict[str, float] = field(default_factory=dict)
    # demand-response commitment (MW) of the schedule; None without a program
    dr_commit_mw: float | None = None
    # sized assets (``Problem.sizing``): asset name -> chosen size (MW, or MWh for
    # battery_energy); their cost over the horizon is ``costs["capacity_usd"]``
    sizes: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line: the status, objective, gap and what the dispatch holds (the default
        printed every series whole: a week's repr ran to tens of thousands of characters)."""
        n = len(next(iter(self.series.values()))) if self.series else 0
        gap = "n/a" if self.mip_gap is None else f"{100 * self.mip_gap:.3g} %"
        bound = "None" if self.bound_usd is None else f"{self.bound_usd:,.2f}"
        return (
            f"Dispatch(status={self.status!r}, objective_usd={self.objective_usd:,.2f}, "
            f"mip_gap={gap}, bound_usd={bound}, steps={n}, "
            f"series={len(self.series)}, jobs={len(self.jobs)})"
        )


def job_patterns(dispatch: Dispatch) -> dict[str, np.ndarray]:
    """Each job's on/off schedule in ``dispatch`` (job id -> bool per step: on where its
    power fraction is above 0, as ``f_min > 0``): a start for another solve
    (``optimize.solve(..., start_on=...)``)."""
    prefix, suffix = "job_", "_power_fraction"
    return {
        key[len(prefix) : -len(suffix)]: np.asarray(frac) > 0.0
        for key, frac in dispatch.series.items()
        if key.startswith(prefix) and key.endswith(suffix)
    }


def values(var: pyo.Var) -> np.ndarray:
    """Values of a Var indexed by ``m.T`` as a float array (step order)."""
    return np.fromiter((v.value for v in var.values()), dtype=float, count=len(var))


@dataclass(frozen=True)
class _Generation:
    """The generators' fuel cost (USD) and emissions (t CO2) over the horizon."""

    fuel_usd: float
    emissions_t: float


def extract_dispatch(
    m: pyo.Block,
    problem: Problem,
    status: str,
    objective_usd: float,
    mip_gap: float,
    build_s: float,
    solve_s: float,
    bound_usd: float | None = None,
    gap_basis_usd: float | None = None,
) -> Dispatch:
    """The solved model ``m`` of ``problem`` as a ``Dispatch`` (the other arguments are
    copied into it). Raises ``RuntimeError`` if supply and facility load differ by more
    than ``BALANCE_TOL_MW`` in some step."""
    sizes = solved_sizes(m)
    s, supply, generation = _supply_series(m, problem, sizes)
    jobs_summary = _load_series(m, problem, s)
    residual = supply - s["facility_load_mw"]
    worst = float(np.max(np.abs(residual)))
    if worst > BALANCE_TOL_MW:
        t = int(np.argmax(np.abs(residual)))
        raise RuntimeError(f"power balance violated by {worst:.3g} MW at step {t}")
    bill = grid_bill(problem.grid, problem.step_h, s["grid_import_mw"], s["grid_export_mw"])
    costs = _costs(m, problem, s, generation, jobs_summary, bill)
    if problem.sizing is not None:
        costs["capacity_usd"] = capacity_usd(problem.sizing, sizes)
    dr = solved_settlement(m, problem, s["grid_import_mw"] - s["grid_export_mw"])
    if dr is not None:  # the program's lines: the bill sums to energy + demand + dr_program
        bill.update(dr.bill())
        costs["dr_program_usd"] = dr.net_cost_usd
    return Dispatch(
        status=status,
        objective_usd=objective_usd,
        mip_gap=mip_gap,
        build_s=build_s,
        solve_s=solve_s,
        series=s,
        costs=costs,
        jobs=jobs_summary,
        bound_usd=bound_usd,
        gap_basis_usd=gap_basis_usd,
        bill=bill,
        dr_commit_mw=None if dr is None else dr.commit_mw,
        sizes=sizes,
    )


def _supply_series(
    m: pyo.Block, problem: Problem, sizes: dict[str, float]
) -> tuple[dict[str, np.ndarray], np.ndarray, _Generation]:
    """The supply side's series (grid, renewables, battery, generators; MW and MWh), the
    total supply per step (MW) and the generators' fuel cost and emissions (``sizes``: the
    solved sizes, which give a sized renewable's available MW)."""
    n, step_h = problem.n_steps, problem.step_h
    s: dict[str, np.ndarray] = {}
    zeros = np.zeros(n)
    s["grid_import_mw"] = imp = values(m.grid_import_mw)
    s["grid_export_mw"] = exp = values(m.grid_export_mw)
    supply = imp - exp
    for r in problem.renewables:
        s[f"{r.name}_available_mw"] = _available_mw(problem, r, sizes)
        used = np.array([m.renewable_used_mw[r.name, t].value for t in range(n)], dtype=float)
        s[f"{r.name}_used_mw"] = used
        supply = supply + used
    if problem.battery is not None:
        ch, dis = values(m.battery_charge_mw), values(m.battery_discharge_mw)
        s["battery_soc_mwh"] = values(m.battery_soc_mwh)
    else:
        ch, dis = zeros, zeros
        s["battery_soc_mwh"] = zeros.copy()
    s["battery_charge_mw"], s["battery_discharge_mw"] = ch, dis
    supply = supply + dis - ch
    gen_total = np.zeros(n)
    fuel_usd = 0.0
    gen_emissions_t = 0.0
    for g in problem.generators:
        p = np.array([m.gen_mw[g.name, t].value for t in range(n)], dtype=float)
        s[f"gen_{g.name}_mw"] = p  # each unit's output: operate's plant follows it per unit
        gen_total += p
        fuel_usd += g.fuel_usd_per_mwh * step_h * float(p.sum())
        gen_emissions_t += g.carbon_g_per_kwh * step_h * float(p.sum()) / 1000.0
    s["backup_gen_mw"] = gen_total
    supply = supply + gen_total
    return s, supply, _Generation(fuel_usd, gen_emissions_t)


def _available_mw(problem: Problem, r: Renewable, sizes: dict[str, float]) -> np.ndarray:
    """Renewable ``r``'s available MW per step: its own ``available_mw``, or for a sized
    renewable its ``profile_per_unit`` times the chosen size."""
    a = None if problem.sizing is None else problem.sizing.get(r.name)
    if a is None:
        return r.available_mw.copy()
    return a.profile_per_unit * sizes[r.name]


def _load_series(m: pyo.Block, problem: Problem, s: dict[str, np.ndarray]) -> dict[str, dict]:
    """Add the jobs' series and the IT and facility load (MW) to ``s``; return the job
    summary."""
    jobs_summary: dict[str, dict] = {}
    jobs_it = np.zeros(problem.n_steps)
    if problem.jobs:
        job_series, jobs_summary = job_results(m, problem.jobs)
        s.update(job_series)
        jobs_it = np.array(
            [pyo.value(m.jobs_it_mw[t]) for t in range(problem.n_steps)], dtype=float
        )
    s["it_load_mw"] = problem.facility.inference_it_mw + jobs_it
    s["facility_load_mw"] = s["it_load_mw"] * problem.facility.pue
    return jobs_summary


def _costs(
    m: pyo.Block,
    problem: Problem,
    s: dict[str, np.ndarray],
    generation: _Generation,
    jobs_summary: dict[str, dict],
    bill: dict[str, float],
) -> dict[str, float]:
    """The cost breakdown (USD) and emissions (t) of the dispatch (see ``Dispatch``);
    energy and demand from its ``bill``."""
    step_h, grid = problem.step_h, problem.grid
    imp = s["grid_import_mw"]
    emissions_t = (
        float(np.dot(imp, grid.carbon_g_per_kwh)) * step_h / 1000.0 + generation.emissions_t
    )
    energy_usd, demand_usd = split_bill(grid, bill)
    wear_usd = 0.0
    if problem.battery is not None:
        wear_usd = (
            problem.battery.wear_usd_per_mwh * step_h * float(s["battery_discharge_mw"].sum())
        )
    penalty = problem.objective.unfinished_work_penalty_usd_per_h
    unfinished_h = sum(float(j.get("unfinished_h", 0.0)) for j in jobs_summary.values())
    costs = {
        "energy_usd": energy_usd,
        "demand_usd": demand_usd,
        "fuel_usd": generation.fuel_usd,
        "wear_usd": wear_usd,
        "carbon_usd": problem.objective.carbon_price_usd_per_t * emissions_t,
        "unfinished_penalty_usd": (penalty or 0.0) * unfinished_h,
        "emissions_t": emissions_t,
    }
    if hasattr(m, "network_cut_penalty_usd"):  # soft network cuts: part of the objective
        costs["network_cut_penalty_usd"] = float(pyo.value(m.network_cut_penalty_usd))
    return costs
