"""`microgrid sweep SPEC --out DIR` and `microgrid sweep-report DIR`.

`add_sweep_parsers(subparsers)` registers both sub-commands on the main parser; the
handlers raise `InputError` for bad input (the main CLI turns it into exit code 2).
Exit code of `sweep`: 0 when every case is ok, 1 when some failed, timed out or did not run.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from microgrid.errors import InputError
from microgrid.resultdir import interrupted_line, written_to

# Local worker processes each hold a solver and a year of data (about 0.5-1 GB): more than a
# few hundred is a typo, not a machine. Larger fleets go through --dask.
MAX_WORKERS = 256


def cmd_sweep(args: argparse.Namespace) -> int:
    # Lazy (here and below): every `microgrid` command registers these sub-commands; only
    # a sweep should pay for importing the runner, the report's matplotlib and their stacks.
    from microgrid.sweeps.runner import MAX_TIMEOUT_S, CasesNotRun, sweep
    from microgrid.sweeps.spec import load_spec

    if not 1 <= args.workers <= MAX_WORKERS:
        raise InputError(f"--workers must be 1-{MAX_WORKERS} (got {args.workers})")
    if args.timeout_s is not None and not 0 < args.timeout_s <= MAX_TIMEOUT_S:
        raise InputError(f"--timeout-s must be in (0, {MAX_TIMEOUT_S:g}] s (got {args.timeout_s})")
    spec = load_spec(args.spec)
    with warnings.catch_warnings():  # the summary line below counts the cases not run
        warnings.simplefilter("ignore", CasesNotRun)
        df = sweep(
            spec,
            args.out,
            workers=args.workers,
            dask_address=args.dask,
            timeout_s=args.timeout_s,
            runner=args.runner,
            progress=None if getattr(args, "quiet", False) else sys.stderr,  # --quiet
            powerflow=not args.no_powerflow,  # the default pipeline's; another runner's
            baselines=not args.no_baselines,  # is refused with them (sweep)
        )
    n_ok = int((df["status"] == "ok").sum()) if len(df) else 0
    n_bad = len(df) - n_ok
    n_missing = len(spec.cases) - len(df)
    with written_to(args.out):  # every case run has its record, the table is written
        print(
            f"sweep {spec.name}: {n_ok} ok, {n_bad} failed or timed out, {n_missing} not "
            f"run; table {Path(args.out) / 'cases.parquet'}"
        )
    if args.report:
        from microgrid.sweeps.report import sweep_report

        print(f"report {sweep_report(args.out)}")
    return 0 if n_ok == len(spec.cases) else 1


def cmd_sweep_report(args: argparse.Namespace) -> int:
    from microgrid.sweeps.report import sweep_report

    print(f"report {sweep_report(args.out_dir)}")
    return 0


def add_sweep_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a sweep of scenario variants (resumable; local processes or Dask)",
        description="Run every case of a sweep spec not yet done in --out. Re-running "
        "the same command resumes: ok cases are skipped, failed ones retried.",
    )
    p.add_argument("spec", type=Path, help="sweep spec YAML (see docs/sweeps.md)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="sweep output folder: new, empty or an earlier sweep's (resumed)",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on Dask: a scheduler address (tcp://host:8786), a scheduler file "
        "(*.json), or 'local' for a LocalCluster of --workers processes",
    )
    p.add_argument(
        "--timeout-s",
        type=float,
        default=None,
        help="wall-clock limit per case in seconds (default: none)",
    )
    p.add_argument(
        "--no-powerflow",
        action="store_true",
        help="skip each case's AC power flow check (faster): its summary, and so the "
        "sweep's cases table, has no powerflow figures (voltages, line loading)",
    )
    p.add_argument(
        "--no-baselines",
        action="store_true",
        help="skip each case's baselines (asap, carbon-threshold and storage-optimal: "
        "more solves per case): its summary, and so the sweep's cases table, has no "
        "baselines or value_of figures (savings against them)",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="when the cases are done, also write the sweep's report, as `microgrid "
        "sweep-report OUT` does: OUT/report.html and its tables and plots in OUT/report/",
    )
    p.add_argument(
        "--runner",
        default=None,
        metavar="MODULE:FUNCTION",
        help=argparse.SUPPRESS,  # a custom case function (Scenario -> Result), for tests
    )
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "sweep-report",
        help="sensitivity tables, plots and report.html of a sweep folder",
        description="Write the report of a sweep's --out folder from the cases done so "
        "far (an unfinished sweep is marked so): OUT/report.html, with the cases' status, "
        "sensitivity tables and plots, and their CSV and PNG files in OUT/report/.",
    )
    p.add_argument("out_dir", type=Path, help="the sweep's --out folder")
    p.set_defaults(func=cmd_sweep_report)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (`python -m microgrid.sweeps ...`), same exit codes."""
    parser = argparse.ArgumentParser(prog="python -m microgrid.sweeps")
    sub = parser.add_subparsers(dest="command", required=True)
    add_sweep_parsers(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(interrupted_line(exc), file=sys.stderr)
        return 130
