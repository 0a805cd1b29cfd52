"""Result tables: the time series, job segments and the summary, from a solved dispatch."""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize
from microgrid.costs import TOTAL_KEYS
from microgrid.jobs import JobInstance
from microgrid.wall_time import step_of
from optimize.step_runs import run_bounds

# Column order of timeseries.csv (the pipeline inserts `emissions_t` after the carbon
# intensity: it needs the problem's generators); job columns follow. See README.md.
TIMESERIES_COLUMNS = [
    "grid_import_mw",
    "grid_export_mw",
    "pv_available_mw",
    "pv_used_mw",
    "wind_available_mw",
    "wind_used_mw",
    "battery_charge_mw",
    "battery_discharge_mw",
    "backup_gen_mw",
    "it_load_mw",
    "facility_load_mw",
    "battery_soc_mwh",
    "price_usd_per_mwh",
    "carbon_g_per_kwh",
    "dc_bus_vm_pu",
    "max_line_loading_pct",
    "pcc_import_mw",
    "pcc_q_mvar",
    "losses_mw",
]
# The time series' columns from the AC power flow: NaN where it did not run or converge.
POWERFLOW_COLUMNS = (
    "dc_bus_vm_pu",
    "max_line_loading_pct",
    "pcc_import_mw",
    "pcc_q_mvar",
    "losses_mw",
)

BALANCE_TOLERANCE_MW = 1e-6
# hours of work left below which a job has met its deadline (the optimizer's tolerance)
UNFINISHED_TOL_H = 1e-6
# MW or MWh: far below the solver's feasibility tolerance (1e-7), far above round-off
SOLVER_ZERO = 1e-9

# Columns of jobs.csv: one row per contiguous run segment of a job (the export contract).
JOBS_COLUMNS = (
    "job_id",
    "segment",
    "start_utc",
    "end_utc",
    "gpus",
    "power_fraction_mean",
    "work_done_h",
    "energy_mwh",
    "deadline_utc",
    "deadline_met",
)
#: Columns of jobs.csv after the export contract's (readers do not need them): the times
#: operate's plant stopped a non-preemptible job with work left (0 in plan mode).
JOBS_EXTRA_COLUMNS = ("forced_interruptions",)


def balance_residual_mw(ts: pd.DataFrame) -> pd.Series:
    """import − export + pv + wind + discharge − charge + backup − (facility load −
    unserved) (MW): operate's rows carry ``unserved_mw``, the load the plant shed, which is
    no imbalance (plan mode's rows have none)."""
    unserved_mw = ts.get("unserved_mw", 0.0)
    return (
        ts["grid_import_mw"]
        - ts["grid_export_mw"]
        + ts["pv_used_mw"]
        + ts["wind_used_mw"]
        + ts["battery_discharge_mw"]
        - ts["battery_charge_mw"]
        + ts["backup_gen_mw"]
        - (ts["facility_load_mw"] - unserved_mw)
    )


def solver_zeros_cleared(values) -> np.ndarray:
    """A solver's column as floats with what is within ``SOLVER_ZERO`` of 0 set to 0.0: the
    simplex leaves -0.0 and round-off such as -8e-11 MW on flows that are never negative,
    which the files and the summary would print as "-0.0"."""
    v = np.asarray(values, dtype=float)
    return np.where(np.abs(v) <= SOLVER_ZERO, 0.0, v)


def timeseries_frame(
    index: pd.DatetimeIndex, frame: pd.DataFrame, dispatch: optimize.Dispatch
) -> pd.DataFrame:
    """The result time series on the UTC index (power flow columns filled in later)."""
    n = len(index)
    s = dispatch.series
    zeros = np.zeros(n)
    cols: dict[str, np.ndarray] = {}
    for name in TIMESERIES_COLUMNS:
        if name in s:
            cols[name] = solver_zeros_cleared(s[name])
        elif name in ("price_usd_per_mwh", "carbon_g_per_kwh"):
            cols[name] = frame[name].to_numpy()
        elif name in POWERFLOW_COLUMNS:
            cols[name] = np.full(n, np.nan)  # filled by the power flow
        else:
            cols[name] = zeros.copy()  # an asset the scenario does not have
    # all columns at once: one insert per job (416 in a year) fragments the frame
    for key in sorted(k for k in s if k.startswith("job_") and k.endswith("_mw")):
        cols[key] = solver_zeros_cleared(s[key])
    for key in (k for k in s if k.startswith("gen_") and k.endswith("_mw")):  # each unit
        cols[key] = solver_zeros_cleared(s[key])
    cols["inference_it_mw"] = frame["inference_it_mw"].to_numpy()
    cols["pue"] = frame["pue"].to_numpy()
    if "unserved_mw" in s:  # operate's actual rows: the summary's balance needs it
        cols["unserved_mw"] = solver_zeros_cleared(s["unserved_mw"])
    return pd.DataFrame(cols, index=index)


def job_segments(
    index: pd.DatetimeIndex,
    dispatch: optimize.Dispatch,
    instances: list[JobInstance],
    gpus_of: dict[str, int],
) -> pd.DataFrame:
    """One row per contiguous run of each job (`jobs.csv`)."""
    step = step_of(index)
    step_h = step / pd.Timedelta(hours=1)
    rows = []
    for inst in instances:
        key = inst.id
        mw = np.asarray(dispatch.series.get(f"job_{key}_mw", np.zeros(len(index))))
        frac = np.asarray(dispatch.series.get(f"job_{key}_power_fraction", np.zeros(len(index))))
        work = np.asarray(dispatch.series.get(f"job_{key}_work_h", np.zeros(len(index))))
        on = frac > 1e-6
        summary = dispatch.jobs.get(key, {})
        met = bool(
            summary.get("deadline_met", summary.get("unfinished_h", 0.0) <= UNFINISHED_TOL_H)
        )
        for seg, (a, b) in enumerate(run_bounds(on)):
            rows.append(
                {
                    "job_id": key,
                    "segment": seg,
                    "start_utc": index[a],
                    "end_utc": index[b - 1] + step,
                    "gpus": gpus_of[key],
                    "power_fraction_mean": float(frac[a:b].mean()),
                    "work_done_h": float(work[a:b].sum()),
                    "energy_mwh": float(mw[a:b].sum() * step_h),
                    "deadline_utc": inst.deadline_utc,
                    "deadline_met": met,
                    "forced_interruptions": int(summary.get("forced_interruptions", 0)),
                }
            )
    return pd.DataFrame(rows, columns=[*JOBS_COLUMNS, *JOBS_EXTRA_COLUMNS])


def missed_deadlines(dispatch: optimize.Dispatch, instances: list[JobInstance]) -> list[dict]:
    """Each job the schedule leaves unfinished at its deadline (summary.json's
    `jobs.missed_deadlines`): `job`, `deadline_utc`, `work_done_h` (its progress, restart
    overhead out), `work_h` (the work it needs) and `unfinished_h` (the difference)."""
    deadline_of = {inst.id: inst.deadline_utc.isoformat() for inst in instances}
    out = []
    for job_id, j in dispatch.jobs.items():
        unfinished_h = float(j.get("unfinished_h", 0.0))
        if unfinished_h <= UNFINISHED_TOL_H:
            continue
        done_h = float(j.get("work_done_h", 0.0))
        out.append(
            {
                "job": job_id,
                "deadline_utc": deadline_of.get(job_id),
                "work_done_h": done_h,
                "work_h": done_h + unfinished_h,
                "unfinished_h": unfinished_h,
            }
        )
    return out


def power_capping(dispatch: optimize.Dispatch, problem: optimize.Problem) -> dict:
    """What running the jobs below full power gives on the throughput curve's terms
    (summary.json's `jobs.power_capping`): `job_it_energy_mwh`, the jobs' IT energy;
    `full_power_energy_mwh`, the energy the same work (the throughput they made, hours at
    full power) takes at full power; `saved_mwh`, the difference, which the curve
    (`datacenter.throughput_curve`, an assumption of the scenario) credits, and which the
    baselines, running jobs at full power, do not get; `mean_power_fraction`, the jobs'
    IT energy over their full power in the steps they ran (None if none ran)."""
    step_h = problem.step_h
    it_mwh = full_mwh = on_mwh = 0.0
    for job in problem.jobs:
        s = dispatch.series
        mw = np.asarray(s.get(f"job_{job.id}_mw", np.zeros(problem.n_steps)), dtype=float)
        work_h = np.asarray(s.get(f"job_{job.id}_work_h", np.zeros(problem.n_steps)), float)
        frac = np.asarray(s.get(f"job_{job.id}_power_fraction", mw * 0.0), dtype=float)
        it_mwh += float(mw.sum()) * step_h
        full_mwh += float(work_h.sum()) * job.full_power_it_mw
        on_mwh += float((frac > 1e-6).sum()) * job.full_power_it_mw * step_h
    return {
        "job_it_energy_mwh": it_mwh,
        "full_power_energy_mwh": full_mwh,
        "saved_mwh": full_mwh - it_mwh,
        "mean_power_fraction": it_mwh / on_mwh if on_mwh > 0 else None,
    }


def renewable_share(facility_mw: np.ndarray, renewable_used_mw: np.ndarray) -> float:
    """The share (0-1) of the facility's energy that on-site PV and wind supplied in the
    same step: each step counts the renewable MW used up to the facility's load, so what
    is exported or charged into the battery does not count (energy stored and served
    later is not traced back to its source: a lower bound). 0 without load."""
    load = np.asarray(facility_mw, dtype=float)
    total = float(load.sum())
    if total <= 0:
        return 0.0
    served = np.minimum(np.asarray(renewable_used_mw, dtype=float), np.maximum(load, 0.0))
    return float(served.sum()) / total


def summarize(
    ts: pd.DataFrame, dispatch: optimize.Dispatch, step_h: float, jobs: pd.DataFrame
) -> dict:
    """Headline figures: costs, emissions, renewable share, curtailment, peaks, solver."""
    c = dispatch.costs
    energy = lambda col: float(ts[col].sum() * step_h)  # noqa: E731
    renewable_used = energy("pv_used_mw") + energy("wind_used_mw")
    curtailed = (
        energy("pv_available_mw")
        - energy("pv_used_mw")
        + energy("wind_available_mw")
        - energy("wind_used_mw")
    )
    facility = energy("facility_load_mw")
    # the plan's cost as cost_breakdown totals it (the DR program's net included); with
    # coincident-peak alerts it holds their expected charge, which the plan minimised, not
    # the real intervals' charge that summary["bill"] has (microgrid/bill_summary.py)
    total = sum(c.get(k, 0.0) for k in TOTAL_KEYS)
    n_jobs = len(dispatch.jobs)
    met = sum(1 for j in dispatch.jobs.values() if j.get("unfinished_h", 0.0) <= UNFINISHED_TOL_H)
    return {
        "total_cost_usd": total,
        "energy_cost_usd": c.get("energy_usd", 0.0),
        "demand_cost_usd": c.get("demand_usd", 0.0),
        "fuel_cost_usd": c.get("fuel_usd", 0.0),
        "wear_cost_usd": c.get("wear_usd", 0.0),
        "carbon_cost_usd": c.get("carbon_usd", 0.0),
        "dr_program_usd": c.get("dr_program_usd", 0.0),
        "unfinished_penalty_usd": c.get("unfinished_penalty_usd", 0.0),
        "emissions_t": c.get("emissions_t", 0.0),
        "facility_energy_mwh": facility,
        "grid_import_mwh": energy("grid_import_mw"),
        "grid_export_mwh": energy("grid_export_mw"),
        "renewable_used_mwh": renewable_used,
        "renewable_share": renewable_share(
            ts["facility_load_mw"].to_numpy(),
            ts["pv_used_mw"].to_numpy() + ts["wind_used_mw"].to_numpy(),
        ),
        "curtailed_mwh": curtailed,
        "peak_import_mw": float(ts["grid_import_mw"].max()),
        "max_balance_residual_mw": float(balance_residual_mw(ts).abs().max()),
        "jobs": {"n_jobs": n_jobs, "deadlines_met": met, "n_segments": len(jobs)},
        "solver": {
            "status": dispatch.status,
            "objective_usd": dispatch.objective_usd,
            "mip_gap": dispatch.mip_gap,
            "bound_usd": dispatch.bound_usd,
            "gap_basis_usd": dispatch.gap_basis_usd,
            "build_s": dispatch.build_s,
            "solve_s": dispatch.solve_s,
            **rolling_windows(dispatch, ts.index),
        },
    }


def rolling_windows(dispatch: optimize.Dispatch, index: pd.DatetimeIndex) -> dict:
    """With rolling windows: `gap_scope` "each window" and each window's committed start and
    end (UTC), status, gap, objective and bound (of its model, look-ahead included),
    whether the restart guide set its jobs' interruptions (`restart_guide`; false where
    the window had no schedule with it, or with `solver.window_restarts: all`), and
    whether the handover guide set the work its jobs leave for later and its final SOC
    (`handover_guide`; false where no job of its commit is due after it, where it had no
    schedule with it, or with `solver.window_handover: fixed`; the guide's seconds are
    part of the run's `solve_s`, in timings.json). The
    windows' gaps and bounds say nothing of the whole period: no bound for it exists
    (docs/model_jobs.md). Empty for one solve."""
    windows = getattr(dispatch, "windows", None)
    if not windows:
        return {}
    step = step_of(index)
    rows = [
        {
            "start_utc": index[w["start"]].isoformat(),
            "end_utc": (index[w["end"] - 1] + step).isoformat(),
            **{
                k: w.get(k)
                for k in (
                    "status",
                    "mip_gap",
                    "objective_usd",
                    "bound_usd",
                    "restart_guide",
                    "handover_guide",
                )
            },
        }
        for w in windows
    ]
    return {"gap_scope": "each window", "windows": rows}
