"""Issue 11, goal 5: R1's cost-carbon front of 6 points (`microgrid pareto --points 6`).

Goal: the whole front in at most 60 s on a quiet 2-core machine, each point proven within
the scenario's gap (1 %). The front is `microgrid.pareto.pareto_front` on
scenarios/ercot-dallas.yaml, as the CLI runs it, without the journal and the files.

Peer, side by side: the same front with `solver.method: price-fix`, the heuristic alone
(each point a price-fix schedule with the gap it proves against the LP bound, no branch
and bound). It shows what the MILP's time buys: the gaps the heuristic leaves open. Each
front spaces its budgets between its own ends, so the points' budgets differ a little.

Printed: each point's cost, emissions, proven gap and solve seconds, for both; the
front's wall time beside the goal, and the ratio ours / peer.
Run: ``python benchmarks/pareto_front.py [--points 6] [--skip-peer]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.pareto import pareto_front  # noqa: E402
from microgrid.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "ercot-dallas.yaml"
GOAL_S = 60.0


def run_front(label: str, scenario, points: int):
    """The front and its wall seconds; one line per point as it finishes."""
    print(f"{label}: solver method {scenario.solver.method}, gap {scenario.solver.mip_rel_gap}")

    def progress(row: dict, k: int, n: int) -> None:
        print(
            f"  [{k}/{n}] {row['point']:<14} cost {row['cost_usd']:>13,.0f} USD  "
            f"{row['emissions_t']:>9,.1f} t  gap {100 * row['mip_gap']:5.2f} %  "
            f"{row['status']:<9} {row['solve_s']:6.1f} s",
            flush=True,
        )

    t0 = time.perf_counter()
    front = pareto_front(scenario, points, progress)
    return front, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=6)
    ap.add_argument("--skip-peer", action="store_true", help="ours only")
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO)
    ours, ours_s = run_front("ours (the scenario's solver)", scenario, args.points)
    print(f"ours: front of {args.points} points in {ours_s:.1f} s wall (goal {GOAL_S:.0f} s)")
    worst = ours[ours["point"] != "min-emissions"]["mip_gap"].max()
    print(f"ours: largest proven gap of the MILP points {100 * worst:.2f} % (goal 1 %)")
    if args.skip_peer:
        return
    peer_scenario = scenario.with_updates({"solver.method": "price-fix"})
    peer, peer_s = run_front("peer (price-fix alone)", peer_scenario, args.points)
    print(f"peer: front in {peer_s:.1f} s wall")
    print(f"ratio ours / peer: {ours_s / peer_s:.2f} (wall)")
    # the budgets differ (each front spaces them between its own ends): gaps, not costs
    for (_, a), (_, b) in zip(ours.iterrows(), peer.iterrows(), strict=True):
        print(
            f"  {a['point']:<14} proven gap ours {100 * a['mip_gap']:5.2f} % "
            f"(budget {_tonnes(a['budget_t'])}), peer {100 * b['mip_gap']:5.2f} % "
            f"(budget {_tonnes(b['budget_t'])})"
        )


def _tonnes(budget_t: float) -> str:
    return "none" if pd.isna(budget_t) else f"{budget_t:,.1f} t"


if __name__ == "__main__":
    main()
