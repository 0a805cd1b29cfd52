"""B5 `all_weeks`: every Monday-to-Monday week of 2023 in ERCOT, CAISO and PJM, solved to a
proven 1 % gap and to a proven 0.1 % gap within 60 s, beside plain HiGHS branch and bound.

Cases: R1's campus (scenarios/ercot-dallas.yaml: PV 80 MWdc, 12 E-126 wind turbines, the
50 MW / 200 MWh battery, R1's grid limits, tariffs, demand charge and ramp limit) and the
reference job week (`jobs.repeat: once`: the hours count from each week's Monday 00:00
local). Per region only the site, the signals and the weather change, copied from that
region's scenario: ERCOT Dallas (R1 itself); CAISO the site, signals (7 h price-stamp
correction) and weather of scenarios/caiso-solar-heavy.yaml; PJM those of
scenarios/pjm-virginia-outage.yaml (3 h correction). R1's wind turbines stay, on that
site's weather; the other scenarios' assets, generators and events are not used.

Weeks: 52 per region, week k from Monday 2023-01-02 + 7k days 00:00 to the next Monday
00:00, local wall time at the site (a week across a DST change has 167 or 169 hourly steps).
Edges of the year: Sunday 2023-01-01 belongs to no week; the last week (2023-12-25) ends at
2024-01-01 00:00 local, which is 5-8 h past the signal files' last UTC hour: those hours
repeat the file's last value (`signals.edge_fill_hours`, only in that week; with CAISO's
7 h price correction its last 15 h of price are the file's last), and the weather's last
hour past its file is repeated (microgrid.resources). `--billing` chooses how the demand
charge of the week's month(s) is billed: `full_month` (the default here: each month's
whole charge, the hardest case for the solver) or `prorated` (the week's share of the
month's hours, the product's default; microgrid/billing.py).

Gaps: `mip_gap` is the product's proven gap, relative to the gap basis (the schedule's
gross cost or its net objective, whichever is larger: optimize.highs.gap_basis_usd);
`net_gap` is the same gap relative to the net objective `|objective_usd|`, the classic
definition, printed beside it.

Per week: a solve to a proven 1 % gap (SolverOptions() defaults, as they are when this
runs, with mip_rel_gap=0.01 and threads=1), then one with mip_rel_gap=0.001 and a 60 s time
limit (`--set NAME=VALUE` changes a default for both). Times are solve seconds by the clock
(price-fix's start, every step after it on either thread until the last has ended, HiGHS,
loading the answer; `optimize.solving.solve_model`'s solve_s); model
build and compile (build_s) and reading the data (inputs_s) are recorded separately.
`--plain N` also runs plain HiGHS (see PLAIN_NOTE: method "milp" without the price-fix
start and without a node limit) to 0.1 % with `--plain-limit-s` on N weeks per region,
spread over the selected weeks. One solve at a time, one HiGHS thread. The 1 % runs have
no time limit unless the defaults set one: `--loose-limit-s` bounds a long run.

The weeks run in a spread order (bit-reversed positions: weeks 0, 32, 16, 48, 8, ..., each
in every region in turn), so a partial run samples the whole year; progress goes to stderr
(a line per week) and the `--csv` file (one row per week and method) is rewritten after
each week. The machine is shared: other load changes the times.

    python benchmarks/all_weeks.py --csv out/b5.csv            # all 156 weeks (hours)
    python benchmarks/all_weeks.py --every 13 --skip-strict     # 4 weeks per region
    python benchmarks/all_weeks.py --regions pjm --weeks 27 --plain 1 --plain-limit-s 30
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import math
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine_check import check_line  # noqa: E402
from microgrid.assemble import build_problem, load_inputs  # noqa: E402
from microgrid.atomic import atomic_write_text  # noqa: E402
from microgrid.cli import OneLineParser  # noqa: E402
from microgrid.errors import InputError  # noqa: E402
from microgrid.scenario import Scenario, load_scenario  # noqa: E402
from optimize.errors import SolveError  # noqa: E402
from optimize.highs import relative_gap  # noqa: E402
from optimize.problem import Problem  # noqa: E402
from optimize.solver_options import SolverOptions  # noqa: E402
from optimize.solving import solve_model  # noqa: E402

SCENARIOS = ROOT / "scenarios"
BASE = SCENARIOS / "ercot-dallas.yaml"
# region -> scenario whose site, signals and weather it uses (None: R1's own)
REGIONS = {"ercot": None, "caiso": "caiso-solar-heavy.yaml", "pjm": "pjm-virginia-outage.yaml"}
FIRST_MONDAY = datetime(2023, 1, 2)
N_WEEKS = 52
LOOSE_GAP = 0.01
STRICT_GAP = 0.001
STRICT_LIMIT_S = 60.0
GOAL_LOOSE_MAX_S = 10.0
GOAL_LOOSE_MEDIAN_S = 3.0
# every TUNED_EVERY-th week (--every 4) is the full-month sample each change to the solve
# was measured and chosen on from the twenty-fifth session to the forty-seventh
# (docs/model_jobs_history.md, forty-eighth session): the summary reports it apart
TUNED_EVERY = 4
# No switch turns off the strengthened job formulation (optimize/jobs.py) yet: give one
# with --plain-set when it exists. A node limit would stop plain HiGHS before its time limit.
PLAIN_NOTE = (
    "method milp, no price-fix start, no node limit, HiGHS's root restart on; "
    "strengthened job formulation on"
)
EDGES = (
    "weeks: Monday 00:00 to Monday 00:00 local (DST weeks 167/169 h); Sunday 2023-01-01 is "
    "in no week; week 51 (2023-12-25) ends 5-8 h past the signal files (last value repeated) "
    "and 1 h past the weather file (last hour repeated)"
)
FIELDS = (
    "region",
    "week",
    "week_start",
    "method",
    "target_gap",
    "time_limit_s",
    "status",
    "reached",
    "objective_usd",
    "mip_gap",
    "net_gap",
    "gap_basis_usd",
    "solve_s",
    "build_s",
    "inputs_s",
    "error",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = OneLineParser(prog="all_weeks.py", description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument(
        "--regions", default="ercot,caiso,pjm", help="comma list of " + ",".join(REGIONS)
    )
    ap.add_argument("--every", type=int, default=1, help="every K-th week (default 1: all)")
    ap.add_argument("--weeks", default=None, help="explicit week indices 0-51, e.g. 0,5,12")
    ap.add_argument("--skip-strict", action="store_true", help="skip the 0.1 %% / 60 s runs")
    ap.add_argument(
        "--plain", type=int, default=0, metavar="N", help="plain HiGHS on N weeks/region"
    )
    ap.add_argument("--plain-limit-s", type=float, default=120.0, help="plain HiGHS time limit")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="SolverOptions field for our runs (both gaps), e.g. node_limit=none",
    )
    ap.add_argument(
        "--plain-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra SolverOptions field for the plain runs (e.g. a switch that turns off "
        "the strengthened job formulation)",
    )
    ap.add_argument(
        "--loose-limit-s",
        type=float,
        default=None,
        help="safety time limit of the 1 %% runs (default: SolverOptions' default)",
    )
    ap.add_argument(
        "--billing",
        choices=("full_month", "prorated"),
        default="full_month",
        help="demand-charge billing of the week's month(s) (default full_month)",
    )
    ap.add_argument("--build-only", action="store_true", help="build every week, solve none")
    ap.add_argument("--csv", type=Path, default=None, help="one row per week and method")
    args = ap.parse_args(argv)
    check_args(ap, args)
    return args


def check_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Regions, weeks and limits as lists and numbers, or one error line (exit 2)."""
    args.regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    unknown = [r for r in args.regions if r not in REGIONS]
    if unknown or not args.regions:
        ap.error(f"--regions: unknown {unknown or 'empty list'} (choose from {list(REGIONS)})")
    if args.every < 1:
        ap.error("--every must be >= 1")
    if args.weeks is not None:
        try:
            args.weeks = sorted({int(w) for w in args.weeks.split(",")})
        except ValueError:
            ap.error(f"--weeks: not a comma list of integers: {args.weeks!r}")
        if not args.weeks or not all(0 <= w < N_WEEKS for w in args.weeks):
            ap.error(f"--weeks: indices must be 0-{N_WEEKS - 1}")
    else:
        args.weeks = list(range(0, N_WEEKS, args.every))
    if args.plain < 0 or not args.plain_limit_s > 0:
        ap.error("--plain must be >= 0 and --plain-limit-s > 0")
    if args.loose_limit_s is not None and not args.loose_limit_s > 0:
        ap.error("--loose-limit-s must be > 0")
    args.set = option_fields(ap, "--set", args.set)
    args.plain_set = option_fields(ap, "--plain-set", args.plain_set)
    if args.csv is not None and not args.csv.parent.is_dir():
        ap.error(f"--csv: no folder {args.csv.parent}")


def option_fields(ap: argparse.ArgumentParser, flag: str, items: list[str]) -> dict[str, object]:
    """`NAME=VALUE` pairs naming SolverOptions fields; values as bool, int, float or text."""
    names = {f.name for f in dataclasses.fields(SolverOptions)}
    out: dict[str, object] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in names:
            ap.error(f"{flag} {item!r}: not NAME=VALUE with NAME in {sorted(names)}")
        out[name] = option_value(text)
    return out


def option_value(text: str) -> object:
    """`true`/`false`/`none`, an int, a float, else the text itself."""
    words = {"true": True, "false": False, "none": None}
    if text.lower() in words:
        return words[text.lower()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


# --- the week scenarios ----------------------------------------------------------------------


def region_updates(region: str) -> dict[str, object]:
    """Dotted-key updates that move R1 to `region`'s site, signals and weather (data paths
    made absolute, so they resolve from R1's folder too)."""
    name = REGIONS[region]
    if name is None:
        return {}
    other = load_scenario(SCENARIOS / name)
    updates: dict[str, object] = {}
    for section in ("site", "signals", "weather"):
        for key, value in getattr(other, section).model_dump(mode="python").items():
            if isinstance(value, Path):
                value = other.resolve(value).resolve()
            updates[f"{section}.{key}"] = value
    return updates


def signal_end_utc(scenario: Scenario) -> pd.Timestamp:
    """The end of the signal file's last hour (its last stamp + 1 h), UTC."""
    path = scenario.resolve(scenario.signals.csv)
    col = scenario.signals.timestamp_column
    last = pd.read_csv(path, usecols=[col])[col].iloc[-1]
    return pd.Timestamp(last).tz_convert("UTC") + pd.Timedelta(hours=1)


def week_scenario(base: Scenario, updates: dict[str, object], week: int) -> Scenario:
    """R1 moved to the region (`updates`) for week `week`, events dropped, validated."""
    start = FIRST_MONDAY + timedelta(weeks=week)
    s = base.with_updates(
        {
            **updates,
            "period.start": start,
            "period.end": start + timedelta(weeks=1),
            "jobs.repeat": "once",
            "events.outages": [],
            "events.demand_response": [],
            "events.derates": [],
        }
    )
    past_h = (s.index()[-1] + pd.Timedelta(hours=1) - signal_end_utc(s)) / pd.Timedelta(hours=1)
    if past_h > 0:  # the last week: its final hours repeat the file's last value
        s = s.with_updates({"signals.edge_fill_hours": math.ceil(past_h)})
    return s


def build_week(base: Scenario, updates: dict, week: int) -> tuple[Problem, float]:
    """The week's optimizer problem and the seconds taken to read and assemble it."""
    t0 = time.perf_counter()
    scenario = week_scenario(base, updates, week)
    problem = build_problem(scenario, load_inputs(scenario))
    return problem, time.perf_counter() - t0


# --- solving ---------------------------------------------------------------------------------


def method_options(args: argparse.Namespace) -> dict[str, SolverOptions]:
    """The runs of each week by method name, from SolverOptions' current defaults (then
    `--set`; each run's gap and time limit last)."""
    base = dataclasses.replace(SolverOptions(), threads=1)
    ours = dataclasses.replace(base, **args.set)
    runs = {"ours-1%": dataclasses.replace(ours, mip_rel_gap=LOOSE_GAP)}
    if args.loose_limit_s is not None:
        runs["ours-1%"] = dataclasses.replace(runs["ours-1%"], time_limit_s=args.loose_limit_s)
    if not args.skip_strict:
        runs["ours-0.1%"] = dataclasses.replace(
            ours, mip_rel_gap=STRICT_GAP, time_limit_s=STRICT_LIMIT_S
        )
    if args.plain:
        no_nodes = {"node_limit": None} if hasattr(base, "node_limit") else {}
        # HiGHS's own default, which ours switches off (SolverOptions.root_restart)
        restart = {"root_restart": True} if hasattr(base, "root_restart") else {}
        runs["plain-0.1%"] = dataclasses.replace(
            base,
            method="milp",
            price_fix_start=False,
            **no_nodes,
            **restart,
            **args.plain_set,
            mip_rel_gap=STRICT_GAP,
            time_limit_s=args.plain_limit_s,
        )
    return runs


def run_one(problem: Problem, options: SolverOptions) -> dict[str, object]:
    """Solve and return status, objective, proven gap, solve and build seconds."""
    row: dict[str, object] = {"target_gap": options.mip_rel_gap}
    row["time_limit_s"] = options.time_limit_s
    t0 = time.perf_counter()
    try:
        _, res, build_s, solve_s = solve_model(problem, options)
    except SolveError as exc:
        wall = time.perf_counter() - t0
        return {**row, "status": "error", "reached": False, "solve_s": wall, "error": str(exc)}
    limit = options.time_limit_s
    reached = (
        res.status == "optimal"
        and res.mip_gap <= options.mip_rel_gap + 1e-12
        and (limit is None or solve_s <= limit)
    )
    ok = res.status != "infeasible"
    net_gap = math.nan
    if ok and res.bound is not None:
        net_gap = relative_gap(res.objective, res.bound, max(abs(res.objective), 1e-9))
    return {
        **row,
        "status": res.status,
        "reached": reached,
        "objective_usd": res.objective if ok else math.nan,
        "mip_gap": res.mip_gap if ok else math.nan,
        "net_gap": net_gap,
        "gap_basis_usd": res.gap_basis if ok else math.nan,
        "solve_s": solve_s,
        "build_s": build_s,
    }


def spread_order(weeks: list[int]) -> list[int]:
    """The weeks in an order whose every prefix spreads over the list (bit-reversed
    positions: a partial run samples the whole year, not January)."""
    bits = max(1, (len(weeks) - 1).bit_length())

    def reversed_pos(i: int) -> int:
        return int(f"{i:0{bits}b}"[::-1], 2)

    return [weeks[i] for i in sorted(range(len(weeks)), key=reversed_pos)]


def plain_sample(weeks: list[int], n: int) -> list[int]:
    """`n` of `weeks` spread evenly (the middle of each of n equal slices)."""
    if n >= len(weeks):
        return list(weeks)
    return [weeks[int((i + 0.5) * len(weeks) / n)] for i in range(n)]


def write_csv(path: Path | None, rows: list[dict]) -> None:
    """All rows so far, through a temp file and a rename (readable mid-run)."""
    if path is None:
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(sorted(rows, key=lambda r: (r["region"], r["week"], r["method"])))
    atomic_write_text(path, buf.getvalue())


def week_start_text(week: int) -> str:
    return (FIRST_MONDAY + timedelta(weeks=week)).strftime("%Y-%m-%d")


def short(row: dict) -> str:
    if "solve_s" not in row:
        return f"{row['status']} {row.get('error', '')}".strip()
    return f"{row['solve_s']:6.2f} s {row['status']} gap {row.get('mip_gap', math.nan):.2%}"


def run_week(ctx: dict, region: str, week: int, runs: dict) -> list[dict]:
    """Build one week and run each method on it; rows for the CSV."""
    head = {"region": region, "week": week, "week_start": week_start_text(week)}
    try:
        problem, inputs_s = build_week(ctx["base"], ctx["updates"][region], week)
    except InputError as exc:  # a week that does not build: recorded, the run goes on
        msg = " ".join(str(exc).split())
        return [{**head, "method": "build", "status": "build_error", "error": msg}]
    rows = []
    for method, options in runs.items():
        if method.startswith("plain") and week not in ctx["plain_weeks"]:
            continue
        rows.append({**head, "method": method, "inputs_s": inputs_s, **run_one(problem, options)})
    if not runs:
        rows.append({**head, "method": "build", "status": "built", "inputs_s": inputs_s})
    return rows


def run_all(args: argparse.Namespace, runs: dict[str, SolverOptions]) -> list[dict]:
    """Every selected week of every region, one at a time; progress on stderr."""
    base = load_scenario(BASE).with_updates({"grid.demand_charge_billing": args.billing})
    ctx = {
        "base": base,
        "updates": {r: region_updates(r) for r in args.regions},
        "plain_weeks": set(plain_sample(args.weeks, args.plain)),
    }
    order = [(r, w) for w in spread_order(args.weeks) for r in args.regions]
    rows: list[dict] = []
    t0 = time.perf_counter()
    for i, (region, week) in enumerate(order, 1):
        new = run_week(ctx, region, week, runs)
        rows += new
        write_csv(args.csv, rows)
        parts = " | ".join(f"{r['method']}: {short(r)}" for r in new)
        print(
            f"[{i}/{len(order)} {time.perf_counter() - t0:7.0f} s] {region} w{week:02d} "
            f"{week_start_text(week)}: {parts}",
            file=sys.stderr,
            flush=True,
        )
    return rows


# --- report ----------------------------------------------------------------------------------


def of(rows: list[dict], method: str, region: str | None = None) -> list[dict]:
    return [r for r in rows if r["method"] == method and region in (None, r["region"])]


def dist(values: list[float], fmt: str) -> str:
    """median / 90th percentile / max of `values` (NaN dropped)."""
    v = np.array([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if not len(v):
        return "n/a"
    med, p90, top = np.median(v), np.percentile(v, 90), v.max()
    return f"median {fmt.format(med)}, p90 {fmt.format(p90)}, max {fmt.format(top)}"


def cell(row: dict | None, time_limit: bool = False) -> str:
    """`time s (gap, status)` of a run, blank when it did not run."""
    if row is None:
        return f"{'':>29}"
    if row["status"] == "error":
        return f"{'error':>29}"
    mark = "" if row["reached"] else "*"
    return f"{row['solve_s']:7.2f} s {row['mip_gap']:6.2%} {row['status']:>10}{mark}"


def print_region_table(rows: list[dict], region: str) -> None:
    print(f"\n{region.upper()} (times: solve s; * = target gap not proven within the limit)")
    print(
        f"{'week':>4} {'start':>10} {'ours 1 %':>29} {'ours 0.1 % (60 s)':>29} "
        f"{'plain 0.1 %':>29} {'objective USD':>15} {'net gap':>8}"
    )
    by_week: dict[int, dict[str, dict]] = {}
    for r in rows:
        if r["region"] == region:
            by_week.setdefault(r["week"], {})[r["method"]] = r
    for week in sorted(by_week):
        m = by_week[week]
        if "build" in m:
            print(f"{week:4d} {week_start_text(week)} {short(m['build'])}")
            continue
        loose = m.get("ours-1%")
        obj = loose.get("objective_usd", math.nan) if loose else math.nan
        net = loose.get("net_gap", math.nan) if loose else math.nan
        print(
            f"{week:4d} {week_start_text(week)} {cell(loose)} {cell(m.get('ours-0.1%'))} "
            f"{cell(m.get('plain-0.1%'))} {obj:15,.0f} {net:8.2%}"
        )


def print_distributions(rows: list[dict], regions: list[str]) -> None:
    print("\nDistributions (solve s; proven gap)")
    for method in ("ours-1%", "ours-0.1%", "plain-0.1%"):
        for region in [*regions, None]:
            sel = of(rows, method, region)
            if not sel:
                continue
            print(
                f"  {method:10s} {region or 'all':5s} n={len(sel):3d}  time "
                f"{dist([r['solve_s'] for r in sel], '{:.2f}')};  gap "
                f"{dist([r.get('mip_gap', math.nan) for r in sel], '{:.3%}')}"
            )


def loose_counts(loose: list[dict]) -> tuple[int, int]:
    """Of 1 % runs ``loose``: how many proved 1 % within the goal's time, and how many
    stopped short of 1 %."""
    ok = sum(1 for r in loose if r["reached"] and r["solve_s"] <= GOAL_LOOSE_MAX_S)
    return ok, sum(1 for r in loose if not r["reached"])


def print_loose_goals(loose: list[dict], failed: int) -> None:
    """Max and median time to a proven 1 %; a run stopped short of 1 % (a safety limit or
    an error) makes its time, and so the figure, a lower bound (">=")."""
    times = [r["solve_s"] for r in loose]
    ok, short_n = loose_counts(loose)
    ge = ">= " if short_n else ""
    print(
        f"every week within 1 % in <= {GOAL_LOOSE_MAX_S:g} s: max {ge}{max(times):.2f} s "
        f"(goal {GOAL_LOOSE_MAX_S:g}); {ok} of {len(loose) + failed} weeks met it"
    )
    print(f"median time to 1 %: {ge}{np.median(times):.2f} s (goal {GOAL_LOOSE_MEDIAN_S:g})")
    if short_n:
        print(f"  ({short_n} of {len(loose)} runs stopped before a proven 1 %: their time counts)")


def print_tuned_split(loose: list[dict]) -> None:
    """The full month's 1 % goal on the weeks the solve was tuned on (``TUNED_EVERY``) and
    on the others apart, where the run has both: a solve chosen on one set is to be judged
    on the other."""
    tuned = [r for r in loose if r["week"] % TUNED_EVERY == 0]
    others = [r for r in loose if r["week"] % TUNED_EVERY != 0]
    if not tuned or not others:
        return
    for label, sel in (f"tuned on (weeks 0, {TUNED_EVERY}, ...)", tuned), ("the others", others):
        ok, short_n = loose_counts(sel)
        print(
            f"  {label}: {ok} of {len(sel)} within 1 % in <= {GOAL_LOOSE_MAX_S:g} s, "
            f"{short_n} short of 1 %, {sum(r['solve_s'] for r in sel):.1f} s of solve"
        )


def print_goals(rows: list[dict], billing: str) -> None:
    """The summary lines beside the issue's goals (``billing``: the demand charge's,
    ``--billing``)."""
    loose = of(rows, "ours-1%")
    failed = sum(1 for r in rows if r["status"] == "build_error")
    print("\nGoals (issue 11, goal 2)")
    if loose:
        print_loose_goals(loose, failed)
        if billing == "full_month":
            print_tuned_split(loose)
    strict = of(rows, "ours-0.1%")
    if strict:
        k = sum(1 for r in strict if r["reached"])
        print(
            f"weeks within 0.1 % in <= {STRICT_LIMIT_S:g} s: {k} of {len(strict) + failed} "
            "(goal: all)"
        )
    if failed:
        print(f"weeks that did not build: {failed} (counted as missed)")
    print_plain(rows)


def print_plain(rows: list[dict]) -> None:
    """Plain HiGHS beside ours on the sample: time to 0.1 % or its gap at the limit."""
    plain = of(rows, "plain-0.1%")
    if not plain:
        return
    ours = {(r["region"], r["week"]): r for r in of(rows, "ours-0.1%")}
    k = sum(1 for r in plain if r["reached"])
    limit = plain[0]["time_limit_s"]
    gaps = [r.get("mip_gap", math.nan) for r in plain if not r["reached"]]
    print(
        f"plain HiGHS ({PLAIN_NOTE}; sample of {len(plain)} weeks, limit {limit:g} s): "
        f"{k} of {len(plain)} within 0.1 %; gap at the limit of the others: "
        f"{dist(gaps, '{:.3%}')}"
    )
    pairs = [(p, ours[(p["region"], p["week"])]) for p in plain if (p["region"], p["week"]) in ours]
    if not pairs:
        print("  ratio plain/ours: n/a (no 0.1 % runs of ours on the sample: --skip-strict)")
        return
    print_ratio(pairs)


def print_ratio(pairs: list[tuple[dict, dict]]) -> None:
    """Median plain/ours time to 0.1 % over the sample weeks ours proved; a plain run
    stopped at its limit counts its limit (the ratio is then a lower bound, ">=")."""
    both = [(p, o) for p, o in pairs if o["reached"]]
    left = len(pairs) - len(both)
    note = f"; {left} week(s) left out: ours not within 0.1 % in 60 s" if left else ""
    gaps = [(p.get("mip_gap", math.nan), o.get("mip_gap", math.nan)) for p, o in pairs]
    print(
        "  final gaps plain vs ours, per sample week: "
        + ", ".join(f"{gp:.3%} vs {go:.3%}" for gp, go in gaps)
    )
    if not both:
        print(f"  median time ratio plain/ours to 0.1 %: n/a{note}")
        return
    ratios = [p["solve_s"] / max(o["solve_s"], 1e-9) for p, o in both]
    ge = ">= " if any(not p["reached"] for p, _ in both) else ""
    print(
        f"  median time ratio plain/ours to 0.1 % on {len(both)} sample weeks: "
        f"{ge}{np.median(ratios):.1f}x (plain {ge}{np.median([p['solve_s'] for p, _ in both]):.2f}"
        f" s, ours {np.median([o['solve_s'] for _, o in both]):.2f} s){note}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        runs = {} if args.build_only else method_options(args)
    except (TypeError, ValueError) as exc:  # a --set value SolverOptions refuses
        print(f"error: all_weeks.py: {exc}", file=sys.stderr)
        return 2
    print(
        f"B5 all_weeks: regions {','.join(args.regions)}, {len(args.weeks)} weeks each "
        f"({','.join(map(str, args.weeks))}), one solve at a time"
    )
    print(f"  {EDGES}")
    print(
        f"  demand charge billed {args.billing}; gap = the product's (against the gap basis), "
        "net gap = against |objective|"
    )
    for name, opt in runs.items():
        print(f"  {name}: {opt}")
    if args.plain:
        print(
            f"  plain sample (per region): weeks {plain_sample(args.weeks, args.plain)}; "
            f"{PLAIN_NOTE}" + (f"; set {args.plain_set}" if args.plain_set else "")
        )
    t0 = time.perf_counter()
    rows = run_all(args, runs)
    for region in args.regions:
        print_region_table(rows, region)
    if not args.build_only:
        print_distributions(rows, args.regions)
        print_goals(rows, args.billing)
    print(
        f"\nwall time {time.perf_counter() - t0:.0f} s"
        + (f"; rows in {args.csv}" if args.csv else "")
    )
    print(check_line())  # the machine's speed today, beside a reference (machine_check.py)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
