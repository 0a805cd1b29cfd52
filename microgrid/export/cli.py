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

from microgrid.atomic import clean_dead_temps
from microgrid.errors import InputError, one_line
from microgrid.export.kubernetes import KubernetesOptions, export_kubernetes
from microgrid.export.result_reader import ResultInputs, load_result
from microgrid.export.safe_io import OutputDir
from microgrid.export.schedule import (
    CSV_COLUMNS,
    CSV_COLUMNS_1_0,
    Schedule,
    schedule_csv,
    schedule_json,
    write_schedule,
    write_schedule_csv,
)
from microgrid.export.slurm import SlurmOptions, SubmitError, export_slurm, submit
from microgrid.resultdir import (
    MARKER_NAME,
    MAX_NAME_BYTES,
    absolute_target,
    check_target,
    file_above,
)
from microgrid.wall_time import known_timezone

#: The exit code of ``export --submit`` when sbatch is missing or refuses a script.
SUBMIT_FAILED = 4


def _written_by_us(path: Path) -> bool:
    """A schedule file this exporter wrote: JSON starting with its schema_version, CSV
    with its header line, of schema 1.1 or 1.0 (only the first bytes are read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    if path.suffix.lower() == ".json":
        return head.startswith('{\n  "schema_version": ')
    return head.split("\n", 1)[0] in (",".join(CSV_COLUMNS), ",".join(CSV_COLUMNS_1_0))


def check_file_target(path: Path) -> None:
    """`--out FILE`: a new file, or one an earlier export wrote; never a link, a folder
    or any other file."""
    path = absolute_target(path)  # refuses control characters and over-long paths
    if len(os.fsencode(path.name)) > MAX_NAME_BYTES:
        raise InputError(f"--out file name is longer than {MAX_NAME_BYTES} bytes", path=str(path))
    if path.is_symlink():
        raise InputError("--out is a symbolic link; nothing was written", path=str(path))
    if not path.exists():
        blocker = file_above(path)
        if blocker is not None:
            raise InputError(
                f"--out is below {blocker}, which is a file; nothing was written", path=str(path)
            )
        return
    if not path.is_file():
        raise InputError("--out exists and is not a file; nothing was written", path=str(path))
    if not _written_by_us(path):
        raise InputError(
            "--out is an existing file that microgrid export did not write; give a new "
            "file name, nothing was written",
            path=str(path),
        )


# the file each schedule format writes: its name in a folder, its suffix as `--out FILE`
SCHEDULE_FILES = {"json": "schedule.json", "csv": "schedule.csv"}


def _file_target(args: argparse.Namespace) -> Path | None:
    """The file `--out` names (`--to json --out plan.json`, `--to csv --out plan.csv`), or
    None when it names a folder; refuses a schedule file name of the other format."""
    target = Path(args.out)
    suffix = target.suffix.lower()
    if args.to not in SCHEDULE_FILES or suffix not in (".json", ".csv"):
        return None
    if suffix != Path(SCHEDULE_FILES[args.to]).suffix:
        raise InputError(
            f"--to {args.to} writes a .{args.to} file but --out names a {suffix} file; give a "
            f".{args.to} name, a folder, or --to {suffix[1:]}",
            path=str(target),
        )
    return target


def _check_out(args: argparse.Namespace) -> Path | None:
    """Refuse a bad --out before the result is read (folders are checked again when
    written); the file it names, if it names one."""
    target = _file_target(args)
    if target is None:
        check_target(Path(args.out), "export", inputs=[args.result_dir])
    else:
        check_file_target(target)
    return target


def _write_file(schedule: Schedule, target: Path, to: str) -> None:
    """`--out FILE`: the schedule in format `to`, atomically; nothing else is written."""
    write = write_schedule if to == "json" else write_schedule_csv
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_dead_temps(target)  # what a killed export of this file left
        write(schedule, target)
    except OSError as exc:
        raise InputError(f"cannot write --out: {exc.strerror or exc}", path=str(target)) from None
    print(f"wrote {absolute_target(target)} ({schedule.n_segments} segments)")


def _print_folder(root: Path, what: str) -> None:
    """`wrote WHAT to ROOT:` and every file the export wrote there, one path a line (the
    folder holds exactly them, and its marker, which says microgrid wrote it)."""
    files = sorted(p for p in root.iterdir() if p.name != MARKER_NAME)
    print(f"wrote {what} to {root}:")
    for path in files:
        print(f"  {path}")


def _export_kubernetes(schedule: Schedule, args: argparse.Namespace) -> int:
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
    _print_folder(res.out, f"{len(res.names)} suspended Job manifest(s)")
    return 0


def _export_slurm(inputs: ResultInputs, args: argparse.Namespace) -> int:
    schedule = inputs.schedule
    settings = inputs.export.slurm
    if args.timezone is not None:
        settings = settings.model_copy(update={"timezone": args.timezone})
    opts = SlurmOptions.from_settings(
        settings, schedule.site_timezone, request_gpus=False if args.no_gpus else None
    )
    res = export_slurm(schedule, args.out, opts, plan_notes=inputs.notes)
    for note in res.notes:  # the plan's (unfinished jobs) first, then the scripts' own
        print(f"note: {note}", file=sys.stderr)
    _print_folder(res.out, f"{len(res.scripts)} batch script(s) and submit.sh")
    if not args.submit:
        return 0
    try:
        ids = submit(res.out)
    except SubmitError as exc:
        # Slurm's refusal (often several lines): one line, and its own exit code, since
        # neither the input nor this program is at fault; the scripts stay written
        print(one_line(f"error: {exc} ({len(exc.submitted)} submitted before)"), file=sys.stderr)
        return SUBMIT_FAILED
    except FileNotFoundError as exc:
        print(one_line(f"error: sbatch not found: {exc}"), file=sys.stderr)
        return SUBMIT_FAILED
    print(f"submitted {len(ids)} segment(s); Slurm job ids in {res.out / 'submitted_jobs.tsv'}")
    return 0


def _check_target_options(args: argparse.Namespace) -> None:
    """An option of another target is refused, not quietly ignored (--submit and
    --timezone belong to Slurm; --image, --namespace and --one-file to Kubernetes; --no-gpus
    to both); an empty or unknown zone is refused, not quietly replaced by the scenario's."""
    given = {
        "--submit": args.submit,
        "--timezone": args.timezone is not None,
        "--image": args.image is not None,
        "--namespace": args.namespace is not None,
        "--one-file": args.one_file,
        "--no-gpus": args.no_gpus,
    }
    for option, targets in _TARGET_OPTIONS.items():
        if given[option] and args.to not in targets:
            raise InputError(f"{option} only applies to --to {' or '.join(targets)}")
    if args.timezone is not None:
        try:
            known_timezone(args.timezone)
        except (ValueError, TypeError) as exc:
            raise InputError(f"--timezone: {exc}") from None


#: the targets each option applies to
_TARGET_OPTIONS = {
    "--submit": ("slurm",),
    "--timezone": ("slurm",),
    "--image": ("kubernetes",),
    "--namespace": ("kubernetes",),
    "--one-file": ("kubernetes",),
    "--no-gpus": ("slurm", "kubernetes"),
}


def _print_notes(notes: tuple[str, ...]) -> None:
    """`note: ...` on stderr, as Slurm's notes are printed: the plan's notes (unfinished
    jobs) for the formats that have no manifest to list them in."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def run_export(args: argparse.Namespace) -> int:
    _check_target_options(args)
    target = _check_out(args)
    inputs = load_result(args.result_dir)
    schedule = inputs.schedule
    if args.to != "slurm":  # Slurm prints them with its own, and lists them in its manifest
        _print_notes(inputs.notes)
    if target is not None:
        _write_file(schedule, target, args.to)
        return 0
    if args.to in SCHEDULE_FILES:
        od = OutputDir(args.out, inputs=[args.result_dir])
        text = schedule_json(schedule) if args.to == "json" else schedule_csv(schedule)
        od.write_all({SCHEDULE_FILES[args.to]: text})
        _print_folder(od.root, f"the schedule ({schedule.n_segments} segments)")
        return 0
    if args.to == "kubernetes":
        return _export_kubernetes(schedule, args)
    return _export_slurm(inputs, args)
