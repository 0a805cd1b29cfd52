"""The LP that price-fix (``optimize.price_fix``) and the pair moves
(``optimize.pair_moves``) place jobs in: each job's HiGHS columns (``job_columns``), and a
``Fixer`` over a ``highspy.Highs`` holding the compiled model with every integer column
relaxed. It fixes a job's on/off columns to a pattern and frees them again, solves the LP
warm and keeps its solution and basis (``snapshot`` / ``restore``: a move turned down
costs no LP), and prices a job's steps by the LP's row duals to find its cheapest pattern
under its own rules (``optimize.job_dp``).

A job's step price is the reduced cost of its power column counting only the rows outside
the job (power balance, ramp, peak, network cuts, carbon budget), plus ``TIE_BREAK`` of
the import-price cost, plus up to ``LP_GUIDE`` of the mean price on steps the relaxation
leaves the job off (docs/model_jobs.md, "Price-guided job fixing").
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from optimize.job_dp import cheapest_pattern
from optimize.jobs import BLOCK_ROWS, running_at_first_step
from optimize.progress import LinePacer, report
from optimize.progress import is_on as progress_is_on

# LP duals are often equal over many steps (the battery levels the marginal price): the
# import price, weighted by this, breaks the ties towards the steps whose energy is cheaper
TIE_BREAK = 1e-3
# weight of the LP relaxation's own on/off values in a job's step prices (times the mean
# absolute price): a step the relaxation leaves the job off costs up to 20 % more, so the
# pattern follows the relaxed schedule where the prices barely differ. B2 committed cost
# (2026-11-22): 0 -> 13.58 M USD, 0.05 -> 13.50, 0.2 -> 13.47, 0.5 -> 13.48, 1.0 -> 13.58
LP_GUIDE = 0.2


@dataclass
class JobCols:
    job: object
    steps: list[int]
    on: np.ndarray  # column of on[j, t] per active step
    frac: np.ndarray
    start_binary: dict[int, int]  # step -> column of a binary start (non-preemptible)
    work_h: float
    tail_h: float
    carry_h: float
    pattern: np.ndarray | None = None


def job_columns(m, cm) -> list[JobCols]:
    """The HiGHS columns of each job of ``m`` (compiled as ``cm``) that has all its on/off
    and binary start columns (a job with a column the compiler removed is left out, and
    one with no step in the horizon: it has nothing to fix)."""
    col = cm.column_index()
    out = []
    jobs = {j.id: j for j in m.problem.jobs}
    tails = getattr(m, "job_tail_credit_h", {})
    carries = getattr(m, "job_carry_h", {})
    steps_of: dict[str, list[int]] = {jid: [] for jid in m.job_ids}
    for jid, t in m.job_steps:
        steps_of[jid].append(t)
    for jid in m.job_ids:
        j = jobs[jid]
        steps = steps_of[jid]
        if not steps:
            continue
        on = np.array([col.get(id(m.job_on[jid, t]), -1) for t in steps])
        frac = np.array([col.get(id(m.job_frac[jid, t]), -1) for t in steps])
        start_binary = {}
        if not j.preemptible and hasattr(m, "job_start"):
            for t in steps:
                if (jid, t) in m.job_start:
                    start_binary[t] = col.get(id(m.job_start[jid, t]), -1)
        if (on < 0).any() or (frac < 0).any() or min(start_binary.values(), default=0) < 0:
            continue  # columns removed by the compiler (fixed): leave the job to the MILP
        work = float(m.job_work_required_h[jid].value)
        tail, carry = float(tails.get(jid, 0.0)), float(carries.get(jid, 0.0))
        out.append(JobCols(j, steps, on, frac, start_binary, work, tail, carry))
    return out


def _external_rows(cm) -> np.ndarray:
    """True for rows not owned by a job component (their duals price the job's power)."""
    return np.array([not name.startswith("job_") for name in cm.row_components], dtype=bool)


def _hull_rows(cm) -> np.ndarray:
    """Rows of the single-block hull (``optimize.jobs.BLOCK_ROWS``)."""
    return np.flatnonzero(np.isin(cm.row_components, list(BLOCK_ROWS))).astype(np.int32)


def _external_terms(cm, ext: np.ndarray, cols: np.ndarray):
    """The matrix entries of columns ``cols`` in the rows ``ext`` marks: (position in
    ``cols``, row, value) per entry, in column order."""
    starts = cm.a_start[cols]
    lengths = cm.a_start[cols + 1] - starts
    pos = np.repeat(np.arange(len(cols)), lengths)
    first = np.cumsum(lengths) - lengths  # each column's first entry in the flat list
    entries = starts[pos] + np.arange(len(pos)) - first[pos]
    rows = cm.a_index[entries]
    keep = ext[rows]
    return pos[keep], rows[keep], cm.a_value[entries][keep]


@dataclass
class LPPoint:
    """An LP solution of ``Fixer``: its basis (where kept), objective, column values and
    row duals."""

    basis: highspy.HighsBasis | None
    objective_usd: float
    col_value: np.ndarray
    row_dual: np.ndarray


RELAXATION = "LP relaxation"  # FixLines's first phase


@dataclass
class FixLines:
    """The progress lines of a price-fix run (where progress is on), at most one per
    ``progress.EVERY_S`` after its first ``FIRST_AFTER_S``, at its LPs, e.g.
    "price-fix: bound 13,453,920 USD · fixing job 5 of 8 · 12.3 s"; once every job is
    fixed, the LP with them fixed (a close estimate of the schedule's cost, which the
    final MILP completes) and its gap from the bound."""

    label: str
    pacer: LinePacer = field(default_factory=LinePacer)
    bound_usd: float = float("nan")
    phase: str = RELAXATION
    fixed_lp: bool = False  # every job is fixed in the LPs of this phase

    @classmethod
    def of(cls, label: str | None) -> FixLines | None:
        """The lines under ``label``, or None where there is none or progress is off."""
        return cls(label) if label is not None and progress_is_on() else None

    def after_lp(self, lp_usd: float) -> None:
        elapsed_s = self.pacer.due_s()
        if elapsed_s is None:
            return
        # the first LPs are the bound's own (a relaxation, floors raised or not)
        bound_usd = lp_usd if self.phase == RELAXATION else self.bound_usd
        parts = [self.label + ":", f"bound {_usd(bound_usd)} ·", self.phase, "·"]
        if self.fixed_lp:
            gap_pct = 100 * (lp_usd - self.bound_usd) / max(abs(lp_usd), 1e-9)
            parts += [f"LP with the jobs fixed {_usd(lp_usd)} (gap {gap_pct:.2f} %) ·"]
        report(" ".join(parts + [f"{elapsed_s:.1f} s"]))


def _usd(x: float) -> str:
    return f"{x:,.0f} USD" if np.isfinite(x) else "none"


class Fixer:
    """Price-fix's LP over ``h`` (the compiled model ``cm`` of ``m``, integer columns
    relaxed): fixes and frees jobs, solves warm, prices a job's steps. ``time_limit_s``
    (None: none) and ``stop`` end the caller's loop through ``out_of_time``; ``lines``:
    its progress lines (``FixLines``) or None."""

    def __init__(self, h, cm, m, time_limit_s, stop: threading.Event | None = None, lines=None):
        self.h, self.cm, self.m = h, cm, m
        self.lines: FixLines | None = lines
        self.ext = _external_rows(cm)
        self.hull_rows = _hull_rows(cm)
        self.deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
        self.stop = stop
        self.capped = np.zeros(0, dtype=np.int32)
        # job id -> its frac columns' entries in the external rows (``_external_terms``)
        self.terms: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lp = LPPoint(None, float("nan"), np.zeros(0), np.zeros(0))

    def cap(self, caps: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Hold columns at most at the given upper bounds; None lifts the caps."""
        if caps is None:
            c = self.capped
            self.h.changeColsBounds(len(c), c, self.cm.col_lower[c], self.cm.col_upper[c])
            self.capped = np.zeros(0, dtype=np.int32)
            return
        c = np.asarray(caps[0], dtype=np.int32)
        upper = np.maximum(self.cm.col_lower[c], np.minimum(caps[1], self.cm.col_upper[c]))
        self.h.changeColsBounds(len(c), c, self.cm.col_lower[c], upper)
        self.capped = c

    def lines_bound(self, bound_usd: float) -> None:
        """The bound the progress lines give from now on."""
        if self.lines is not None:
            self.lines.bound_usd = bound_usd

    def phase(self, text: str, fixed_lp: bool = False) -> None:
        """What the progress lines say the run is doing (``FixLines``)."""
        if self.lines is not None:
            self.lines.phase, self.lines.fixed_lp = text, fixed_lp

    def out_of_time(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return self.deadline is not None and time.perf_counter() > self.deadline

    def hull(self, on: bool) -> None:
        """Switch the single-block hull rows on (their bounds) or off (free rows)."""
        if not len(self.hull_rows):
            return
        if on:
            lo, hi = self.cm.row_lower[self.hull_rows], self.cm.row_upper[self.hull_rows]
        else:
            lo = np.full(len(self.hull_rows), -highspy.kHighsInf)
            hi = np.full(len(self.hull_rows), highspy.kHighsInf)
        self.h.changeRowsBounds(len(self.hull_rows), self.hull_rows, lo, hi)

    def lp(self) -> bool:
        """Solve the LP (warm from the basis ``h`` holds); True if optimal. Its solution
        is what the pricing reads until the next ``lp`` or ``restore``."""
        self.h.run()
        ok = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        solution = self.h.getSolution()
        self._lp = LPPoint(
            None,
            float(self.h.getInfo().objective_function_value),
            np.asarray(solution.col_value),
            np.asarray(solution.row_dual),
        )
        if self.lines is not None:
            self.lines.after_lp(self._lp.objective_usd)
        return ok

    def objective(self) -> float:
        return self._lp.objective_usd

    def lp_values(self) -> np.ndarray:
        """The column values of the LP solved last."""
        return self._lp.col_value

    def snapshot(self) -> LPPoint:
        """The LP solved last, with its basis: ``restore`` returns to it."""
        return dataclasses.replace(self._lp, basis=self.h.getBasis())

    def restore(self, point: LPPoint) -> None:
        """Return to the LP ``point`` (the caller has put its column bounds back): its
        basis is ``h``'s warm start again and its solution the one the pricing reads, with
        no LP run. A move turned down costs no LP, and the next job is priced at the very
        vertex the last was (a run from the move's basis may stop at another optimal
        vertex of a degenerate LP, with other duals). A point without a valid basis (an
        LP that ended without one) is solved again instead."""
        if point.basis is None or not point.basis.valid:
            self.lp()
            return
        self.h.setBasis(point.basis)
        self._lp = point

    def cost_per_frac(self, jc: JobCols) -> np.ndarray:
        """USD per unit power fraction in each active step: the frac column's reduced cost
        counting only rows outside the job (HiGHS: col_dual = c - A^T row_dual)."""
        if jc.job.id not in self.terms:
            self.terms[jc.job.id] = _external_terms(self.cm, self.ext, jc.frac)
        pos, rows, values = self.terms[jc.job.id]
        y = self._lp.row_dual
        priced = np.bincount(pos, weights=values * y[rows], minlength=len(jc.frac))
        return self.cm.col_cost[jc.frac] - priced

    def raw_cost(self, jc: JobCols) -> np.ndarray:
        """USD of the job's full power in each active step at the import price (ties)."""
        p = self.m.problem
        t = np.asarray(jc.steps)
        mw = jc.job.full_power_it_mw * p.facility.pue[t]
        return p.grid.import_price_usd_per_mwh[t] * mw * float(self.m.job_step_h)

    def pattern(self, jc: JobCols) -> np.ndarray | None:
        j = jc.job
        running = running_at_first_step(j)
        free = 0 if running else 1
        if j.preemptible:
            max_starts = None if j.max_interruptions is None else j.max_interruptions + free
            overhead = j.restart_overhead_h
        else:
            max_starts, overhead = (0 if running else 1), 0.0
        cost = self.cost_per_frac(jc) + TIE_BREAK * self.raw_cost(jc)
        x = self._lp.col_value[jc.on]
        cost = cost + LP_GUIDE * float(np.mean(np.abs(cost))) * (1.0 - np.clip(x, 0, 1))
        p = cheapest_pattern(
            cost,
            j.throughput_curve,
            j.f_min,
            float(self.m.job_step_h),
            jc.work_h,
            max_starts=max_starts,
            free_starts=free,
            overhead_h=overhead,
            running=running,
            tail_credit_h=jc.tail_h,
            carry_h=jc.carry_h,
        )
        return None if p is None else p.on

    def release(self, jobs: list[JobCols]) -> None:
        """Give every fixed job its own column bounds back."""
        for jc in jobs:
            if jc.pattern is not None:
                self.fix(jc, None)

    def fix(self, jc: JobCols, on: np.ndarray | None) -> None:
        """Fix the job's on (and binary start) columns to ``on``; None restores them."""
        cols = list(jc.on)
        if on is None:
            lo = self.cm.col_lower[jc.on]
            hi = self.cm.col_upper[jc.on]
            if jc.start_binary:
                sc = np.array(list(jc.start_binary.values()))
                cols += list(sc)
                lo = np.concatenate((lo, self.cm.col_lower[sc]))
                hi = np.concatenate((hi, self.cm.col_upper[sc]))
        else:
            lo = hi = on.astype(float)
            if jc.start_binary:
                prev = np.concatenate(([running_at_first_step(jc.job)], on[:-1]))
                start = on & ~prev
                pos = {t: k for k, t in enumerate(jc.steps)}
                sv = [float(start[pos[t]]) for t in jc.start_binary]
                cols += list(jc.start_binary.values())
                lo = hi = np.concatenate((lo, sv))
        idx = np.asarray(cols, dtype=np.int32)
        self.h.changeColsBounds(len(idx), idx, np.asarray(lo, float), np.asarray(hi, float))
        jc.pattern = on
