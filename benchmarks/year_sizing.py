"""B6: R1 sized with its dispatch and jobs (``microgrid size``), and checked against a sweep.

Part "year" (``scenarios/ercot-dallas-2023-sizing.yaml``: R1's year, 8760 hourly steps,
416 jobs; PV, wind, battery power and energy and the grid import connection sized from
nothing, costs in docs/sizing_costs.md): ``microgrid.size`` once, printing beside the
issue's goals:

- the sizing solve's time (by weekly parts, relaxed and then with whole jobs; one HiGHS
  thread), goal at most 600 s;
- the process's peak RSS after the whole study (sizing, verification, flexibility), goal at
  most 4 GB;
- the planning-vs-verified gap (verified − planning) / |verified|, goal at most 1 %;

and the sizes, the verification's and the flexibility solve's times, what flexible
training is worth.

Part "sweep" (``scenarios/ercot-dallas-sizing.yaml``, R1's heat-wave week): only PV and
battery energy are sized (wind, battery power and the grid connection keep R1's fixed
sizes: 12 turbines, 50 MW, 120 MW), PV in [0, 300] MWdc and energy in [0, 800] MWh. The
peer is the brute-force answer: the exhaustive sweep of the 3 × 3 grid PV {0, 150, 300} ×
energy {0, 400, 800}, each case the same sizing model with both sizes fixed (min = max),
so every cost is on one basis (operating + capacity cost over the week). All solves are
HiGHS's branch and bound (``--method milp``) to ``--gap`` (0.2 %), planning solves only
(no verification). The sized optimum's feasible set
holds every case, so its optimum is at most every case's: the check prints the sized
objective and bound against each case's, the best case, and the times side by side.

Run: ``python benchmarks/year_sizing.py [--part year|sweep|both]`` (run alone: peak RSS
is the process's).
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.scenario import load_scenario  # noqa: E402
from microgrid.sizing.outcome import Sized  # noqa: E402
from microgrid.sizing.run import size, sizing_setup, solve_sizing  # noqa: E402

YEAR = ROOT / "scenarios" / "ercot-dallas-2023-sizing.yaml"
WEEK = ROOT / "scenarios" / "ercot-dallas-sizing.yaml"
GOAL_SOLVE_S = 600.0
GOAL_RSS_GB = 4.0
GOAL_GAP = 0.01
PV_GRID_MW = (0.0, 150.0, 300.0)
ENERGY_GRID_MWH = (0.0, 400.0, 800.0)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0**2


def _sizes_line(sized: Sized) -> str:
    return ", ".join(f"{a.spec.name} {a.total:,.1f} {a.spec.unit}" for a in sized.assets)


def part_year() -> None:
    t0 = time.perf_counter()
    r = size(YEAR)
    wall_s = time.perf_counter() - t0
    p, v = r.sized.planning, r.verified
    gap = r.planning_vs_verified_gap
    print(f"B6 year_sizing, part year: {YEAR.name}, {r.horizon_h:g} h")
    print(f"  sizes: {_sizes_line(r.sized)}")
    print(
        f"  sizing solve: {p.solve_s:.1f} s (goal <= {GOAL_SOLVE_S:.0f} s), "
        f"{p.status}, gap {p.mip_gap:.2%} "
        + ("(proven)" if p.parts_bound_usd is None else "to the parts' bound (battery pinned)")
    )
    if r.sized.connection_raised_from_mw is not None:
        print(
            f"    the verification raised the connection from "
            f"{r.sized.connection_raised_from_mw:,.1f} MW (no whole-job schedule fitted)"
        )
    print(f"  peak RSS: {_peak_rss_gb():.2f} GB (goal <= {GOAL_RSS_GB:.0f} GB)")
    print(
        f"  planning {p.objective_usd:,.0f} USD, verified {v.objective_usd:,.0f} USD "
        f"({v.status}, {v.solve_s:.1f} s): gap {gap:.3%} (goal <= {GOAL_GAP:.0%})"
    )
    if r.flexibility is not None:
        f = r.flexibility
        print(f"  inflexible jobs: {_sizes_line(f)}; sizing solve {f.planning.solve_s:.1f} s")
        print(
            f"  flexibility is worth {f.planning.objective_usd - p.objective_usd:,.0f} USD "
            f"over the horizon and "
            f"{f.sizes.get('grid_import', 0) - r.sized.sizes.get('grid_import', 0):,.1f} MW "
            "of grid connection"
        )
    print(f"  whole study (load, sizing, verification, flexibility): {wall_s:.1f} s wall")


def _week(method: str, gap: float, pv: tuple[float, float], energy: tuple[float, float]):
    """R1's week sizing only PV in `pv` (min, max) and battery energy in `energy`."""
    sc = load_scenario(WEEK)
    updates = {
        "sizing.wind": None,
        "sizing.battery_power": None,
        "sizing.grid_import": None,
        "sizing.flexibility": False,
        "sizing.method": method,
        "solver.mip_rel_gap": gap,
        "solver.method": method,
        "sizing.pv.min_mw": pv[0],
        "sizing.pv.max_mw": pv[1],
        "sizing.battery_energy.min_mwh": energy[0],
        "sizing.battery_energy.max_mwh": energy[1],
    }
    return sc.with_updates(updates)


def _planning(scenario) -> tuple[Sized, float]:
    """The sizing solve alone (no verification) and its wall time (s), data included."""
    t0 = time.perf_counter()
    st = sizing_setup(scenario)
    sized = solve_sizing(scenario, st.inputs, st.problem, st.specs)
    return sized, time.perf_counter() - t0


def part_sweep(method: str, gap: float) -> None:
    print(f"B6 year_sizing, part sweep: {WEEK.name}, PV x battery energy, {method} to {gap:.2%}")
    free, free_s = _planning(
        _week(method, gap, (0.0, max(PV_GRID_MW)), (0.0, max(ENERGY_GRID_MWH)))
    )
    fp = free.planning
    print(
        f"  sized: {_sizes_line(free)}: {fp.objective_usd:,.0f} USD, bound "
        f"{fp.bound_usd:,.0f} ({fp.status}, {fp.mip_gap:.2%}); {free_s:.1f} s wall"
    )
    cases, sweep_s = [], 0.0
    for pv, e in itertools.product(PV_GRID_MW, ENERGY_GRID_MWH):
        case, case_s = _planning(_week(method, gap, (pv, pv), (e, e)))
        sweep_s += case_s
        c = case.planning
        cases.append((pv, e, c.objective_usd, c.bound_usd))
        print(
            f"  case PV {pv:5.0f} MW, energy {e:5.0f} MWh: {c.objective_usd:,.0f} USD, bound "
            f"{c.bound_usd:,.0f} ({c.status}, {c.mip_gap:.2%}); {case_s:.1f} s"
        )
    _sweep_verdict(free, cases, free_s, sweep_s)


def _sweep_verdict(free: Sized, cases: list, free_s: float, sweep_s: float) -> None:
    fp = free.planning
    best = min(cases, key=lambda c: c[2])
    worse = [c for c in cases if c[2] < fp.objective_usd]
    below_bound = [c for c in cases if c[2] < fp.bound_usd - 1e-6 * abs(fp.bound_usd)]
    print(
        f"  best case PV {best[0]:.0f} MW, energy {best[1]:.0f} MWh: {best[2]:,.0f} USD; "
        f"sized optimum {(fp.objective_usd - best[2]) / abs(best[2]):+.3%} against it "
        "(goal: <= 0, and within 1 %)"
    )
    print(
        f"  cases cheaper than the sized answer: {len(worse)} of {len(cases)}; cases below "
        f"the sized bound (would disprove it): {len(below_bound)}"
    )
    print(
        f"  time: sized {free_s:.1f} s against the 9-case sweep {sweep_s:.1f} s "
        f"(ratio {sweep_s / free_s:.1f}x): data, build and solve of each"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("year", "sweep", "both"), default="both")
    ap.add_argument("--method", choices=("milp", "price-fix"), default="milp")
    ap.add_argument("--gap", type=float, default=2e-3, help="sweep part: the MIP gap")
    args = ap.parse_args(argv)
    if args.part in ("sweep", "both"):
        part_sweep(args.method, args.gap)
    if args.part in ("year", "both"):
        part_year()
    return 0


if __name__ == "__main__":
    sys.exit(main())
