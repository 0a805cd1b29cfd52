"""`microgrid report RUN_DIR [--out FILE]`: the parser, light enough for `microgrid --help`
(the page module loads pandas and plotly; it is imported when the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    # imported here, not at the top: building the parser must not load pandas or plotly
    from microgrid.report_html.page import write_report

    print(f"report {write_report(args.run_dir, args.out)}")
    return 0


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report",
        help="write the HTML report of a run's result folder (one self-contained page)",
        description="Write one self-contained HTML page (plotly.js inline; opens offline) "
        "from a `microgrid run` result folder: headline figures, job schedule, dispatch, "
        "voltages, baselines and, for operate runs, planned vs actual.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a `microgrid run` result folder")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the report's file (default: RUN_DIR/report.html); replaced if it exists",
    )
    p.set_defaults(func=cmd_report)
    return p
