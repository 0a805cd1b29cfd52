"""B1 `year_lp_vs_pypsa`: R1 for all of 2023, hourly, as an LP: ours against PyPSA.

Both models get the same numpy arrays:
- ERCOT 2023 (``scenarios/data/grid-signals/ercot-2023.csv``): import price = LMP + 15 $/MWh,
  export earns LMP, direct carbon intensity (only reported; carbon price 0).
- IT load: fixed 60 MW (the jobs replaced by an inflexible load) × PUE
  ``1.10 + 0.008 · max(0, T − 15 °C)`` capped at 1.40, T from
  ``scenarios/data/weather/dallas-2023.csv``.
- PV (65 MWac) and wind (50.4 MW): from ``weather.ResourceChain``; B1 measures the solver
  stack, so both models only need the same arrays.
- Battery 50 MW / 200 MWh, η 0.95/0.95, SOC 10–90 %, start 50 % and end ≥ 50 %,
  $5/MWh discharged; import ≤ 120 MW, export ≤ 50 MW; no ramp limit, no demand charge.

PyPSA: one Bus; Load; Generator ``grid_import`` (p_nom 120, marginal cost = import price);
Generator ``grid_export`` (p_nom 50, p_min_pu −1, p_max_pu 0, marginal cost = LMP, so
exporting x MW earns LMP · x); Generators ``pv`` and ``wind`` (p_max_pu = availability,
cost 0); StorageUnit ``battery`` with efficiency_store/dispatch 0.95, marginal_cost 5
(applied to dispatch, as our wear). PyPSA's StorageUnit SOC is bounded by
``[0, max_hours · p_nom]`` only, so the SOC is shifted by the 10 % floor: usable
160 MWh (max_hours 3.2), initial 80 MWh (= 100 − 20), and an extra constraint
``soc[last] ≥ 80`` through ``extra_functionality``; without standing losses this is the
same LP as ours.

Timings: wall time of model build + solve (imports and data preparation excluded), each
side run ``--repeats`` times alternately in the same process; medians are printed. HiGHS
alone: ``Highs.run()`` on a fresh ``Highs`` holding our already-compiled model. The machine
is shared, so timings are noisy; the ratios are measured side by side.

Why 11 repeats: each side leaves its models as cyclic garbage (Pyomo's, linopy's), and a
collection of Python's oldest generation (about 0.2 s) lands in whichever timed run
reaches the collector's threshold: in 4-5 of 15 runs of ours (0.82-0.90 s against
0.68-0.73 s), for this code and for the code of 2026-11-30 alike. With 5 runs, two or
three of them could carry one, and the ratio read 0.41 in one run and 0.53 in the next;
the median of 11 reads 0.41-0.42 (docs/model_jobs_history.md, thirty-second session).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optimize as o  # noqa: E402
from optimize.highs import compile_model, make_highs  # noqa: E402
from optimize.model import build_model  # noqa: E402
from weather import PVSystem, ResourceChain, Site, WindFarm  # noqa: E402
from weather.site_csv import read_site_csv  # noqa: E402

SIGNALS = ROOT / "scenarios" / "data" / "grid-signals" / "ercot-2023.csv"
WEATHER = ROOT / "scenarios" / "data" / "weather" / "dallas-2023.csv"
LAT, LON = 32.7944, -96.8215


def read_weather_utc(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Dallas weather on the UTC hours of ``index`` (file time taken as UTC−5, fixed).

    The file covers local 2023 = UTC 2023-01-01 05:00 .. 2024-01-01 04:00; the first five
    UTC hours of 2023 are filled from the file's last five hours (wrap-around).
    """
    w = read_site_csv(WEATHER)
    w = w[~w.index.duplicated()]
    shifted = w.copy()
    shifted.index = shifted.index - pd.DateOffset(years=1)
    full = pd.concat([shifted, w])
    full = full[~full.index.duplicated(keep="last")]
    return full.reindex(index)


def pue_from_temp(temp_c: np.ndarray) -> np.ndarray:
    return np.minimum(1.10 + 0.008 * np.maximum(0.0, temp_c - 15.0), 1.40)


def b1_arrays() -> dict[str, np.ndarray]:
    sig = pd.read_csv(SIGNALS)
    index = pd.DatetimeIndex(pd.to_datetime(sig["timestamp_utc"], utc=True))
    w = read_weather_utc(index)
    temp = w["temp_air_c"].to_numpy(dtype=float)
    lmp = sig["price_usd_per_mwh"].to_numpy(dtype=float)
    arrays = {
        "lmp": lmp,
        "import_price": lmp + 15.0,
        "carbon": sig["carbon_direct_g_per_kwh"].to_numpy(dtype=float),
        "load_mw": 60.0 * pue_from_temp(temp),
        "it_mw": np.full(len(lmp), 60.0),
        "pue": pue_from_temp(temp),
    }
    chain = ResourceChain(
        Site(LAT, LON, 142.0), PVSystem(80.0, 65.0), WindFarm("E-126/4200", 135.0, 12)
    )
    res = chain.run(index, w, edge_fill_hours=5)
    arrays["pv_mw"] = res["pv_available_mw"].to_numpy(dtype=float)
    arrays["wind_mw"] = res["wind_available_mw"].to_numpy(dtype=float)
    arrays["resource_source"] = "weather.ResourceChain (PVWatts, windpowerlib E-126/4200)"
    return arrays


def our_problem(a: dict):
    n = len(a["lmp"])
    grid = o.Grid(
        import_max_mw=np.full(n, 120.0),
        export_max_mw=np.full(n, 50.0),
        import_price_usd_per_mwh=a["import_price"],
        export_price_usd_per_mwh=a["lmp"],
        carbon_g_per_kwh=a["carbon"],
    )
    return o.Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=o.Facility(inference_it_mw=a["it_mw"], pue=a["pue"]),
        renewables=(o.Renewable("pv", a["pv_mw"]), o.Renewable("wind", a["wind_mw"])),
        battery=o.Battery(
            power_mw=50.0,
            energy_mwh=200.0,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
            soc_min_frac=0.10,
            soc_max_frac=0.90,
            soc_initial_frac=0.50,
            soc_final_frac=0.50,
            wear_usd_per_mwh=5.0,
        ),
        objective=o.Objective(carbon_price_usd_per_t=0.0),
    )


def run_ours(problem) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    d = o.solve(problem, o.SolverOptions())
    return d.objective_usd, time.perf_counter() - t0, d


def run_highs_alone(problem) -> float:
    """HiGHS alone: time ``run()`` on a fresh Highs holding our compiled model."""
    h = make_highs(compile_model(build_model(problem)), o.SolverOptions())
    t0 = time.perf_counter()
    h.run()
    return time.perf_counter() - t0


def run_pypsa(a: dict) -> tuple[float, float]:
    import pypsa  # the optional bench extra, and slow to import: only when B1 runs it

    t0 = time.perf_counter()
    n_steps = len(a["lmp"])
    n = pypsa.Network()
    n.set_snapshots(pd.RangeIndex(n_steps))
    n.add("Bus", "bus")
    n.add("Load", "dc", bus="bus", p_set=a["load_mw"])
    n.add("Generator", "grid_import", bus="bus", p_nom=120.0, marginal_cost=a["import_price"])
    n.add(
        "Generator",
        "grid_export",
        bus="bus",
        p_nom=50.0,
        p_min_pu=-1.0,
        p_max_pu=0.0,
        marginal_cost=a["lmp"],
    )
    n.add("Generator", "pv", bus="bus", p_nom=1.0, p_max_pu=a["pv_mw"], marginal_cost=0.0)
    n.add("Generator", "wind", bus="bus", p_nom=1.0, p_max_pu=a["wind_mw"], marginal_cost=0.0)
    # SOC shifted by the 10 % floor (20 MWh): usable 20..180 MWh -> 0..160 MWh
    n.add(
        "StorageUnit",
        "battery",
        bus="bus",
        p_nom=50.0,
        max_hours=160.0 / 50.0,
        efficiency_store=0.95,
        efficiency_dispatch=0.95,
        state_of_charge_initial=100.0 - 20.0,
        cyclic_state_of_charge=False,
        marginal_cost=5.0,
    )

    def final_soc(n, snapshots):
        soc = n.model["StorageUnit-state_of_charge"]
        n.model.add_constraints(
            soc.loc[snapshots[-1], "battery"] >= 100.0 - 20.0, name="battery_final_soc"
        )

    status, cond = n.optimize(
        solver_name="highs",
        extra_functionality=final_soc,
        solver_options={"threads": 1, "random_seed": 0, "output_flag": False},
        progress=False,
    )
    elapsed = time.perf_counter() - t0
    if status != "ok":
        raise RuntimeError(f"PyPSA: {status} {cond}")
    return float(n.objective + (n.objective_constant or 0.0)), elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args()
    logging.getLogger("pypsa").setLevel(logging.WARNING)
    logging.getLogger("linopy").setLevel(logging.WARNING)

    a = b1_arrays()
    problem = our_problem(a)
    ours_t, pypsa_t, alone_t = [], [], []
    obj_ours = obj_pypsa = float("nan")
    run_ours(problem)  # warm-up (first-call import/JIT costs of Pyomo and highspy)
    run_pypsa(a)
    for _ in range(args.repeats):
        obj_ours, t, d = run_ours(problem)
        ours_t.append(t)
        obj_pypsa, t = run_pypsa(a)
        pypsa_t.append(t)
        alone_t.append(run_highs_alone(problem))
    rel = abs(obj_ours - obj_pypsa) / max(1.0, abs(obj_pypsa))
    med_o, med_p, med_h = (statistics.median(x) for x in (ours_t, pypsa_t, alone_t))
    print(f"B1 year_lp_vs_pypsa: {problem.n_steps} hourly steps, resources: {a['resource_source']}")
    print(f"objective ours   {obj_ours:,.4f} USD")
    print(f"objective PyPSA  {obj_pypsa:,.4f} USD")
    print(f"relative difference {rel:.3e} (goal <= 1e-6)")
    print(f"ours  build+solve median {med_o:.3f} s  runs {[round(x, 3) for x in ours_t]}")
    print(f"       of which build {d.build_s:.3f} s, solve {d.solve_s:.3f} s (last run)")
    print(f"PyPSA build+solve median {med_p:.3f} s  runs {[round(x, 3) for x in pypsa_t]}")
    print(f"HiGHS alone (run() on our passed model) median {med_h:.3f} s")
    print(f"ratio ours / PyPSA       {med_o / med_p:.3f} (goal <= 0.5)")
    print(f"ratio ours / HiGHS alone {med_o / med_h:.2f}")
    print("(shared 2-core machine: timings are noisy; ratios are from alternating runs)")


if __name__ == "__main__":
    main()
