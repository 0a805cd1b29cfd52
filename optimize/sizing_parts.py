"""Sizing a long horizon by parts: Benders cuts over the sizes, one LP per part.

A year with its jobs as one sizing model is too large to solve in minutes (its LP alone
took HiGHS's simplex over 15 minutes on R1's year; docs/model_sizing.md). The sizes are a
handful of numbers, so the horizon is cut into parts and the parts are linked by the
sizes alone (Benders decomposition):

Parts (``split_steps``, ``part_problem``): the horizon is cut every ``part_steps`` steps or
as soon after as no job's active steps span the cut. A part is the problem's steps
``[a, e)`` with the jobs released there; the battery starts each part at
``soc_initial_frac`` and ends it at ``soc_final_frac`` (as rolling windows do), the ramp
row does not link parts, and each demand charge is split into its parts, each paying the
charge's USD per MW × its share of the charge's steps on its own peak
(``Σ_k share_k · peak_k <= max_k peak_k``: the split never overstates the charge).
Coupled rows the split cannot share (ratchets, tiered energy, a carbon budget, a demand
response program) are refused (``ValueError``).

Two Benders loops over the parts (``optimize/sizing_benders.py``: cuts from each part's
LP, a small master over the sizes, in-out stabilised):

1. Relaxed: ``v_k(x)`` = the part's LP optimum with the sizes fixed at ``x`` and every
   integer column relaxed (the jobs' hull formulation of ``optimize/jobs.py``), the first
   point at the largest sizes. The master's optimum is a lower bound of every plan by
   these parts (``bound_usd``). Its sizes ``x¹`` let jobs run at any fraction of their power,
   so a connection sized by them is filled to the last MW where whole jobs do not fit
   (R1's year: its plan cost 4.4 % less than the whole-job year at the same sizes).
2. Whole jobs (when the parts have integer columns): each part is scheduled at ``x¹`` by
   price-fix (whole jobs, and no unserved load where a schedule without any exists), and
   its integer columns are fixed at that schedule ``s_k``. ``v_k^s(x)`` = the cost of that
   schedule with the continuous dispatch (battery, grid, power fractions) re-optimised at
   sizes ``x``: convex in ``x``, and a cost some plan attains. The second loop minimises
   ``c · x + Σ_k v_k^s(x)`` from ``x¹``: a connection the schedules do not fit leaves load
   unserved at VoLL, so it grows to fit them; a battery that levels their blocks pays.
   Its best point is the plan, never dearer than the schedules at ``x¹``.

The plan's cost (``objective_usd``) is the bill of its dispatch: the parts' imports laid
end to end, each demand charge on its peak over all of them (``_split_shortfall_usd``).
The parts' own figure, with the charges split, is ``parts_objective_usd``: it is what the
loops minimise and what the bound bounds, and it can understate the bill (a month's peak
in one part is paid at that part's share only; the sizes are chosen on it).

Each loop ends by cutting the connection to its best point's peak import (the cost is flat
there within the tolerance, and the solutions stay feasible).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from optimize.bill import grid_bill, split_bill
from optimize.demand_charges import window_charges
from optimize.highs import compile_model, make_highs, set_integrality
from optimize.model import build_model
from optimize.price_fix import price_fix
from optimize.problem import Generator, Grid, Problem, Sizing
from optimize.sizing_benders import (
    BendersResult,
    PartLP,
    Point,
    benders,
    gross_usd,
    upper_usd,
)
from optimize.solver_options import SolverOptions


def split_steps(problem: Problem, part_steps: int) -> list[tuple[int, int]]:
    """Parts ``[a, e)`` of about ``part_steps`` steps: a cut at ``c`` only where no job has
    ``release_step < c < deadline_step``."""
    n = problem.n_steps
    spans = [(j.release_step, min(j.deadline_step, n)) for j in problem.jobs]
    cuts, a = [0], 0
    while True:
        c = a + part_steps
        while c < n and any(r < c < d for r, d in spans):
            c += 1
        if c >= n - part_steps // 4:  # the tail joins the last part (no stub parts)
            break
        cuts.append(c)
        a = c
    return list(zip(cuts, [*cuts[1:], n], strict=True))


def _check_splittable(problem: Problem) -> None:
    g = problem.grid
    if any(c.ratchets or c.ratchet_floor_mw > 0 for c in g.peak_charges):
        raise ValueError("sizing by parts cannot split a demand ratchet")
    if g.energy_tiers:
        raise ValueError("sizing by parts cannot split tiered energy charges")
    if problem.objective.carbon_budget_t is not None:
        raise ValueError("sizing by parts cannot split a carbon budget")
    if problem.dr_program is not None:
        raise ValueError("sizing by parts cannot split a demand-response program")


def part_problem(problem: Problem, a: int, e: int) -> Problem:
    """Steps ``[a, e)`` of ``problem`` on their own, sizes free of cost (the master pays)."""
    sl = slice(a, e)
    g = problem.grid
    charges = []
    for c, part in zip(
        [c for c in g.peak_charges if c.steps[sl].any()],
        window_charges(g.peak_charges, a, e, None),
        strict=True,
    ):
        share = float(c.steps[sl].sum()) / float(c.steps.sum())
        charges.append(replace(part, usd_per_mw=c.usd_per_mw * share))
    grid = replace(
        g,
        **{k: getattr(g, k)[sl] for k in g._ARRAYS if getattr(g, k) is not None},
        initial_net_import_mw=None,
        peak_charges=tuple(charges),
        import_price_parts=None,
        export_price_parts=None,
    )
    b = problem.battery
    if b is not None and b.available_frac is not None:
        b = replace(b, available_frac=b.available_frac[sl])
    jobs = tuple(
        replace(j, release_step=j.release_step - a, deadline_step=min(j.deadline_step, e) - a)
        for j in problem.jobs
        if a <= j.release_step < e
    )
    return replace(
        problem,
        n_steps=e - a,
        grid=grid,
        facility=replace(
            problem.facility,
            inference_it_mw=problem.facility.inference_it_mw[sl],
            pue=problem.facility.pue[sl],
        ),
        renewables=tuple(replace(r, available_mw=r.available_mw[sl]) for r in problem.renewables),
        battery=b,
        generators=tuple(
            replace(x, available_frac=None if x.available_frac is None else x.available_frac[sl])
            for x in problem.generators
        ),
        jobs=jobs,
        network_cuts=tuple(
            replace(c, step=c.step - a) for c in problem.network_cuts if a <= c.step < e
        ),
        sizing=_part_sizing(problem.sizing, sl),
    )


def _part_sizing(sizing: Sizing, sl: slice) -> Sizing:
    return Sizing(
        tuple(
            replace(
                x,
                usd_per_unit=0.0,
                profile_per_unit=None if x.profile_per_unit is None else x.profile_per_unit[sl],
            )
            for x in sizing.assets
        )
    )


# USD per MWh of load a part leaves unserved: every part stays feasible for any sizes (so
# the master needs no feasibility cuts), and far above any capacity's cost per MWh, so the
# optimum serves all load (``size_by_parts`` checks that it does)
UNSERVED_USD_PER_MWH = 1.0e5
UNSERVED = "unserved_load"


def _with_unserved(part: Problem) -> Problem:
    """``part`` with a pseudo-generator of unserved load: as large as the facility's largest
    possible demand (inference and every job at full power, × PUE), VoLL per MWh, no carbon."""
    f = part.facility
    jobs_mw = sum(j.full_power_it_mw for j in part.jobs)
    cap = float(np.max((f.inference_it_mw + jobs_mw) * f.pue))
    gen = Generator(
        UNSERVED, capacity_mw=cap, fuel_usd_per_mwh=UNSERVED_USD_PER_MWH, carbon_g_per_kwh=0.0
    )
    return replace(part, generators=(*part.generators, gen))


def _part_columns(m, cm, names: list[str]) -> PartLP:
    """``m``'s compiled columns of the sizes, the unserved load and the import (no HiGHS
    object yet)."""
    col = cm.column_index()

    def cols(variables) -> np.ndarray:
        return np.array([col[id(v)] for v in variables if id(v) in col], dtype=np.int32)

    return PartLP(
        h=None,
        cols=np.array([col[id(m.size_added[a])] for a in names], dtype=np.int32),
        unserved=cols(m.gen_mw[UNSERVED, t] for t in m.T),
        imports=cols(m.grid_import_mw.values()),
    )


def _part_highs(part: Problem, names: list[str], options: SolverOptions):
    """The part (with its unserved load) built, compiled and in HiGHS: ``(PartLP, cm, m)``."""
    m = build_model(_with_unserved(part))
    cm = compile_model(m)
    p = _part_columns(m, cm, names)
    p.h = make_highs(cm, options)
    return p, cm, m


def _relaxed_part(part: Problem, names: list[str], options: SolverOptions) -> tuple[PartLP, bool]:
    """The part's LP with every integer column relaxed (the jobs' hull formulation), and
    whether it had any integer column."""
    p, cm, _ = _part_highs(part, names, options)
    icols = cm.integer_columns()
    set_integrality(p.h, icols, False)
    return p, len(icols) > 0


def _whole_job_part(
    part: Problem, names: list[str], x: np.ndarray, options: SolverOptions
) -> PartLP:
    """The part at sizes ``x`` scheduled with whole jobs by price-fix (``optimize/price_fix.py``;
    with no unserved load where it finds such a schedule), then as an LP in the sizes with
    every integer column fixed at that schedule: ``v_k^s(x)``, the cost of schedule ``s``
    with the continuous dispatch (battery, grid, power fractions) re-optimised."""
    p, cm, m = _part_highs(part, names, options)
    h = p.h
    h.changeColsBounds(len(p.cols), p.cols, x, x)
    none = np.zeros(len(p.unserved))
    h.changeColsBounds(len(p.unserved), p.unserved, none, none)
    schedule = price_fix(h, cm, m).values
    h.changeColsBounds(len(p.unserved), p.unserved, none, cm.col_upper[p.unserved])
    if schedule is None:  # no whole-job schedule serves all load: unserved at VoLL
        schedule = price_fix(h, cm, m).values
    if schedule is None:
        raise RuntimeError("price-fix found no schedule of a part, unserved load allowed")
    icols = cm.integer_columns()
    fixed = np.round(schedule[icols])
    h.changeColsBounds(len(icols), icols, fixed, fixed)
    set_integrality(h, icols, False)
    return p


@dataclass(frozen=True)
class PartsSizing:
    """The sizes chosen by parts, the cost of their plan and a lower bound (USD over the
    horizon: capacity cost + operating costs)."""

    sizes: dict[str, float]  # asset name -> total size (MW or MWh)
    # the plan's cost at ``sizes``: its dispatch's bill (``parts_objective_usd`` with each
    # demand charge on its peak over all parts) + capacity
    objective_usd: float
    # the parts' figure: capacity + each part's operating cost with its share of each
    # demand charge on its own peak, with whole-job schedules when the parts have integer
    # columns (else the parts' LP optimum); at most ``objective_usd``
    parts_objective_usd: float
    # lower bound of every plan by these parts: the relaxed Benders master's optimum
    bound_usd: float
    relaxed_objective_usd: float  # the relaxed parts' figure at their own best sizes
    capacity_usd: float
    # the plan's gross cost (capacity + the parts' costs, each counted positive, + what the
    # split left out of the demand charges): the basis of the gap
    gross_usd: float
    # (objective − bound) / basis, basis = max(|objective|, gross_usd) (0 if that is 0)
    mip_gap: float
    iterations: int  # points evaluated, both loops
    n_parts: int
    part_steps: list[tuple[int, int]]
    whole_jobs: bool  # the second loop ran (the parts have integer columns)
    unserved_mwh: float  # load the plan leaves unserved (0 when the sizes serve all)
    peak_import_mw: float
    solve_s: float
    # "optimal": both loops converged and the plan is within the tolerance of the bound;
    # "heuristic": converged, the plan further from the bound; "iteration_limit"
    status: str


def _tighten_connection(best: Point, names: list[str], free: list) -> None:
    """The loop stops within its tolerance, where the cost may be flat in a size: the
    connection is cut to the best point's peak import (its parts' LP solutions stay
    feasible and cost the same; the capacity cost falls)."""
    if "grid_import" not in names:
        return
    k = names.index("grid_import")
    added = best.peak_import_mw - free[k].existing
    best.x[k] = min(best.x[k], max(added, free[k].lower_size - free[k].existing))


def _demand_usd(grid: Grid, step_h: float, import_mw: np.ndarray) -> float:
    """The demand charges of ``grid``'s bill on the import series (USD; the bill's own
    rule, ``optimize.bill``)."""
    return split_bill(grid, grid_bill(grid, step_h, import_mw, np.zeros_like(import_mw)))[1]


def _split_shortfall_usd(problem: Problem, parts: list[Problem], best: Point) -> float:
    """What splitting the demand charges leaves out of the plan's bill (USD, >= 0): each
    charge on its peak over the parts' imports laid end to end, less each part's share on
    its own peak."""
    whole_mw = np.concatenate(best.imports_mw)
    if len(whole_mw) != problem.n_steps:
        raise RuntimeError("a part's import has no column at some step")
    dt = problem.step_h
    split = sum(_demand_usd(p.grid, dt, mw) for p, mw in zip(parts, best.imports_mw, strict=True))
    return _demand_usd(problem.grid, dt, whole_mw) - split


def _status(relaxed: BendersResult, whole: BendersResult | None, gap: float, tol: float) -> str:
    if not relaxed.converged or (whole is not None and not whole.converged):
        return "iteration_limit"
    return "optimal" if gap <= tol else "heuristic"


def size_by_parts(
    problem: Problem,
    part_steps: int,
    options: SolverOptions,
    rel_tol: float = 1e-3,
    max_iter: int = 60,
) -> PartsSizing:
    """Choose ``problem.sizing``'s sizes by parts of about ``part_steps`` steps (see the
    module docstring); ``rel_tol``: stop each Benders loop when its bounds are this close
    (relative to the best point's gross cost: capacity + the parts' positive costs)."""
    t0 = time.perf_counter()
    _check_splittable(problem)
    free = [a for a in problem.sizing.assets if a.max_size > a.lower_size]
    names = [a.name for a in free]
    lo = np.array([a.lower_size - a.existing for a in free])
    hi = np.array([a.max_size - a.existing for a in free])
    box = (np.array([a.usd_per_unit for a in free]), lo, hi)
    spans = split_steps(problem, part_steps)
    parts = [part_problem(problem, a, e) for a, e in spans]
    lps = [_relaxed_part(p, names, options) for p in parts]
    # the largest sizes first: each part's least cost
    relaxed = benders([lp for lp, _ in lps], box, hi, problem.step_h, rel_tol, max_iter)
    _tighten_connection(relaxed.best, names, free)
    whole = None
    if any(integer for _, integer in lps):
        del lps  # one part's HiGHS objects at a time
        wparts = [_whole_job_part(p, names, relaxed.best.x, options) for p in parts]
        whole = benders(wparts, box, relaxed.best.x, problem.step_h, rel_tol, max_iter)
        _tighten_connection(whole.best, names, free)
    best = (whole or relaxed).best
    c = box[0]
    shortfall = _split_shortfall_usd(problem, parts, best)
    ub, gross = upper_usd(best, c), gross_usd(best, c) + shortfall
    bill = ub + shortfall
    basis = max(abs(bill), gross)
    gap = (bill - relaxed.bound_usd) / basis if basis > 0 else 0.0
    sizes = {a.name: a.lower_size for a in problem.sizing.assets}
    sizes.update({a.name: a.existing + float(v) for a, v in zip(free, best.x, strict=True)})
    return PartsSizing(
        sizes=sizes,
        objective_usd=bill,
        parts_objective_usd=ub,
        bound_usd=relaxed.bound_usd,
        relaxed_objective_usd=upper_usd(relaxed.best, c),
        capacity_usd=float(c @ best.x),
        gross_usd=gross,
        mip_gap=gap,
        iterations=relaxed.iterations + (0 if whole is None else whole.iterations),
        n_parts=len(parts),
        part_steps=spans,
        whole_jobs=whole is not None,
        unserved_mwh=best.unserved_mwh,
        peak_import_mw=best.peak_import_mw,
        solve_s=time.perf_counter() - t0,
        status=_status(relaxed, whole, gap, max(rel_tol, options.mip_rel_gap)),
    )
