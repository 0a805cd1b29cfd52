"""The `microgrid export` sub-command's arguments, light enough for `microgrid --help`.

The export itself (`microgrid.export.cli.run_export`) loads the scenario schema and pandas;
it is imported when the command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microgrid.errors import InputError

TARGETS = ("slurm", "kubernetes", "json", "csv")


def add_export_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="export a result's job schedule (JSON, CSV, Slurm scripts, Kubernetes Jobs)",
        description="Export the training-job schedule of a result directory.",
    )
    p.add_argument(
        "result_dir", type=Path, metavar="RESULT_DIR", help="a `microgrid run` result folder"
    )
    p.add_argument(
        "--to",
        required=True,
        choices=TARGETS,
        help="slurm (batch scripts), kubernetes (suspended Jobs), json (schedule.json) or csv "
        "(schedule.csv)",
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder: new, empty or an earlier export (replaced whole); "
        "json/csv: may name the .json/.csv file itself, then only that file is written",
    )
    _add_target_options(p)
    p.set_defaults(func=_run_export)
    return p


def _add_target_options(p: argparse.ArgumentParser) -> None:
    """The options of the Slurm and Kubernetes exports."""
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
    p.add_argument(
        "--image",
        default=None,
        help="kubernetes (required there): the container image that runs each job's command, "
        "e.g. registry.example.com/train:1.4",
    )
    p.add_argument(
        "--namespace",
        default=None,
        help="kubernetes: the Jobs' metadata.namespace (default: none, the namespace they are "
        "applied to)",
    )
    p.add_argument(
        "--one-file", action="store_true", help="kubernetes: one multi-document jobs.yaml"
    )


def _run_export(args: argparse.Namespace) -> int:
    if args.to == "kubernetes" and args.image is None:  # a usage error: before any loading
        raise InputError(
            "--to kubernetes needs --image IMAGE (the container image that runs each job's command)"
        )
    # imported here, not at the top: building the parser must not load pandas (--help)
    from microgrid.export.cli import run_export

    return run_export(args)
