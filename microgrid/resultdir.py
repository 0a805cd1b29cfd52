"""Output folders we own: the marker file, the refusal rules and the crash-safe swap.

Every folder microgrid writes (run result, Pareto front, sweep, export) carries
`.microgrid-result.json` (format name, format version, kind). A command replaces or
writes into an existing folder only if it is empty or carries the marker of its own
kind. A folder without the marker is never taken for a run result, whatever its file
names (the rule that took one holding only result file names, for run folders written
before the marker, took users' folders too); a sweep folder from before the marker is,
for the spec its sweep.json describes (microgrid.sweeps.runner checks that). The current
folder, the home folder, `/`, every input file and every folder above one (a scenario's
data files too: `scenario_inputs`) are never replaced, marker or not. A symbolic link at
`--out` is refused (a swap would otherwise act on whatever it points to). A folder is
created and removed where the result will be built when the target is checked, so one
that cannot be written is refused before any solve.

Replacing a folder is built beside it and swapped in so that, after a SIGKILL at any
instant, `--out` holds the complete old result or the complete new one:

- Linux: `renameat2(RENAME_EXCHANGE)` swaps the two folders in one step; the old tree,
  now at the temp name, is then removed.
- elsewhere (or a file system without it): old -> `.NAME.old-PID@HOST-X`, new -> NAME, then
  the old one is renamed to the temp name and removed. A kill between the first two
  renames leaves no NAME; `recover` at the start of the next write renames the
  `.old-` folder back.

Names of the folders beside NAME: `.NAME.tmp-PID@HOST-X` (being built, or an old tree
being removed: garbage once PID is dead on HOST) and `.NAME.old-PID@HOST-X` (a complete old
result). Only this host's leftovers are judged: on storage shared by several hosts a pid
says nothing about another host's writer.
Trees are removed with the marker last, so a half-removed one still carries it.

Ctrl-C (SIGINT) while a folder is built stops the write and leaves `--out` as it was;
once the swap starts it is held until the swap and the old tree's removal are done, then
raised as `ResultWritten` (the result is complete). Every SIGINT in `write_dir` is
recorded, so one that Python drops (raised in a destructor or a weakref callback, where
exceptions are only printed) still stops the write before the swap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from microgrid.atomic import WRITER_HOST, atomic_write_text, is_dead_temp, pid_alive
from microgrid.errors import InputError

if TYPE_CHECKING:  # only for the annotation: this module stays below the scenario's
    from microgrid.scenario import Scenario

MARKER_NAME = ".microgrid-result.json"
FORMAT_NAME = "microgrid-result"
FORMAT_VERSION = 1
KINDS = ("run", "pareto", "sweep", "export", "headroom", "sizing")
# temp names add ~30 characters; NAME_MAX is 255 bytes on common file systems
MAX_NAME_BYTES = 200
MAX_PATH_BYTES = 4000  # below PATH_MAX (4096 on Linux)
# a marker lists at most this many names (about 60 KB), so it stays within a bounded read
MAX_LISTED_ENTRIES = 1000
_MARKER_READ_BYTES = 256 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Kinds written into in place (a sweep resumes), not built beside and swapped in.
IN_PLACE_KINDS = ("sweep",)
# `export --submit`'s record of the Slurm job ids (microgrid.export.slurm.SUBMITTED)
SUBMITTED_NAME = "submitted_jobs.tsv"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# errno values meaning "this kernel or file system cannot exchange": use the fallback
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


# ---------------------------------------------------------------------------------------
# The marker


def marker_text(kind: str, entries: list[str] | None = None) -> str:
    """The marker's JSON text; no time or pid in it, so two writes of one result match.
    `entries`: the names the folder was written with (`_check_replaceable` refuses to
    replace a folder that has gained others: a user's, or another command's)."""
    doc: dict = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": kind}
    if entries is not None:
        doc["entries"] = entries
    return json.dumps(doc, indent=2) + "\n"


def record_entries(folder: Path, kind: str) -> None:
    """Rewrite the marker of a folder just filled with the names it holds (atomically:
    the folder carries a marker throughout). A folder of more than MAX_LISTED_ENTRIES
    (a large export) lists none, and is replaced as before the lists."""
    names = sorted(p.name for p in folder.iterdir() if p.name != MARKER_NAME)
    listed = names if len(names) <= MAX_LISTED_ENTRIES else None
    atomic_write_text(folder / MARKER_NAME, marker_text(kind, listed))


def add_entry(folder: Path, name: str) -> None:
    """Add `name` (a file a later command wrote into the folder: `microgrid report`'s
    page) to the marker's list, if it has one."""
    marker = read_marker(folder)
    entries = None if marker is None else marker.get("entries")
    if isinstance(entries, list) and name not in entries:
        kind = str(marker.get("kind"))
        atomic_write_text(folder / MARKER_NAME, marker_text(kind, sorted([*entries, name])))


def foreign_entries(folder: Path, marker: dict) -> list[str]:
    """The names in `folder` its marker does not list (none without a list)."""
    entries = marker.get("entries")
    if not isinstance(entries, list):
        return []
    known = {*entries, MARKER_NAME}
    # a killed writer's temp file (microgrid.atomic) goes with the folder: it is ours
    return sorted(
        p.name for p in folder.iterdir() if p.name not in known and not is_dead_temp(p.name)
    )


def _create_marker(folder: Path, kind: str) -> None:
    """Create the marker in a fresh folder with one `write` call: a kill leaves the file
    complete or empty, and either way the folder is recognisable as ours."""
    fd = os.open(folder / MARKER_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, marker_text(kind).encode())
    finally:
        os.close(fd)


def read_marker(folder: Path) -> dict | None:
    """The marker of `folder` as a dict, or None if it has none (or not one of ours)."""
    path = Path(folder) / MARKER_NAME
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read(_MARKER_READ_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return None
    return doc


def check_run_marker(folder: Path) -> None:
    """Raise an InputError unless `folder`'s marker names a run result of the format
    version this code reads (what `export` and `report` read). A folder without a marker
    passes (its files are checked one by one by the reader); a marker file that is not ours
    (damaged, a link) is refused, as its kind and version are unknown."""
    marker = read_marker(folder)
    path = Path(folder) / MARKER_NAME
    if marker is None:
        if os.path.lexists(path):
            raise InputError("not a readable microgrid result marker", path=str(path))
        return
    kind = marker.get("kind")
    if kind != "run":
        known = isinstance(kind, str) and kind in KINDS
        what = f"its marker names kind {kind!r}"
        if known:
            what = f"this folder holds a microgrid {kind} result"
        raise InputError(f"{what}, not a `microgrid run` result", path=str(path), field="kind")
    version = marker.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:  # bool and 1.0 are not 1
        raise InputError(
            f"result format version {version!r}: this microgrid reads version "
            f"{FORMAT_VERSION} only (written by another microgrid version?)",
            path=str(path),
            field="format_version",
        )


def ensure_marker(folder: Path, kind: str) -> None:
    """Give an existing folder of ours (a sweep folder being resumed) its marker."""
    if read_marker(folder) is None:
        atomic_write_text(Path(folder) / MARKER_NAME, marker_text(kind))


def _is_legacy(folder: Path, kind: str) -> bool:
    """A sweep folder written before markers existed: its sweep.json and records/ (the
    sweep checks that sweep.json describes its own spec before it writes anything)."""
    return kind == "sweep" and (folder / "sweep.json").is_file() and (folder / "records").is_dir()


def is_folder_of(folder: Path, kind: str) -> bool:
    """Whether `folder` is a folder microgrid wrote as `kind` (marker, or from before it)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    marker = read_marker(folder)
    return marker.get("kind") == kind if marker else _is_legacy(folder, kind)


# ---------------------------------------------------------------------------------------
# Which targets may be replaced


def absolute_target(out: str | os.PathLike) -> Path:
    """`out` made absolute with its parent resolved, the last part kept as given (so a
    symbolic link at `out` is seen as a link, not followed). Refuses control characters
    (a NUL cannot reach the OS; a newline would split messages) and over-long paths."""
    text = os.fspath(out)
    if _CONTROL.search(str(text)):
        raise _refuse(Path(text), "contains a control character (NUL, newline, ...)")
    if len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise _refuse(Path(text), f"is longer than {MAX_PATH_BYTES} bytes")
    path = Path(os.path.abspath(text))
    try:
        return path.parent.resolve() / path.name if path.name else path
    except OSError as exc:  # a part too long, a link loop, ...
        raise _refuse(path, f"cannot be used ({exc.strerror or exc})") from None


def _refuse(out: Path, why: str) -> InputError:
    return InputError(f"--out {why}; nothing was written", path=str(out))


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return None


def scenario_inputs(scenario: Scenario) -> list[Path]:
    """Every file a scenario reads: its YAML (when it came from one) and each file it names
    (prices, carbon, weather, jobs, tariffs, coincident peaks, DR events, ...: every path
    field, found by walking the scenario so that a new one is covered), resolved as the
    scenario resolves them. No output folder may be, or hold, any of them."""
    own = [Path(scenario.source_path)] if scenario.source_path is not None else []
    return own + scenario_data_files(scenario)


def scenario_data_files(scenario: Scenario) -> list[Path]:
    """The files a scenario names (not its YAML), resolved as the scenario resolves them."""
    return [scenario.resolve(p) for p in _paths_in(scenario.model_dump())]


def _paths_in(value: object) -> list[Path]:
    """The `Path` values in nested dicts and lists (a dumped scenario)."""
    if isinstance(value, Path):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _paths_in(v)]
    return []


def _locations(given: str | os.PathLike) -> set[Path]:
    """Where an input is: its real file, and the link to it if it is a symbolic link (a
    folder holding the link holds the input too: replacing it would delete the link).
    `..` is resolved by the file system, not dropped with the part before it (that part
    may be a link)."""
    path = Path(given).absolute()
    try:
        return {path.resolve(), path.parent.resolve() / path.name}
    except (OSError, RuntimeError):  # a link loop, a part too long: as given
        return {Path(os.path.abspath(given))}


def _protected_reason(real: Path, inputs: Iterable[str | os.PathLike]) -> str | None:
    """Why `real` (a resolved path) may never be replaced, or None."""
    if real == Path(real.anchor):
        return "is the root folder"
    if real == _home():
        return "is your home folder"
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        return "is the current folder or one above it"
    for given in inputs:
        for p in _locations(given):
            if real in p.parents:
                return f"holds the input {p}"
            if real == p and p.is_dir():
                return f"is the input folder {p}"
    return None


def _check_writable(target: Path, kind: str) -> None:
    """Refuse a target that cannot be written, before any solve: a folder is created and
    removed where the result will be built (beside `target`, in the nearest folder that
    exists; in `target` for a kind written in place), named as a temp folder of ours so
    that, should a kill leave it, the next write removes it."""
    if kind in IN_PLACE_KINDS and target.is_dir():
        where = target
    else:
        where = next(p for p in target.parents if p.is_dir())
    probe = where / f".{target.name}.tmp-{_writer_tag()}"
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        raise InputError(
            f"cannot write the output folder: {exc.strerror or exc}; nothing was written",
            path=str(target),
        ) from None


def check_target(
    out: str | os.PathLike, kind: str, inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Refuse (InputError) a target that `kind` may not replace or write into, or that
    cannot be written; return it absolute. Allowed: a path that does not exist, an empty
    folder, a folder with the marker of `kind`. `inputs`: files and folders read by the
    command (never replaced, nor their folders or any folder above them)."""
    if kind not in KINDS:
        raise ValueError(f"unknown result kind {kind!r}")
    target = absolute_target(out)
    if len(target.name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise _refuse(target, f"folder name is longer than {MAX_NAME_BYTES} bytes")
    if target.is_symlink():
        raise _refuse(target, "is a symbolic link (give the folder it points to)")
    reason = _protected_reason(target.resolve(), inputs)
    if reason:
        raise _refuse(target, f"{reason}: it is never replaced")
    _check_replaceable(target, kind)
    _check_writable(target, kind)
    return target


def refuse_links(folder: Path, names: Iterable[str]) -> None:
    """Refuse (InputError) where one of `names` in `folder` is a symbolic link: a folder
    written in place (a sweep, its report) is written only inside itself, never through a
    link to another place."""
    for name in names:
        if (Path(folder) / name).is_symlink():
            raise InputError(
                "is a symbolic link: microgrid never writes through one; nothing was written",
                path=str(Path(folder) / name),
            )


def file_above(target: Path) -> Path | None:
    """The nearest existing folder above a `target` that does not exist, where that is a
    file (`target` cannot be made below it); else None."""
    blocker = next((p for p in target.parents if p.exists()), None)
    return blocker if blocker is not None and not blocker.is_dir() else None


def _check_replaceable(target: Path, kind: str) -> None:
    """Refuse an existing `target` that is not empty and not a folder of `kind`."""
    if not target.exists():
        blocker = file_above(target)
        if blocker is not None:
            raise _refuse(target, f"is below {blocker}, which is a file")
        return
    if not target.is_dir():
        raise _refuse(target, "exists and is not a folder")
    if not any(target.iterdir()):
        return
    marker = read_marker(target)
    if marker is None and not _is_legacy(target, kind):
        raise _refuse(
            target,
            f"is a folder that microgrid did not write (no {MARKER_NAME}) and is not empty: "
            "give a new or empty folder",
        )
    if marker is not None and marker.get("kind") != kind:
        raise _refuse(target, f"is a microgrid folder of kind {marker.get('kind')!r}, not {kind!r}")
    foreign = [] if marker is None or kind in IN_PLACE_KINDS else foreign_entries(target, marker)
    if foreign:
        raise _refuse(target, _foreign_reason(foreign))


def _foreign_reason(foreign: list[str]) -> str:
    """Why a folder of ours that has gained entries is not replaced (it would take them)."""
    shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
    if SUBMITTED_NAME in foreign:
        return (
            f"was submitted to Slurm ({SUBMITTED_NAME} records the job ids Slurm accepted): "
            "a new export would submit them again; export to a new folder"
        )
    return (
        f"holds what microgrid did not write there ({shown}): a result folder is replaced "
        "whole; move them out or give another folder"
    )


# ---------------------------------------------------------------------------------------
# Leftovers of killed writers


def _leftover_pattern(out: Path) -> re.Pattern:
    host = re.escape(WRITER_HOST)
    return re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-(\d+)@{host}-[A-Za-z0-9_]+")


def _writer_tag() -> str:
    """`PID@HOST-X`: who writes a temp folder, and a random part so names never clash."""
    return f"{os.getpid()}@{WRITER_HOST}-{uuid.uuid4().hex[:8]}"


def is_our_folder(folder: Path) -> bool:
    """A temp folder of ours: it carries the marker (possibly empty, see `_create_marker`)
    or is empty (killed before the marker was created, or after it was removed)."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    return os.path.lexists(folder / MARKER_NAME) or not any(folder.iterdir())


def remove_tree(folder: Path) -> None:
    """Remove one of our folders, the marker last: a kill part-way leaves a folder that
    still carries the marker (or is empty), which the next `recover` removes."""
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name == MARKER_NAME:
                continue
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
    if os.path.lexists(folder / MARKER_NAME):
        os.unlink(folder / MARKER_NAME)
    os.rmdir(folder)


def discard(folder: Path) -> None:
    """`remove_tree`, best effort: what cannot be removed now (a read-only subfolder) stays
    marked, and the next `recover` tries again; it never fails the command."""
    with contextlib.suppress(OSError):
        remove_tree(folder)


def leftovers(out: Path) -> list[tuple[str, Path]]:
    """(`tmp` or `old`, path) of the folders beside `out` left by writers that are dead."""
    pattern = _leftover_pattern(out)
    found = []
    if not out.parent.is_dir():
        return found
    for p in out.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if m and not pid_alive(int(m.group(2))) and is_our_folder(p):
            found.append((m.group(1), p))
    return found


def recover(out: Path) -> None:
    """Undo what a killed writer left beside `out`: if `out` is missing, restore the
    newest moved-aside old result; remove every other leftover."""
    found = leftovers(out)
    old = [p for kind, p in found if kind == "old" and read_marker(p) is not None]
    if old and not os.path.lexists(out):
        newest = max(old, key=lambda p: p.stat().st_ctime)
        os.rename(newest, out)
        found = [(k, p) for k, p in found if p != newest]
    for _, p in found:
        discard(p)


# ---------------------------------------------------------------------------------------
# The swap


def _load_renameat2() -> Callable | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28 (macOS, musl, ...)
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux `renameat2`); False if not supported
    here, so the caller falls back."""
    if _RENAMEAT2 is None:
        return False
    rc = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_aside(tmp: Path, out: Path) -> None:
    """Fallback swap: old aside, new in, old to the temp name. Between the first two
    renames `out` is missing; `recover` (or the except below) puts the old one back."""
    old = out.parent / f".{out.name}.old-{_writer_tag()}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    os.rename(old, tmp)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the renames in it survive a power cut (best effort: some file
    systems refuse to fsync a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sync_tree(folder: Path) -> None:
    """fsync every file and folder of a finished result before it is swapped in: after a
    power cut `--out` then holds the old result or the complete new one, as after a kill."""
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        sync_folder(Path(root))


def replace_dir(tmp: Path, out: Path) -> None:
    """Put the finished folder `tmp` at `out` (atomically where the OS allows) and
    remove the old `out`, whose tree ends up at `tmp`."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    if not exchange(tmp, out):
        _swap_aside(tmp, out)
    discard(tmp)


def write_dir(
    out: str | os.PathLike,
    kind: str,
    fill: Callable[[Path], None],
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Build a folder of `kind` with `fill(tmp)` beside `out`, then swap it in; return
    `out` absolute. Refused (InputError) where `check_target` refuses; a failure in
    `fill` (or a Ctrl-C before the swap) leaves `out` as it was; a Ctrl-C once the swap
    has begun is raised as ResultWritten when it is done. OS errors (no space, no
    permission) become one-line InputErrors naming the folder."""
    target = check_target(out, kind, inputs)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        check_target(target, kind, inputs)  # recover may have put a folder back at `out`
        # os.mkdir, not mkdtemp: the folder gets the user's umask (mkdtemp makes it 0700)
        tmp = target.parent / f".{target.name}.tmp-{_writer_tag()}"
        os.mkdir(tmp)
        _build_and_swap(tmp, target, kind, fill)
    except OSError as exc:
        raise InputError(
            f"cannot write the output folder: {exc.strerror or exc}", path=str(target)
        ) from None
    return target


def _build_and_swap(tmp: Path, target: Path, kind: str, fill: Callable[[Path], None]) -> None:
    with _sigint_guard() as guard:
        try:
            _create_marker(tmp, kind)
            fill(tmp)
            record_entries(tmp, kind)
            if target.is_dir():  # an empty folder: marked, so that once swapped out, a
                ensure_marker(target, kind)  # kill leaves it restorable and removable
            sync_tree(tmp)
            guard.hold()
            replace_dir(tmp, target)
            sync_folder(target.parent)
        except InputError as exc:
            if tmp.is_dir():
                discard(tmp)
            if not (exc.path and exc.path.startswith(str(tmp))):
                raise
            # a file of the folder being built: named where it was going, as the temp
            # folder is gone
            place = str(target) + exc.path[len(str(tmp)) :]
            message = f"{exc.message}; {target.name} was left as it was"
            raise InputError(message, path=place, line=exc.line, field=exc.field) from None
        except BaseException:
            if tmp.is_dir():
                discard(tmp)
            raise
    if guard.caught:
        raise ResultWritten(target)


def open_dir(out: str | os.PathLike, kind: str, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """A folder of `kind` to write into in place (a sweep, which resumes): checked as in
    `check_target`, created, given its marker; returned absolute."""
    target = check_target(out, kind, inputs)
    try:
        target.mkdir(parents=True, exist_ok=True)
        ensure_marker(target, kind)
    except OSError as exc:
        raise InputError(
            f"cannot write the output folder: {exc.strerror or exc}", path=str(target)
        ) from None
    return target


# ---------------------------------------------------------------------------------------
# Ctrl-C around the swap


class ResultWritten(KeyboardInterrupt):
    """Ctrl-C (SIGINT) that came once the result folder `out` was being swapped in, or
    after it was: the folder is complete (the CLI says so in its `interrupted` line)."""

    def __init__(self, out: Path) -> None:
        super().__init__(str(out))
        self.out = out


def interrupted_line(exc: KeyboardInterrupt) -> str:
    """The CLI's line for a Ctrl-C: `interrupted`, and where the result is if it was
    written (README, "Output folders are never someone else's")."""
    if isinstance(exc, ResultWritten):
        return f"interrupted after the result was written: {exc.out} is complete"
    return "interrupted"


class _SigintGuard:
    """The SIGINT handler while a folder is written: records every SIGINT; raises
    KeyboardInterrupt at once until `hold`, and only records from then on."""

    def __init__(self) -> None:
        self.caught = False
        self.holding = False

    def __call__(self, signum: int, frame: object) -> None:
        self.caught = True
        if not self.holding:
            raise KeyboardInterrupt

    def hold(self) -> None:
        """From here on SIGINT waits; one caught before (and dropped by Python, raised
        where exceptions are only printed) stops the write now."""
        if self.caught:
            raise KeyboardInterrupt
        self.holding = True


@contextlib.contextmanager
def _sigint_guard() -> Iterator[_SigintGuard]:
    """A `_SigintGuard` as the SIGINT handler inside, where Ctrl-C raises KeyboardInterrupt
    (Python's own handler, or an outer guard), in the main thread (the only one that may
    set handlers); elsewhere (a sweep worker's case thread, SIGINT ignored) a guard that
    never sees a signal."""
    guard = _SigintGuard()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main else None
    ours = previous is signal.default_int_handler or isinstance(previous, _SigintGuard)
    if ours:
        signal.signal(signal.SIGINT, guard)
    try:
        yield guard
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def written_to(out: Path) -> Iterator[None]:
    """Around what a command does once its result is in `out` (printing it): a Ctrl-C
    there, or one Python dropped there, becomes ResultWritten(out)."""
    with _sigint_guard() as guard:
        try:
            yield
        except ResultWritten:
            raise
        except KeyboardInterrupt:
            raise ResultWritten(out) from None
    if guard.caught:
        raise ResultWritten(out)
