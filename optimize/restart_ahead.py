"""The peak-capped restart run ahead on a second thread while the start's edges are searched.

``optimize.solving._improve_start`` searches a start's run edges, probes it at the root,
and only where it is still not proven runs the peak-capped restart (``optimize.peak_cap``).
The restart needs nothing of those two steps: it starts from the LP relaxation's values,
which price-fix had before them. With two threads or more (``SolverOptions.threads``) it
therefore starts, as soon as the start is known to be unproven, on a second ``Highs``
(``optimize.highs.second_highs``: the same compiled model and options) on a thread of
its own, and runs while the edge search and the probe use the caller's: HiGHS releases
Python's lock while it runs, so the two proceed on two cores. Where the restart is needed
its answer is waited for (``result``); where it is not, it is stopped at its next step
(``close``). The second restart (caps midway to the searched start's peaks:
``peak_cap.midway_caps``) needs the edge search's schedule: it is queued once that is
known (``start_midway``) and runs after the first on the same thread and ``Highs``.

The restart's answer is the same whatever the timing: it runs to its end on that
``Highs``, and is used or dropped by the same rule as with one thread. It is also the
restart one thread runs on the caller's ``Highs``: ``capped_restart`` clears the solver
and starts from the LP relaxation's basis, whatever ran before it on either object
(``tests/optimize/test_restart_ahead.py``). What else runs with two threads, HiGHS's
parallel branch and bound (``optimize.highs.use_threads``), can still make the answer
depend on the thread count, never on the machine.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np

from optimize.highs import CompiledModel, second_highs
from optimize.on_thread import OnThread
from optimize.peak_cap import capped_restart, peak_columns, restart_wanted
from optimize.price_fix import PriceFixResult
from optimize.problem import SolverOptions


class RestartAhead:
    """``capped_restart`` on its own ``Highs`` ``own`` (holding the model as compiled,
    used by nothing else meanwhile) and thread, started at construction; ``enough`` is
    the first restart's (``peak_cap.restart_enough``), the second runs its root out;
    ``quick_too``: both restarts' (``peak_cap.capped_restart``)."""

    def __init__(
        self,
        own,
        cm: CompiledModel,
        m,
        lp_values: np.ndarray,
        time_limit_s: float | None,
        lp_basis=None,
        enough: tuple[float, float] | None = None,
        quick_too: bool = False,
    ) -> None:
        self._stop = threading.Event()

        def restart(caps, stop_at=None) -> PriceFixResult:
            return capped_restart(
                own,
                cm,
                m,
                caps,
                time_limit_s=time_limit_s,
                stop=self._stop,
                lp_basis=lp_basis,
                enough=stop_at,
                quick_too=quick_too,
            )

        self._restart = restart
        self._call = OnThread(lambda: restart(lp_values, enough), "restart-ahead")
        self._midway: OnThread | None = None

    def start_midway(self, caps: np.ndarray) -> None:
        """Queue the second restart, with the caps ``caps`` (``peak_cap.midway_caps`` of
        the searched start), after the first on the same ``Highs``."""
        first = self._call

        def midway() -> PriceFixResult:
            first.wait()
            return self._restart(caps)

        self._midway = OnThread(midway, "restart-ahead")

    def result(self) -> PriceFixResult:
        """The first restart's answer, waited for; its ``seconds`` are the wait (the time
        it added to the caller's), not its run's."""
        return _waited(self._call)

    def midway_result(self) -> PriceFixResult:
        """The second restart's answer (``start_midway`` called before), as ``result``."""
        assert self._midway is not None, "start_midway was not called"
        return _waited(self._midway)

    def close(self) -> None:
        """Stop the restarts at their next step if they still run, and wait for that."""
        self._stop.set()
        self._call.wait()
        if self._midway is not None:
            self._midway.wait()


def _waited(call: OnThread) -> PriceFixResult:
    t0 = time.perf_counter()
    result = call.outcome()
    return dataclasses.replace(result, seconds=time.perf_counter() - t0)


def restart_ahead(
    h,
    cm: CompiledModel,
    m,
    options: SolverOptions,
    pf: PriceFixResult,
    gap: float | None,
    time_limit_s: float | None,
    enough: tuple[float, float] | None = None,
    quick_too: bool = False,
) -> RestartAhead | None:
    """A ``RestartAhead`` on a second ``Highs`` beside ``h`` (``time_limit_s``,
    ``enough`` and ``quick_too``: the restart's) from price-fix's result ``pf`` (its proven
    ``gap``; None without a schedule or a bound) where the restart may be needed: two
    threads or more, the restart wanted (``peak_cap.restart_wanted``) and a demand
    charge's peak to cap; else None."""
    if not options.second_thread or not restart_wanted(options, pf, gap):
        return None
    if not len(peak_columns(m, cm)):
        return None
    own = second_highs(h, cm)
    return RestartAhead(own, cm, m, pf.lp_values, time_limit_s, pf.lp_basis, enough, quick_too)
