"""B3: a year of AC power flow (R4, SimBench 1-MV-rural--0-sw, 35 136 steps).

Runs the year through ``microgrid.powerflow.run_timeseries`` (lightsim2grid batch) and times
a loop of plain ``pandapower.runpp`` over the first ``--loop-steps`` steps (default 500),
extrapolated to the year. Prints the speed ratio, the largest |vm| difference against runpp
over the sampled steps, and the year's wall time. Without ``simbench`` it says so and falls
back to R1's network with weather-driven injections (PV and wind from the shipped Dallas
weather; see ``_r1_fallback``).

Usage: python benchmarks/year_ac_powerflow.py [--loop-steps 500] [--no-dc]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from microgrid.network import build_network, injection_profiles  # noqa: E402
from microgrid.powerflow import run_timeseries_detailed  # noqa: E402
from microgrid.simbench_case import (  # noqa: E402
    add_datacenter,
    choose_dc_bus,
    default_dc_profile_mw,
    load_simbench,
)


def _r4_case(with_dc: bool):
    net, profiles = load_simbench()
    net["profiles"] = {}  # keep the timed copies small
    if with_dc:
        bus = choose_dc_bus(net, "substation")
        idx, tan = add_datacenter(net, bus)
        dc = default_dc_profile_mw(profiles[("load", "p_mw")].index).to_numpy()
        for col, values in (("p_mw", dc), ("q_mvar", dc * tan)):
            frame = profiles[("load", col)].copy()
            frame[idx] = values
            profiles[("load", col)] = frame
    return "R4 SimBench 1-MV-rural--0-sw" + (" + 10 MW DC" if with_dc else ""), net, profiles


def _r1_fallback():
    root = Path(__file__).resolve().parents[1]
    weather = pd.read_csv(root / "scenarios" / "data" / "weather" / "dallas-2023.csv")
    n = len(weather)
    cloud_frac = weather["cloud_cover_pct"].to_numpy(float) / 100.0
    wind_10m = weather["wind_speed_10m_kmh"].to_numpy(float) / 3.6
    hours = pd.to_datetime(weather["time_local"]).dt.hour.to_numpy()
    # coarse proxies (the benchmark times the power flow, not the resource models):
    # PV 65 MWac with a day-shape and Kasten-Czeplak cloud attenuation; wind speed to 135 m
    # with a 1/7 power law and a cubic ramp 3-12 m/s to 50.4 MW
    sun = np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None)
    pv = 65.0 * sun * (1 - 0.75 * cloud_frac**3.4)
    hub = wind_10m * (135 / 10) ** (1 / 7)
    wind_mw = 50.4 * np.clip((hub - 3) / 9, 0, 1) ** 3
    inj = pd.DataFrame(
        {"facility_load_mw": 110.0, "pv_used_mw": pv, "wind_used_mw": wind_mw},
        index=pd.RangeIndex(n),
    )
    net = build_network()
    return "R1 (weather-driven PV/wind, 110 MW facility)", net, injection_profiles(net, inj)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop-steps", type=int, default=500)
    ap.add_argument("--no-dc", action="store_true", help="R4 grid without the data center")
    args = ap.parse_args()

    try:
        name, net, profiles = _r4_case(not args.no_dc)
    except Exception as exc:  # the optional extra is missing
        print(f"simbench not available ({exc}); falling back to R1's network")
        name, net, profiles = _r1_fallback()
    n = len(next(iter(profiles.values())))
    print(f"case: {name}, {n} steps, {len(net.bus)} buses, {len(net.line)} lines")

    t0 = time.perf_counter()
    ls = run_timeseries_detailed(net, profiles, "lightsim2grid")
    t_year = time.perf_counter() - t0
    print(f"lightsim2grid year: {t_year:.2f} s wall ({t_year / n * 1e6:.1f} us/step), "
          f"{int(ls.summary.converged.sum())}/{n} converged")  # fmt: skip

    # reference: a plain loop of pandapower.runpp on the first k steps
    k = min(args.loop_steps, n)
    # pandapower's default runpp (numba on: a dependency now), its JIT compile untimed
    pp.runpp(net)
    vm_ref = np.empty((k, len(net.bus)))
    tables = {key: net[key[0]].index.get_indexer(f.columns) for key, f in profiles.items()}
    t0 = time.perf_counter()
    for t in range(k):
        for key, frame in profiles.items():
            col = net[key[0]].columns.get_loc(key[1])
            net[key[0]].iloc[tables[key], col] = frame.iloc[t].to_numpy()
        pp.runpp(net)
        vm_ref[t] = net.res_bus.vm_pu.to_numpy()
    t_loop = time.perf_counter() - t0
    t_loop_year = t_loop / k * n
    dvm = float(np.nanmax(np.abs(ls.vm_pu.to_numpy()[:k] - vm_ref)))
    print(f"pandapower.runpp loop: {k} steps timed in {t_loop:.2f} s "
          f"({t_loop / k * 1e3:.1f} ms/step, runpp's defaults: numba on); "
          f"extrapolated to {n} steps: {t_loop_year:.0f} s")  # fmt: skip
    ratio = t_loop_year / t_year
    print(f"speed ratio (extrapolated runpp year / lightsim2grid year): {ratio:.0f}x "
          f"(goal >= 100x: {'met' if ratio >= 100 else 'NOT met'})")  # fmt: skip
    print(f"largest |vm| difference vs runpp over the {k} sampled steps: {dvm:.2e} pu "
          f"(goal <= 1e-6: {'met' if dvm <= 1e-6 else 'NOT met'})")  # fmt: skip
    print(f"year wall time {t_year:.2f} s (goal < 5 s: {'met' if t_year < 5 else 'NOT met'})")
    s = ls.summary
    print(f"year: min vm {s.min_vm_pu.min():.4f} pu, max vm {s.max_vm_pu.max():.4f} pu, "
          f"max line loading {s.max_line_loading_pct.max():.1f} %, steps with violations "
          f"{int((s.n_violations > 0).sum())}")  # fmt: skip
    print("note: shared 2-core machine, timings are noisy")


if __name__ == "__main__":
    main()
