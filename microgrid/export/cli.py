"""`microgrid export RESULT_DIR --to slurm|kubernetes|json|csv --out PATH [--submit] [--no-gpus]`.

The arguments are in `microgrid.export.parser` (light, for `microgrid --help`);
`run_export(args)` returns the exit code (InputError propagates: the main CLI prints it and
exits 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from microgrid.errors import InputError
from microgrid.export.kubernetes import KubernetesOptions, export_kubernetes
from microgrid.export.result_reader import load_result
from microgrid.export.safe_io import OutputDir
from microgrid.export.schedule import (
    CSV_COLUMNS,
    Schedule,
    schedule_csv,
    schedule_json,
    write_schedule,
    write_schedule_csv,
)
from microgrid.export.slurm import SlurmOptions, SubmitError, export_slurm, submit
from microgrid.resultdir import MAX_NAME_BYTES, absolute_target, check_target


def _written_by_us(path: Path) -> bool:
    """A schedule file this exporter wrote: JSON starting with its schema_version, CSV
    with its header line (only the first bytes are read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    if path.suffix.lower() == ".json":
        return head.startswith('{\n  "schema_version": ')
    return head.split("\n", 1)[0] == ",".join(CSV_COLUMNS)


def check_file_target(path: Path) -> None:
    """`--out FILE`: a new file, or one an earlier export wrote; never a link, a folder
    or any other file."""
    path = absolute_target(path)  # refuses control characters and over-long paths
    if len(os.fsencode(path.name)) > MAX_NAME_BYTES:
        raise InputError(f"--out file name is longer than {MAX_NAME_BYTES} bytes", path=str(path))
    if path.is_symlink():
        raise InputError("--out is a symbolic link; nothing was written", path=str(path))
    if not path.exists():
        return
    if not path.is_file():
        raise InputError("--out exists and is not a file; nothing was written", path=str(path))
    if not _written_by_us(path):
        raise InputError(
            "--out is an existing file that microgrid export did not write; give a new "
            "file name, nothing was written",
            path=str(path),
        )


def _check_out(args: argparse.Namespace) -> bool:
    """Refuse a bad --out before the result is read (folders are checked again when
    written); True if --out names the file itself (`--to json --out schedule.json`, the
    CSV goes beside the JSON)."""
    target = Path(args.out)
    if args.to not in ("json", "csv") or target.suffix.lower() not in (".json", ".csv"):
        check_target(target, "export", inputs=[args.result_dir])
        return False
    check_file_target(target.with_suffix(".csv"))
    if args.to == "json":
        check_file_target(target.with_suffix(".json"))
    return True


def _write_files(schedule: Schedule, target: Path, to: str) -> None:
    """`--out FILE`: the JSON (for --to json) and the CSV beside it, each atomically."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if to == "json":
            write_schedule(schedule, target.with_suffix(".json"))
        write_schedule_csv(schedule, target.with_suffix(".csv"))
    except OSError as exc:
        raise InputError(f"cannot write --out: {exc.strerror or exc}", path=str(target)) from None
    print(f"wrote {target} ({schedule.n_segments} segments)")


def run_export(args: argparse.Namespace) -> int:
    if args.submit and args.to != "slurm":
        raise InputError("--submit only applies to --to slurm")
    to_file = _check_out(args)
    inputs = load_result(args.result_dir)
    schedule = inputs.schedule
    if to_file:
        _write_files(schedule, Path(args.out), args.to)
        return 0
    if args.to in ("json", "csv"):
        od = OutputDir(args.out, inputs=[args.result_dir])
        files = {"schedule.csv": schedule_csv(schedule)}
        if args.to == "json":
            files = {"schedule.json": schedule_json(schedule), **files}
        od.write_all(files)
        print(f"wrote {', '.join(files)} ({schedule.n_segments} segments) to {od.root}")
        return 0
    if args.to == "kubernetes":
        res = export_kubernetes(
            schedule,
            args.out,
            KubernetesOptions(
                image=args.image,
                namespace=args.namespace,
                request_gpus=not args.no_gpus,
                one_file=args.one_file,
            ),
        )
        print(f"wrote {len(res.names)} suspended Job manifest(s) to {res.out}")
        return 0
    settings = inputs.export.slurm
    if args.timezone:
        settings = settings.model_copy(update={"timezone": args.timezone})
    opts = SlurmOptions.from_settings(
        settings, schedule.site_timezone, request_gpus=False if args.no_gpus else None
    )
    res = export_slurm(schedule, args.out, opts)
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(res.scripts)} batch script(s) and submit.sh to {res.out}")
    if args.submit:
        try:
            ids = submit(res.out)
        except SubmitError as exc:
            print(f"error: {exc} ({len(exc.submitted)} submitted before)", file=sys.stderr)
            return 1
        except FileNotFoundError as exc:
            print(f"error: sbatch not found: {exc}", file=sys.stderr)
            return 1
        print(f"submitted {len(ids)} segment(s); Slurm job ids in {res.out / 'submitted_jobs.tsv'}")
    return 0
