"""Slurm export: one batch script per run segment, chained per job, and `submit.sh`.

Each script carries `#SBATCH --begin` (planned start), `--time` (segment duration),
`--deadline` (the job's deadline), `--job-name`, optional GPU request, partition and account,
and runs the job's command with MICROGRID_* environment variables, the segment's power caps
step by step among them (MICROGRID_POWER_PROFILE). Times in `#SBATCH` lines are local wall
time of the cluster's zone (`export.slurm.timezone`, default the site zone); `submit.sh` and
`submit()` run `sbatch` with `TZ` set to that zone. See docs/exports.md for the rule on the
repeated hour when daylight saving time ends.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from microgrid.errors import InputError
from microgrid.export import localtime
from microgrid.export.safe_io import (
    OutputDir,
    atomic_write_text,
    check_job_text,
    refuse_control_chars,
    safe_stem,
)
from microgrid.export.schedule import (
    POWER_FRACTION_OF,
    SCHEMA_VERSION,
    Schedule,
    ScheduledJob,
    Segment,
    check_timezone,
    format_fraction,
    format_utc,
    profile_text,
    schedule_json,
)
from microgrid.resultdir import SUBMITTED_NAME
from microgrid.scenario_settings import SlurmExport, slurm_word

MANIFEST = "slurm-manifest.json"
SUBMIT_SH = "submit.sh"
SUBMITTED = SUBMITTED_NAME
_PLACEHOLDER = re.compile(r"\{(job_id|segment|power_fraction)\}")
_NUMERIC_ID = re.compile(r"^[0-9]+$")
# Linux refuses to start a program with one environment string over 128 KiB
# (MAX_ARG_STRLEN): a longer MICROGRID_POWER_PROFILE would fail the job when it starts
MAX_PROFILE_CHARS = 128_000


class SubmitError(RuntimeError):
    """sbatch failed; `submitted` lists (script, Slurm job id) already accepted."""

    def __init__(self, message: str, submitted: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.submitted = submitted


@dataclass(frozen=True)
class SlurmOptions:
    timezone: str
    partition: str | None = None
    account: str | None = None
    gpus_per_node: int | None = None
    request_gpus: bool = True

    @classmethod
    def from_settings(
        cls, settings: SlurmExport, site_timezone: str, *, request_gpus: bool | None = None
    ) -> SlurmOptions:
        return cls(
            timezone=settings.timezone or site_timezone,
            partition=settings.partition,
            account=settings.account,
            gpus_per_node=settings.gpus_per_node,
            request_gpus=settings.request_gpus if request_gpus is None else request_gpus,
        )


@dataclass
class SlurmExportResult:
    out: Path
    scripts: list[str]
    notes: list[str] = field(default_factory=list)


def render_command(template: str, job_id: str, segment: int, power_fraction: float) -> str:
    """The job's command with `{job_id}`, `{segment}`, `{power_fraction}` substituted
    (the exporters pass the segment's lowest cap, as MICROGRID_POWER_FRACTION).

    Only these three placeholders are replaced (other braces, e.g. `${HOME}`, stay). The
    job id is inserted shell-quoted, so it is one inert word wherever it stands unquoted.
    """
    values = {
        "job_id": shlex.quote(job_id),
        "segment": str(int(segment)),
        "power_fraction": format_fraction(power_fraction),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def bash_quote(value: str) -> str:
    """One shell word for `value` that keeps the script one line per statement: plain
    `shlex.quote`, or bash's `$'...'` with escapes when `value` has control characters."""
    if not re.search(r"[\x00-\x1f\x7f]", value):
        return shlex.quote(value)
    out = []
    for ch in value:
        if ch in ("\\", "'"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


def format_duration(d: timedelta) -> str:
    """Slurm's D-HH:MM:SS, rounded up to the second."""
    total = math.ceil(d.total_seconds())
    if total <= 0:
        raise InputError(f"segment duration must be positive, got {d}")
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}-{h:02d}:{m:02d}:{s:02d}"


def _slurm_word(value: str, what: str) -> str:
    """`value` as the scenario's `export.slurm.<what>` takes it (options may also come
    from Python, not a scenario)."""
    try:
        return slurm_word(value)
    except ValueError as exc:
        raise InputError(f"{what} {exc}", field=f"export.slurm.{what}") from None


def job_name(job_id: str, segment: int) -> str:
    return f"{safe_stem(job_id)}-s{segment}"


def script_name(job_id: str, segment: int) -> str:
    return f"{job_name(job_id, segment)}.sbatch"


def _comment(text: str) -> str:
    """A value safe inside a `#` comment line (control characters are escaped)."""
    return json.dumps(text, ensure_ascii=True)


def _header(schedule: Schedule, job: ScheduledJob, seg: Segment, opts: SlurmOptions) -> list[str]:
    """The comment lines that say what the script is and which plan it carries out."""
    steps = seg.power_fraction_steps or ()
    return [
        "#!/bin/bash",
        f"# Generated by microgrid export (schedule schema {SCHEMA_VERSION}); do not edit.",
        f"# Scenario {_comment(schedule.scenario.name)}, sha256 {schedule.scenario.sha256},"
        f" result {_comment(schedule.result_id)}",
        f"# Job {_comment(job.id)}, segment {seg.segment} of {len(job.segments)} "
        f"(0-based), {seg.gpus} GPUs",
        f"# Power caps: {len(steps)} steps of {seg.step_s} s in MICROGRID_POWER_PROFILE, "
        f"{format_fraction(min(steps))} to {format_fraction(max(steps))} "
        f"(mean {format_fraction(seg.power_fraction_mean)}); MICROGRID_POWER_FRACTION is "
        "the lowest",
        f"# Planned: {format_utc(seg.start_utc)} .. {format_utc(seg.end_utc)} "
        f"({seg.duration_h:.3f} h), throughput {seg.work_done_h:.3f} h (restart overhead "
        f"included), energy {seg.energy_mwh:.3f} MWh",
        f"# Times in #SBATCH lines are local wall time in {opts.timezone} (MICROGRID_TZ);",
        f"# submit with TZ={opts.timezone} (submit.sh does).",
        *("# " + line for line in textwrap.wrap(f"Power fractions are of {POWER_FRACTION_OF}.")),
    ]


def _begin(
    job: ScheduledJob, seg: Segment, opts: SlurmOptions, notes: list[str]
) -> tuple[datetime, list[str]]:
    """The --begin time (the planned start, rounded up out of a repeated hour) and its
    comment lines; a rounding is also added to `notes`."""
    tz = ZoneInfo(opts.timezone)
    begin = localtime.round_up(seg.start_utc, tz)
    lines = [f"# --begin    {localtime.describe(begin, tz)}"]
    if begin != seg.start_utc:
        notes.append(
            f"job {job.id!r} segment {seg.segment}: planned start {format_utc(seg.start_utc)} is "
            f"in the repeated hour in {opts.timezone}; --begin rounded up to "
            f"{localtime.describe(begin, tz)}"
        )
        lines.append(
            "# NOTE: the planned start falls in the repeated hour (end of DST); --begin is "
            "rounded up to the first unambiguous local time."
        )
    return begin, lines


def latest_starts(job: ScheduledJob, tz: ZoneInfo) -> list[datetime]:
    """The latest each segment of `job` may start: its --begin (rounded up out of a
    repeated hour), or the end of the segment before it run for its whole --time from its
    own latest start (submit.sh chains them afterany), whichever is later. A rounded
    --begin thus delays the segments after it too."""
    starts: list[datetime] = []
    for seg in job.segments:
        start = localtime.round_up(seg.start_utc, tz)
        if starts:
            start = max(start, starts[-1] + job.segments[len(starts) - 1].duration)
        starts.append(start)
    return starts


def _deadline(
    job: ScheduledJob, seg: Segment, opts: SlurmOptions, start: datetime, notes: list[str]
) -> tuple[str | None, list[str]]:
    """The `#SBATCH --deadline` line and its comment lines. None without a deadline, or when
    the segment may run past it (from its latest `start` for its whole --time: Slurm would
    remove the job as unable to end in time); a rounding of the deadline (once per job)
    and a segment that may end past it are added to `notes`."""
    if job.deadline_utc is None:
        return None, []
    tz = ZoneInfo(opts.timezone)
    deadline = localtime.round_down(job.deadline_utc, tz)
    rounded = (
        f"job {job.id!r}: deadline {format_utc(job.deadline_utc)} is in the repeated "
        f"hour in {opts.timezone}; --deadline rounded down to "
        f"{localtime.describe(deadline, tz)}"
    )
    if deadline != job.deadline_utc and rounded not in notes:
        notes.append(rounded)
    if deadline >= start + seg.duration:
        line = f"#SBATCH --deadline={localtime.wall(deadline, tz)}"
        return line, [f"# --deadline {localtime.describe(deadline, tz)}"]
    return None, _no_deadline(job, seg, tz, start, deadline, notes)


def _no_deadline(
    job: ScheduledJob,
    seg: Segment,
    tz: ZoneInfo,
    start: datetime,
    deadline: datetime,
    notes: list[str],
) -> list[str]:
    """Why a segment has no --deadline (`deadline`: the job's, rounded down out of a
    repeated hour) and, when a rounded --begin (its own, or one before it in its chain:
    `start` is its latest start) may make it end past the job's real deadline, by how
    much (also added to `notes`)."""
    end = start + seg.duration
    if start == seg.start_utc:
        runs = f"this segment's planned end is {localtime.describe(end, tz)}"
    else:
        after = "the rounded --begin" if seg.segment == 0 else "its latest start in the chain"
        runs = (
            f"from {after}, --time {format_duration(seg.duration)} can run until "
            f"{localtime.describe(end, tz)}"
        )
    rounded = " (rounded down out of the repeated hour)" if deadline != job.deadline_utc else ""
    lines = [
        f"# no --deadline: {runs}, after the job deadline "
        f"{localtime.describe(deadline, tz)}{rounded}"
    ]
    late_min = math.ceil((end - job.deadline_utc).total_seconds() / 60)
    if start != seg.start_utc and late_min > 0:
        notes.append(
            f"job {job.id!r} segment {seg.segment} may end up to {late_min} min past the job's "
            f"deadline {format_utc(job.deadline_utc)}: --begin (its own or a segment's "
            f"before it) was rounded up (repeated hour in {tz.key}), so it may start at "
            f"{format_utc(start)} and with --time the planned duration it can run until "
            f"{format_utc(end)}; no --deadline is set"
        )
        lines.append(
            f"# NOTE: this segment may end up to {late_min} min past the job's deadline "
            "because a --begin was rounded up (its own or one before it in its chain)."
        )
    return lines


def _gpu_request(job: ScheduledJob, seg: Segment, opts: SlurmOptions, notes: list[str]):
    """The GPU request lines: the plan's count exactly. On whole nodes (`gpus_per_node`)
    `--nodes` and `--gres=gpu:G`; where the count is not a whole number of nodes,
    `--nodes` and the total `--gpus` (`--gres` per node would ask for more GPUs than the
    plan's power is for), with a note."""
    per_node = opts.gpus_per_node
    if not per_node:
        return [f"#SBATCH --gpus={seg.gpus}"]
    nodes = math.ceil(seg.gpus / per_node)
    if seg.gpus % per_node == 0 or nodes == 1:
        return [f"#SBATCH --nodes={nodes}", f"#SBATCH --gres=gpu:{min(seg.gpus, per_node)}"]
    note = (
        f"job {job.id!r}: {seg.gpus} GPUs are not a whole number of {per_node}-GPU nodes: "
        f"asked as --nodes={nodes} --gpus={seg.gpus}"
    )
    if note not in notes:
        notes.append(note)
    return [f"#SBATCH --nodes={nodes}", f"#SBATCH --gpus={seg.gpus}"]


def _resources(job: ScheduledJob, seg: Segment, opts: SlurmOptions, notes: list[str]):
    """GPU request, partition and account lines."""
    lines = _gpu_request(job, seg, opts, notes) if opts.request_gpus else []
    if opts.partition:
        lines.append(f"#SBATCH --partition={_slurm_word(opts.partition, 'partition')}")
    if opts.account:
        lines.append(f"#SBATCH --account={_slurm_word(opts.account, 'account')}")
    return lines


def power_env(job: ScheduledJob, seg: Segment) -> dict[str, str]:
    """The segment's power caps as environment variables: MICROGRID_POWER_FRACTION (the
    lowest cap: the one limit that, held for the whole segment, never draws more than the
    plan in any step), MICROGRID_POWER_PROFILE (the cap of each step, comma-separated) and
    MICROGRID_POWER_STEP_S (the step, in seconds)."""
    steps = seg.power_fraction_steps
    if steps is None:
        raise InputError(
            f"job {job.id!r} segment {seg.segment} has no power profile (a schema 1.0 "
            "schedule): export from the result folder, `microgrid export RESULT_DIR ...`"
        )
    profile = profile_text(steps)
    if len(profile) > MAX_PROFILE_CHARS:
        raise InputError(
            f"job {job.id!r} segment {seg.segment}: its power profile ({len(steps)} steps) is "
            f"{len(profile)} characters, more than the {MAX_PROFILE_CHARS} an environment "
            "variable can hold; export it with --to json or --to csv"
        )
    return {
        "MICROGRID_POWER_FRACTION": format_fraction(min(steps)),
        "MICROGRID_POWER_PROFILE": profile,
        "MICROGRID_POWER_STEP_S": str(seg.step_s),
    }


def segment_env(
    schedule: Schedule, job: ScheduledJob, seg: Segment, timezone: str
) -> dict[str, str]:
    """The MICROGRID_* variables a segment's command runs with (Slurm and Kubernetes)."""
    return {
        "MICROGRID_TZ": timezone,
        "MICROGRID_JOB_ID": job.id,
        "MICROGRID_SEGMENT": str(seg.segment),
        **power_env(job, seg),
        "MICROGRID_RESUME": "1" if seg.segment > 0 else "0",
        "MICROGRID_GPUS": str(seg.gpus),
        "MICROGRID_PLANNED_START_UTC": format_utc(seg.start_utc),
        "MICROGRID_PLANNED_END_UTC": format_utc(seg.end_utc),
        "MICROGRID_RESULT_ID": schedule.result_id,
    }


def _body(job: ScheduledJob, seg: Segment, env: dict[str, str]) -> list[str]:
    """The MICROGRID_* environment `env` (``segment_env``) and the job's command."""
    command = render_command(job.command, job.id, seg.segment, min(seg.power_fraction_steps))
    return [
        "",
        "set -euo pipefail",
        *(f"export {k}={shlex.quote(v)}" for k, v in env.items()),
        "# The job's command, one shell-quoted string run by bash -c:",
        f"exec /bin/bash -c {bash_quote(command)}",
        "",
    ]


def render_script(
    schedule: Schedule,
    job: ScheduledJob,
    seg: Segment,
    opts: SlurmOptions,
    notes: list[str],
    latest_start: datetime,
) -> str:
    """The batch script of one segment (`latest_start`: its entry of `latest_starts`);
    DST roundings of its times, and a segment that may end past its job's deadline
    because of one, are added to `notes`."""
    # first: it refuses a segment without a usable power profile
    env = segment_env(schedule, job, seg, opts.timezone)
    tz = ZoneInfo(opts.timezone)
    begin, begin_comments = _begin(job, seg, opts, notes)
    deadline_line, deadline_comments = _deadline(job, seg, opts, latest_start, notes)
    lines = [
        *_header(schedule, job, seg, opts),
        *begin_comments,
        *deadline_comments,
        f"#SBATCH --job-name={job_name(job.id, seg.segment)}",
        f"#SBATCH --begin={localtime.wall(begin, tz)}",
        f"#SBATCH --time={format_duration(seg.duration)}",
    ]
    if deadline_line:
        lines.append(deadline_line)
    lines += _resources(job, seg, opts, notes)
    lines += _body(job, seg, env)
    return "\n".join(lines)


def _check_inputs(schedule: Schedule, opts: SlurmOptions) -> None:
    check_timezone(opts.timezone, field="export.slurm.timezone")
    if opts.partition:
        _slurm_word(opts.partition, "partition")
    if opts.account:
        _slurm_word(opts.account, "account")
    per_node = opts.gpus_per_node
    # a count, as the scenario's export.slurm.gpus_per_node is, for options made in Python
    if per_node is not None and not (
        isinstance(per_node, int) and not isinstance(per_node, bool) and per_node > 0
    ):
        raise InputError(
            f"gpus_per_node must be a whole number >= 1 (got {per_node!r})",
            field="export.slurm.gpus_per_node",
        )
    refuse_control_chars(schedule.scenario.name, what="scenario name", field="scenario.name")
    names: dict[str, str] = {}
    for j in schedule.jobs:
        check_job_text(j.id, j.command)
        stem = safe_stem(j.id)
        if stem in names:  # pragma: no cover - a sha256 prefix collision
            raise InputError(f"job ids {names[stem]!r} and {j.id!r} map to one file name")
        names[stem] = j.id


def render_submit_sh(schedule: Schedule, opts: SlurmOptions) -> str:
    tz = shlex.quote(opts.timezone)
    lines = [
        "#!/bin/bash",
        "# Submit every segment script in this folder to Slurm; segments of one job are",
        "# chained with --dependency=afterany:<previous segment's Slurm job id>.",
        f"# sbatch runs with TZ={opts.timezone}: the #SBATCH times are local wall time there.",
        f"# Slurm job ids are recorded in {SUBMITTED} (script, Slurm job id).",
        "set -euo pipefail",
        'cd -- "$(dirname -- "${BASH_SOURCE[0]}")"',
        f"MICROGRID_TZ={tz}",
        f"ids={SUBMITTED}",
        ': > "$ids"',
        "",
        "submit() {  # submit SCRIPT [PREVIOUS_SLURM_JOB_ID]",
        "  local script=$1 dep=${2:-} out",
        '  if [ -n "$dep" ]; then',
        '    out=$(TZ=$MICROGRID_TZ sbatch --parsable --dependency="afterany:$dep" -- "$script")',
        "  else",
        '    out=$(TZ=$MICROGRID_TZ sbatch --parsable -- "$script")',
        "  fi",
        "  out=${out%%;*}",
        "  case $out in",
        "    ''|*[!0-9]*) echo \"submit.sh: unexpected sbatch output for $script: $out\" >&2;"
        " exit 1 ;;",
        "  esac",
        '  printf \'%s\\t%s\\n\' "$script" "$out" >> "$ids"',
        "  printf '%s\\n' \"$out\"",
        "}",
        "",
    ]
    for j in schedule.jobs:
        if not j.segments:
            continue
        lines.append(f"# job {_comment(j.id)}")
        prev = False
        for s in j.segments:
            name = shlex.quote(script_name(j.id, s.segment))
            lines.append(f'prev=$(submit {name} "$prev")' if prev else f"prev=$(submit {name})")
            prev = True
    lines += ["", 'echo "submitted $(wc -l < "$ids") segment script(s); ids in $ids"', ""]
    return "\n".join(lines)


def export_slurm(
    schedule: Schedule, out: str | Path, opts: SlurmOptions, plan_notes: Sequence[str] = ()
) -> SlurmExportResult:
    """Write one script per segment, submit.sh, slurm-manifest.json and schedule.json.
    `plan_notes` (`ResultInputs.notes`: the jobs the plan leaves unfinished) come first in
    the manifest's and the result's notes, before the scripts' own."""
    _check_inputs(schedule, opts)
    notes: list[str] = list(plan_notes)
    files: dict[str, str] = {}
    modes: dict[str, int] = {}
    manifest_jobs = []
    tz = ZoneInfo(opts.timezone)
    for j in schedule.jobs:
        names = []
        for s, start in zip(j.segments, latest_starts(j, tz), strict=True):
            name = script_name(j.id, s.segment)
            files[name] = render_script(schedule, j, s, opts, notes, start)
            modes[name] = 0o755
            names.append(name)
        manifest_jobs.append({"id": j.id, "scripts": names})
    files[SUBMIT_SH] = render_submit_sh(schedule, opts)
    modes[SUBMIT_SH] = 0o755
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "timezone": opts.timezone,
        "result_id": schedule.result_id,
        "jobs": manifest_jobs,
        "power_fraction_of": POWER_FRACTION_OF,
        "notes": notes,
    }
    files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    files["schedule.json"] = schedule_json(schedule)
    od = OutputDir(out)
    od.write_all(files, modes)
    scripts = [n for n in files if n.endswith(".sbatch")]
    return SlurmExportResult(out=od.root, scripts=scripts, notes=notes)


def submit(
    out_dir: str | Path,
    *,
    sbatch: str = "sbatch",
    env: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Submit an exported folder like submit.sh does; returns (script, Slurm job id) pairs
    in submission order and writes them to submitted_jobs.tsv."""
    od = OutputDir(out_dir)
    manifest_path = od.path(MANIFEST)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{MANIFEST} not found: export with --to slurm first", path=str(manifest_path)
        ) from None
    tz = check_timezone(str(manifest["timezone"]), path=manifest_path, field="timezone")
    run_env = {**os.environ, **(env or {}), "TZ": tz}
    submitted: list[tuple[str, str]] = []

    def record() -> None:
        text = "".join(f"{s}\t{i}\n" for s, i in submitted)
        atomic_write_text(od.path(SUBMITTED), text)

    for job in manifest["jobs"]:
        prev: str | None = None
        for script in job["scripts"]:
            od.path(script)  # validates the name: nothing outside the folder
            argv = [sbatch, "--parsable"]
            if prev is not None:
                argv.append(f"--dependency=afterany:{prev}")
            argv += ["--", script]
            r = subprocess.run(argv, cwd=od.root, env=run_env, capture_output=True, text=True)
            slurm_id = r.stdout.strip().split(";")[0]
            if r.returncode != 0 or not _NUMERIC_ID.match(slurm_id):
                record()
                said = " | ".join((r.stderr or r.stdout).strip().splitlines())  # one line
                raise SubmitError(
                    f"sbatch failed for {script} (exit {r.returncode}): {said}", submitted
                )
            submitted.append((script, slurm_id))
            prev = slurm_id
    record()
    return submitted
