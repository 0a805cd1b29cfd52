"""Run a sweep's cases on a local process pool or a Dask cluster, crash-safely.

One submission path for both back ends: a `concurrent.futures.Executor`
(`ProcessPoolExecutor` with the spawn context, or `distributed.Client.get_executor()`).

Layout of the output folder::

    out/sweep.json              the expanded spec (case ids and parameters)
    out/cases/<case_id>/        each case's result directory (Result.write, atomic)
    out/records/<case_id>.json  each case's record, written atomically and LAST
    out/cases.parquet           one row per record, rebuilt atomically after every case

A record is the only proof that a case finished: the result directory is installed before
the record is written, both by rename, and `cases.parquet` is derived from the records.
Killing anything at any moment leaves at most orphan temp files (cleaned at the next start)
and cases without a record, which the next run executes again.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import fcntl
import functools
import importlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from microgrid.atomic import atomic_write, atomic_write_json, jsonable
from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.resultdir import open_dir, recover, replace_dir
from microgrid.sweeps.spec import Case, SweepSpec, load_spec

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
# A case that was running in MAX_CRASHES pool breakages is not resubmitted in this run.
MAX_CRASHES = 3
RECORD_VERSION = 1

Runner = Callable[[Any], Any]


class CaseTimeout(BaseException):
    """Raised inside a case that ran past its time limit (BaseException: not swallowed by
    the case's own `except Exception`)."""


# ---------------------------------------------------------------------------------------
# Small helpers (atomic files, JSON)


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def read_record(path: Path) -> dict | None:
    """A record, or None if missing or unreadable (a torn file cannot exist, but be safe)."""
    try:
        rec = read_json_file(path)
    except InputError:
        return None
    return rec if isinstance(rec, dict) and "status" in rec else None


# ---------------------------------------------------------------------------------------
# Worker side


def limit_threads() -> None:
    """One thread per worker for BLAS/OpenMP (HiGHS already runs with threads=1)."""
    for k, v in THREAD_ENV.items():
        os.environ[k] = v


def _init_pool_worker() -> None:
    limit_threads()


def default_runner(scenario: Any, **kwargs: Any) -> Any:
    """The real pipeline: `microgrid.run(scenario, **kwargs)`."""
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


class _Deadline:
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

    def __enter__(self) -> _Deadline:
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


def _install_result(result: Any, cases_dir: Path, case_id: str) -> Path:
    """Write the result to a fresh staging dir (Result.write is atomic), then swap it into
    place (microgrid.resultdir: crash-safe); an older directory of the same case (from an
    earlier run) is replaced, and what a killed worker left beside it is cleaned first."""
    staging = cases_dir / f".staging-{case_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    result.write(staging)
    final = cases_dir / case_id
    recover(final)
    replace_dir(staging, final)
    return final


def _remove_result(cases_dir: Path, case_id: str) -> None:
    final = cases_dir / case_id
    if final.exists():
        trash = cases_dir / f".trash-{case_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(final, trash)
        shutil.rmtree(trash, ignore_errors=True)


def execute_case(task: dict) -> dict:
    """Run one case in a worker; return its record (also written to records/<id>.json)."""
    limit_threads()
    out = Path(task["out"])
    cid = task["case_id"]
    rec_path = out / "records" / f"{cid}.json"
    # Idempotent within one sweep run: Dask re-runs a task whose worker died, possibly
    # after the record was written (e.g. a hard timeout kills its own worker).
    old = read_record(rec_path)
    if old is not None and old.get("run_id") == task["run_id"]:
        return old
    started = _utc_now()
    t0 = time.perf_counter()
    base = {
        "version": RECORD_VERSION,
        "case_id": cid,
        "index": task["index"],
        "params": task["params"],
        "scenario_sha": task["scenario_sha"],
        "run_id": task["run_id"],
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_utc": started,
    }

    def hard_timeout() -> None:
        rec = {
            **base,
            "status": "timeout",
            "error": f"timed out after {task['timeout_s']} s (stuck; worker process killed)",
            "wall_s": time.perf_counter() - t0,
            "finished_utc": _utc_now(),
            "summary": None,
        }
        atomic_write_json(rec_path, rec)
        os.kill(os.getpid(), signal.SIGKILL)

    status, error, summary = "ok", None, None
    try:
        with _Deadline(task["timeout_s"], hard_timeout):
            result = task["runner"](task["scenario"])
            summary = dict(result.summary)
        _install_result(result, out / "cases", cid)
    except CaseTimeout:
        status, error = "timeout", f"timed out after {task['timeout_s']} s"
    except Exception as exc:
        status = "failed"
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    if status != "ok":
        summary = None
        with contextlib.suppress(OSError):
            _remove_result(out / "cases", cid)
    rec = {
        **base,
        "status": status,
        "error": error,
        "wall_s": time.perf_counter() - t0,
        "finished_utc": _utc_now(),
        "summary": summary,
        "result_dir": f"cases/{cid}" if status == "ok" else None,
    }
    atomic_write_json(rec_path, rec)
    return jsonable(rec)


# ---------------------------------------------------------------------------------------
# Table


def _flatten(d: dict | None, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def records_table(records: list[dict]) -> pd.DataFrame:
    """One row per record: case id, parameters, status, wall time, error, KPIs."""
    rows = []
    for r in sorted(records, key=lambda r: r.get("index", 0)):
        row = {
            "case_id": r["case_id"],
            "index": r.get("index"),
            "status": r["status"],
            "wall_s": r.get("wall_s"),
            "error": r.get("error"),
        }
        for k, v in (r.get("params") or {}).items():
            row[k] = _cell(v)
        for k, v in _flatten(r.get("summary")).items():
            row.setdefault(k, _cell(v))
        row["host"] = r.get("host")
        row["finished_utc"] = r.get("finished_utc")
        rows.append(row)
    cols = ["case_id", "index", "status", "wall_s", "error"]
    df = pd.DataFrame(rows, columns=None if rows else cols)
    # Mixed-type object columns (e.g. null and numbers) are fine for pyarrow; strings and
    # numbers mixed are not: store such columns as text.
    for c in df.columns:
        if df[c].dtype == object:
            kinds = {type(v) for v in df[c] if v is not None and not pd.isna(v)}
            if len(kinds - {int, float}) and len(kinds) > 1:
                df[c] = df[c].map(lambda v: None if v is None else str(v))
    return df


def write_table(out: Path, records: list[dict]) -> pd.DataFrame:
    df = records_table(records)
    atomic_write(out / "cases.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    return df


def read_records(out: Path, spec: SweepSpec | None = None) -> dict[str, dict]:
    """Records in out/records (only the spec's cases if given), by case id."""
    ids = None if spec is None else {c.case_id for c in spec.cases}
    recs = {}
    for p in sorted((Path(out) / "records").glob("*.json")):
        if p.name.startswith("."):
            continue
        if ids is not None and p.stem not in ids:
            continue
        rec = read_record(p)
        if rec is not None and rec.get("case_id") == p.stem:
            recs[p.stem] = rec
    return recs


# ---------------------------------------------------------------------------------------
# Parent side


def _clean_temp(out: Path) -> None:
    for folder in (out, out / "records", out / "cases"):
        for p in folder.glob(".*"):
            leftover = p.name.endswith(".tmp") or ".tmp-" in p.name  # microgrid.atomic
            if leftover or p.name.startswith((".staging-", ".trash-")):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()


@contextlib.contextmanager
def _lock(out: Path):
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


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _Progress:
    def __init__(self, name: str, total: int, skipped: int, stream: TextIO | None) -> None:
        self.name, self.total, self.skipped, self.stream = name, total, skipped, stream
        self.t0 = time.perf_counter()
        self.counts: Counter = Counter()

    def log(self, msg: str) -> None:
        if self.stream is not None:
            print(f"[sweep {self.name}] {msg}", file=self.stream, flush=True)

    def update(self, rec: dict, running: int, waiting: int) -> None:
        self.counts[rec["status"]] += 1
        done = sum(self.counts.values())
        elapsed = time.perf_counter() - self.t0
        left = running + waiting
        eta = elapsed / done * left if done else float("nan")
        bad = f", {self.counts['failed']} failed, {self.counts['timeout']} timed out"
        msg = (
            f"{done + self.skipped}/{self.total} done{bad}"
            + (f" ({self.skipped} from earlier runs)" if self.skipped else "")
            + f"; {running} running, {waiting} waiting; elapsed {_fmt_s(elapsed)}"
            + (f", ETA {_fmt_s(eta)}" if left else "")
            + f" | {rec['case_id']} {rec['status']} in {rec.get('wall_s') or 0:.1f} s"
        )
        if rec["status"] != "ok":
            msg += f": {rec.get('error')}"
        self.log(msg)


def _dask_client(workers: int, client: Any, dask_address: str | None):
    """(client, closer): a given client, one connected to an address or scheduler file,
    or a LocalCluster of `workers` single-threaded worker processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("Dask needs the 'dask' extra: pip install microgrid[dask]") from None
    if client is not None:
        return client, None
    if dask_address == "local":
        cluster = LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            env=dict(THREAD_ENV),
        )
        c = Client(cluster)

        def close() -> None:
            c.close()
            cluster.close()

        return c, close
    if dask_address.endswith(".json") and not Path(dask_address).is_file():
        # Dask would wait the whole timeout for the file to appear.
        raise InputError("no such Dask scheduler file", path=dask_address)
    try:
        if dask_address.endswith(".json"):
            c = Client(scheduler_file=dask_address, timeout="30s")
        else:
            c = Client(dask_address, timeout="30s")
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        raise InputError(f"cannot reach the Dask scheduler {dask_address!r}: {exc}") from None
    return c, c.close


class _Backend:
    """Makes (and for the process pool, remakes) the executor."""

    def __init__(self, workers: int, client: Any, dask_address: str | None) -> None:
        self.workers = max(1, int(workers))
        self.dask = client is not None or dask_address is not None
        self.client = None
        self.close_client = None
        if self.dask:
            self.client, self.close_client = _dask_client(self.workers, client, dask_address)
            n = sum(self.client.nthreads().values()) or self.workers
            self.capacity = max(2, 2 * n)
            self.label = f"Dask scheduler {self.client.scheduler.address} ({n} worker threads)"
        else:
            self.capacity = self.workers + 1
            self.label = f"local process pool ({self.workers} workers)"
        self.executor: Executor | None = None

    def new_executor(self) -> Executor:
        if self.dask:
            self.executor = self.client.get_executor(pure=False)
        else:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_pool_worker,
            )
        return self.executor

    def shutdown(self, wait_: bool = True) -> None:
        if self.executor is not None:
            with contextlib.suppress(Exception):
                self.executor.shutdown(wait=wait_, cancel_futures=not wait_)
            self.executor = None

    def close(self) -> None:
        self.shutdown(wait_=True)
        if self.close_client is not None:
            with contextlib.suppress(Exception):
                self.close_client()


def sweep(
    spec: str | Path | SweepSpec,
    out: str | Path,
    workers: int = 1,
    client: Any = None,
    dask_address: str | None = None,
    timeout_s: float | None = None,
    runner: Runner | str | None = None,
    progress: TextIO | None = sys.stderr,
) -> pd.DataFrame:
    """Run every case of `spec` not yet done in `out`; return the table (cases.parquet).

    workers: process-pool size (or LocalCluster size with dask_address="local").
    client / dask_address: a `distributed.Client`, or "tcp://host:port", a scheduler file
    (*.json) or "local". timeout_s: per-case wall-clock limit. runner: the case function
    (Scenario -> Result); default `microgrid.run`.
    """
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    if timeout_s is not None and not timeout_s > 0:
        raise InputError(f"timeout_s must be > 0 (got {timeout_s})")
    run_fn = resolve_runner(runner)
    # a new, empty or earlier sweep folder only (resumable); never the spec's folder
    out = open_dir(out, "sweep", inputs=[spec.path, spec.base_path])
    (out / "cases").mkdir(parents=True, exist_ok=True)
    (out / "records").mkdir(parents=True, exist_ok=True)
    with _lock(out), _thread_env():
        return _sweep_locked(spec, out, workers, client, dask_address, timeout_s, run_fn, progress)


@contextlib.contextmanager
def _thread_env():
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


def _sweep_locked(spec, out, workers, client, dask_address, timeout_s, run_fn, stream):
    _clean_temp(out)
    atomic_write_json(out / "sweep.json", spec.to_json())
    records = read_records(out, spec)
    todo: deque[Case] = deque()
    for c in spec.cases:
        r = records.get(c.case_id)
        if r and r["status"] == "ok" and r.get("scenario_sha") == c.scenario_sha:
            continue
        todo.append(c)
    skipped = len(spec.cases) - len(todo)
    write_table(out, list(records.values()))
    prog = _Progress(spec.name, len(spec.cases), skipped, stream)
    if not todo:
        prog.log(f"all {len(spec.cases)} cases already done")
        return records_table(list(records.values()))
    run_id = uuid.uuid4().hex
    backend = _Backend(workers, client, dask_address)
    prog.log(f"{len(todo)} cases to run ({skipped} already done) on {backend.label}; output {out}")
    crashes: Counter = Counter()
    given_up: list[str] = []
    lost_infra: list[str] = []
    inflight: dict[Future, Case] = {}
    executor = backend.new_executor()

    def task(c: Case) -> dict:
        return {
            "case_id": c.case_id,
            "index": c.index,
            "params": c.params,
            "scenario": c.scenario,
            "scenario_sha": c.scenario_sha,
            "out": str(out.resolve()),
            "run_id": run_id,
            "timeout_s": timeout_s,
            "runner": run_fn,
        }

    def finish(c: Case, rec: dict) -> None:
        path = out / "records" / f"{c.case_id}.json"
        on_disk = read_record(path)
        if on_disk is None or on_disk.get("run_id") != run_id:
            # The worker could not write into `out` (a Dask worker without the shared
            # folder): keep the record it returned.
            atomic_write_json(path, rec)
            on_disk = rec
        records[c.case_id] = on_disk
        write_table(out, list(records.values()))
        prog.update(on_disk, len(inflight), len(todo))

    try:
        while todo or inflight:
            broken = False
            while todo and len(inflight) < backend.capacity:
                c = todo.popleft()
                try:
                    inflight[executor.submit(execute_case, task(c))] = c
                except BrokenProcessPool:
                    todo.appendleft(c)
                    broken = True
                    break
            if not broken:
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for f in done:
                    c = inflight.pop(f)
                    try:
                        rec = f.result()
                    except BrokenProcessPool:
                        broken = True
                        inflight[f] = c  # handled with the other casualties below
                        continue
                    except Exception as exc:  # Dask: KilledWorker, lost scheduler, ...
                        lost_infra.append(c.case_id)
                        prog.log(
                            f"{c.case_id}: not recorded ({type(exc).__name__}: {exc}); "
                            "it runs again next time"
                        )
                        continue
                    finish(c, rec)
            if broken:
                casualties = list(inflight.values())
                inflight.clear()
                backend.shutdown(wait_=True)
                resubmit = []
                for c in casualties:
                    rec = read_record(out / "records" / f"{c.case_id}.json")
                    if rec is not None and rec.get("run_id") == run_id:
                        finish(c, rec)  # finished (or hard-timed-out) before the crash
                        continue
                    crashes[c.case_id] += 1
                    if crashes[c.case_id] >= MAX_CRASHES:
                        given_up.append(c.case_id)
                    else:
                        resubmit.append(c)
                todo.extendleft(reversed(resubmit))
                prog.log(
                    "a worker process died (pool broken): "
                    f"{len(resubmit)} in-flight case(s) resubmitted on a new pool"
                    + (f"; given up for this run: {', '.join(given_up)}" if given_up else "")
                )
                executor = backend.new_executor()
    except KeyboardInterrupt:
        prog.log("interrupted: cases without a record run again next time")
        backend.shutdown(wait_=False)
        raise
    finally:
        backend.close()
        df = write_table(out, list(read_records(out, spec).values()))
    n_ok = int((df["status"] == "ok").sum()) if len(df) else 0
    missing = len(spec.cases) - len(df)
    prog.log(
        f"finished: {n_ok} ok, {len(df) - n_ok} failed or timed out, {missing} not run"
        + (f" ({', '.join(given_up + lost_infra)})" if given_up or lost_infra else "")
        + f"; table {out / 'cases.parquet'}"
    )
    return df
