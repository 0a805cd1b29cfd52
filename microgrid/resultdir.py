"""Output folders we own: the marker file, the refusal rules and the crash-safe swap.

Every folder microgrid writes (run result, Pareto front, sweep, export) carries
`.microgrid-result.json` (format name, format version, kind). A command replaces or
writes into an existing folder only if it is empty or carries the marker of its own
kind; the current folder, the home folder, `/` and any folder above an input file are
never replaced, marker or not. A symbolic link at `--out` is refused (a swap would
otherwise act on whatever it points to).

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
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from microgrid.atomic import atomic_write_text
from microgrid.errors import InputError

MARKER_NAME = ".microgrid-result.json"
FORMAT_NAME = "microgrid-result"
FORMAT_VERSION = 1
KINDS = ("run", "pareto", "sweep", "export", "headroom", "sizing")
# temp names add ~30 characters; NAME_MAX is 255 bytes on common file systems
MAX_NAME_BYTES = 200
MAX_PATH_BYTES = 4000  # below PATH_MAX (4096 on Linux)
_MARKER_READ_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Result folders written before the marker existed: only these names, summary.json among
# them, so no user file is ever inside one.
_LEGACY_RUN_FILES = frozenset(
    {
        "timeseries.csv",
        "timeseries.parquet",
        "jobs.csv",
        "jobs_spec.json",
        "summary.json",
        "violations.csv",
        "scenario.yaml",
        "dispatch.png",
        "voltage.png",
        "swings.png",
        "planned_vs_actual.csv",
        "events.csv",
        "swings_profile.csv",
    }
)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# errno values meaning "this kernel or file system cannot exchange": use the fallback
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


# ---------------------------------------------------------------------------------------
# The marker


def marker_text(kind: str) -> str:
    """The marker's JSON text; no time or pid in it, so two writes of one result match."""
    doc = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": kind}
    return json.dumps(doc, indent=2) + "\n"


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


def ensure_marker(folder: Path, kind: str) -> None:
    """Give an existing folder of ours (a sweep folder being resumed) its marker."""
    if read_marker(folder) is None:
        atomic_write_text(Path(folder) / MARKER_NAME, marker_text(kind))


def _is_legacy(folder: Path, kind: str) -> bool:
    """A folder of `kind` written before markers existed (see `_LEGACY_RUN_FILES`; a sweep
    folder has its sweep.json and records/)."""
    if kind == "sweep":
        return (folder / "sweep.json").is_file() and (folder / "records").is_dir()
    if kind != "run":
        return False
    names = {p.name for p in folder.iterdir()}
    regular = all((folder / n).is_file() and not (folder / n).is_symlink() for n in names)
    return "summary.json" in names and names <= _LEGACY_RUN_FILES and regular


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
        p = Path(given).resolve()
        if real in p.parents:
            return f"holds the input {given}"
        if real == p and p.is_dir():
            return f"is the input folder {given}"
    return None


def check_target(
    out: str | os.PathLike, kind: str, inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Refuse (InputError) a target that `kind` may not replace or write into; return it
    absolute. Allowed: a path that does not exist, an empty folder, a folder with the
    marker of `kind`. `inputs`: files and folders read by the command (their folders and
    every folder above them are never replaced)."""
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
    if not target.exists():
        blocker = next((p for p in target.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise _refuse(target, f"is below {blocker}, which is a file")
        return target
    if not target.is_dir():
        raise _refuse(target, "exists and is not a folder")
    if not any(target.iterdir()):
        return target
    marker = read_marker(target)
    if marker is None:
        if _is_legacy(target, kind):
            return target
        raise _refuse(
            target,
            f"is a folder that microgrid did not write (no {MARKER_NAME}) and is not empty: "
            "give a new or empty folder",
        )
    if marker.get("kind") != kind:
        raise _refuse(target, f"is a microgrid folder of kind {marker.get('kind')!r}, not {kind!r}")
    return target


# ---------------------------------------------------------------------------------------
# Leftovers of killed writers


def _leftover_pattern(out: Path) -> re.Pattern:
    host = re.escape(_HOST)
    return re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-(\d+)@{host}-[A-Za-z0-9_]+")


# The host in leftover names: letters, digits, `.` and `-` only (it is part of a file name).
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"


def _writer_tag() -> str:
    """`PID@HOST-X`: who writes a temp folder, and a random part so names never clash."""
    return f"{os.getpid()}@{_HOST}-{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _is_ours(folder: Path) -> bool:
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
        if m and not _pid_alive(int(m.group(2))) and _is_ours(p):
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
    `fill` leaves `out` as it was. OS errors (no space, no permission) become one-line
    InputErrors naming the folder."""
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
    try:
        _create_marker(tmp, kind)
        fill(tmp)
        if target.is_dir():  # an empty or pre-marker folder: marked, so that once swapped
            ensure_marker(target, kind)  # out, a kill leaves it restorable and removable
        sync_tree(tmp)
        replace_dir(tmp, target)
        sync_folder(target.parent)
    except BaseException:
        if tmp.is_dir():
            discard(tmp)
        raise


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
