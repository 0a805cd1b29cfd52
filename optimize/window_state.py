"""What a rolling window starts from, and what it hands to the next (``optimize.rolling``).

``Carried`` holds the state after the committed steps so far: each job's progress
(``JobState``), the battery's SOC, the last net import, and the committed net import
(demand-response baselines) and import (the demand charges' peaks and the tiered charges'
energy so far).
``window_problem`` cuts a window's ``Problem`` from the full one with that state (the
rolling module's docstring lists what carries over and how), ``carry_state`` updates the
state with a window's committed steps. Before a window is solved, ``predicted_carried``
tells what the windows after it will see of its jobs, where it can, and
``guessed_problem`` gives a window the state of an earlier one: the pipeline of
``optimize.window_pipeline`` builds windows ahead from both.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from optimize.carried_state import with_state_of
from optimize.demand_charges import window_charges
from optimize.dr_settlement import window_program
from optimize.energy_tiers import window_tiers
from optimize.job_dp import starts_in
from optimize.problem import Battery, Grid, Job, Problem
from optimize.restart_guide import guided_interruptions
from optimize.throughput import throughput

_TOL = 1e-6


@dataclass
class JobState:
    job: Job
    remaining_h: float
    restarts: int = 0
    started: bool = False
    running: bool = False
    work_done_h: float = 0.0
    failed: bool = False

    def copy(self) -> JobState:
        # a window copies every job's state for its backtrack (B2: 22,000 copies), where
        # dataclasses.replace and copy.copy were several times slower
        return JobState(
            self.job,
            self.remaining_h,
            self.restarts,
            self.started,
            self.running,
            self.work_done_h,
            self.failed,
        )


def _slice(arr, a: int, b: int):
    return None if arr is None else np.asarray(arr)[a:b]


def sub_problem(
    problem: Problem,
    a: int,
    e: int,
    soc_frac: float | None,
    net_import: float | None,
    jobs: list[Job],
    carried: Carried | None = None,
    charge_share: bool = False,
) -> Problem:
    """The window ``[a, e)`` of ``problem`` with the carried battery SOC (fraction of
    capacity; None: the problem's own), last net import (MW), the window's ``jobs`` and
    the demand peaks and tier energy so far (``carried``; None: none); ``charge_share``:
    each demand charge at the window's share of its steps from ``a`` on
    (``window_charges``' ``share_of_rest``)."""
    imports = np.asarray(carried.import_history_mw) if carried is not None else None
    grid = _sub_grid(problem.grid, problem.step_h, (a, e), net_import, imports, charge_share)
    reach_max, reach_min = ramp_reach(problem.grid, problem.step_h, a, e)
    grid = replace(grid, reach_max_mw=reach_max, reach_min_mw=reach_min)
    battery: Battery | None = problem.battery
    if battery is not None:
        battery = replace(
            battery,
            soc_initial_frac=battery.soc_initial_frac if soc_frac is None else soc_frac,
            available_frac=_slice(battery.available_frac, a, e),
        )
    gens = tuple(
        replace(x, available_frac=_slice(x.available_frac, a, e)) for x in problem.generators
    )
    return Problem(
        step_h=problem.step_h,
        n_steps=e - a,
        grid=grid,
        facility=replace(
            problem.facility,
            inference_it_mw=problem.facility.inference_it_mw[a:e],
            pue=problem.facility.pue[a:e],
        ),
        renewables=tuple(replace(r, available_mw=r.available_mw[a:e]) for r in problem.renewables),
        battery=battery,
        generators=gens,
        jobs=tuple(jobs),
        objective=problem.objective,
        # the window's own network cuts, on window steps (plan-ac with rolling windows)
        network_cuts=tuple(
            replace(c, step=c.step - a) for c in problem.network_cuts if a <= c.step < e
        ),
        network_cut_penalty_usd_per_pct=problem.network_cut_penalty_usd_per_pct,
    )


def _sub_grid(
    g: Grid,
    step_h: float,
    steps: tuple[int, int],
    net_import: float | None,
    import_before_mw: np.ndarray | None,
    charge_share: bool,
) -> Grid:
    """The grid's steps ``[a, e)`` (``steps``), starting from the net import ``net_import``
    (MW), with the import of the steps before ``a`` (MW: the demand peaks and the tier
    energy so far, ``window_charges`` and ``window_tiers``); ``charge_share``: as
    ``sub_problem``."""
    a, e = steps

    def parts(d: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
        return None if d is None else {k: np.asarray(v)[a:e] for k, v in d.items()}

    return replace(
        g,
        import_max_mw=g.import_max_mw[a:e],
        export_max_mw=g.export_max_mw[a:e],
        import_price_usd_per_mwh=g.import_price_usd_per_mwh[a:e],
        export_price_usd_per_mwh=g.export_price_usd_per_mwh[a:e],
        carbon_g_per_kwh=g.carbon_g_per_kwh[a:e],
        net_import_cap_mw=_slice(g.net_import_cap_mw, a, e),
        initial_net_import_mw=net_import,
        peak_charges=window_charges(g.peak_charges, a, e, import_before_mw, charge_share),
        energy_tiers=window_tiers(g.energy_tiers, a, e, import_before_mw, step_h),
        import_price_parts=parts(g.import_price_parts),
        export_price_parts=parts(g.export_price_parts),
    )


def ramp_reach(g: Grid, step_h: float, a: int, e: int) -> tuple[np.ndarray | None, ...]:
    """The net import bounds (MW per step of ``[a, e)``, NaN: none) that ``g``'s ramp limit
    carries back from the steps after ``e``. With ``r = ramp_mw_per_h · step_h``, every
    schedule of the whole horizon has ``net[t] <= min_{s >= e} (cap[s] + r · (s − t))`` and
    ``net[t] >= max_{s >= e} (−export_max[s] − r · (s − t))``, ``cap = min(import_max,
    net_import_cap)``: a window that ends above a later cap (an outage, a DR cap just past
    its end) or below a later floor leaves the next window no way to reach it. Kept where
    tighter than the step's own limits; (None, None) without a ramp limit or a step after
    ``e``."""
    n = len(g.import_max_mw)
    if g.ramp_mw_per_h is None or e >= n:
        return None, None
    r = float(g.ramp_mw_per_h) * step_h
    cap = g.import_max_mw
    if g.net_import_cap_mw is not None:
        cap = np.fmin(cap, g.net_import_cap_mw)
    after = r * np.arange(n - e)
    back = r * np.arange(e - a, 0, -1)  # e − t for t in [a, e), in MW of ramp
    reach_max = float(np.min(cap[e:] + after)) + back
    reach_min = float(np.max(-g.export_max_mw[e:] - after)) - back
    reach_max[reach_max >= cap[a:e]] = np.nan
    reach_min[reach_min <= -g.export_max_mw[a:e]] = np.nan
    return _or_none(reach_max), _or_none(reach_min)


def _or_none(bound: np.ndarray) -> np.ndarray | None:
    return None if np.isnan(bound).all() else bound


def _window_jobs(
    problem: Problem, states: dict[str, JobState], a: int, e: int, guide_until: int | None
) -> list[Job]:
    """The jobs of window ``[a, e)`` of ``problem`` as the carried ``states`` leave them
    (their steps counted from ``a``); ``states`` are read, not changed. A job that has
    stopped with its interruptions spent cannot start again and is left out, as one
    failed. ``guide_until``: the window's commit end, where the restart guide sets the
    preemptible jobs' interruptions (``optimize.restart_guide``; None: all they have)."""
    out = []
    for st in states.values():
        j = st.job
        if st.failed or st.remaining_h <= _TOL or j.release_step >= e or j.deadline_step <= a:
            continue
        if not j.preemptible and st.started and not st.running:
            continue  # stopped unfinished: cannot restart
        running = st.running and j.release_step <= a
        max_int = j.max_interruptions
        if max_int is not None:
            max_int = max(0, max_int - st.restarts)
        work = st.remaining_h
        if st.started and not running and j.preemptible:
            # the next start is a restart: pay it in advance
            work += j.restart_overhead_h
            if max_int is not None:
                if max_int == 0:
                    continue
                max_int -= 1
        if guide_until is not None and j.preemptible and max_int:
            window = (a, guide_until, e)
            max_int = guided_interruptions(problem, j, window, work, max_int, running)
        out.append(
            replace(
                j,
                work_h=work,
                release_step=max(0, j.release_step - a),
                deadline_step=j.deadline_step - a,
                max_interruptions=max_int,
                running_at_start=running,
            )
        )
    return out


@dataclass
class Carried:
    """What a window hands to the next: job states, battery SOC, last net import and the
    committed series."""

    states: dict[str, JobState]
    soc_frac: float | None
    net_import: float | None
    # committed net import of every step so far (MW): demand-response baselines
    net_history_mw: list[float] = field(default_factory=list)
    # committed import of every step so far (MW): the demand charges' peaks so far and
    # their intervals across window edges, and the tiered charges' energy so far
    import_history_mw: list[float] = field(default_factory=list)

    def copy(self) -> Carried:
        states = {k: v.copy() for k, v in self.states.items()}
        return Carried(
            states,
            self.soc_frac,
            self.net_import,
            list(self.net_history_mw),
            list(self.import_history_mw),
        )


def window_problem(
    problem: Problem,
    carried: Carried,
    a: int,
    e: int,
    charge_share: bool = False,
    guide_until: int | None = None,
) -> tuple[Problem, list]:
    """Window ``[a, e)``'s problem from the carried state, and its jobs; ``charge_share``:
    as ``sub_problem``; ``guide_until``: the window's commit end, with the jobs'
    interruptions as ``optimize.restart_guide`` sets them (None: all they have left)."""
    jobs = _window_jobs(problem, carried.states, a, e, guide_until)
    soc, net = carried.soc_frac, carried.net_import
    sub = sub_problem(problem, a, e, soc, net, jobs, carried, charge_share)
    hist = np.asarray(carried.net_history_mw)
    return replace(sub, dr_program=window_program(problem.dr_program, a, e, hist)), jobs


def predicted_carried(carried: Carried, jobs, a: int, c: int) -> Carried | None:
    """The carried state once the window ``[a, ..)`` with ``jobs`` (its own, steps from
    ``a``) commits up to ``c``, as the windows after ``c`` see its jobs; None where a job
    may carry work across ``c`` (released before ``c``, due after it). The others cannot
    change in a way those windows see: a job due by ``c`` is done or failed then (marked
    failed here), and one released at ``c`` or later has not run. The battery's SOC, the
    net import (0 where none yet) and the import (0 after ``carried``'s) are not predicted: a
    window built ahead takes its own when it comes (``optimize.carried_state``).
    ``carried`` is read, not changed."""
    if any(j.release_step + a < c < j.deadline_step + a for j in jobs):
        return None
    # the states this changes are copies; the others and the net history are
    # shared with ``carried``: callers read them (``window_problem``) and keep none
    states = dict(carried.states)
    for j in jobs:
        if j.deadline_step + a <= c:
            states[j.id] = replace(states[j.id], failed=True)
    net_import = 0.0 if carried.net_import is None else carried.net_import
    return replace(
        carried, states=states, net_import=net_import, import_history_mw=_imports_to(carried, c)
    )


def guessed_problem(
    problem: Problem, sub: Problem, source: Carried, a: int, e: int, charge_share: bool
):
    """``sub``, window ``[a, e)`` of ``problem``, with the carried state (battery SOC, net
    import, demand peaks) it would have if it started from ``source`` (an earlier
    window's start; its net import 0 where none yet); None where that state would change
    the model's structure (``carried_state.with_state_of``). The guess's jobs are not
    used: their interruptions are not guided (``optimize.restart_guide``)."""
    if source.net_import is None:
        source = replace(source, net_import=0.0)
    source = replace(source, import_history_mw=_imports_to(source, a))
    return with_state_of(sub, window_problem(problem, source, a, e, charge_share)[0])


def _imports_to(carried: Carried, a: int) -> list[float]:
    """``carried``'s import history (MW) up to step ``a``, 0 for the steps not yet
    committed (a guess, as the net import's 0: a window built ahead takes its own)."""
    have = carried.import_history_mw
    return have if len(have) >= a else [*have, *[0.0] * (a - len(have))]


def carry_state(problem: Problem, carried: Carried, s: dict, jobs, a: int, c: int) -> None:
    """Update ``carried`` with the committed steps ``[a, c)`` of a window's series ``s``."""
    k = c - a
    step_h = problem.step_h
    if problem.battery is not None and problem.battery.energy_mwh > 0:
        soc = float(s["battery_soc_mwh"][k - 1]) / problem.battery.energy_mwh
        carried.soc_frac = min(max(soc, 0.0), 1.0)
    carried.net_import = float(s["grid_import_mw"][k - 1] - s["grid_export_mw"][k - 1])
    carried.net_history_mw += (s["grid_import_mw"][:k] - s["grid_export_mw"][:k]).tolist()
    carried.import_history_mw += np.asarray(s["grid_import_mw"][:k], dtype=float).tolist()
    for j in jobs:
        st = carried.states[j.id]
        frac = s[f"job_{j.id}_power_fraction"][:k]
        on = frac > _TOL
        work = float(throughput(j.throughput_curve, frac).sum()) * step_h
        starts_n = starts_in(on, st.running and j.release_step == 0)
        restarts = starts_n if (st.started or st.running) else max(0, starts_n - 1)
        progress = work - j.restart_overhead_h * restarts
        st.work_done_h += progress
        st.remaining_h = max(0.0, st.remaining_h - progress)
        st.restarts += restarts
        st.started = st.started or bool(on.any())
        st.running = bool(on[-1]) and st.remaining_h > _TOL
    for st in carried.states.values():  # passed the deadline unfinished
        if st.job.deadline_step <= c and st.remaining_h > _TOL:
            st.failed = True
