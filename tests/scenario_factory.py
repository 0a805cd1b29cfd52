"""Small scenarios for tests, built from R1 and the shipped data (scenarios/data)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data"


DELETE = object()  # an override value that removes the key

# The tiny scenario (test_baselines, test_diagnosis, test_pareto*, test_output_safety):
# hand-checkable. Two days in UTC, a constant 10 MW of inference at PUE 1.10 (clear sky at
# 15 C), one 10 MW job of 4 h released at 08:00, time-of-use carbon 300 / 500 / 200 g/kWh in
# 00-08 / 08-16 / 16-24, a flat $50/MWh, a 5 MW / 20 MWh battery starting at 10 MWh (SOC
# floor 2 MWh), $1/kW-month demand charge, no renewables; solved to a zero MIP gap.
TINY = {
    "name": "tiny",
    "site": {"latitude_deg": 0.0, "longitude_deg": 0.0, "timezone": "UTC"},
    "period": {"start": "2023-01-02T00:00", "end": "2023-01-04T00:00", "step_minutes": 60},
    "signals": {
        "time_of_use": [
            {"start_hour": 0, "end_hour": 8, "price_usd_per_mwh": 50, "carbon_g_per_kwh": 300},
            {"start_hour": 8, "end_hour": 16, "price_usd_per_mwh": 50, "carbon_g_per_kwh": 500},
            {"start_hour": 16, "end_hour": 24, "price_usd_per_mwh": 50, "carbon_g_per_kwh": 200},
        ]
    },
    "weather": {"source": "clearsky", "temp_air_c": 15.0},
    "battery": {
        "power_mw": 5,
        "energy_mwh": 20,
        "soc_final_frac": None,
        "wear_usd_per_mwh": 2,
    },
    "grid": {"import_max_mw": 100, "export_max_mw": 0, "demand_charge_usd_per_kw_month": 1},
    "datacenter": {"it_capacity_mw": 50, "inference": {"mean_mw": 10}},
    "jobs": {
        "items": [
            {
                "id": "train",
                "gpus": 10000,
                "kw_per_gpu": 1.0,
                "work_h": 4,
                "release_h": 8,
                "deadline_h": 24,
                "preemptible": True,
                "f_min": 1.0,
            }
        ]
    },
    "solver": {"mip_rel_gap": 0.0, "time_limit_s": 120, "node_limit": None},
}


# a URDB tariff with a fixed charge alone, 30 USD a day (no energy or demand charge)
FIXED_ONLY_RATE = {
    "label": "fixed-only",
    "energyweekdayschedule": [[0] * 24] * 12,
    "energyweekendschedule": [[0] * 24] * 12,
    "energyratestructure": [[{"rate": 0.0}]],
    "fixedchargefirstmeter": 30.0,
    "fixedchargeunits": "$/day",
}


def small_scenario(**overrides) -> dict:
    """Two days of R1's site and assets, no jobs: fast to solve, real data."""
    sc = yaml.safe_load((ROOT / "scenarios" / "ercot-dallas.yaml").read_text())
    sc["period"] = {"start": "2023-08-22T00:00", "end": "2023-08-24T00:00", "step_minutes": 60}
    sc["signals"]["csv"] = str(DATA / "grid-signals" / "ercot-2023.csv")
    sc["weather"]["path"] = str(DATA / "weather" / "dallas-2023.csv")
    sc["jobs"] = {"items": []}
    sc["solver"] = {"time_limit_s": 60, "mip_rel_gap": 1e-4}
    for dotted, value in overrides.items():
        node = sc
        keys = dotted.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is DELETE:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return sc
