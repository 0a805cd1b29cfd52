"""Where a sweep's cases run: a local process pool or a Dask cluster, one interface.

Both are a `concurrent.futures.Executor` (`ProcessPoolExecutor` with the spawn context, or
`distributed.Client.get_executor()`); `Backend` makes it, remakes it after a pool breaks,
and closes what it opened.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from microgrid.errors import InputError
from microgrid.sweeps.worker import THREAD_ENV, init_pool_worker


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
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        raise InputError(f"cannot reach the Dask scheduler {dask_address!r}: {exc}") from None
    return c, c.close


class Backend:
    """Makes (and for the process pool, remakes) the executor."""

    def __init__(self, workers: int, client: Any, dask_address: str | None) -> None:
        self.workers = max(1, int(workers))
        self.dask = client is not None or dask_address is not None
        self.client = None
        self.close_client = None
        if self.dask:
            self.client, self.close_client = dask_client(self.workers, client, dask_address)
            n = sum(self.client.nthreads().values()) or self.workers
            self.capacity = max(2, 2 * n)  # cases in flight: keep every worker busy
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
                initializer=init_pool_worker,
                initargs=(os.getpid(),),
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
