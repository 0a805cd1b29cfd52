"""One sweep at a time per output folder: an exclusive `flock` on `out/.sweep.lock`."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from microgrid.errors import InputError


@contextlib.contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """Hold the folder's lock, or raise InputError at once if another sweep holds it (the
    kernel drops the lock with the process: a killed sweep leaves no stale lock)."""
    f = open(out / ".sweep.lock", "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                "another sweep is running on this output folder", path=str(out)
            ) from None
        yield
    finally:
        f.close()
