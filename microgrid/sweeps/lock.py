"""One sweep at a time per output folder: an exclusive `flock` on `out/.sweep.lock`."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from microgrid.errors import InputError

LOCK_NAME = ".sweep.lock"


@contextlib.contextmanager
def sweep_lock(out: Path, run_id: str) -> Iterator[None]:
    """Hold the folder's lock, or raise InputError at once if another sweep holds it (the
    kernel drops the lock with the process: a killed sweep leaves no stale lock).

    While held, the file names the run (`run_id`), and it is emptied before the lock is
    let go: a case still running where the driver cannot stop it (a Dask worker after a
    Ctrl-C) sees that its run has ended and writes nothing (`run_is_current`)."""
    f = open(out / LOCK_NAME, "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                "another sweep is running on this output folder", path=str(out)
            ) from None
        _write(f, run_id)
        try:
            yield
        finally:
            _write(f, "")
    finally:
        f.close()


def _write(f, text: str) -> None:
    f.seek(0)
    f.truncate()
    f.write(text)
    f.flush()


def run_is_current(out: Path, run_id: str) -> bool:
    """False where the folder's lock names another run or none (the run that started
    this case has ended); True where it names this one, or cannot be read (a worker
    that does not share the folder: the driver writes what it returns)."""
    try:
        return (out / LOCK_NAME).read_text() == run_id
    except OSError:
        return True
