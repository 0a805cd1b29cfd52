"""Peak floors: the least peak import each job's work leaves possible, a cut at the root.

A job that runs in step ``t`` draws at least ``f_min · P_j`` MW of IT power. With every
other job off and every other source at its most (``Supply``: the renewables' available
power and the generators' capacity, ``other[t]``; the battery's discharge power
``battery[t]``), its import at a power fraction ``f`` is ``base[t] + full[t] · f −
battery[t]`` with ``base[t] = inference[t] · pue[t] − other[t]`` and ``full[t] = P_j ·
pue[t]`` (MW). Under a peak ``θ`` on the steps ``S_k`` of demand charge ``k`` it may run in
a step of ``S_k`` only at ``f ≤ f_t(θ)``, where that import reaches ``cap[t] = min(θ,
import_max[t])``, and not at all where ``f_t(θ) < f_min``; outside ``S_k`` only the import
limit holds. Its most work under ``θ`` (``Δ = step_h``, ``g`` the throughput curve):

- one block (non-preemptible, or no restart allowed): the largest ``Σ Δ · g(min(1,
  f_t(θ)))`` over one run of open steps whose battery energy fits: over a block the
  battery gives at most ``η_d · (soc_max − soc_min) · E`` net (its SOC falls by no more),
  each step needs ``(base[t] + full[t] · f_min − cap[t]) · Δ`` of it, and a step where
  that is below 0 lets it recharge (at most at its power);
- preemptible with restart overhead ``o_j`` and budget ``K_j``: with ``r`` restarts it runs
  in ``r + 1`` blocks, each inside one run of open steps, and needs ``W_j + o_j · r``: it
  fits iff some ``r ≤ K_j`` has the ``r + 1`` largest runs' work at least that.

That work grows with ``θ``, so bisection finds the largest ``θ`` at which the job does not
fit: every schedule's ``peak_k`` lies above it (each simplification above only widens what
the job can do). The floor of charge ``k`` is the largest over the jobs. It is the
integrality the LP relaxation lacks: a fractional ``on`` runs a job "partly" in many steps
under a peak no whole schedule reaches (random case 12 of ``benchmarks/random_cases.py``:
the LP's peak 11.24 MW, the floor's and the optimum's 13.68 MW).

``raise_violated_floors`` raises a peak column to its floor where an LP solution lies below
it, a cut separated at the root (price-fix's first LP); a floor the LP satisfies changes
nothing, so HiGHS's search runs as without it. None is computed in elastic models (a job
may stay unfinished), with priced unfinished work, or where assets are sized (``Supply``
is not known); a non-preemptible job credited for running on past the horizon gives none,
nor does a charge on demand intervals longer than a step (``PeakCharge.interval_steps``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimize.problem import Job, PeakCharge, Problem
from optimize.throughput import curve_pieces

_BISECTIONS = 40
# the floor leaves this much room (relative) for HiGHS's feasibility tolerance
_REL_TOL = 1e-7
# a floor counts as violated only this far (relative) above the LP's peak
_VIOLATED = 1e-6


def raise_violated_floors(h, cm, m, values) -> bool:
    """Raise each peak column of ``m`` whose floor lies above its value in ``values`` (an
    LP solution of ``cm``, the compiled ``m``, held in ``h``) to that floor, in ``m``,
    ``cm`` and ``h`` alike (a cut separated at the root: a floor the LP already satisfies
    changes nothing, and HiGHS's search runs as it would without it). Whether any rose.
    A job that fits under the LP's peak needs no bisection: one check per job and charge
    where nothing is violated."""
    if not hasattr(m, "grid_peak_import_mw") or not _floors_hold(m, m.problem):
        return False
    index = cm.column_index()
    supply = Supply.of(m.problem)
    raised = False
    for c in m.problem.grid.peak_charges:
        var = m.grid_peak_import_mw[c.key]
        i = index.get(id(var))
        if i is None:
            continue
        value = float(values[i])
        floor = _floor_above(m, c, supply, value + _VIOLATED * (1.0 + abs(value)))
        if floor is None:
            continue
        var.setlb(floor)
        cm.col_lower[i] = floor
        h.changeColBounds(i, cm.col_lower[i], cm.col_upper[i])
        raised = True
    return raised


def peak_floors_mw(m) -> dict[str, float]:
    """Each demand charge's floor (MW) in model ``m`` (``m.problem``), where above 0."""
    if not hasattr(m, "grid_peak_import_mw") or not _floors_hold(m, m.problem):
        return {}
    supply = Supply.of(m.problem)
    floors = {c.key: _floor_above(m, c, supply, 0.0) for c in m.problem.grid.peak_charges}
    return {k: f for k, f in floors.items() if f is not None and f > 0.0}


def _floor_above(m, c: PeakCharge, supply: Supply, theta: float) -> float | None:
    """The floor of charge ``c`` (MW) where it lies above ``theta``, else None: the
    largest over the jobs of the peak under which the job cannot do its work. None for a
    charge on demand intervals: a step's import may pass their average."""
    if c.interval_steps > 1:
        return None
    best, found = theta, False
    for j in m.problem.jobs:
        fits = _job_fit(m, c, j, supply)
        if fits is None or fits(best):  # its floor is at most the best so far
            continue
        hi = float(np.max(fits.base + fits.full)) + 1.0  # every step at full power
        if not fits(hi):
            continue  # it cannot do its work at all: the model is infeasible
        best, found = _bisect(fits, best, hi), True
    return best if found else None


def _bisect(fits, lo: float, hi: float) -> float:
    """The largest peak found not to fit, between ``lo`` (not) and ``hi`` (fits), less
    room for HiGHS's feasibility tolerance."""
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return lo - _REL_TOL * (1.0 + abs(lo))


def _floors_hold(m, problem: Problem) -> bool:
    return (
        bool(problem.jobs)
        and bool(problem.grid.peak_charges)
        and not getattr(m, "elastic", False)
        and problem.sizing is None
        and problem.objective.unfinished_work_penalty_usd_per_h is None
    )


@dataclasses.dataclass(frozen=True)
class Supply:
    """What every source but the grid can give: ``other_mw`` (renewables' available power
    and generators' capacity) and ``battery_mw`` (discharge power) per step, MW; and
    ``battery_mwh``, the most net energy the battery can give over any run of steps
    (``η_d · (soc_max_frac − soc_min_frac) · E``: its SOC falls by at most that)."""

    other_mw: np.ndarray
    battery_mw: np.ndarray
    battery_mwh: float

    @classmethod
    def of(cls, problem: Problem) -> Supply:
        n = problem.n_steps
        other = np.zeros(n)
        for r in problem.renewables:
            other += np.asarray(r.available_mw, dtype=float)
        for g in problem.generators:
            other += float(g.capacity_mw) * _avail(g.available_frac, n)
        b = problem.battery
        if b is None:
            return cls(other, np.zeros(n), 0.0)
        usable_mwh = (b.soc_max_frac - b.soc_min_frac) * float(b.energy_mwh)
        power = float(b.power_mw) * _avail(b.available_frac, n)
        return cls(other, power, float(b.discharge_efficiency) * usable_mwh)


def _avail(frac, n: int) -> np.ndarray:
    return np.ones(n) if frac is None else np.asarray(frac, dtype=float)


def _job_fit(m, c: PeakCharge, j: Job, supply: Supply) -> _JobFit | None:
    """Job ``j``'s fit under a peak of charge ``c``; None where it gives no floor."""
    problem = m.problem
    work_h = float(m.job_work_required_h[j.id].value)
    if work_h <= 0.0 or j.id in m.job_tail_credit_h:
        return None
    steps = np.arange(j.release_step, min(j.deadline_step, problem.n_steps))
    if steps.size == 0 or not np.asarray(c.steps)[steps].any():
        return None
    carry = j.id in m.job_carry_h  # it may stop at the horizon end: one run more
    return _JobFit(problem, c, j, supply, steps, work_h * (1.0 - _REL_TOL), carry)


class _JobFit:
    """Whether job ``j`` can do ``need_h`` of work under a peak ``θ`` on the charge's
    steps (the module docstring), over its active ``steps``."""

    def __init__(self, problem, c, j: Job, supply: Supply, steps, need_h: float, carry) -> None:
        f = problem.facility
        pue = np.asarray(f.pue, dtype=float)[steps]
        # import (MW) with the job off and the battery idle, and per unit of power fraction
        self.base = np.asarray(f.inference_it_mw, dtype=float)[steps] * pue - supply.other_mw[steps]
        self.full = float(j.full_power_it_mw) * pue
        self.battery_mw, self.battery_mwh = supply.battery_mw[steps], supply.battery_mwh
        self.in_charge = np.asarray(c.steps, dtype=bool)[steps]
        self.import_max = np.asarray(problem.grid.import_max_mw, dtype=float)[steps]
        self.j, self.need_h, self.step_h = j, need_h, float(problem.step_h)
        # one block: non-preemptible, or no restart allowed (a carry allows one more run)
        self.one_run = not j.preemptible or (j.max_interruptions == 0 and not carry)
        self.budget = None if carry else j.max_interruptions  # restarts allowed (None: any)
        self.g_min, self.pieces = curve_pieces(j.throughput_curve, j.f_min)

    def __call__(self, theta: float) -> bool:
        cap = np.where(self.in_charge, np.minimum(theta, self.import_max), self.import_max)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = (cap - self.base + self.battery_mw) / self.full
        frac = np.where(self.full > 0, np.minimum(frac, 1.0), 1.0)
        open_ = frac >= self.j.f_min - 1e-12
        work_h = np.where(open_, self._throughput(frac), 0.0) * self.step_h
        if self.one_run:
            # the battery's energy each step needs for the job at f_min, MWh
            # (below 0: it may recharge, at most at its power)
            need_mw = np.maximum(self.base + self.full * self.j.f_min - cap, -self.battery_mw)
            return _block_fits(open_, work_h, need_mw * self.step_h, self.need_h, self.battery_mwh)
        return _runs_fit(self.j, self.budget, _run_sums(open_, work_h), self.need_h)

    def _throughput(self, frac: np.ndarray) -> np.ndarray:
        """``g(frac)`` on ``[f_min, 1]`` (below ``f_min`` the value is unused)."""
        g = np.full(frac.shape, self.g_min)
        left = np.clip(frac - self.j.f_min, 0.0, None)
        for width, slope in self.pieces:
            take = np.minimum(left, width)
            g += slope * take
            left -= take
        return g


def _block_fits(open_, work_h, battery_mwh_used, need_h: float, battery_mwh: float) -> bool:
    """Whether one block of open steps does ``need_h`` of work with at most
    ``battery_mwh`` net from the battery (``battery_mwh_used`` per step, below 0 where the
    battery may recharge). A block from step ``s`` must reach the shortest block from ``s``
    that does the work; past that, any end within the run will do."""
    run_end = _run_ends(open_)
    work = np.concatenate(([0.0], np.cumsum(work_h)))
    used = np.concatenate(([0.0], np.cumsum(battery_mwh_used)))
    least_after = _least_ahead(used, run_end)
    first = np.flatnonzero(open_)
    end = np.searchsorted(work, work[first] + need_h, side="left")
    ok = end <= run_end[first]
    end = np.minimum(end, len(work) - 1)
    return bool(np.any(ok & (least_after[end] - used[first] <= battery_mwh)))


def _least_ahead(used: np.ndarray, run_end: np.ndarray) -> np.ndarray:
    """``least[e] = min(used[e .. r])`` for the end ``e`` of a block in the run of open
    steps ``[s, r)`` (ends ``s + 1 .. r``): the least cumulative battery energy at any end
    from ``e`` on within that run."""
    least = used.copy()
    # steps sharing a run end: an open run [s, r) and the closed step r after it
    starts = np.concatenate(([0], np.flatnonzero(run_end[:-1] != run_end[1:]) + 1))
    for s in starts.tolist():
        r = int(run_end[s])
        if r > s:
            least[s + 1 : r + 1] = np.minimum.accumulate(used[s + 1 : r + 1][::-1])[::-1]
    return least


def _runs_fit(j: Job, budget: int | None, runs_h: np.ndarray, need_h: float) -> bool:
    """Whether a job whose runs may do ``runs_h`` of work each does ``need_h`` of work:
    with ``r`` restarts it runs in ``r + 1`` blocks and needs ``o_j · r`` more."""
    runs = np.sort(runs_h)[::-1]
    if runs.size == 0:
        return False
    most = runs.size - 1 if budget is None else min(int(budget), runs.size - 1)
    r = np.arange(most + 1)
    return bool(np.any(np.cumsum(runs)[r] >= need_h + float(j.restart_overhead_h) * r))


def _run_ends(open_: np.ndarray) -> np.ndarray:
    """For each step, the end (exclusive) of the run of open steps it lies in."""
    n = len(open_)
    end = np.full(n, n)
    closed = np.flatnonzero(~open_)
    idx = np.searchsorted(closed, np.arange(n), side="left")
    has = idx < closed.size
    end[has] = closed[idx[has]]
    return end


def _run_sums(open_: np.ndarray, work_h: np.ndarray) -> np.ndarray:
    """The work of each run of consecutive open steps."""
    if not open_.any():
        return np.zeros(0)
    edges = np.diff(np.concatenate(([0], open_.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    total = np.concatenate(([0.0], np.cumsum(work_h)))
    return total[ends] - total[starts]
