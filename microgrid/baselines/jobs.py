"""The baselines' job rules: when each job runs (`asap`, `carbon-threshold`).

- `asap`: every job starts at its release at full power and runs without interruption
  until its work is done (it stops part-way through its last step, so that step's mean
  power fraction is the fraction of the step it ran).
- `carbon-threshold`: like `asap`, but preemptible jobs do not start, or pause, while the
  grid carbon intensity is above its trailing 24-hour median (current step included);
  a job runs regardless when skipping the step would leave less time before its deadline
  than its remaining work (plus the restart overhead it would pay to resume), and a
  running job never pauses once its `max_interruptions` are used up. Each resume after a
  pause costs `restart_overhead_h` of work, as in the optimizer. Non-preemptible jobs run
  as in `asap`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize

#: The baselines whose jobs follow a rule (the energy rules then simulate the plant).
RULE_BASELINES = ("asap", "carbon-threshold")
_TOL = 1e-9


def trailing_median(carbon: np.ndarray, step_h: float, hours: float = 24.0) -> np.ndarray:
    """Median of the last `hours` of carbon intensity (g/kWh), the current step included."""
    window = max(1, round(hours / step_h))
    return pd.Series(carbon).rolling(window=window, min_periods=1).median().to_numpy()


def schedule_job(
    job: optimize.Job,
    n: int,
    step_h: float,
    dirty: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Mean power fraction per step of one job, and its summary (work in hours).

    `dirty[t]` True: a preemptible job would rather not run in step t (carbon-threshold);
    None: run as soon as released (asap).
    """
    frac = np.zeros(n)
    remaining = float(job.work_h)
    started = running = False
    restarts = 0
    last = min(int(job.deadline_step), n)
    for t in range(max(0, int(job.release_step)), last):
        if remaining <= _TOL:
            break
        run = True
        if dirty is not None and job.preemptible and dirty[t]:
            # would skipping step t still leave time to finish (resuming costs overhead)?
            overhead = job.restart_overhead_h if started else 0.0
            time_after = (last - t - 1) * step_h
            may_pause = not running or (
                job.max_interruptions is None or restarts < job.max_interruptions
            )
            run = not may_pause or time_after < remaining + overhead - _TOL
        if run:
            if started and not running:
                restarts += 1
                remaining += job.restart_overhead_h
            started = True
            w = min(step_h, remaining)
            frac[t] = w / step_h
            remaining -= w
        running = run
    unfinished = remaining if remaining > 1e-6 else 0.0
    return frac, {
        "work_done_h": float(job.work_h) - unfinished,
        "unfinished_h": unfinished,
        "restarts": restarts,
        "deadline_met": unfinished == 0.0,
    }


def schedule_jobs(problem: optimize.Problem, policy: str) -> tuple[dict[str, np.ndarray], dict]:
    """Power fraction per job under `policy` ("asap" or "carbon-threshold")."""
    if policy not in RULE_BASELINES:
        raise ValueError(f"unknown rule {policy!r}; use one of {', '.join(RULE_BASELINES)}")
    n, step_h = problem.n_steps, problem.step_h
    dirty = None
    if policy == "carbon-threshold":
        carbon = problem.grid.carbon_g_per_kwh
        dirty = carbon > trailing_median(carbon, step_h) + 1e-9
    fracs, summary = {}, {}
    for job in problem.jobs:
        fracs[job.id], summary[job.id] = schedule_job(job, n, step_h, dirty)
    return fracs, summary


def job_it_mw(
    problem: optimize.Problem, fracs: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each job's IT MW, and the IT load (MW): inference plus all jobs."""
    jobs_it = np.zeros(problem.n_steps)
    job_mw = {}
    for job in problem.jobs:
        job_mw[job.id] = job.full_power_it_mw * fracs[job.id]
        jobs_it += job_mw[job.id]
    return job_mw, problem.facility.inference_it_mw + jobs_it
