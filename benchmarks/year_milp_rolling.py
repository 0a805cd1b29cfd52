"""B2: R1 (ercot-dallas) for all of 2023 with the weekly job mix, rolling-horizon MILP.

Horizon: the local calendar year 2023 in America/Chicago, 2023-01-01 00:00 CST to
2024-01-01 00:00 CST = 8760 hourly steps (UTC 2023-01-01 06:00 to 2024-01-01 06:00).
Weeks start on Monday 00:00 local: 52 weeks from 2023-01-02 to 2024-01-01 (Sunday
2023-01-01 has inference only); the 8 reference jobs repeat every week (416 jobs), their
hours counted from each week's Monday 00:00 local (so across a DST change a week has 167 or
169 hours and a deadline at 168 h may fall one hour into the next week).

Data: ERCOT 2023 prices and direct carbon (import price = LMP + 15 $/MWh, export = LMP);
the shipped file ends at 2023-12-31 23:00 UTC, so its last 6 steps (2024-01-01 00:00-05:00
UTC) repeat the same hours one week earlier (stated assumption). Weather (temperature for the
PUE, cloud cover and wind for PV and wind) from the Dallas site CSV through
``weather.ResourceChain`` (PV 80 MWdc / 65 MWac, 12 x E-126/4200 at 135 m); the hour past
its end is filled forward.

Windows: one per job week (Monday 00:00 local to the next Monday) plus the first day, with
``--overlap`` hours of look-ahead (default 24). Each window is solved by ``--method``:
``price-fix`` (default; ``optimize.price_fix``: LP-priced exact single-job DPs, fixed one
job at a time with warm LP re-solves, then the LP/MILP of the rest) or ``milp`` (HiGHS's
branch and bound from that schedule; give it ``--time-limit``). The printed gaps are proven:
against the window's LP relaxation (price-fix) or HiGHS's dual bound (milp). ``--threads 2``
uses the machine's second core: the next window is built while one solves, and the
peak-capped restart runs beside the edge search (``optimize.window_prebuild``,
``optimize.restart_ahead``); issue 11's 30 s is for ``--method milp --gap 0.01 --threads 2``.
Run: ``python benchmarks/year_milp_rolling.py``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine_check import check_line  # noqa: E402
from optimize.problem import (  # noqa: E402
    Battery,
    Facility,
    Grid,
    Job,
    Objective,
    PeakCharge,
    Problem,
    Renewable,
)
from optimize.rolling import RollingDispatch, solve_rolling  # noqa: E402
from optimize.solver_options import SolverOptions  # noqa: E402
from weather.chain import PVSystem, ResourceChain, Site, WindFarm  # noqa: E402
from weather.site_csv import read_site_csv, site_metadata  # noqa: E402

TZ = "America/Chicago"
CURVE = ((0.6, 0.78), (0.7, 0.87), (0.8, 0.94), (0.9, 0.98), (1.0, 1.0))
KW_PER_GPU = 0.98
# id, GPUs, work h, release h, deadline h, preemptible, max interruptions, overhead h, f_min
WEEK_JOBS = (
    ("pretrain-70b", 32768, 96, 0, 168, True, 4, 0.5, 0.6),
    ("pretrain-8b", 8192, 60, 0, 120, True, 3, 0.25, 0.6),
    ("finetune-a", 4096, 24, 24, 72, False, 0, 0.0, 0.7),
    ("finetune-b", 4096, 12, 48, 96, False, 0, 0.0, 0.7),
    ("eval-sweep", 2048, 8, 0, 168, True, None, 0.0, 0.6),
    ("rlhf", 16384, 36, 72, 150, True, 2, 0.5, 0.6),
    ("pretrain-moe", 24576, 48, 24, 168, True, 3, 0.5, 0.6),
    ("distill", 8192, 30, 96, 160, False, 0, 0.0, 0.8),
)


def _flat_demand_charges(local: pd.DatetimeIndex, usd_per_mw: float) -> tuple[PeakCharge, ...]:
    """One demand charge per local calendar month (USD per MW of the month's peak)."""
    labels = np.asarray(local.strftime("%Y-%m"))
    return tuple(
        PeakCharge(f"demand_flat@{m}", "demand_flat", usd_per_mw, labels == m)
        for m in dict.fromkeys(labels)
    )


def week_jobs(week_start_step: int, tag: str, horizon: int) -> list[Job]:
    jobs = []
    for jid, gpus, work, rel, dl, pre, maxi, ovh, fmin in WEEK_JOBS:
        jobs.append(
            Job(
                id=f"{jid}@{tag}",
                full_power_it_mw=gpus * KW_PER_GPU / 1000.0,
                work_h=float(work),
                release_step=min(week_start_step + rel, horizon),
                deadline_step=min(week_start_step + dl, horizon),
                preemptible=pre,
                max_interruptions=maxi,
                restart_overhead_h=ovh,
                f_min=fmin,
                throughput_curve=CURVE,
            )
        )
    return jobs


def r1_year(carbon_price: float = 0.0) -> tuple[Problem, list[int], pd.DatetimeIndex]:
    """The yearly R1 problem, the week start steps, and the UTC index."""
    start = pd.Timestamp("2023-01-01 00:00", tz=TZ).tz_convert("UTC")
    end = pd.Timestamp("2024-01-01 00:00", tz=TZ).tz_convert("UTC")
    index = pd.date_range(start, end, freq="1h", inclusive="left")
    n = len(index)
    lmp, carbon = _grid_signals(index)
    weather = _weather(index)
    pv, wind = _renewables(index, weather)
    temp = weather["temp_air_c"].to_numpy()
    local = index.tz_convert(TZ)
    hour = local.hour + local.minute / 60.0
    inference = 25.0 + 5.0 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    pue = np.minimum(1.10 + 0.008 * np.maximum(0.0, temp - 15.0), 1.40)
    jobs, week_starts = _year_jobs(start, n)
    problem = Problem(
        step_h=1.0,
        n_steps=n,
        grid=Grid(
            import_max_mw=np.full(n, 120.0),
            export_max_mw=np.full(n, 50.0),
            import_price_usd_per_mwh=lmp.to_numpy() + 15.0,
            export_price_usd_per_mwh=lmp.to_numpy(),
            carbon_g_per_kwh=carbon.to_numpy(),
            ramp_mw_per_h=30.0,
            peak_charges=_flat_demand_charges(local, 8000.0),
        ),
        facility=Facility(inference_it_mw=inference, pue=pue),
        renewables=(Renewable("pv", pv), Renewable("wind", wind)),
        battery=Battery(
            power_mw=50.0,
            energy_mwh=200.0,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
            soc_min_frac=0.1,
            soc_max_frac=0.9,
            soc_initial_frac=0.5,
            soc_final_frac=0.5,
            wear_usd_per_mwh=5.0,
        ),
        jobs=tuple(jobs),
        objective=Objective(carbon_price_usd_per_t=carbon_price),
    )
    return problem, week_starts, index


def _grid_signals(index: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series]:
    """ERCOT 2023 LMP (USD/MWh) and direct carbon intensity (g/kWh) on ``index``."""
    sig = pd.read_csv(ROOT / "scenarios/data/grid-signals/ercot-2023.csv")
    sig.index = pd.DatetimeIndex(pd.to_datetime(sig["timestamp_utc"], utc=True))
    lmp = sig["price_usd_per_mwh"].reindex(index)
    carbon = sig["carbon_direct_g_per_kwh"].reindex(index)
    for s in (lmp, carbon):  # past the end of the file: the same hour one week earlier
        missing = np.flatnonzero(s.isna().to_numpy())
        vals = s.to_numpy()
        for i in missing:
            vals[i] = vals[i - 168]
        s[:] = vals
    return lmp, carbon


def _weather(index: pd.DatetimeIndex) -> pd.DataFrame:
    """The Dallas site CSV on ``index`` (the hour past its end filled forward)."""
    wpath = ROOT / "scenarios/data/weather/dallas-2023.csv"
    meta = site_metadata(wpath)
    weather = read_site_csv(wpath, timezone=TZ, utc_offset_seconds=meta["utc_offset_seconds"])
    return weather.reindex(weather.index.union(index)).ffill().reindex(index)


def _renewables(index: pd.DatetimeIndex, weather: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """PV (80 MWdc / 65 MWac) and wind (12 x E-126/4200 at 135 m) available MW."""
    chain = ResourceChain(
        site=Site(latitude_deg=32.7944, longitude_deg=-96.8215, altitude_m=142.0),
        pv=PVSystem(
            dc_mw=80,
            ac_mw=65,
            tilt_deg=25,
            azimuth_deg=180,
            gamma_pdc_per_c=-0.0037,
            losses_pct=14,
        ),
        wind=WindFarm(turbine_type="E-126/4200", n_turbines=12, hub_height_m=135),
    )
    res = chain.run(index, weather=weather)
    pv = np.nan_to_num(res["pv_available_mw"].to_numpy(), nan=0.0).clip(min=0.0)
    wind = np.nan_to_num(res["wind_available_mw"].to_numpy(), nan=0.0).clip(min=0.0)
    return pv, wind


def _year_jobs(start: pd.Timestamp, n: int) -> tuple[list[Job], list[int]]:
    """The 52 weeks' jobs, and each week's start step (Monday 00:00 local)."""
    week_starts = []
    monday = pd.Timestamp("2023-01-02 00:00", tz=TZ)
    jobs: list[Job] = []
    for k in range(52):
        ws = (monday + pd.Timedelta(days=7 * k)).tz_convert("UTC")
        step = int((ws - start) / pd.Timedelta(hours=1))
        week_starts.append(step)
        jobs += week_jobs(step, f"w{k + 1:02d}", n)
    return jobs, week_starts


def _window_line(x: dict) -> str:
    return (
        f"  window {x['window']:2d} {x['start']:5d}-{x['end']:5d}: build {x['build_s']:.2f} s"
        f" solve {x['solve_s']:6.2f} s gap {x['mip_gap']:.2e}"
        f" obj {x['objective_usd']:,.0f} {x['status']}"
    )


def _progress(x: dict) -> None:
    print(_window_line(x), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    t0 = time.perf_counter()
    problem, week_starts, index = r1_year()
    t_data = time.perf_counter() - t0
    boundaries = [0, *week_starts]
    if args.weeks is not None:
        cut = boundaries[args.weeks] if args.weeks < len(boundaries) else problem.n_steps
        boundaries = boundaries[: args.weeks]
    else:
        cut = problem.n_steps
    opts = SolverOptions(
        mip_rel_gap=args.gap,
        time_limit_s=args.time_limit,
        method=args.method,
        threads=args.threads,
    )
    t1 = time.perf_counter()
    d = solve_rolling(
        problem,
        window_steps=168,
        overlap_steps=args.overlap,
        options=opts,
        boundaries=boundaries,
        end_step=cut,
        on_window=_progress if args.progress else None,
        highs_options=_highs_options(args.highs) or None,
    )
    t_solve = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    _report(args, problem, index, d, cut, t_data, t_solve, rss_mb)
    print(check_line())  # the machine's speed today, beside a reference (machine_check.py)
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--overlap", type=int, default=24, help="look-ahead hours per window")
    ap.add_argument("--weeks", type=int, default=None, help="only the first N windows")
    ap.add_argument("--gap", type=float, default=1e-3)
    ap.add_argument("--progress", action="store_true", help="print each window when done")
    ap.add_argument("--time-limit", type=float, default=None, help="per window, seconds")
    ap.add_argument("--threads", type=int, default=1, help="SolverOptions.threads")
    ap.add_argument(
        "--method",
        choices=("milp", "price-fix"),
        default="price-fix",
        help="per window: price-guided job fixing (optimize.price_fix), or HiGHS's MILP "
        "started from it",
    )
    ap.add_argument(
        "--highs", action="append", default=[], metavar="NAME=VALUE", help="extra HiGHS option"
    )
    return ap.parse_args(argv)


def _highs_options(items: list[str]) -> dict:
    """``NAME=VALUE`` items as HiGHS options (values as int, else float, else text)."""
    highs_options = {}
    for item in items:
        name, value = item.split("=", 1)
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                continue
        highs_options[name] = value
    return highs_options


def _report(
    args: argparse.Namespace,
    problem: Problem,
    index: pd.DatetimeIndex,
    d: RollingDispatch,
    cut: int,
    t_data: float,
    t_solve: float,
    rss_mb: float,
) -> None:
    """Print B2's figures: times (s), peak memory (MB), deadlines, gaps, costs (USD)."""
    w = d.windows
    slow = max(w, key=lambda x: x["build_s"] + x["solve_s"])
    gaps = np.array([x["mip_gap"] for x in w])
    n_jobs = sum(1 for j in problem.jobs if j.deadline_step <= cut)
    met = sum(1 for j in problem.jobs if j.deadline_step <= cut and d.jobs[j.id]["deadline_met"])
    print(
        f"B2 year_milp_rolling: {len(w)} windows, {cut} steps, {len(problem.jobs)} jobs, "
        f"{args.threads} thread(s)"
    )
    print(f"data (signals, weather chain): {t_data:.1f} s")
    print(
        f"total wall time (build + solve, all windows): {t_solve:.1f} s (goal < 60 s; "
        "issue 11: <= 30 s with every window proven within 1 %)"
    )
    ahead = sum(1 for x in w if x.get("prebuilt"))
    print(
        f"  build {sum(x['build_s'] for x in w):.1f} s on the solving thread "
        f"({ahead} of {len(w)} windows built ahead on a second one), "
        f"solve {sum(x['solve_s'] for x in w):.1f} s"
    )
    print(
        f"slowest window: #{slow['window']} steps {slow['start']}-{slow['end']} "
        f"({index[slow['start']].tz_convert(TZ):%Y-%m-%d}): build {slow['build_s']:.2f} s, "
        f"solve {slow['solve_s']:.2f} s, gap {slow['mip_gap']:.2e}, {slow['status']}"
    )
    print(f"peak RSS: {rss_mb:.0f} MB (goal < 1536 MB)")
    print(f"deadlines met: {met}/{n_jobs} (goal: all)")
    print(
        f"window gaps ({args.method}; proven, against each window's lower bound): "
        f"max {gaps.max():.2e}, median {np.median(gaps):.2e}; "
        f"{int((gaps <= 0.01).sum())} of {len(gaps)} within 1 % (issue 11: all)"
    )
    if not args.progress:
        for x in w:
            print(_window_line(x))
    print(f"statuses: {sorted(set(x['status'] for x in w))}")
    print(f"objective (sum of committed costs): {d.objective_usd:,.0f} USD")
    print("costs: " + ", ".join(f"{k}={v:,.0f}" for k, v in d.costs.items()))


if __name__ == "__main__":
    raise SystemExit(main())
