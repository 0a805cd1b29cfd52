"""Where a sweep's cases run: a local process pool or a Dask cluster, one interface.

Both are a `concurrent.futures.Executor` (`ProcessPoolExecutor` with the spawn context, or
`distributed.Client.get_executor()`); `Backend` makes it, remakes it after a pool breaks,
submits the cases, and closes what it opened.

Ctrl-C sends SIGINT to the whole foreground process group: the sweep's process and every
pool worker. A pool worker stops the case it is running (KeyboardInterrupt: no record, the
case runs again next time) and starts no case after the signal; while no case runs it
only notes the signal (a KeyboardInterrupt in the pool's own code would print a traceback
and break the pool). The parent passes the interrupt on to its workers (a SIGINT sent to
it alone stops them too) and waits until they have exited, so that the table it writes
then holds every record there will be.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from microgrid.errors import InputError
from microgrid.sweeps.stop_flag import interrupted, note_interrupt
from microgrid.sweeps.worker import THREAD_ENV, CaseTask, execute_case, init_pool_worker

_HAVE_SIGMASK = hasattr(signal, "pthread_sigmask")  # not on Windows
# The state of a pool worker process (module globals: one per worker process); whether
# it has had a SIGINT, after which it starts no further case, is `stop_flag`'s.
_case_running = False  # a case runs in this worker's main thread: a SIGINT stops it


def _on_sigint(signum: int, frame: object) -> None:
    """A pool worker's SIGINT handler: the first SIGINT stops the running case, if any;
    every SIGINT keeps the worker from starting another case."""
    first = not interrupted()
    note_interrupt()  # first: the case may see the KeyboardInterrupt wrapped (stop_flag)
    if first and _case_running:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C held off while the pool starts worker processes (`submit`).

    SIGINT is blocked in this thread, so a worker started meanwhile inherits the block
    (`init_worker` lifts it). In the main thread, a SIGINT this process gets meanwhile is
    only noted and raised again at the end: Python would raise KeyboardInterrupt half-way
    through starting a worker, which then dies with a traceback.
    """
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main else None
    # None: a handler not set from Python, left alone; SIG_IGN: nothing to hold off
    hold = previous not in (None, signal.SIG_IGN)
    if hold:
        signal.signal(signal.SIGINT, note)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if _HAVE_SIGMASK else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if hold:
            signal.signal(signal.SIGINT, previous)
            if noted:
                signal.raise_signal(signal.SIGINT)


def init_worker(parent_pid: int) -> None:
    """Initializer of each process-pool worker (`parent_pid`: the sweep's process). The
    worker started with SIGINT blocked (`Backend.submit`): a Ctrl-C while it imported is
    held until the handler is in place, then counts as an interrupt before any case. A
    worker of a sweep that ignores SIGINT (e.g. started with `&` by a script) ignores it
    too."""
    init_pool_worker(parent_pid)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_sigint)
    if _HAVE_SIGMASK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def run_pool_case(task: CaseTask) -> dict:
    """`execute_case` in a pool worker, unless the worker was interrupted: then the case
    is not started (KeyboardInterrupt, no record)."""
    global _case_running
    _case_running = True  # first: a SIGINT from here on stops the case
    try:
        if interrupted():
            raise KeyboardInterrupt(f"{task.case_id} not started: the sweep was interrupted")
        return execute_case(task)
    finally:
        _case_running = False


def dask_client(
    workers: int, client: Any, dask_address: str | None
) -> tuple[Any, Callable[[], None] | None]:
    """(client, closer): a given client, one connected to an address or scheduler file,
    or a LocalCluster of `workers` single-threaded worker processes."""
    try:
        # distributed is the optional `dask` extra and slow to import: Dask sweeps only.
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
    except (OSError, ValueError, TypeError, KeyError, AssertionError) as exc:
        # unreachable, not an address at all, or a scheduler file without one (`{}`)
        why = str(exc) or type(exc).__name__
        if dask_address.endswith(".json") and isinstance(exc, (KeyError, AssertionError)):
            why = "the file names no scheduler address (not a Dask scheduler file)"
        raise InputError(f"cannot reach the Dask scheduler {dask_address!r}: {why}") from None
    return c, c.close


class Backend:
    """Makes (and for the process pool, remakes) the executor and submits cases to it."""

    def __init__(self, workers: int, client: Any, dask_address: str | None) -> None:
        self.workers = max(1, int(workers))
        self.dask = client is not None or dask_address is not None
        self.client = None
        self.close_client = None
        if self.dask:
            self.client, self.close_client = dask_client(self.workers, client, dask_address)
            n = sum(self.client.nthreads().values()) or self.workers
            self.slots = n  # cases that can run at once; the others in flight are queued
            self.capacity = max(2, 2 * n)  # cases in flight: keep every worker busy
            self.label = f"Dask scheduler {self.client.scheduler.address} ({n} worker threads)"
        else:
            # One case per worker: none waits in the pool's queue, where a case can no
            # longer be taken back (e.g. at Ctrl-C) and would count as in flight when the
            # pool breaks. The next case is submitted as soon as one finishes.
            self.capacity = self.slots = self.workers
            self.label = f"local process pool ({self.workers} workers)"
        self.executor: Executor | None = None

    def new_executor(self) -> Executor:
        if self.dask:
            self.executor = self.client.get_executor(pure=False)
        else:
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(os.getpid(),),
            )
        return self.executor

    def submit(self, task: CaseTask) -> Future:
        """Submit one case to the executor."""
        if self.dask:
            return self.executor.submit(execute_case, task)
        # A worker the pool starts for this case inherits the blocked SIGINT (init_worker).
        with _sigint_held():
            return self.executor.submit(run_pool_case, task)

    def interrupt(self) -> None:
        """Ctrl-C: take back the cases not started; for the process pool, stop the running
        ones (SIGINT to each worker: the user may have signalled the parent alone) and wait
        until the workers have exited, so that no record is written after this returns."""
        if self.dask:
            self.shutdown(wait_=False, cancel=True)
            return
        # ProcessPoolExecutor has no public list of its worker processes.
        workers = getattr(self.executor, "_processes", None) or {}
        for pid in list(workers):
            with contextlib.suppress(OSError):  # already gone
                os.kill(pid, signal.SIGINT)
        self.shutdown(wait_=True, cancel=True)

    def shutdown(self, wait_: bool = True, cancel: bool = False) -> None:
        """Shut the executor down (`cancel`: drop the cases not started)."""
        if self.executor is not None:
            with contextlib.suppress(Exception):
                self.executor.shutdown(wait=wait_, cancel_futures=cancel)
            self.executor = None

    def close(self) -> None:
        """Shut the executor down and close what this back end opened (again: nothing)."""
        self.shutdown(wait_=True)
        close_client, self.close_client = self.close_client, None
        if close_client is not None:
            with contextlib.suppress(Exception):
                close_client()
