"""A demand-response program's settlement and its windows, with numpy only (no model).

``settle`` computes what ``optimize.dr_program``'s model pays and charges, from any
net-import series ``net[t] = import[t] − export[t]`` (MW) at a commitment ``C`` (MW):
baseline ``B[t] = baseline_fixed_mw[t] + Σ_(t, j, w) w · net[j]``, reduction
``r[t] = B[t] − net[t]``, delivered ``d[t] = min(C, max(r[t], 0))``, shortfall
``s[t] = C − d[t]`` (a step above the baseline delivers nothing and falls short by C, no
more; at C = 0 nothing is owed); capacity payment ``capacity_usd_per_mw · C``, energy payment
``energy_usd_per_mwh · step_h · Σ d[t]``, penalty ``shortfall_usd_per_mwh · step_h · Σ s[t]``.

``window_program`` cuts a program to the steps of a rolling window or a re-plan, with the
events announced by then (the notice rule).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimize.problem import DemandResponseEvent, DemandResponseProgram, Problem


def fixed_baseline_mw(program: DemandResponseProgram, n_steps: int) -> np.ndarray:
    f = program.baseline_fixed_mw
    return np.zeros(n_steps) if f is None else np.asarray(f, dtype=float)


@dataclass(frozen=True)
class DrEventOutcome:
    """One event as settled: MW are averages over its steps, money in USD (payments > 0)."""

    key: str
    n_steps: int
    baseline_mw: float
    net_import_mw: float
    delivered_mw: float  # min(C, max(reduction, 0)) averaged over the event's steps
    shortfall_mwh: float  # Σ (C − delivered) · step_h
    energy_payment_usd: float
    shortfall_penalty_usd: float


@dataclass(frozen=True)
class DrSettlement:
    """The program's money over a horizon (payments positive, the penalty positive)."""

    commit_mw: float
    capacity_payment_usd: float
    energy_payment_usd: float
    shortfall_penalty_usd: float
    events: tuple[DrEventOutcome, ...]

    @property
    def net_cost_usd(self) -> float:
        """``dr_program_usd``: penalty − payments (negative when the program pays)."""
        return self.shortfall_penalty_usd - self.capacity_payment_usd - self.energy_payment_usd

    def bill(self) -> dict[str, float]:
        """The program's bill lines (USD; revenue negative, as a bill shows a credit)."""
        return {
            "dr_capacity_usd": -self.capacity_payment_usd,
            "dr_energy_usd": -self.energy_payment_usd,
            "dr_shortfall_usd": self.shortfall_penalty_usd,
        }


def with_baseline_of(
    program: DemandResponseProgram, net_import_mw: np.ndarray
) -> DemandResponseProgram:
    """``program`` with its baseline fixed at what it is on the net-import series
    ``net_import_mw`` (MW per step: a reference schedule's): the terms folded into
    ``baseline_fixed_mw``, so that a schedule solved with the program cannot move it."""
    base = baseline_mw(program, net_import_mw)
    fixed = np.where(np.isnan(base), fixed_baseline_mw(program, len(base)), base)
    return replace(program, baseline_fixed_mw=fixed, baseline_terms=())


def baseline_mw(program: DemandResponseProgram, net_import_mw: np.ndarray) -> np.ndarray:
    """The baseline (MW) at every step of a net-import series (NaN outside events)."""
    net = np.asarray(net_import_mw, dtype=float)
    out = np.full(len(net), np.nan)
    fixed = fixed_baseline_mw(program, len(net))
    for t in program.event_steps():
        out[t] = fixed[t]
    for t, j, w in program.baseline_terms:
        out[t] += w * net[j]
    return out


def settle(
    program: DemandResponseProgram, step_h: float, net_import_mw: np.ndarray, commit_mw: float
) -> DrSettlement:
    """The program's settlement of a net-import series (MW per step) at commitment
    ``commit_mw``: ``d[t] = min(C, max(r[t], 0))``, ``s[t] = C − d[t]`` (see the header)."""
    net = np.asarray(net_import_mw, dtype=float)
    base = baseline_mw(program, net)
    c = float(commit_mw)
    events = []
    for e in program.events:
        idx = np.asarray(e.steps, dtype=int)
        if idx.size == 0:
            continue
        r = base[idx] - net[idx]
        d = np.clip(r, 0.0, c)
        s = c - d
        events.append(
            DrEventOutcome(
                key=e.key,
                n_steps=int(idx.size),
                baseline_mw=float(base[idx].mean()),
                net_import_mw=float(net[idx].mean()),
                delivered_mw=float(d.mean()),
                shortfall_mwh=float(s.sum() * step_h),
                energy_payment_usd=program.energy_usd_per_mwh * step_h * float(d.sum()),
                shortfall_penalty_usd=program.shortfall_usd_per_mwh * step_h * float(s.sum()),
            )
        )
    return DrSettlement(
        commit_mw=c,
        capacity_payment_usd=program.capacity_usd_per_mw * c,
        energy_payment_usd=float(sum(x.energy_payment_usd for x in events)),
        shortfall_penalty_usd=float(sum(x.shortfall_penalty_usd for x in events)),
        events=tuple(events),
    )


def window_program(
    program: DemandResponseProgram | None,
    a: int,
    e: int,
    net_import_before_mw: np.ndarray,
    plan_step: int | None = None,
) -> DemandResponseProgram | None:
    """The program over the steps ``[a, e)`` of a longer horizon, shifted to start at 0:
    the events known at ``plan_step`` (``announced_step <= plan_step``; all when None),
    cut to the window; baseline terms on steps before ``a`` become constants from
    ``net_import_before_mw`` (the net import of steps ``0 .. a-1``, MW); no capacity term
    (the commitment is fixed, ``commit_mw`` must be set). None without a program."""
    if program is None:
        return None
    if program.commit_mw is None:
        raise ValueError("window_program: the program's commit_mw must be fixed")
    known = [ev for ev in program.events if plan_step is None or ev.announced_step <= plan_step]
    events = [
        DemandResponseEvent(ev.key, tuple(t - a for t in ev.steps if a <= t < e), 0) for ev in known
    ]
    inside = {t for ev in events for t in ev.steps}
    fixed = np.zeros(e - a)
    full_fixed = fixed_baseline_mw(program, e)
    for t in inside:
        fixed[t] = full_fixed[t + a]
    terms = []
    for t, j, w in program.baseline_terms:
        if t - a not in inside:
            continue
        if j < a:
            fixed[t - a] += w * float(net_import_before_mw[j])
        else:
            terms.append((t - a, j - a, w))
    return replace(
        program,
        events=tuple(ev for ev in events if ev.steps),
        capacity_usd_per_mw=0.0,
        baseline_fixed_mw=fixed,
        baseline_terms=tuple(terms),
    )


def fixed_settlement(problem: Problem, net_import_mw: np.ndarray) -> DrSettlement | None:
    """The settlement of a whole schedule at the program's fixed ``commit_mw`` (rolling
    windows, whose models carry no capacity term); None without a program."""
    p = problem.dr_program
    if p is None:
        return None
    if p.commit_mw is None:
        raise ValueError("rolling windows need the program's commit_mw fixed")
    return settle(p, problem.step_h, net_import_mw, p.commit_mw)
