"""Run a function in a forked child process under a wall-clock limit (`--timeout-s`).

A sweep case with a time limit runs in a child forked from its worker: the child starts
with the worker's imports (warm, `worker.warm_up`) and whatever it does to module state
dies with it. At the limit the child is SIGKILLed. Nothing is raised asynchronously into
library code (which once left a lazy import half-done, so that the worker's later cases
failed in 0.0 s), and the limit covers everything the child does, writing the result and
its record included. Linux and other POSIX systems (fork); the worker process forks from
the thread that runs the case, and only that thread goes on in the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from microgrid.sweeps.stop_flag import stop_case

INTERRUPTED_EXIT = 130  # the child stopped at a Ctrl-C (KeyboardInterrupt)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent `parent_pid` dies.

    Otherwise a pool worker (or a case's child) outlives a killed parent (`kill -9 PID`,
    the out-of-memory killer) and goes on writing into the folder whose lock died with the
    parent, while a re-run may already have started there. Elsewhere: nothing is done.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no prctl (macOS, ...)
        return
    if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent_pid:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class ChildEnd:
    """How the child ended: `sent` its function's return `value`, or was killed at the
    limit (`timed_out`), or died otherwise (`how`: its exit code or signal)."""

    pid: int
    value: Any = None
    sent: bool = False
    timed_out: bool = False
    exit_code: int | None = None  # negative: killed by that signal

    @property
    def interrupted(self) -> bool:
        return self.exit_code == INTERRUPTED_EXIT

    @property
    def how(self) -> str:
        code = self.exit_code
        if code is not None and code < 0:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        return f"exit code {code}"


def run_forked(fn: Callable[[], Any], timeout_s: float) -> ChildEnd:
    """Call `fn()` in a forked child; wait at most `timeout_s` for its return value (sent
    back pickled). The child never outlives this call: at the limit, at an exception here
    (Ctrl-C) or once it has sent its value, it is killed if still there and reaped."""
    reader, writer = multiprocessing.Pipe(duplex=False)
    parent_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        reader.close()
        _child(fn, writer, parent_pid)
    writer.close()
    end = ChildEnd(pid)
    try:
        if reader.poll(timeout_s):  # a value, or the end of the pipe (the child died)
            with contextlib.suppress(EOFError, OSError):
                end.value, end.sent = reader.recv(), True
        else:
            end.timed_out = True
    finally:
        reader.close()
        end.exit_code = _reap(pid)
    return end


def _child(fn: Callable[[], Any], conn: Any, parent_pid: int) -> NoReturn:
    """The child's whole life: it never returns into the code that forked it (a pool's
    or Dask's loop), whatever happens."""
    code = 1
    try:
        die_with_parent(parent_pid)
        # Ctrl-C stops the case (no record); a sweep that ignores SIGINT keeps ignoring it.
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, stop_case)  # noted: see stop_flag
        conn.send(fn())
        code = 0
    except KeyboardInterrupt:
        code = INTERRUPTED_EXIT
    except BaseException:  # e.g. the record could not be written: say why, on stderr
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def _reap(pid: int) -> int:
    """SIGKILL the child if it still runs, wait for it; its exit code (< 0: signal)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # a child that has exited is a zombie: no effect
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
