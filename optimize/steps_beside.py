"""A step of the start's chain run beside another on the restarts' thread once it is free,
on a ``Highs`` of its own, its answer asked for only where the other leaves it wanted.

Where. After the first peak-capped restart (``optimize.restart_chain.restarted``) the chain's
steps run one after another on the caller's thread, while the restarts' thread
(``optimize.restart_ahead``) has ended both restarts and waits: on B5's slow full-month
weeks it ends them 3-13 s before the chain does (docs/model_jobs_history.md,
fifty-second session). Two pairs of those steps need nothing of each other:
- the first restart's rounds (kept only where they end proven: ``_proven_rounds``) and the
  plain edge search of the same schedule, which counts only where they do not;
- the pair moves on the first restart's start and the second restart's searched schedule,
  which counts only where the pairs leave that start unproven.
The first of each pair runs on the caller's thread, the second (``Beside``) on a thread of
its own once the restarts' thread is free (``free``): while a restart still runs, a third
HiGHS run on two cores slowed the step the chain waits for (all 156 full-month weeks
with the step beside started at once: 129 within 10 s against 131). The caller asks for
the answer where its step leaves it wanted and runs the step itself where no thread has
begun it; else it drops it (interrupted at HiGHS's next interrupt check).

Deterministic. The step gets its inputs before it starts and runs on a ``Highs`` made for
it from the model as compiled (``second_highs``), whichever thread runs it and whenever;
where its answer is used it has run to its end. Dropped, it leaves nothing the chain
reads after it. It is not the answer the caller's ``Highs`` would give after the step
before (HiGHS keeps some of a run's state), so one thread and two can differ, as with the
restarts ahead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import highspy

from optimize.callbacks import subscribed
from optimize.highs import CompiledModel, second_highs
from optimize.on_thread import OnThread

T = TypeVar("T")


class Beside(Generic[T]):
    """``step(other)``, ``other`` a ``Highs`` holding ``cm`` as compiled with ``h``'s
    options (made here, on the caller's thread), run by a thread named ``name`` once
    ``free()`` returns, or by the caller (``answer``) if that thread has not begun it.
    Use it as a context manager: a step neither answered nor dropped by the end of the
    block is dropped there (an error in the caller's step)."""

    def __init__(
        self,
        h: highspy.Highs,
        cm: CompiledModel,
        step: Callable[[highspy.Highs], T],
        name: str,
        free: Callable[[], None],
    ) -> None:
        self._other = second_highs(h, cm)
        self._step = step
        self._lock = threading.Lock()
        self._claimed = False
        self._drop = threading.Event()
        self._settled = False  # answered or dropped
        self._call = OnThread(lambda: self._when_free(free), name)

    def _claim(self) -> bool:
        """Whether this call claimed the step (no thread did before)."""
        with self._lock:
            claimed, self._claimed = self._claimed, True
        return not claimed

    def _when_free(self, free: Callable[[], None]) -> T | None:
        """The step's answer where this thread claimed it once ``free()`` returned; None
        where it was dropped or the caller claimed it first (nothing reads it then)."""
        free()
        if self._drop.is_set() or not self._claim():
            return None
        return self._run()

    def _run(self) -> T:
        other = self._other
        with subscribed(other, (other.cbMipInterrupt, self._interrupt)):
            return self._step(other)

    def _interrupt(self, e) -> None:
        if self._drop.is_set():
            e.interrupt()

    def answer(self) -> tuple[T, float]:
        """The step's answer and the seconds it took the caller (running it, or waiting
        for the thread that began it)."""
        t0 = time.perf_counter()
        self._settled = True
        value = self._run() if self._claim() else self._call.outcome()
        return value, time.perf_counter() - t0

    def drop(self) -> float:
        """The step not wanted: not begun, or stopped at HiGHS's next interrupt check and
        waited for; the seconds waited."""
        t0 = time.perf_counter()
        self._settled = True
        self._drop.set()
        if not self._claim():
            self._call.wait()
        return time.perf_counter() - t0

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, *exc) -> None:
        if not self._settled:
            self.drop()
