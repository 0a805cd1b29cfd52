"""Training power swings: a sub-hourly profile of the campus load for one step of the plan.

Synchronous data-parallel training alternates compute phases (GPUs at full power) with
communication phases (all-reduce: power drops by ``depth_frac``), a cycle of ``period_s``
seconds of which ``compute_frac`` is compute; every ``checkpoint_interval_s`` the job
writes a checkpoint for ``checkpoint_duration_s`` with power down by
``checkpoint_depth_frac``. The shape is scaled so its mean equals the plan's job power in
that step (energy is kept). Cooling follows the IT load at the step's PUE (no thermal
inertia: a pessimistic assumption for the PCC ramp). Inference and the plan's PV, wind,
battery and backup set points are constant within the step, so the net import at the
point of common coupling is ``plan net import + facility(t) − mean facility``.

The ramp metric is the largest change of power within any 60 s window,
``max_t (max P[t, t+60 s] − min P[t, t+60 s])`` in MW per minute. Battery smoothing: the
battery absorbs the deviation of the facility load from its trailing moving average
(``smoothing_window_s``), on top of its planned set point, within its power rating and the
SOC band (from the plan's SOC at the start of the step).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def job_power_shape(
    duration_s: float,
    resolution_s: float,
    period_s: float,
    compute_frac: float,
    depth_frac: float,
    checkpoint_interval_s: float,
    checkpoint_duration_s: float,
    checkpoint_depth_frac: float,
) -> np.ndarray:
    """Power as a fraction of full job power, one sample per ``resolution_s``. A
    checkpoint falls inside the ``duration_s`` profiled (see ``first_checkpoint_s``)."""
    t = np.arange(0.0, duration_s, resolution_s)
    phase = np.mod(t, period_s) / period_s
    p = np.where(phase < compute_frac, 1.0, 1.0 - depth_frac)
    first = first_checkpoint_s(duration_s, checkpoint_interval_s, checkpoint_duration_s)
    since_start = t - first + checkpoint_interval_s - checkpoint_duration_s
    in_ckpt = np.mod(since_start, checkpoint_interval_s) >= (
        checkpoint_interval_s - checkpoint_duration_s
    )
    return np.where(in_ckpt & (checkpoint_duration_s > 0), 1.0 - checkpoint_depth_frac, p)


def first_checkpoint_s(duration_s: float, interval_s: float, checkpoint_s: float) -> float:
    """When the first checkpoint starts in the profiled step (s from its start): at the
    interval's end (``interval_s − checkpoint_s``), or mid-step where the step ends
    before it. Where within a step a job checkpoints is unknown; a step that holds none
    shows no checkpoint dip, which usually sets the ramp, so the step profiled holds one:
    at 15-minute steps none had (a 900 s step never reached 1,740 s)."""
    return min(interval_s - checkpoint_s, max(0.0, (duration_s - checkpoint_s) / 2))


def max_mw_per_min(p_mw: np.ndarray, resolution_s: float, window_s: float = 60.0) -> float:
    """Largest ``max − min`` of the power within any ``window_s`` window, as MW per minute."""
    w = max(2, int(round(window_s / resolution_s)) + 1)
    if len(p_mw) < 2:
        return 0.0
    s = pd.Series(np.asarray(p_mw, float))
    rng = (
        s.rolling(min(w, len(s)), min_periods=2).max()
        - s.rolling(min(w, len(s)), min_periods=2).min()
    )
    return float(rng.max()) * 60.0 / window_s


def smooth_with_battery(
    load_mw: np.ndarray,
    resolution_s: float,
    window_s: float,
    discharge_headroom_mw: float,
    charge_headroom_mw: float,
    energy_down_mwh: float,
    energy_up_mwh: float,
    charge_efficiency: float = 1.0,
    discharge_efficiency: float = 1.0,
) -> np.ndarray:
    """Extra battery discharge (MW, < 0 = charge) that follows ``load − trailing mean``.

    Headrooms are what the battery has left beside its planned set point; ``energy_down``
    (``energy_up``) is how much the SOC may still fall (rise) in MWh. The trailing mean starts
    from the periodic extension of the profile (the step is assumed to repeat)."""
    load = np.asarray(load_mw, float)
    n = len(load)
    w = max(1, int(round(window_s / resolution_s)))
    pre = load[n - w :] if n >= w else np.resize(load, w)
    ext = np.concatenate([pre, load])
    csum = np.concatenate([[0.0], np.cumsum(ext)])
    mean = (csum[w : w + n] - csum[:n]) / w  # trailing mean of the w samples before t
    want = load - mean
    out = np.zeros(n)
    dt_h = resolution_s / 3600.0
    down, up = energy_down_mwh, energy_up_mwh
    for i in range(n):
        b = min(max(want[i], -charge_headroom_mw), discharge_headroom_mw)
        if b > 0:
            b = min(b, max(down, 0.0) * discharge_efficiency / dt_h)
            down -= b * dt_h / discharge_efficiency
            up += b * dt_h / discharge_efficiency
        elif b < 0:
            b = max(b, -max(up, 0.0) / (charge_efficiency * dt_h))
            up += b * dt_h * charge_efficiency
            down -= b * dt_h * charge_efficiency
        out[i] = b
    return out


def _job_mw(ts: pd.DataFrame) -> pd.Series:
    """Total training-job IT power per step (MW): the `job_<id>_mw` columns."""
    job_cols = [
        c for c in ts.columns if c.startswith("job_") and c.endswith("_mw") and c != "job_it_mw"
    ]
    return ts[job_cols].sum(axis=1) if job_cols else pd.Series(0.0, index=ts.index)


def _pick_step(scenario, ts: pd.DataFrame, job_mw: pd.Series) -> int:
    """Position of the step to profile: the one holding `swings.hour`, else the step with
    the most training power (the most facility load when no job runs)."""
    if scenario.swings.hour is not None:
        when = scenario.to_utc(scenario.swings.hour)
        k = int(np.searchsorted(ts.index, when, side="right") - 1)
        return min(max(k, 0), len(ts) - 1)
    if job_mw.max() > 0:
        return int(np.argmax(job_mw.to_numpy()))
    return int(np.argmax(ts["facility_load_mw"].to_numpy()))


def _battery_smoothing(scenario, row: pd.Series, facility_t: np.ndarray) -> np.ndarray | None:
    """Extra battery discharge (MW) that smooths `facility_t` beside the step's set point,
    within the power rating and SOC band; None without a battery."""
    b, sw = scenario.battery, scenario.swings
    if b is None or not b.power_mw > 0:
        return None
    b0 = float(row["battery_discharge_mw"] - row["battery_charge_mw"])
    soc_end = float(row["battery_soc_mwh"])
    # SOC at the start of the step, from the end-of-step SOC and the step's set point
    soc0 = (
        soc_end
        + (
            row["battery_discharge_mw"] / b.discharge_efficiency
            - row["battery_charge_mw"] * b.charge_efficiency
        )
        * scenario.step_h
    )
    return smooth_with_battery(
        facility_t,
        sw.resolution_s,
        sw.smoothing_window_s,
        discharge_headroom_mw=b.power_mw - b0,
        charge_headroom_mw=b.power_mw + b0,
        energy_down_mwh=soc0 - b.soc_min_frac * b.energy_mwh,
        energy_up_mwh=b.soc_max_frac * b.energy_mwh - soc0,
        charge_efficiency=b.charge_efficiency,
        discharge_efficiency=b.discharge_efficiency,
    )


def _swing_summary(
    scenario, when: pd.Timestamp, jobs_mean_mw: float, net_t: np.ndarray, extra: np.ndarray
) -> dict:
    """Ramps (MW/min) without and with battery smoothing against the limit."""
    sw = scenario.swings
    without = max_mw_per_min(net_t, sw.resolution_s)
    with_b = max_mw_per_min(net_t - extra, sw.resolution_s)
    return {
        "step_start_utc": when.isoformat(),
        "step_start_local": when.tz_convert(scenario.site.timezone).isoformat(),
        "job_it_mw": jobs_mean_mw,
        "resolution_s": sw.resolution_s,
        "max_mw_per_min_without_battery": without,
        "max_mw_per_min_with_battery": with_b,
        "ramp_limit_mw_per_min": sw.ramp_limit_mw_per_min,
        "within_limit_without_battery": without <= sw.ramp_limit_mw_per_min,
        "within_limit_with_battery": with_b <= sw.ramp_limit_mw_per_min,
        "battery_smoothing_max_mw": float(np.abs(extra).max()) if len(extra) else 0.0,
    }


def analyse_swings(scenario, ts: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Profile one step of the plan (``swings.hour`` or the step with most training power)
    and report the largest MW/min at the PCC without and with battery smoothing."""
    sw = scenario.swings
    job_mw = _job_mw(ts)
    k = _pick_step(scenario, ts, job_mw)
    row = ts.iloc[k]
    shape = job_power_shape(
        scenario.step_h * 3600.0,
        sw.resolution_s,
        sw.period_s,
        sw.compute_frac,
        sw.depth_frac,
        sw.checkpoint_interval_s,
        sw.checkpoint_duration_s,
        sw.checkpoint_depth_frac,
    )
    jobs_mean = float(job_mw.iloc[k])
    job_t = jobs_mean * shape / shape.mean() if shape.mean() > 0 else np.zeros_like(shape)
    pue = float(row.get("pue", 1.0))
    inference = float(row.get("inference_it_mw", float(row["it_load_mw"]) - jobs_mean))
    facility_t = (inference + job_t) * pue
    net_plan = float(row["grid_import_mw"] - row["grid_export_mw"])
    net_t = net_plan + facility_t - facility_t.mean()
    extra = _battery_smoothing(scenario, row, facility_t)
    extra = np.zeros_like(net_t) if extra is None else extra
    profile = pd.DataFrame(
        {
            "t_s": np.arange(len(shape)) * sw.resolution_s,
            "it_load_mw": inference + job_t,
            "facility_load_mw": facility_t,
            "net_import_mw": net_t,
            "battery_smoothing_mw": extra,
            "net_import_smoothed_mw": net_t - extra,
        }
    )
    return _swing_summary(scenario, ts.index[k], jobs_mean, net_t, extra), profile
