"""Worker side of a sweep: run one case under its time limit and write its record.

`execute_case(task)` runs in a pool or Dask worker process. It is idempotent within one
sweep run (a record of this run already on disk is returned as is), runs the case function,
installs the result directory, then writes the record LAST (see `microgrid.sweeps.records`
for the folder layout and why the order matters). A case with a time limit does all that
in a child process killed at the limit (`microgrid.sweeps.case_process`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from microgrid.atomic import atomic_write_json, jsonable
from microgrid.errors import InputError
from microgrid.result_files import split_timings
from microgrid.resultdir import discard, is_our_folder
from microgrid.sweeps.case_process import die_with_parent, run_forked
from microgrid.sweeps.lock import run_is_current
from microgrid.sweeps.records import (
    RECORD_VERSION,
    install_result,
    read_record,
    record_path,
    remove_result,
    utc_now,
)
from microgrid.sweeps.stop_flag import interrupted

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}

Runner = Callable[[Any], Any]


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
    inputs: dict[str, str] = field(default_factory=dict)  # data file -> SHA-256
    options: dict[str, Any] = field(default_factory=dict)  # `runner_options(runner)`


# ---------------------------------------------------------------------------------------
# Threads and the case function


def limit_threads() -> None:
    """One thread per worker for BLAS/OpenMP (HiGHS already runs with threads=1)."""
    for k, v in THREAD_ENV.items():
        os.environ[k] = v


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


# What the pipeline imports on first use (`microgrid.run` imports `microgrid.pipeline`; the
# solve numba and lightsim2grid): imported by a worker before its first time-limited case,
# so that each case's child process starts with them (seconds saved per case).
_PIPELINE_MODULES = ("microgrid.pipeline", "optimize.solving", "optimize.job_dp")
_OPTIONAL_MODULES = ("lightsim2grid.network", "lightsim2grid.timeSerie")


def warm_up(runner: Runner) -> None:
    """Import what the default pipeline loads lazily (a custom case function's module is
    already imported: its function was unpickled)."""
    base = runner.func if isinstance(runner, functools.partial) else runner
    if base is not default_runner:
        return
    for name in _PIPELINE_MODULES:
        importlib.import_module(name)
    for name in _OPTIONAL_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def runner_with_options(
    runner: Runner | str | None, *, powerflow: bool = True, baselines: bool = True
) -> Runner | str | None:
    """The default pipeline without the power flow or the baselines when asked (CLI flags)."""
    options = {k: v for k, v in (("powerflow", powerflow), ("baselines", baselines)) if not v}
    if runner is None and options:
        return functools.partial(default_runner, **options)
    return runner


def runner_options(runner: Runner) -> dict[str, Any]:
    """The case function and its options, as a record keeps them: `{"runner":
    "microgrid.run", "powerflow": True, "baselines": True}` for the pipeline (with the
    keywords of a `functools.partial` of it), `{"runner": "module:function"}` for another."""
    base = runner.func if isinstance(runner, functools.partial) else runner
    if base is default_runner:
        keywords = runner.keywords if isinstance(runner, functools.partial) else {}
        return {"runner": "microgrid.run", "powerflow": True, "baselines": True, **keywords}
    name = getattr(base, "__qualname__", None) or type(base).__qualname__
    return {"runner": f"{getattr(base, '__module__', None)}:{name}"}


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
# One case


#: a case whose sweep ended before it did (a Ctrl-C that Dask could not stop): it writes
#: nothing into the folder, whose lock another run may hold by now
ABANDONED = "abandoned"


@dataclass
class _Outcome:
    """How a case ended: status "ok", "failed", "timeout" or ABANDONED."""

    status: str = "ok"
    error: str | None = None
    summary: dict | None = None
    timings: dict | None = None  # wall-clock seconds of the summary (timings.json)


def _record_head(task: CaseTask, started_utc: str) -> dict:
    """The fields every record of this case carries, whatever its outcome."""
    return {
        "version": RECORD_VERSION,
        "case_id": task.case_id,
        "index": task.index,
        "params": task.params,
        "scenario_sha": task.scenario_sha,
        "inputs": task.inputs,
        "options": task.options,
        "run_id": task.run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),  # the worker's (a time-limited case runs in its child)
        "started_utc": started_utc,
    }


def _run_case(task: CaseTask) -> _Outcome:
    """Run the case function and install its result directory; a failed case leaves no
    result directory."""
    cases_dir = Path(task.out) / "cases"
    outcome = _Outcome()
    try:
        result = task.runner(task.scenario)
        # as summary.json has it; the solver's seconds differ on every run: apart
        outcome.summary, outcome.timings = split_timings(dict(result.summary))
        if not run_is_current(Path(task.out), task.run_id):
            outcome.status = ABANDONED  # its sweep has ended (a Ctrl-C Dask could not stop)
            return outcome
        install_result(result, cases_dir, task.case_id)
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}{where}"
    if outcome.status != "ok":
        outcome.summary = outcome.timings = None
        with contextlib.suppress(OSError):
            remove_result(cases_dir, task.case_id)
    return outcome


def _stopped(task: CaseTask, outcome: _Outcome) -> NoReturn:
    """A case that ended after a Ctrl-C in this process (`stop_flag`): whatever it ended
    with (a "failed" from a KeyboardInterrupt that library code wrapped, or an "ok" from
    one it swallowed) is the interrupt's. It writes no record and keeps no result
    directory (docs/sweeps.md rule 7): raises KeyboardInterrupt."""
    if outcome.status == "ok":  # installed by this case (a failed one removed its own)
        with contextlib.suppress(OSError):
            remove_result(Path(task.out) / "cases", task.case_id)
    cause = f" (the case ended with: {outcome.error})" if outcome.error else ""
    raise KeyboardInterrupt(f"{task.case_id} stopped: the sweep was interrupted{cause}")


def _finish_case(task: CaseTask, head: dict, t0: float) -> dict:
    """Run the case, then write its record (LAST); return the record. A case whose sweep
    has ended before its result is installed (`lock.run_is_current`) writes nothing: its
    record says `abandoned`."""
    outcome = _run_case(task)
    if outcome.status != ABANDONED and interrupted():
        _stopped(task, outcome)
    # A sweep that ends after the result is installed: the record is written all the
    # same, so that folder and record stay a pair (removing the folder lost the earlier
    # run's result, whose record stayed).
    rec = {
        **head,
        "status": outcome.status,
        "error": outcome.error,
        "wall_s": time.perf_counter() - t0,
        "finished_utc": utc_now(),
        "summary": outcome.summary,
        "timings": outcome.timings,
        "result_dir": f"cases/{task.case_id}" if outcome.status == "ok" else None,
    }
    if outcome.status != ABANDONED:
        atomic_write_json(record_path(Path(task.out), task.case_id), rec)
    return jsonable(rec)


def _remove_child_leftovers(task: CaseTask, child_pid: int, installed: bool = True) -> None:
    """What a child killed part-way left: its staging folder (and the temp folder of its
    writer: both names carry `<case_id>-<pid>-`), a result folder installed without its
    record (with `installed`), a record's temp file. Ours only (`is_our_folder`)."""
    cases_dir = Path(task.out) / "cases"
    for p in cases_dir.glob(f".*{task.case_id}-{child_pid}-*"):
        if p.is_dir() and not p.is_symlink() and is_our_folder(p):
            discard(p)
    if installed:
        with contextlib.suppress(OSError):
            remove_result(cases_dir, task.case_id)
    for p in (Path(task.out) / "records").glob(f".{task.case_id}.json.tmp-{child_pid}@*"):
        with contextlib.suppress(OSError):
            p.unlink()


def _finish_case_limited(task: CaseTask, head: dict, t0: float) -> dict:
    """`_finish_case` in a forked child killed at the time limit (`case_process`); a
    case killed before its record is recorded `timeout` here, one whose process died
    otherwise `failed`, one stopped by Ctrl-C not at all (KeyboardInterrupt)."""
    end = run_forked(functools.partial(_finish_case, task, head, t0), task.timeout_s)
    if end.sent:
        return end.value
    rec_path = record_path(Path(task.out), task.case_id)
    rec = read_record(rec_path)
    if rec is not None and rec.get("run_id") == task.run_id:
        return rec  # the record is the proof: written just before the kill
    if not run_is_current(Path(task.out), task.run_id):
        # the sweep has ended (a Ctrl-C Dask could not stop): what `cases/<id>` and the
        # record hold may be another run's by now; only the child's own temp files go
        _remove_child_leftovers(task, end.pid, installed=False)
        return {**head, "status": ABANDONED}
    _remove_child_leftovers(task, end.pid)
    if end.interrupted or interrupted():  # the child's Ctrl-C, or this worker's
        raise KeyboardInterrupt(f"{task.case_id} stopped: the sweep was interrupted")
    if end.timed_out:
        status, error = "timeout", f"timed out after {task.timeout_s} s"
    else:
        status, error = "failed", f"the case's process died ({end.how})"
    rec = {**head, "status": status, "error": error, "wall_s": time.perf_counter() - t0}
    rec.update(finished_utc=utc_now(), summary=None, result_dir=None)
    atomic_write_json(rec_path, rec)
    return rec


def execute_case(task: CaseTask) -> dict:
    """Run one case in a worker; return its record (also written to records/<id>.json).
    With a time limit the case runs in a child process of the worker (`case_process`)."""
    limit_threads()
    # Idempotent within one sweep run: Dask re-runs a task whose worker died, possibly
    # after the record was written.
    old = read_record(record_path(Path(task.out), task.case_id))
    if old is not None and old.get("run_id") == task.run_id:
        return old
    if task.timeout_s is None:
        return _finish_case(task, _record_head(task, utc_now()), time.perf_counter())
    warm_up(task.runner)  # before the clock starts: imports are not the case's time
    return _finish_case_limited(task, _record_head(task, utc_now()), time.perf_counter())
