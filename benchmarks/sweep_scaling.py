"""B4 `sweep_scaling`: 8 yearly R1 variants with 1 and with 2 workers; the speed-up.

Variants (scenarios/ercot-dallas-2023.yaml: all of 2023, rolling one-week windows, the job
week repeated weekly): PV {0, 80 MWdc} (AC 0 / 65 MW, the R1 ratio) × battery
{0, 50, 100, 200 MWh} at a 4-hour duration (0, 12.5, 25, 50 MW) = 8 cases, each its own
full-year run. The same 8 cases run as a fresh sweep with each worker count (local process
pool, spawn, one HiGHS thread per worker).

Printed per worker count: wall time of the whole sweep (pool start-up included), the sum
and mean of the per-case times (`wall_s` in the records: the case function plus writing
its result directory), the speed-up against 1 worker (goal >= 1.8 with 2 workers) and the
scheduling overhead per case = (wall × workers − Σ case times) / n cases (pool start-up,
imports in each worker, pickling, idle workers at the tail).

    python benchmarks/sweep_scaling.py                 # the full year (long)
    python benchmarks/sweep_scaling.py --days 3        # a quick check of the machinery
    python benchmarks/sweep_scaling.py --runner microgrid.sweeps.standin:run_case

`--days N` shortens every case to N days from Monday 2023-01-02 (for N <= 7 a single
window: `solver.window_h` is unset). The machine is shared: other load changes the result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.sweeps.records import read_records  # noqa: E402
from microgrid.sweeps.runner import sweep  # noqa: E402
from microgrid.sweeps.spec import load_spec  # noqa: E402
from microgrid.sweeps.worker import runner_with_options  # noqa: E402

PV = [(0, 0), (80, 65)]  # (dc_mw, ac_mw)
BATTERY_MWH = [0, 50, 100, 200]  # 4-hour duration: power = energy / 4


def write_spec(
    folder: Path, days: int | None, time_limit_s: float | None = None, gap: float | None = None
) -> Path:
    lines = [
        "name: b4-sweep-scaling",
        f"base: {ROOT / 'scenarios' / 'ercot-dallas-2023.yaml'}",
        "cases:",
    ]
    extra = ""
    if days is not None:
        end = pd.Timestamp("2023-01-02") + pd.Timedelta(days=days)
        extra = f', period.start: "2023-01-02T00:00", period.end: "{end:%Y-%m-%dT%H:%M}"'
        if days <= 7:
            extra += ", solver.window_h: null"
    if time_limit_s is not None:
        extra += f", solver.time_limit_s: {time_limit_s}"
    if gap is not None:
        extra += f", solver.mip_rel_gap: {gap}"
    for dc, ac in PV:
        for e in BATTERY_MWH:
            lines.append(
                f"  - {{pv.dc_mw: {dc}, pv.ac_mw: {ac}, battery.energy_mwh: {e}, "
                f"battery.power_mw: {e / 4}{extra}}}"
            )
    path = folder / "b4.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=None, help="shorten each case to N days")
    ap.add_argument("--time-limit-s", type=float, default=None, help="per-window solver limit")
    ap.add_argument("--gap", type=float, default=None, help="MIP gap for every case")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    ap.add_argument("--runner", default=None, help="case function module:function")
    ap.add_argument("--no-powerflow", action="store_true", help="skip the AC power flow")
    ap.add_argument("--no-baselines", action="store_true", help="skip the baseline schedules")
    ap.add_argument("--keep", type=Path, default=None, help="keep the sweep folders here")
    args = ap.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    runner = runner_with_options(
        args.runner, powerflow=not args.no_powerflow, baselines=not args.no_baselines
    )

    with tempfile.TemporaryDirectory(prefix="b4-") as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        spec = load_spec(write_spec(base, args.days, args.time_limit_s, args.gap))
        n = len(spec.cases)
        print(
            f"B4 sweep_scaling: {n} cases, "
            + (
                f"{args.days} days each"
                if args.days
                else "all of 2023 each (rolling 168 h windows)"
            )
        )
        rows = []
        for w in counts:
            out = base / f"workers-{w}"
            t0 = time.perf_counter()
            df = sweep(spec, out, workers=w, runner=runner, progress=sys.stderr)
            wall = time.perf_counter() - t0
            recs = read_records(out, spec)
            case_s = sum(r.get("wall_s") or 0.0 for r in recs.values())
            n_ok = int((df["status"] == "ok").sum()) if len(df) else 0
            rows.append(
                {
                    "workers": w,
                    "ok": f"{n_ok}/{n}",
                    "wall_s": wall,
                    "sum_case_s": case_s,
                    "mean_case_s": case_s / max(1, len(recs)),
                    "overhead_per_case_s": (wall * w - case_s) / n,
                }
            )
            if n_ok < n:
                bad = df[df["status"] != "ok"]
                for _, r in bad.head(3).iterrows():
                    print(f"  {r['case_id']} {r['status']}: {r['error']}")
        table = pd.DataFrame(rows)
        t1 = table.loc[table["workers"] == 1, "wall_s"]
        if len(t1):
            table["speedup"] = float(t1.iloc[0]) / table["wall_s"]
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if len(t1) and 2 in counts:
            s = float(table.loc[table["workers"] == 2, "speedup"].iloc[0])
            verdict = "met" if s >= 1.8 else "NOT met"
            print(f"speed-up with 2 workers: {s:.2f} (goal >= 1.8: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
