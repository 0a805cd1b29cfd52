"""Worker side of a sweep: run one case under its time limit and write its record.

`execute_case(task)` runs in a pool or Dask worker process. It is idempotent within one
sweep run (a record of this run already on disk is returned as is), runs the case function
under a `Deadline`, installs the result directory, then writes the record LAST (see
`microgrid.sweeps.records` for the folder layout and why the order matters).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microgrid.atomic import atomic_write_json, jsonable
from microgrid.errors import InputError
from microgrid.sweeps.records import (
    RECORD_VERSION,
    install_result,
    read_record,
    record_path,
    remove_result,
    utc_now,
)

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}

Runner = Callable[[Any], Any]


class CaseTimeout(BaseException):
    """Raised inside a case that ran past its time limit (BaseException: not swallowed by
    the case's own `except Exception`)."""


@dataclass(frozen=True)
class CaseTask:
    """What a worker needs to run one case (pickled to the worker process)."""

    case_id: str
    index: int
    params: dict
    scenario: Any
    scenario_sha: str
    out: str  # the sweep's output folder, absolute
    run_id: str  # this sweep run: a record with another run_id is from an earlier run
    timeout_s: float | None
    runner: Runner


# ---------------------------------------------------------------------------------------
# Threads and the case function


def limit_threads() -> None:
    """One thread per worker for BLAS/OpenMP (HiGHS already runs with threads=1)."""
    for k, v in THREAD_ENV.items():
        os.environ[k] = v


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this pool worker when the sweep's parent dies.

    Otherwise a worker outlives a killed parent (`kill -9 PID`, the out-of-memory killer)
    and goes on running the cases queued for it into the folder whose lock died with the
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


def init_pool_worker(parent_pid: int) -> None:
    """Initializer of each process-pool worker (`parent_pid`: the sweep's process)."""
    limit_threads()
    die_with_parent(parent_pid)


@contextlib.contextmanager
def thread_env() -> Iterator[None]:
    """Workers inherit the environment when they start, before their imports: one BLAS/OpenMP
    thread each (unless the user set these variables). Restored afterwards."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    for k, v in THREAD_ENV.items():
        os.environ.setdefault(k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def default_runner(scenario: Any, **kwargs: Any) -> Any:
    """The real pipeline: `microgrid.run(scenario, **kwargs)`."""
    # Lazy: the pipeline pulls in pyomo, pandapower and weather models (seconds per process);
    # workers of a sweep with another case function and the CLI must not pay for it.
    from microgrid.pipeline import run

    return run(scenario, **kwargs)


def runner_with_options(
    runner: Runner | str | None, *, powerflow: bool = True, baselines: bool = True
) -> Runner | str | None:
    """The default pipeline without the power flow or the baselines when asked (CLI flags)."""
    options = {k: v for k, v in (("powerflow", powerflow), ("baselines", baselines)) if not v}
    if runner is None and options:
        return functools.partial(default_runner, **options)
    return runner


def resolve_runner(runner: Runner | str | None) -> Runner:
    """A callable, or "module:function" (for the CLI), or None for `microgrid.run`."""
    if runner is None:
        return default_runner
    if callable(runner):
        return runner
    mod, _, fn = str(runner).partition(":")
    if not mod or not fn:
        raise InputError(f"runner {runner!r}: expected module:function")
    try:
        obj = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"runner {runner!r}: {exc}") from None
    if not callable(obj):
        raise InputError(f"runner {runner!r} is not callable")
    return obj


# ---------------------------------------------------------------------------------------
# Deadline


class Deadline:
    """Time limit for the calling thread.

    At `timeout_s` a `CaseTimeout` is raised asynchronously in the case's thread (it lands at
    the next Python bytecode, e.g. when a solver call returns). If the case is still running
    `grace_s` later (stuck in C code), `on_hard()` runs in the watchdog thread: it writes the
    timeout record and SIGKILLs the worker process; the pool or Dask replaces it.
    """

    def __init__(self, timeout_s: float | None, on_hard: Callable[[], None]) -> None:
        self.timeout_s = timeout_s
        self.grace_s = None if timeout_s is None else min(120.0, max(10.0, 0.1 * timeout_s))
        self.on_hard = on_hard
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        self.event = threading.Event()

    def _watch(self) -> None:
        if self.event.wait(self.timeout_s):
            return
        with self.lock:
            if self.done:
                return
            self.fired = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.tid), ctypes.py_object(CaseTimeout)
            )
        if self.event.wait(self.grace_s):
            return
        with self.lock:
            if self.done:
                return
        self.on_hard()

    def __enter__(self) -> Deadline:
        if self.timeout_s is not None:
            self.tid = threading.get_ident()
            threading.Thread(target=self._watch, daemon=True, name="case-deadline").start()
        return self

    def __exit__(self, et, ev, tb) -> bool:
        if self.timeout_s is None:
            return False
        with self.lock:
            self.done = True
            self.event.set()
            if self.fired:  # clear a timeout that has not landed yet
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.tid), None)
        return False


# ---------------------------------------------------------------------------------------
# One case


@dataclass
class _Outcome:
    """How a case ended: status "ok", "failed" or "timeout"."""

    status: str = "ok"
    error: str | None = None
    summary: dict | None = None


def _record_head(task: CaseTask, started_utc: str) -> dict:
    """The fields every record of this case carries, whatever its outcome."""
    return {
        "version": RECORD_VERSION,
        "case_id": task.case_id,
        "index": task.index,
        "params": task.params,
        "scenario_sha": task.scenario_sha,
        "run_id": task.run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_utc": started_utc,
    }


def _hard_timeout(task: CaseTask, head: dict, t0: float) -> Callable[[], None]:
    """The deadline's last resort: write the timeout record, then kill this process."""

    def hard_timeout() -> None:
        rec = {
            **head,
            "status": "timeout",
            "error": f"timed out after {task.timeout_s} s (stuck; worker process killed)",
            "wall_s": time.perf_counter() - t0,
            "finished_utc": utc_now(),
            "summary": None,
        }
        atomic_write_json(record_path(Path(task.out), task.case_id), rec)
        os.kill(os.getpid(), signal.SIGKILL)

    return hard_timeout


def _run_case(task: CaseTask, on_hard: Callable[[], None]) -> _Outcome:
    """Run the case function under the deadline and install its result directory; a
    failed or timed-out case leaves no result directory."""
    cases_dir = Path(task.out) / "cases"
    outcome = _Outcome()
    try:
        with Deadline(task.timeout_s, on_hard):
            result = task.runner(task.scenario)
            outcome.summary = dict(result.summary)
        install_result(result, cases_dir, task.case_id)
    except CaseTimeout:
        outcome.status, outcome.error = "timeout", f"timed out after {task.timeout_s} s"
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}{where}"
    if outcome.status != "ok":
        outcome.summary = None
        with contextlib.suppress(OSError):
            remove_result(cases_dir, task.case_id)
    return outcome


def execute_case(task: CaseTask) -> dict:
    """Run one case in a worker; return its record (also written to records/<id>.json)."""
    limit_threads()
    rec_path = record_path(Path(task.out), task.case_id)
    # Idempotent within one sweep run: Dask re-runs a task whose worker died, possibly
    # after the record was written (e.g. a hard timeout kills its own worker).
    old = read_record(rec_path)
    if old is not None and old.get("run_id") == task.run_id:
        return old
    head = _record_head(task, utc_now())
    t0 = time.perf_counter()
    outcome = _run_case(task, _hard_timeout(task, head, t0))
    rec = {
        **head,
        "status": outcome.status,
        "error": outcome.error,
        "wall_s": time.perf_counter() - t0,
        "finished_utc": utc_now(),
        "summary": outcome.summary,
        "result_dir": f"cases/{task.case_id}" if outcome.status == "ok" else None,
    }
    atomic_write_json(rec_path, rec)
    return jsonable(rec)
