"""The `microgrid export` sub-command's arguments, light enough for `microgrid --help`.

The export itself (`microgrid.export.cli.run_export`) loads the scenario schema and pandas;
it is imported when the command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microgrid.export.defaults import DEFAULT_IMAGE

TARGETS = ("slurm", "kubernetes", "json", "csv")


def add_export_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="export a result's job schedule (JSON, CSV, Slurm scripts, Kubernetes Jobs)",
        description="Export the training-job schedule of a result directory.",
    )
    p.add_argument("result_dir", type=Path, metavar="RESULT_DIR")
    p.add_argument("--to", required=True, choices=TARGETS, help="export format")
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder: new, empty or an earlier export (replaced whole); "
        "json/csv: may name the .json/.csv file itself",
    )
    p.add_argument(
        "--submit", action="store_true", help="slurm: submit the scripts with sbatch after export"
    )
    p.add_argument(
        "--no-gpus",
        action="store_true",
        help="do not request GPUs (clusters without gres; Kubernetes: no nvidia.com/gpu limit)",
    )
    p.add_argument(
        "--timezone",
        default=None,
        help="slurm: the cluster's wall-clock zone (default: export.slurm.timezone, else the "
        "site zone)",
    )
    p.add_argument("--image", default=DEFAULT_IMAGE, help="kubernetes: container image")
    p.add_argument("--namespace", default=None, help="kubernetes: metadata.namespace")
    p.add_argument(
        "--one-file", action="store_true", help="kubernetes: one multi-document jobs.yaml"
    )
    p.set_defaults(func=_run_export)
    return p


def _run_export(args: argparse.Namespace) -> int:
    # imported here, not at the top: building the parser must not load pandas (--help)
    from microgrid.export.cli import run_export

    return run_export(args)
