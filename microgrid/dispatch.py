"""One dispatch solve of a scenario, and its failures in a planner's words.

`optimize_dispatch` chooses one solve or rolling windows from the scenario's solver
section; `solve_dispatch` turns infeasibility (with the elastic model's diagnosis) and
numerical solver failures into one-line input errors; `demand_response_caps` derives the
per-step net-import caps of the demand-response requests (a fractional cap needs a
baseline solve of the same scenario without them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, build_problem, solver_options
from microgrid.scenario import Scenario, step_of
from microgrid.solver_errors import solver_failure
from optimize.rolling import solve_rolling


def _diagnosis_message(
    exc: optimize.Infeasible,
    index: pd.DatetimeIndex,
    tz: str,
    problem: optimize.Problem | None = None,
) -> str:
    """The solver's slacks in a planner's words, with local times, on one line.

    A job's unfinished work also names the limits in its window: the grid import limit,
    outage and demand-response hours, and the steps where the site cannot supply even the
    job's minimum power beside inference (import limit or DR cap + renewables + battery
    power + generators − inference load). If the exception carries the elastic solution's
    `series` (`grid_import_mw`), the steps where import sits at its limit are named too.
    """
    step = step_of(index)
    n = len(index)

    def span(a_step: int, b_step: int) -> str:  # steps a..b inclusive
        a = index[a_step].tz_convert(tz)
        b = (index[b_step] + step).tz_convert(tz)
        end = f"{b:%H:%M}" if b.date() == a.date() else f"{b:%Y-%m-%d %H:%M}"
        return f"{a:%Y-%m-%d %H:%M} to {end} {a:%Z}"

    def runs(mask: np.ndarray, limit: int = 2) -> str:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return ""
        cuts = np.flatnonzero(np.diff(idx) != 1) + 1
        groups = np.split(idx, cuts)
        text = ", ".join(span(int(g[0]), int(g[-1])) for g in groups[:limit])
        if len(groups) > limit:
            text += f" and {len(groups) - limit} more period(s)"
        return text

    def when(steps: list[int]) -> str:
        return f" from {span(min(steps), max(steps))}" if steps else ""

    grid = problem.grid if problem is not None else None
    jobs = {j.id: j for j in problem.jobs} if problem is not None else {}
    series = getattr(exc, "series", None) or {}

    def job_limits(job: optimize.Job) -> str:
        lo, hi = max(0, int(job.release_step)), min(int(job.deadline_step), n)
        win = np.zeros(n, dtype=bool)
        win[lo:hi] = True
        imax = grid.import_max_mw
        notes = []
        normal = imax[win & (imax > 0)]
        if len(normal):
            a, b = float(normal.min()), float(normal.max())
            notes.append(
                f"import limit {a:.4g} MW" if a == b else f"import limit {a:.4g}-{b:.4g} MW"
            )
        if (win & (imax <= 0)).any():
            notes.append(f"no import during {runs(win & (imax <= 0))}")
        cap = grid.net_import_cap_mw
        if cap is not None and (win & ~np.isnan(cap)).any():
            notes.append(f"demand-response cap during {runs(win & ~np.isnan(cap))}")
        # what the site could supply beyond inference, at most
        limit = imax.copy()
        if cap is not None:
            limit = np.where(np.isnan(cap), limit, np.minimum(limit, np.maximum(cap, 0.0)))
        supply = limit + sum((r.available_mw for r in problem.renewables), np.zeros(n))
        b = problem.battery
        if b is not None:
            supply = supply + b.power_mw * (1.0 if b.available_frac is None else b.available_frac)
        for g in problem.generators:
            supply = supply + g.capacity_mw * (
                1.0 if g.available_frac is None else g.available_frac
            )
        pue = problem.facility.pue
        room_it = supply / pue - problem.facility.inference_it_mw
        need_it = job.f_min * job.full_power_it_mw
        short = win & (room_it < need_it - 1e-6)
        if short.any():
            notes.append(
                f"the site cannot supply its {need_it:.4g} MW minimum beside inference "
                f"during {runs(short)}"
            )
        imp = series.get("grid_import_mw")
        if imp is not None:
            at_limit = win & (np.asarray(imp) >= imax - 1e-6) & (imax > 0)
            if at_limit.any():
                notes.append(f"import limit binds during {runs(at_limit)}")
        others = [
            o.id
            for o in problem.jobs
            if o.id != job.id and o.release_step < hi and o.deadline_step > lo
        ]
        if others and not short.any():
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            notes.append(f"shared with jobs {', '.join(others[:3])}{more}")
        return ("; in its window " + ", ".join(notes)) if notes else ""

    parts = []
    for s in getattr(exc, "diagnosis", []) or []:
        steps = list(s.steps)
        amount = f"{s.amount:.3g} {s.unit}"
        if s.kind == "job_unfinished":
            job = jobs.get(s.name)
            text = f"job {s.name} misses its deadline by {s.amount:.3g} h of work"
            if job is not None:
                due = index[0] + step * int(job.deadline_step)
                text = (
                    f"job {s.name} misses its deadline {due.tz_convert(tz):%Y-%m-%d %H:%M %Z} "
                    f"by {s.amount:.3g} h of work{job_limits(job)}"
                )
        elif s.kind == "import_limit":
            lim = ""
            if grid is not None and steps:
                values = grid.import_max_mw[steps]
                lim = (
                    " (an outage: no import)"
                    if float(values.max()) <= 0
                    else f" above its limit of {float(values.min()):.4g} MW"
                )
            text = f"grid import needs up to {amount} more{lim}{when(steps)}"
        elif s.kind.startswith("ramp_limit"):
            way = "down" if s.kind.endswith("down") else "up"
            rate = ""
            if grid is not None and grid.ramp_mw_per_h is not None:
                rate = f" ({grid.ramp_mw_per_h:.4g} MW/h)"
            text = f"net import must ramp {way} {amount} faster than its limit{rate}{when(steps)}"
        elif s.kind == "soc_min":
            text = f"battery would fall {amount} below its minimum charge{when(steps)}"
        elif s.kind == "soc_max":
            text = f"battery would rise {amount} above its maximum charge{when(steps)}"
        elif s.kind == "soc_final":
            text = f"battery ends {amount} below its required final charge"
        elif s.kind == "dr_cap":
            text = f"net import exceeds the demand-response cap by up to {amount}{when(steps)}"
        elif s.kind == "carbon_budget":
            budget = ""
            if problem is not None and problem.objective.carbon_budget_t is not None:
                budget = f" of {problem.objective.carbon_budget_t:.4g} t"
            text = f"emissions exceed the carbon budget{budget} by {amount}"
        else:
            text = f"{s.kind} ({s.name}) short by {amount}{when(steps)}"
        parts.append(text)
    detail = "; ".join(parts) if parts else " ".join(str(exc).split())
    return f"infeasible scenario: {detail}"


def optimize_dispatch(scenario: Scenario, problem: optimize.Problem) -> optimize.Dispatch:
    """One solve, or rolling windows when `solver.window_h` is set; raises
    `optimize.Infeasible` (with its diagnosis) when no schedule exists."""
    options = solver_options(scenario)
    if scenario.solver.window_h:
        steps_per_h = round(1.0 / scenario.step_h)
        return solve_rolling(
            problem,
            window_steps=scenario.solver.window_h * steps_per_h,
            overlap_steps=scenario.solver.overlap_h * steps_per_h,
            options=options,
        )
    return optimize.solve(problem, options)


def solve_dispatch(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem
) -> optimize.Dispatch:
    """`optimize_dispatch`, with infeasibility and numerical solver failures turned into
    one-line input errors that name the scenario fields to look at."""
    try:
        return optimize_dispatch(scenario, problem)
    except optimize.Infeasible as exc:
        raise scenario.error(
            _diagnosis_message(exc, inputs.index, scenario.site.timezone, problem)
        ) from None
    except optimize.SolveError as exc:
        raise solver_failure(scenario, exc, inputs.index) from None


def demand_response_caps(scenario: Scenario, inputs: Inputs) -> np.ndarray | None:
    """Net-import caps per step (NaN: none). Fractional caps need a baseline run of the
    same scenario without the requests; it is solved here when needed."""
    windows = scenario.events.demand_response
    if not windows:
        return None
    index = inputs.index
    caps = np.full(len(index), np.nan)
    baseline_net = None
    step = step_of(index)
    for w in windows:
        s, e = scenario.to_utc(w.start), scenario.to_utc(w.end)
        mask = np.asarray((index < e) & (index + step > s))
        if w.cap_mw is not None:
            cap = np.full(mask.sum(), w.cap_mw)
        else:
            if baseline_net is None:
                base = solve_dispatch(scenario, inputs, build_problem(scenario, inputs))
                baseline_net = base.series["grid_import_mw"] - base.series["grid_export_mw"]
            cap = w.cap_fraction_of_baseline * np.maximum(baseline_net[mask], 0.0)
        caps[mask] = np.fmin(caps[mask], cap)
    return caps
