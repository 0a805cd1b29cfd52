"""What 4CP management is worth to a flexible campus: R1's year, and a summer week of alerts.

Not a timing benchmark: the figures are costs. ERCOT 4CP at an assumed 25,000 USD per MW
of tag per year over the 4 stand-in intervals of scenarios/data/coincident-peaks/
ercot-4cp-2023.csv (each month's highest-price hour, June-September 2023; see
docs/coincident_peak.md), interval_minutes 60.

Part "year" (R1, scenarios/ercot-dallas-2023.yaml, its default method price-fix in
rolling weeks), three plans billed the same way on the same intervals:

- flexible, CP known: optimised with the CP charge (mode "known");
- flexible, CP ignored: optimised without it, billed on the intervals afterwards;
- inflexible: the asap baseline (jobs at release, the rule battery), billed the same.

Both interval files are run: the price-based stand-in (hours the price-following optimum
already avoids) and the temperature-based one (each month's hottest hour in Dallas).

Each: tag MW, CP USD, and total USD = energy + demand + fuel + wear + unfinished-work
penalty (priced without the CP charge) + CP USD.

Part "week" (R1's week, scenarios/ercot-dallas.yaml, 2023-08-21..28 local, with the
synthetic alerts of ercot-4cp-alerts-2023.csv): the closed loop (mode operate) twice,
responding to alerts (mode "alerts", each alert known `--notice-h` before its window) and
ignoring them (no CP section); both billed on the real interval in the week (2023-08-25
19:00, so the week's tag is that interval's import / 4). The cost of the curtailments is
the responding run's total minus the ignoring run's, both priced without the alert charges
(docs/coincident_peak.md). The controller re-plans every `--replan-every` steps (1) over
`--lookahead-h` hours (168: to the week's end, so the jobs' deadlines are in view; R1's
48 h leaves the long jobs to the end of the week) with method price-fix (faster than milp
per re-plan).

Run: ``python benchmarks/cp_value.py [--part year|week|both]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.assemble import build_problem, load_inputs  # noqa: E402
from microgrid.baselines import local_days, simulate  # noqa: E402
from microgrid.coincident_peak import load_coincident_peaks  # noqa: E402
from microgrid.coincident_peak_bill import cp_bill  # noqa: E402
from microgrid.costs import cost_breakdown  # noqa: E402
from microgrid.dispatch import optimize_dispatch  # noqa: E402
from microgrid.operate.loop import simulate as operate  # noqa: E402
from microgrid.scenario import load_scenario  # noqa: E402

USD_PER_MW_YEAR = 25_000.0  # assumption: ERCOT 4CP transmission, historically about this
DATA = "data/coincident-peaks"
# the price-based stand-in (the shipped default) and the temperature-based one
INTERVAL_FILES = (f"{DATA}/ercot-4cp-2023.csv", f"{DATA}/ercot-4cp-2023-hottest-hour.csv")
CP_KNOWN = {
    "usd_per_mw_year": USD_PER_MW_YEAR,
    "n_peaks": 4,
    "intervals_csv": f"{DATA}/ercot-4cp-2023.csv",
    "interval_minutes": 60,
    "mode": "known",
}


def _row(name, problem_off, case, index, series, unfinished_h):
    """(name, tag MW, CP USD, total USD, unfinished h, import MW per interval) of a plan."""
    bill = cp_bill(case, index, series["grid_import_mw"])
    costs = cost_breakdown(problem_off, series, unfinished_h=unfinished_h)
    return (
        name,
        bill.tag_mw,
        bill.charge_usd,
        costs["total_cost_usd"] + bill.charge_usd,
        unfinished_h,
        [r.import_mw for r in bill.intervals],
    )


def _print(rows, title):
    print(f"\n{title}")
    head = f"{'plan':34s} {'tag MW':>9s} {'CP USD':>14s} {'total USD':>16s} {'unfinished h':>13s}"
    print(head + "  import MW in each interval")
    for name, tag, cp, total, unf, mws in rows:
        each = ", ".join("-" if mw is None else f"{mw:.1f}" for mw in mws)
        print(f"{name:34s} {tag:9.2f} {cp:14,.0f} {total:16,.0f} {unf:13.2f}  {each}")


def _unfinished(jobs: dict) -> float:
    return float(sum(j["unfinished_h"] for j in jobs.values()))


def year() -> None:
    off = load_scenario(ROOT / "scenarios" / "ercot-dallas-2023.yaml")
    inputs = load_inputs(off)
    p_off = build_problem(off, inputs)
    d_off = _timed("flexible, CP ignored", off, p_off)
    days = local_days(inputs.index, off.site.timezone)
    asap = simulate(p_off, "asap", days, inputs.index)
    for csv in INTERVAL_FILES:
        on = off.with_updates({"grid.coincident_peaks": {**CP_KNOWN, "intervals_csv": csv}})
        d_on = _timed(f"flexible, CP known ({csv})", on, build_problem(on, inputs))
        case = load_coincident_peaks(on)
        plans = (
            ("flexible, CP known", d_on.series, _unfinished(d_on.jobs)),
            ("flexible, CP ignored", d_off.series, _unfinished(d_off.jobs)),
            ("inflexible (asap)", asap.timeseries, _unfinished(asap.jobs)),
        )
        rows = [_row(name, p_off, case, inputs.index, ser, unf) for name, ser, unf in plans]
        _print(rows, f"R1 2023, 4CP at {USD_PER_MW_YEAR:,.0f} USD/MW-year, intervals {csv}")


def _timed(name: str, scenario, problem):
    t0 = time.monotonic()
    d = optimize_dispatch(scenario, problem)
    print(f"{name}: solved in {time.monotonic() - t0:.0f} s, status {d.status}", flush=True)
    return d


def week(notice_h: float, replan_every: int, lookahead_h: float) -> None:
    base = load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml").with_updates(
        {
            "solver.method": "price-fix",
            "operate.replan_every_steps": replan_every,
            "operate.lookahead_h": lookahead_h,
        }
    )
    alerts = {**CP_KNOWN, "mode": "alerts", "alerts_csv": f"{DATA}/ercot-4cp-alerts-2023.csv",
              "alert_notice_hours": notice_h}  # fmt: skip
    responding = base.with_updates({"grid.coincident_peaks": alerts})
    inputs = load_inputs(base)
    p_off = build_problem(base, inputs)
    case = load_coincident_peaks(responding)
    rows = []
    for name, sc in (("operate, responding to alerts", responding), ("operate, ignoring", base)):
        t0 = time.monotonic()
        run = operate(sc, inputs)
        print(f"{name}: {run.n_solves} re-plans in {time.monotonic() - t0:.0f} s", flush=True)
        rows.append(_row(name, p_off, case, inputs.index, run.actual, _unfinished(run.jobs)))
    _print(rows, f"R1 week 2023-08-21..28, alerts known {notice_h:g} h ahead, "
                 f"look-ahead {lookahead_h:g} h")  # fmt: skip
    curtail = rows[0][3] - rows[0][2] - (rows[1][3] - rows[1][2])
    print(f"cost of the curtailments: {curtail:,.0f} USD; CP saved: {rows[1][2] - rows[0][2]:,.0f}"
          f" USD; value of responding: {rows[1][3] - rows[0][3]:,.0f} USD")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("year", "week", "both"), default="both")
    ap.add_argument("--notice-h", type=float, default=24.0)
    ap.add_argument("--replan-every", type=int, default=1)
    ap.add_argument("--lookahead-h", type=float, default=168.0)
    args = ap.parse_args()
    if args.part in ("year", "both"):
        year()
    if args.part in ("week", "both"):
        week(args.notice_h, args.replan_every, args.lookahead_h)


if __name__ == "__main__":
    main()
