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

Per part ``k`` and sizes ``x`` (``size_added``, MW or MWh above the existing fleet):
``v_k(x)`` = the part's LP optimum with the jobs' on/off relaxed (the hull formulation of
``optimize/jobs.py``) and the sizes fixed at ``x``, capacity cost left out. ``v_k`` is convex
and non-increasing in ``x`` (more capacity only loosens rows), and the LP's reduced cost of
each size column is a subgradient ``g_k``.

Master (a small LP): ``min Σ_a c_a · x_a + Σ_k θ_k`` over ``x`` in its bounds, with
``θ_k >= v_k(x^i) + g_k^i · (x − x^i)`` for every point ``x^i`` evaluated so far (the
first at the largest sizes; with ``x`` in its box the cuts bound ``θ``). Its optimum is a
lower bound of the parts' LP sizing optimum; each evaluated point gives an upper bound
``Σ_a c_a · x^i_a + Σ_k v_k(x^i)``. The next point is
``α · x_best + (1 − α) · x_master`` (in-out stabilisation, α = 0.5) until the bounds meet
within ``rel_tol`` of the upper bound's gross cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import highspy
import numpy as np

from optimize.demand_charges import window_charges
from optimize.highs import compile_model, make_highs
from optimize.model import build_model
from optimize.problem import Generator, Problem, Sizing, SolverOptions

_KIND_CONT = 0
_STABILISE = 0.5  # in-out: the next point is halfway between the best and the master's


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
        window_charges(g.peak_charges, a, e, {}),
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


@dataclass
class _Part:
    """One part's LP in HiGHS and where its size columns are."""

    h: highspy.Highs
    cols: np.ndarray  # HiGHS column of each sized asset's size_added, in sizing order
    unserved: np.ndarray  # HiGHS columns of the unserved-load generator
    imports: np.ndarray  # HiGHS columns of grid_import_mw


def _part_lp(part: Problem, names: list[str], options: SolverOptions) -> _Part:
    m = build_model(_with_unserved(part))
    cm = compile_model(m)
    h = make_highs(cm, options)
    if cm.integrality is not None:
        icols = np.flatnonzero(cm.integrality > 0)
        h.changeColsIntegrality(len(icols), icols, np.full(len(icols), _KIND_CONT))
    col = {id(v): i for i, v in enumerate(cm.columns)}
    return _Part(
        h=h,
        cols=np.array([col[id(m.size_added[a])] for a in names], dtype=np.int32),
        unserved=np.array(
            [col[id(m.gen_mw[UNSERVED, t])] for t in m.T if id(m.gen_mw[UNSERVED, t]) in col],
            dtype=np.int32,
        ),
        imports=np.array(
            [col[id(v)] for v in m.grid_import_mw.values() if id(v) in col], dtype=np.int32
        ),
    )


@dataclass
class _Point:
    """The parts evaluated at sizes ``x``: each part's LP cost and subgradient."""

    x: np.ndarray
    costs_usd: np.ndarray  # per part
    grads: np.ndarray  # per part × asset: USD per unit of size
    unserved_mwh: float
    peak_import_mw: float


def _evaluate(parts: list[_Part], x: np.ndarray, step_h: float) -> _Point:
    costs, grads, unserved, peak = [], [], 0.0, 0.0
    for p in parts:
        p.h.changeColsBounds(len(p.cols), p.cols, x, x)
        p.h.run()
        if p.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"a part's LP ended {p.h.modelStatusToString(p.h.getModelStatus())}")
        sol = p.h.getSolution()
        costs.append(p.h.getInfo().objective_function_value)
        grads.append(np.asarray(sol.col_dual)[p.cols])
        values = np.asarray(sol.col_value)
        unserved += float(values[p.unserved].sum()) * step_h
        if len(p.imports):
            peak = max(peak, float(values[p.imports].max()))
    return _Point(x.copy(), np.array(costs), np.array(grads), unserved, peak)


def _upper_usd(pt: _Point, c: np.ndarray) -> float:
    """The point's capacity cost plus its parts' LP costs (USD): an upper bound."""
    return float(c @ pt.x + pt.costs_usd.sum())


def _gross_usd(pt: _Point, c: np.ndarray) -> float:
    """The same with every part's cost counted positive: the basis of the tolerance."""
    return float(c @ pt.x + np.abs(pt.costs_usd).sum())


def _bounds_met(best: _Point, c: np.ndarray, bound: float, rel_tol: float) -> bool:
    ub = _upper_usd(best, c)
    return ub - bound <= rel_tol * max(abs(ub), _gross_usd(best, c))


def _tighten_connection(best: _Point, names: list[str], free: list) -> None:
    """The loop stops within its tolerance, where the cost may be flat in a size: the
    connection is cut to the best point's peak import (its parts' LP solutions stay
    feasible and cost the same; the capacity cost falls)."""
    if "grid_import" not in names:
        return
    k = names.index("grid_import")
    added = best.peak_import_mw - free[k].existing
    best.x[k] = min(best.x[k], max(added, free[k].lower_size - free[k].existing))


@dataclass(frozen=True)
class PartsSizing:
    """The sizes chosen by parts and the bounds on the parts' LP sizing optimum (USD over the
    horizon: capacity cost + the parts' operating LP costs)."""

    sizes: dict[str, float]  # asset name -> total size (MW or MWh)
    objective_usd: float  # upper bound: the best point's capacity + operating LP cost
    bound_usd: float  # lower bound: the master's optimum
    capacity_usd: float
    # the best point's gross cost (capacity + the parts' LP costs, each counted positive): the
    # basis of rel_tol
    gross_usd: float
    iterations: int
    n_parts: int
    part_steps: list[tuple[int, int]]
    unserved_mwh: float  # load the best point leaves unserved (0 when the sizes serve all)
    peak_import_mw: float
    solve_s: float
    status: str  # "optimal" (bounds within rel_tol) or "iteration_limit"


class _Master:
    """``min c·x + Σ θ_k`` with the cuts so far (HiGHS LP: columns x then θ)."""

    def __init__(self, c: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_parts: int):
        self.n_x, self.n_parts = len(c), n_parts
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        cost = np.concatenate([c, np.ones(self.n_parts)])
        # θ free: the first cuts and the box on x bound it
        lower = np.concatenate([lo, np.full(n_parts, -highspy.kHighsInf)])
        upper = np.concatenate([hi, np.full(self.n_parts, highspy.kHighsInf)])
        self.h.addVars(len(cost), lower, upper)
        self.h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)

    def add_cuts(self, pt: _Point) -> None:
        """``θ_k − g_k · x >= v_k − g_k · x^i`` for each part ``k``."""
        idx = np.arange(self.n_x + 1, dtype=np.int32)
        for k in range(self.n_parts):
            g = pt.grads[k]
            idx[-1] = self.n_x + k
            vals = np.concatenate([-g, [1.0]])
            self.h.addRow(pt.costs_usd[k] - float(g @ pt.x), highspy.kHighsInf, len(idx), idx, vals)

    def solve(self) -> tuple[np.ndarray, float]:
        self.h.run()
        sol = self.h.getSolution()
        return np.asarray(sol.col_value)[: self.n_x], self.h.getInfo().objective_function_value


def size_by_parts(
    problem: Problem,
    part_steps: int,
    options: SolverOptions,
    rel_tol: float = 1e-3,
    max_iter: int = 60,
) -> PartsSizing:
    """Choose ``problem.sizing``'s sizes by parts of about ``part_steps`` steps (see the
    module docstring); ``rel_tol``: stop when the bounds are this close (relative to the
    best point's gross cost: capacity + the parts' positive LP costs)."""
    t0 = time.perf_counter()
    _check_splittable(problem)
    free = [a for a in problem.sizing.assets if a.max_size > a.lower_size]
    names = [a.name for a in free]
    lo = np.array([a.lower_size - a.existing for a in free])
    hi = np.array([a.max_size - a.existing for a in free])
    c = np.array([a.usd_per_unit for a in free])
    spans = split_steps(problem, part_steps)
    parts = [_part_lp(part_problem(problem, a, e), names, options) for a, e in spans]
    best = _evaluate(parts, hi, problem.step_h)  # the largest sizes: each part's least cost
    master = _Master(c, lo, hi, len(parts))
    master.add_cuts(best)
    bound, iterations = -np.inf, 1
    while iterations < max_iter:
        x_master, bound = master.solve()
        if _bounds_met(best, c, bound, rel_tol):
            break
        x = np.clip(_STABILISE * best.x + (1 - _STABILISE) * x_master, lo, hi)
        pt = _evaluate(parts, x, problem.step_h)
        iterations += 1
        master.add_cuts(pt)
        if _upper_usd(pt, c) < _upper_usd(best, c):
            best = pt
    _tighten_connection(best, names, free)
    ub, gross = _upper_usd(best, c), _gross_usd(best, c)
    done = _bounds_met(best, c, bound, rel_tol)
    sizes = {a.name: a.lower_size for a in problem.sizing.assets}
    sizes.update({a.name: a.existing + float(v) for a, v in zip(free, best.x, strict=True)})
    return PartsSizing(
        sizes=sizes,
        objective_usd=ub,
        bound_usd=float(bound),
        capacity_usd=float(c @ best.x),
        gross_usd=gross,
        iterations=iterations,
        n_parts=len(parts),
        part_steps=spans,
        unserved_mwh=best.unserved_mwh,
        peak_import_mw=best.peak_import_mw,
        solve_s=time.perf_counter() - t0,
        status="optimal" if done else "iteration_limit",
    )
