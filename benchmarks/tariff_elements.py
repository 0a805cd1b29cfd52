"""What each tariff element costs in solve time on the year benchmark (B2, R1's year).

R1's year (scenarios/ercot-dallas-2023.yaml: 416 jobs, rolling weekly windows, its
default method) solved once as shipped (a flat demand charge of 8 USD/kW-month) and once
with each element of issue 14 added on top, one at a time:

- ``tou-tariff``: the B-20-like rate (scenarios/data/tariffs/caiso-b20-like-tou.json):
  TOU energy periods on top of ERCOT's wholesale price, a TOU and an all-hours demand
  charge (the flat charge set to 0, as a tariff with demand charges requires);
- ``tiers-ratchet``: the illustrative rate with monthly energy tiers and an 80 % ratchet;
- ``4cp-known``: ERCOT 4CP on the price-based stand-in intervals at 25,000 USD/MW-year;
- ``4cp-alerts``: the same charge priced on the synthetic daily alerts (expected cost);
- ``dr-program``: a 20 MW commitment at 5,000 USD/MW-month with 4 h summer events on
  the 10 afternoons of the stand-in 4CP days and neighbours, prior-days baseline.

Prints, per variant, the wall time of building and solving the problem (median of
``--repeat`` runs), its ratio to the plain year, the objective, the deadlines met, and the
model's size. Not a unit test: run it alone on a quiet machine,
``python benchmarks/tariff_elements.py [--only NAME,...] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.assemble import build_problem, load_inputs  # noqa: E402
from microgrid.dispatch import demand_response_caps, optimize_dispatch  # noqa: E402
from microgrid.scenario import load_scenario  # noqa: E402

TARIFFS = "data/tariffs"
CP = "data/coincident-peaks"
CP_RATE = {"usd_per_mw_year": 25_000.0, "n_peaks": 4, "interval_minutes": 60}
DR_DAYS = ("06-20", "06-27", "07-11", "07-18", "07-25", "08-08", "08-10", "08-22", "08-24",
           "09-06")  # fmt: skip


def _dr_events() -> list[dict]:
    return [{"start": f"2023-{d}T15:00", "end": f"2023-{d}T19:00"} for d in DR_DAYS]


VARIANTS = {
    "plain": {},
    "tou-tariff": {
        "grid.demand_charge_usd_per_kw_month": 0,
        "grid.tariff": {"urdb": f"{TARIFFS}/caiso-b20-like-tou.json"},
    },
    "tiers-ratchet": {
        "grid.demand_charge_usd_per_kw_month": 0,
        "grid.tariff": {"urdb": f"{TARIFFS}/tiered-ratchet-illustrative.json"},
    },
    "4cp-known": {
        "grid.coincident_peaks": {
            **CP_RATE,
            "mode": "known",
            "intervals_csv": f"{CP}/ercot-4cp-2023.csv",
        }
    },
    "4cp-alerts": {
        "grid.coincident_peaks": {
            **CP_RATE,
            "mode": "alerts",
            "intervals_csv": f"{CP}/ercot-4cp-2023.csv",
            "alerts_csv": f"{CP}/ercot-4cp-alerts-2023.csv",
        }
    },
    "dr-program": {
        "demand_response_program": {
            "capacity_usd_per_mw_month": 5_000.0,
            "energy_usd_per_mwh": 100.0,
            "shortfall_usd_per_mwh": 2_000.0,
            "commit_mw": 20.0,
            "events": _dr_events(),
        }
    },
}


def _solve_once(scenario) -> tuple[float, object, object]:
    t0 = time.perf_counter()
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs, demand_response_caps(scenario, inputs))
    dispatch = optimize_dispatch(scenario, problem)
    return time.perf_counter() - t0, problem, dispatch


def run(name: str, repeat: int) -> dict:
    base = load_scenario(ROOT / "scenarios" / "ercot-dallas-2023.yaml")
    scenario = base.with_updates(VARIANTS[name]) if VARIANTS[name] else base
    times = []
    for _ in range(repeat):
        seconds, problem, d = _solve_once(scenario)
        times.append(seconds)
    met = sum(1 for j in d.jobs.values() if j.get("unfinished_h", 0.0) <= 1e-6)
    return {
        "name": name,
        "seconds": statistics.median(times),
        "objective_usd": d.objective_usd,
        "deadlines": f"{met}/{len(d.jobs)}",
        "peak_charges": len(problem.grid.peak_charges),
        "tiers": len(problem.grid.energy_tiers),
        "bill_lines": len(d.bill),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(VARIANTS), help="comma list of variants")
    ap.add_argument("--repeat", type=int, default=1, help="runs per variant (median)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    rows = []
    for name in names:
        rows.append(run(name, args.repeat))
        r = rows[-1]
        print(f"... {name}: {r['seconds']:.1f} s", file=sys.stderr, flush=True)
    plain = next((r["seconds"] for r in rows if r["name"] == "plain"), None)
    print(f"{'variant':<14}{'wall s':>9}{'vs plain':>10}{'objective USD':>18}"
          f"{'deadlines':>11}{'peak ch.':>10}{'tiers':>7}{'lines':>7}")  # fmt: skip
    for r in rows:
        ratio = f"{r['seconds'] / plain:.2f}x" if plain else "-"
        print(
            f"{r['name']:<14}{r['seconds']:>9.1f}{ratio:>10}{r['objective_usd']:>18,.0f}"
            f"{r['deadlines']:>11}{r['peak_charges']:>10}{r['tiers']:>7}{r['bill_lines']:>7}"
        )


if __name__ == "__main__":
    main()
