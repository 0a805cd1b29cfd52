"""Run a sweep's cases on a local process pool or a Dask cluster, crash-safely.

`sweep(spec, out)` is the driver: it locks the output folder, skips the cases an earlier
run finished, submits the rest to the back end (`microgrid.sweeps.backends`), keeps the
record of each case as it finishes (`microgrid.sweeps.records`; each worker runs
`microgrid.sweeps.worker.execute_case`) and survives a broken process pool by resubmitting
the cases that were in flight, up to MAX_CRASHES times each.
"""

from __future__ import annotations

import multiprocessing
import uuid
import warnings
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from microgrid.atomic import atomic_write_json
from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.resultdir import check_target, open_dir, refuse_links, scenario_inputs
from microgrid.sweeps.backends import Backend
from microgrid.sweeps.lock import sweep_lock
from microgrid.sweeps.progress import Progress
from microgrid.sweeps.provenance import case_inputs
from microgrid.sweeps.records import (
    clean_temp,
    read_record,
    read_records,
    record_path,
    records_table,
    remove_orphan_results,
    write_table,
)
from microgrid.sweeps.spec import Case, SweepSpec, load_spec
from microgrid.sweeps.worker import (
    ABANDONED,
    CaseTask,
    Runner,
    resolve_runner,
    runner_options,
    runner_with_options,
    thread_env,
)

# A case that was running in MAX_CRASHES pool breakages is not resubmitted in this run.
MAX_CRASHES = 3
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week per case


def sweep(
    spec: str | Path | SweepSpec,
    out: str | Path,
    workers: int = 1,
    client: Any = None,
    dask_address: str | None = None,
    timeout_s: float | None = None,
    runner: Runner | str | None = None,
    progress: TextIO | None = None,
    *,
    powerflow: bool = True,
    baselines: bool = True,
) -> pd.DataFrame:
    """Run every case of `spec` not yet done in `out`; return the table (cases.parquet).

    workers: process-pool size (or LocalCluster size with dask_address="local").
    client / dask_address: a `distributed.Client`, or "tcp://host:port", a scheduler file
    (*.json) or "local". timeout_s: per-case wall-clock limit. runner: the case function
    (Scenario -> Result); default `microgrid.run`. powerflow / baselines: False runs the
    default pipeline without the AC power flow / the baselines (`microgrid sweep
    --no-powerflow`, `--no-baselines`); with another `runner`, pass them to it instead
    (e.g. `functools.partial`). progress: where the `[sweep NAME]`
    progress lines go (None, the default: nowhere, as every library call; `microgrid sweep`
    passes stderr unless --quiet). Cases that did not run (their worker died
    MAX_CRASHES times) have no row: a `CasesNotRun` warning names them.
    """
    _refuse_a_worker_import()
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers: a whole number of processes >= 1 (got {workers!r})")
    if timeout_s is not None and not (
        isinstance(timeout_s, (int, float)) and not isinstance(timeout_s, bool)
    ):
        raise InputError(f"timeout_s: a number of seconds (got {timeout_s!r})")
    if timeout_s is not None and not 0 < timeout_s <= MAX_TIMEOUT_S:  # inf overflowed
        raise InputError(f"timeout_s must be in (0, {MAX_TIMEOUT_S:g}] s (got {timeout_s})")
    run_fn = resolve_runner(_with_pipeline_options(runner, powerflow, baselines))
    # a new, empty or earlier sweep folder of this spec only (resumable); never a folder
    # that holds the spec, its base scenario or a file a case reads; nothing written if not
    inputs = spec_inputs(spec)
    target = check_target(out, "sweep", inputs)
    check_same_spec(target, spec)
    refuse_links(target, ("cases", "records", "cases.parquet", "sweep.json"))
    # connected (Dask) before anything is written: an unusable address leaves no folder
    backend = Backend(workers, client, dask_address)
    try:
        out = open_dir(out, "sweep", inputs)
        (out / "cases").mkdir(parents=True, exist_ok=True)
        (out / "records").mkdir(parents=True, exist_ok=True)
        run_id = uuid.uuid4().hex
        with sweep_lock(out, run_id), thread_env():
            df = _sweep_locked(spec, out, backend, timeout_s, run_fn, progress, run_id)
    finally:
        backend.close()
    not_run = sorted({c.case_id for c in spec.cases} - set(df["case_id"] if len(df) else []))
    if not_run:
        warnings.warn(
            f"{len(not_run)} of {len(spec.cases)} cases did not run and have no row in the "
            f"table: {', '.join(not_run[:5])}{' ...' if len(not_run) > 5 else ''} (their "
            "worker process died; run the sweep again to retry them)",
            CasesNotRun,
            stacklevel=2,
        )
    return df


def _with_pipeline_options(runner: Runner | str | None, powerflow, baselines):
    """The runner with `sweep`'s pipeline switches applied: to the default pipeline only;
    an InputError where they are off beside another runner (they would be ignored)."""
    for name, value in (("powerflow", powerflow), ("baselines", baselines)):
        if not isinstance(value, bool):
            raise InputError(f"{name}: True or False (got {value!r})")
    if runner is not None and not (powerflow and baselines):
        raise InputError(
            "powerflow=False and baselines=False switch the default pipeline "
            "(microgrid.run); pass them to your runner instead, e.g. "
            "functools.partial(microgrid.run, powerflow=False)"
        )
    return runner_with_options(runner, powerflow=powerflow, baselines=baselines)


class CasesNotRun(UserWarning):
    """`sweep()` ended with cases that have no record (their worker process died)."""


def _refuse_a_worker_import() -> None:
    """A worker process (spawned) imports the caller's script while it starts: a script
    that calls sweep() unguarded would start a sweep in every worker, each refused by the
    folder's lock and the pool broken. Say what to do instead. (`_inheriting` is how
    multiprocessing itself tells that phase, in `spawn._check_not_importing_main`.)"""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "sweep() was called while a worker process imported your script: put the "
            'script\'s call under `if __name__ == "__main__":` (worker processes import it)'
        )


def spec_inputs(spec: SweepSpec) -> list[Path]:
    """Every file a sweep reads: the spec, its base scenario and each case's files."""
    files = {spec.path, spec.base_path}
    for c in spec.cases:
        files.update(scenario_inputs(c.scenario))
    return sorted(files)


def check_same_spec(out: Path, spec: SweepSpec) -> None:
    """Refuse a sweep folder that belongs to another spec: its sweep.json names another
    spec file and another content (a spec edited in place, or moved unchanged, resumes;
    records of cases it no longer has are left out of the table), or cannot be read."""
    path = out / "sweep.json"
    if not path.is_file():
        return
    try:
        meta = read_json_file(path)
    except InputError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("spec"), str):
        raise InputError(
            "--out holds a sweep.json that is not a sweep description (cannot tell which "
            "spec it belongs to); nothing was written",
            path=str(out),
        )
    same_file = meta["spec"] == str(spec.path)
    same_text = bool(spec.spec_sha256) and meta.get("spec_sha256") == spec.spec_sha256
    if not (same_file or same_text):
        raise InputError(
            f"--out holds the sweep of another spec, {meta['spec']}, not of {spec.path}: "
            "give a new folder; nothing was written",
            path=str(out),
        )


@dataclass
class _SweepRun:
    """The state of one sweep run while its cases are in flight."""

    spec: SweepSpec
    out: Path
    timeout_s: float | None
    run_fn: Runner
    records: dict[str, dict]  # by case id: the latest record of each case
    todo: deque[Case]
    prog: Progress
    made_with: _MadeWith
    slots: int  # cases the back end runs at once (worker processes or threads)
    run_id: str  # the folder's lock names it while this run holds it
    inflight: dict[Future, Case] = field(default_factory=dict)
    crashes: Counter = field(default_factory=Counter)  # pool breakages per case id
    given_up: list[str] = field(default_factory=list)  # MAX_CRASHES reached
    lost_infra: list[str] = field(default_factory=list)  # Dask lost the task: no record

    def task(self, c: Case) -> CaseTask:
        return CaseTask(
            case_id=c.case_id,
            index=c.index,
            params=c.params,
            scenario=c.scenario,
            scenario_sha=c.scenario_sha,
            out=str(self.out.resolve()),
            run_id=self.run_id,
            timeout_s=self.timeout_s,
            runner=self.run_fn,
            inputs=self.made_with.inputs[c.case_id],
            options=self.made_with.options,
        )

    def finish(self, c: Case, rec: dict) -> None:
        """Keep a finished case's record, rewrite the table, log the progress line."""
        if rec.get("status") == ABANDONED:  # the lock named another run: nothing written
            return
        path = record_path(self.out, c.case_id)
        on_disk = read_record(path)
        if on_disk is None or on_disk.get("run_id") != self.run_id:
            # The worker could not write into `out` (a Dask worker without the shared
            # folder): keep the record it returned.
            atomic_write_json(path, rec)
            on_disk = rec
        self.records[c.case_id] = on_disk
        write_table(
            self.out, self.made_with.standing(self.spec, self.records), self.spec.case_values
        )
        # at most one case per worker thread runs; the rest in flight wait in Dask's queue
        running = min(len(self.inflight), self.slots)
        self.prog.update(on_disk, running, len(self.inflight) - running + len(self.todo))


@dataclass
class _MadeWith:
    """What this run's records are made with besides the scenario: each case's data files
    (path -> SHA-256) and the case function's options."""

    inputs: dict[str, dict[str, str]]  # by case id
    options: dict[str, Any]

    @classmethod
    def of(cls, spec: SweepSpec, run_fn: Runner) -> _MadeWith:
        cache: dict[Path, str] = {}  # files many cases share are read once
        inputs = {c.case_id: case_inputs(c.scenario, cache) for c in spec.cases}
        return cls(inputs, runner_options(run_fn))

    def stale(self, c: Case, rec: dict) -> str | None:
        """Why an ok record no longer stands for the case (None: it does)."""
        if rec.get("scenario_sha") != c.scenario_sha:
            return "scenario changed"
        # the contents, not where they are: a copy of the project elsewhere is the same
        if sorted((rec.get("inputs") or {}).values()) != sorted(self.inputs[c.case_id].values()):
            return "data file changed"
        if rec.get("options") != self.options:
            return "other options"
        return None

    def standing(self, spec: SweepSpec, records: dict[str, dict]) -> list[dict]:
        """The records made with what each case is made with now: the table's rows. A
        stale one stays on disk until its case runs again, but a table that mixed it
        with this run's (an interrupted resume with other data or options) would compare
        results of two kinds without a word."""
        return [r for c in spec.cases if (r := records.get(c.case_id)) and not self.stale(c, r)]


def _cases_to_run(
    spec: SweepSpec, records: dict[str, dict], made_with: _MadeWith
) -> tuple[deque[Case], Counter]:
    """Every case without an ok record made with its current scenario, data files and
    options; and why the ok records that run again do (reason -> number of cases)."""
    todo: deque[Case] = deque()
    redo: Counter = Counter()
    for c in spec.cases:
        r = records.get(c.case_id)
        if r and r["status"] == "ok":
            why = made_with.stale(c, r)
            if why is None:
                continue
            redo[why] += 1
        todo.append(c)
    return todo, redo


def _tidy_after_earlier_runs(spec: SweepSpec, out: Path) -> tuple[dict[str, dict], list[str]]:
    """Undo what a killed run left (temp files, result folders without a record), write
    sweep.json. Returns (the records by case id, the case ids whose result folder was
    removed)."""
    # again, now under the lock: another spec's sweep may have written since `sweep` checked
    check_same_spec(out, spec)
    clean_temp(out)
    orphans = remove_orphan_results(out)
    atomic_write_json(out / "sweep.json", spec.to_json())
    return read_records(out, spec), orphans


def _sweep_locked(
    spec: SweepSpec,
    out: Path,
    backend: Backend,
    timeout_s: float | None,
    run_fn: Runner,
    stream: TextIO | None,
    run_id: str,
) -> pd.DataFrame:
    """Run the cases without an ok record (the caller holds the folder's lock, naming
    `run_id`)."""
    records, orphans = _tidy_after_earlier_runs(spec, out)
    made_with = _MadeWith.of(spec, run_fn)
    write_table(out, made_with.standing(spec, records), spec.case_values)
    todo, redo = _cases_to_run(spec, records, made_with)
    skipped = len(spec.cases) - len(todo)
    prog = Progress(spec.name, len(spec.cases), skipped, stream)
    if orphans:
        prog.log(f"removed result folder(s) without a record (a killed run): {', '.join(orphans)}")
    if redo:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(redo.items()))
        prog.log(f"{sum(redo.values())} case(s) done earlier run again ({why})")
    if not todo:
        prog.log(f"all {len(spec.cases)} cases already done")
        return records_table(made_with.standing(spec, records), spec.case_values)
    run = _SweepRun(
        spec, out, timeout_s, run_fn, records, todo, prog, made_with, backend.slots, run_id
    )
    prog.log(f"{len(todo)} cases to run ({skipped} already done) on {backend.label}; output {out}")
    try:
        _drive(run, backend)
    except KeyboardInterrupt:
        prog.log("interrupted: cases without a record run again next time")
        backend.interrupt()  # stops the running cases, starts no other
        raise
    finally:
        backend.close()
        # after the back end is closed: the pool's workers have exited, so the table
        # holds every record they wrote
        df = write_table(out, made_with.standing(spec, read_records(out, spec)), spec.case_values)
    _log_finished(run, df)
    return df


def _drive(run: _SweepRun, backend: Backend) -> None:
    """Submit and collect until every case has a record or was given up."""
    backend.new_executor()
    while run.todo or run.inflight:
        broken = _submit(run, backend)
        if not broken:
            broken = _collect(run, backend)
        if broken:
            _recover_broken_pool(run, backend)
            backend.new_executor()


def _submit(run: _SweepRun, backend: Backend) -> bool:
    """Fill the back end up to its capacity of cases in flight; True if the pool is broken."""
    while run.todo and len(run.inflight) < backend.capacity:
        c = run.todo.popleft()
        try:
            run.inflight[backend.submit(run.task(c))] = c
        except BrokenProcessPool:
            run.todo.appendleft(c)
            return True
    return False


def _collect(run: _SweepRun, backend: Backend) -> bool:
    """Wait for at least one case, give the freed workers their next cases, then keep the
    records of those done; True if the pool broke (the broken futures stay in flight,
    handled by `_recover_broken_pool`)."""
    broken = False
    finished: list[tuple[Case, dict]] = []
    done, _ = wait(list(run.inflight), return_when=FIRST_COMPLETED)
    for f in done:
        c = run.inflight.pop(f)
        try:
            finished.append((c, f.result()))
        except BrokenProcessPool:
            broken = True
            run.inflight[f] = c  # handled with the other casualties
        except Exception as exc:  # Dask: KilledWorker, lost scheduler, ...
            run.lost_infra.append(c.case_id)
            run.prog.log(
                f"{c.case_id}: not recorded ({type(exc).__name__}: {exc}); it runs again next time"
            )
    # Submitted before the table is rewritten: a worker never waits for it (the back end
    # holds no case beyond one per worker, Backend.capacity).
    broken = broken or _submit(run, backend)
    for c, rec in finished:
        run.finish(c, rec)
    return broken


def _recover_broken_pool(run: _SweepRun, backend: Backend) -> None:
    """A worker process died: keep the records the in-flight cases wrote before the crash
    and put the others back in front of the queue (unless they crashed MAX_CRASHES times)."""
    casualties = list(run.inflight.values())
    run.inflight.clear()
    backend.shutdown(wait_=True)
    resubmit = []
    for c in casualties:
        rec = read_record(record_path(run.out, c.case_id))
        if rec is not None and rec.get("run_id") == run.run_id:
            run.finish(c, rec)  # finished before the crash
            continue
        run.crashes[c.case_id] += 1
        if run.crashes[c.case_id] >= MAX_CRASHES:
            run.given_up.append(c.case_id)
        else:
            resubmit.append(c)
    run.todo.extendleft(reversed(resubmit))
    run.prog.log(
        "a worker process died (pool broken): "
        f"{len(resubmit)} in-flight case(s) resubmitted on a new pool"
        + (f"; given up for this run: {', '.join(run.given_up)}" if run.given_up else "")
    )


def _log_finished(run: _SweepRun, df: pd.DataFrame) -> None:
    """The last line: counts and the cases not run, both from the table (the records on
    disk): a case Dask lost after its worker wrote the record has a row, and is not named."""
    n_ok = int((df["status"] == "ok").sum()) if len(df) else 0
    have = set(df["case_id"]) if len(df) else set()
    unrun = [c.case_id for c in run.spec.cases if c.case_id not in have]
    run.prog.log(
        f"finished: {n_ok} ok, {len(df) - n_ok} failed or timed out, {len(unrun)} not run"
        + (f" ({', '.join(unrun)})" if unrun else "")
        + f"; table {run.out / 'cases.parquet'}"
    )
