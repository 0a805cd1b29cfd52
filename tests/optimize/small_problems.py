"""Small synthetic dispatch problems for the optimize tests (no scenario files, no data),
and checks on what they compile to."""

from __future__ import annotations

from types import SimpleNamespace

import highspy
import numpy as np

from benchmarks.random_cases import CURVE, small_battery, wave_problem
from optimize.problem import Facility, Grid, Job, Objective, PeakCharge, Problem


def assert_satisfies_every_row(cm, x: np.ndarray) -> None:
    """Column vector ``x`` satisfies every row and column bound of the compiled ``cm``."""
    activity = np.zeros(cm.num_row)
    cols = np.repeat(np.arange(cm.num_col), np.diff(cm.a_start))
    np.add.at(activity, cm.a_index, cm.a_value * x[cols])
    assert np.all(activity >= cm.row_lower - 1e-6)
    assert np.all(activity <= cm.row_upper + 1e-6)
    assert np.all((x >= cm.col_lower - 1e-9) & (x <= cm.col_upper + 1e-9))


def assert_same_dispatch(a, b) -> None:
    """Two ``Dispatch`` answers the same: objective, gap, bound and every series."""
    assert (a.objective_usd, a.mip_gap, a.bound_usd) == (b.objective_usd, b.mip_gap, b.bound_usd)
    assert a.series.keys() == b.series.keys()
    for key, x in a.series.items():
        assert np.array_equal(x, b.series[key]), key


def callback_function_set(h: highspy.Highs) -> bool:
    """Whether HiGHS holds a callback function on ``h`` (starting a type needs one;
    ``optimize.callbacks``)."""
    interrupt = highspy.cb.HighsCallbackType.kCallbackMipInterrupt
    ok = h.startCallback(interrupt) == highspy.HighsStatus.kOk
    if ok:
        h.stopCallback(interrupt)
    return ok


def monthly_charges(month_of_step: np.ndarray, usd_per_mw: float) -> tuple[PeakCharge, ...]:
    """One flat demand charge (``demand_flat@m<k>``) per distinct value of ``month_of_step``."""
    if usd_per_mw <= 0:
        return ()
    return tuple(
        PeakCharge(f"demand_flat@m{k}", "demand_flat", usd_per_mw, month_of_step == k)
        for k in np.unique(month_of_step)
    )


def small_problem(n=48, jobs=(), ramp=None, demand=0.0, battery=True, penalty=None):
    """n hourly steps of a daily price wave (cheap at night) and PV peaking at 8 MW, 5 MW of
    inference at PUE 1.2, a 40 MW import / 5 MW export grid, and (battery=True) a 5 MW /
    20 MWh battery; ramp in MW/h, demand charge in USD/MW, penalty in USD per unfinished
    job-hour (one charge per 36-step "month")."""
    return wave_problem(
        n,
        tuple(jobs),
        import_max_mw=40.0,
        charges=monthly_charges(np.arange(n) // 36, demand),
        ramp=ramp,
        battery=small_battery() if battery else None,
        objective=Objective(unfinished_work_penalty_usd_per_h=penalty),
    )


def grid_problem(load_mw, import_price, *, export_price=0.0, battery=None, **grid_kw) -> Problem:
    """Hourly steps of a fixed load (MW, PUE 1) served by the grid (1000 MW import; no
    export unless ``export_max_mw`` is given) and an optional battery; ``grid_kw`` go to
    ``Grid`` (peak_charges, energy_tiers, price parts)."""
    load = np.asarray(load_mw, dtype=float)
    n = len(load)

    def arr(x) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

    grid_kw.setdefault("export_max_mw", np.zeros(n))
    grid = Grid(
        import_max_mw=np.full(n, 1000.0),
        import_price_usd_per_mwh=arr(import_price),
        export_price_usd_per_mwh=arr(export_price),
        carbon_g_per_kwh=np.zeros(n),
        **grid_kw,
    )
    return Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=Facility(inference_it_mw=load, pue=np.ones(n)),
        battery=battery,
    )


def random_jobs(rng) -> tuple[Job, ...]:
    """Three jobs on a 24-step day (releases, deadlines, sizes and f_min drawn from
    ``rng``): j0 and j2 non-preemptible, j1 preemptible with one restart of 0.5 h."""
    jobs = []
    for k in range(3):
        release = int(rng.integers(0, 6))
        deadline = int(rng.integers(release + 10, 24))
        pre = bool(k % 2)
        jobs.append(
            Job(
                f"j{k}",
                float(rng.choice([4.0, 6.0, 9.0])),
                float(rng.integers(3, 7)),
                release,
                deadline,
                preemptible=pre,
                max_interruptions=1 if pre else None,
                restart_overhead_h=0.5 if pre else 0.0,
                f_min=float(rng.choice([0.6, 0.7])),
                throughput_curve=CURVE,
            )
        )
    return tuple(jobs)


def random_day(seed: int, demand: float = 300.0) -> Problem:
    """``small_problem`` over 24 steps with ``random_jobs`` drawn from ``seed``, a 14 MW/h
    ramp and a demand charge of ``demand`` USD/MW."""
    rng = np.random.default_rng(seed)
    return small_problem(n=24, jobs=random_jobs(rng), ramp=14.0, demand=demand)


class InterruptEvent:
    """A HiGHS MIP-interrupt callback's event at run time ``running_time`` (s) with dual
    bound ``dual_bound`` (USD): ``flag`` holds what ``interrupt`` set."""

    def __init__(self, running_time: float, dual_bound: float) -> None:
        self.data_out = SimpleNamespace(running_time=running_time, mip_dual_bound=dual_bound)
        self.flag = False

    def interrupt(self, value: bool = True) -> None:
        self.flag = value
