"""Atomic file writes: a temp file in the target's folder, fsync, then `os.replace`.

A reader (or a crash) sees the old file or the new one, never a torn one. Single files
(sweep records and tables, reports, `export --out FILE`, markers) write through here;
whole folders (result directories, Pareto fronts, exports) through microgrid.resultdir.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Callable[[Path], None], mode: int = 0o644) -> None:
    """Call `write(tmp)` on a temp path beside `path` (same suffix, so writers that infer
    the format from it work), fsync it, then rename it over `path`."""
    tmp = staged_write(path, write, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def staged_write(path: Path, write: Callable[[Path], None], mode: int = 0o644) -> Path:
    """`write(tmp)` on a temp file beside `path`, fsynced, with `mode`: the temp file,
    for the caller to rename over `path` (several files put in place together once all
    are written). Nothing is left where `write` fails."""
    path = Path(path)
    # `.NAME.tmp-PID@HOST-XXXXXXXX.SUFFIX`: hidden, recognisable as a leftover by its
    # ".tmp-", and as a dead writer's by its pid (`clean_dead_temps`)
    prefix = f".{path.name}.tmp-{os.getpid()}@{WRITER_HOST}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


# The host in temp names: letters, digits, `.` and `-` only (it is part of a file name).
WRITER_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temp_name(name_rx: str, suffix_rx: str) -> re.Pattern:
    """`staged_write`'s temp names on this host for file names `name_rx` and suffixes
    `suffix_rx` (regular expressions); group 1 is the writer's pid."""
    return re.compile(rf"\.{name_rx}\.tmp-(\d+)@{re.escape(WRITER_HOST)}-[a-z0-9_]{{8}}{suffix_rx}")


def _dead_writer(pattern: re.Pattern, name: str) -> bool:
    m = pattern.fullmatch(name)
    return m is not None and not pid_alive(int(m.group(1)))


def is_dead_temp(name: str) -> bool:
    """Whether `name` is a temp file of a writer on this host whose process is gone."""
    return _dead_writer(_temp_name(".+", r"(\.[A-Za-z0-9]+)?"), name)


def clean_dead_temps(path: Path) -> None:
    """Remove the temp files a killed writer of `path` left beside it (this host's
    writers whose process is gone); a file of another name, or a link, is left alone."""
    path = Path(path)
    pattern = _temp_name(re.escape(path.name), re.escape(path.suffix))
    with contextlib.suppress(OSError):
        for p in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
            if _dead_writer(pattern, p.name) and p.is_file() and not p.is_symlink():
                p.unlink()


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data), mode)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """UTF-8 text with `\\n` line ends."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def jsonable(x: Any) -> Any:
    """`x` as plain JSON values: numpy scalars unwrapped, NaN and infinities as None (a
    figure with no value), keys and unknown objects as text."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        with contextlib.suppress(Exception):
            x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


def json_text(obj: Any, indent: int = 2) -> str:
    """Indented JSON that every parser reads (no NaN), ending in a newline."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False) + "\n"


def atomic_write_json(path: Path, obj: Any, indent: int = 1) -> None:
    atomic_write_text(path, json_text(obj, indent))
