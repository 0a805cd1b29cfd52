"""Atomic file writes: a temp file in the target's folder, fsync, then `os.replace`.

A reader (or a crash) sees the old file or the new one, never a torn one. Single files
(sweep records and tables, reports, `export --out FILE`, markers) write through here;
whole folders (result directories, Pareto fronts, exports) through microgrid.resultdir.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None], mode: int = 0o644) -> None:
    """Call `write(tmp)` on a temp path beside `path` (same suffix, so writers that infer
    the format from it work), fsync it, then rename it over `path`."""
    path = Path(path)
    # `.NAME.tmp-XXXX.SUFFIX`: hidden, recognisable as a leftover by its ".tmp-"
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data), mode)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """UTF-8 text with `\\n` line ends."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)
