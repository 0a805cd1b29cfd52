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

Where the restarts also place quickly (``peak_cap.quick_placement_wanted``) each is two
runs, and the caller, reaching ``result`` or ``midway_result`` before the answer is ready,
runs what the second thread has not begun on a third ``Highs``: the quick placement while
the plain one's final MILP still runs (a root of 4-9 s on B5's slow full-month weeks,
against about 1 s for the quick one), or the second restart's runs where the second thread
is still on the first's. The caller's ``Highs`` is left as it was, so what runs on it next
takes the same path either way. On B5's five slowest full-month weeks but one (2 threads,
five rounds alternating with the code before): 49.5 -> 46.6 s, the median of the sums,
with the same answers (docs/model_jobs_history.md, forty-second session).

The restart's answer is the same whatever the timing: each run goes to its end on
whichever ``Highs`` claimed it, and the answer is used or dropped by the same rule as with
one thread. It is also the
restart one thread runs on the caller's ``Highs``: ``capped_restart`` clears the solver
and starts from the LP relaxation's basis, whatever ran before it on either object
(``tests/optimize/test_restart_ahead.py``). What else runs with two threads, HiGHS's
parallel branch and bound (``optimize.highs.use_threads``), can still make the answer
depend on the thread count, never on the machine.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import numpy as np

from optimize.highs import CompiledModel, second_highs
from optimize.on_thread import OnThread
from optimize.peak_cap import (
    capped_run,
    peak_columns,
    placement_answer,
    quick_needed,
    restart_wanted,
)
from optimize.price_fix import PriceFixResult
from optimize.solver_options import SolverOptions


class RestartAhead:
    """The restarts on their own ``Highs`` ``own`` (holding the model as compiled, used by
    nothing else meanwhile) and thread, the first started at construction; ``enough`` is
    the first restart's (``peak_cap.restart_enough``), the second runs its root out.
    With ``quick_too`` each restart is two runs (``peak_cap.capped_restart``'s): the
    plain placement, and the quick one where ``peak_cap.quick_needed``. The caller helps
    where it would wait: ``result`` and ``midway_result`` first run, on ``spare`` (a third
    ``Highs``; None: no help), the runs the second thread has not begun, the quick one
    already while the plain one runs. Given ``lp_basis`` each run starts on a cleared
    solver from it, so which ``Highs`` runs it changes nothing but the time."""

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
        spare=None,
    ) -> None:
        self._stop = threading.Event()
        self._own, self._spare = own, spare

        def run(h, caps, stop_at, place_unfitted: bool) -> PriceFixResult:
            return capped_run(
                h,
                cm,
                m,
                caps,
                place_unfitted,
                time_limit_s=time_limit_s,
                stop=self._stop,
                lp_basis=lp_basis,
                enough=stop_at,
            )

        self._placements = functools.partial(_Placements, run, quick_too=quick_too)
        self._first = self._placements(lp_values, enough)
        self._call = OnThread(lambda: self._first.work(own), "restart-ahead")
        self._midway: _Placements | None = None
        self._midway_call: OnThread | None = None

    def start_midway(self, caps: np.ndarray) -> None:
        """Queue the second restart, with the caps ``caps`` (``peak_cap.midway_caps`` of
        the searched start), after the first on the same thread and ``Highs``."""
        first, midway = self._call, self._placements(caps, None)

        def run() -> None:
            first.wait()
            midway.work(self._own)

        self._midway, self._midway_call = midway, OnThread(run, "restart-ahead")

    def result(self) -> PriceFixResult:
        """The first restart's answer, helped and waited for; its ``seconds`` are the
        time it added to the caller's, not its runs'."""
        return _helped(self._first, self._spare)

    def midway_result(self) -> PriceFixResult:
        """The second restart's answer (``start_midway`` called before), as ``result``."""
        assert self._midway is not None, "start_midway was not called"
        return _helped(self._midway, self._spare)

    def wait_free(self) -> None:
        """Wait until the restarts' thread has ended its runs (the second restart's too,
        where it was queued), whoever ran them (``optimize.steps_beside``)."""
        self._call.wait()
        if self._midway_call is not None:
            self._midway_call.wait()

    def close(self) -> None:
        """Stop the restarts at their next step if they still run, and wait for that."""
        self._stop.set()
        self.wait_free()


class _Once:
    """A run done once, by the thread that claims it first, on that thread's ``Highs``;
    the others wait for its outcome."""

    def __init__(self, run: Callable[[object], PriceFixResult]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self._value: PriceFixResult | None = None
        self._error: Exception | None = None

    def claim(self) -> bool:
        """Whether this call claimed the run (no other thread did before)."""
        with self._lock:
            claimed, self._claimed = self._claimed, True
        return not claimed

    def run(self, h) -> None:
        """Run it on ``h`` (after ``claim``); an error it raises is kept for ``outcome``."""
        try:
            self._value = self._run(h)
        except Exception as exc:  # noqa: BLE001 - raised again where the outcome is asked
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def succeeded(self) -> PriceFixResult | None:
        """Its answer, waited for; None where it raised."""
        self._done.wait()
        return self._value

    def outcome(self) -> PriceFixResult:
        """Its answer, waited for; what it raised is raised here."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class _Placements:
    """One restart's runs under the caps ``caps``: the plain placement, and with
    ``quick_too`` the quick one (``run``'s last argument)."""

    def __init__(self, run, caps: np.ndarray, enough, quick_too: bool) -> None:
        self.plain = _Once(lambda h: run(h, caps, enough, False))
        self.quick = _Once(lambda h: run(h, caps, enough, True)) if quick_too else None

    def work(self, h, ahead_of_plain: bool = False) -> None:
        """Run on ``h`` the runs no thread has claimed, in order: the quick one where the
        plain one needs it, or with ``ahead_of_plain`` already while that one runs (a
        caller that would otherwise wait for it)."""
        if self.plain.claim():
            self.plain.run(h)
        if self.quick is None:
            return
        wanted = (ahead_of_plain and not self.plain.done()) or self._quick_needed()
        if wanted and self.quick.claim():
            self.quick.run(h)

    def _quick_needed(self) -> bool:
        plain = self.plain.succeeded()
        return plain is not None and quick_needed(plain)

    def answer(self) -> PriceFixResult:
        """The restart's schedule, as ``peak_cap.capped_restart`` gives it, waited for."""
        quick = None if self.quick is None else self.quick.outcome
        return placement_answer(self.plain.outcome(), quick)


def _helped(placements: _Placements, spare) -> PriceFixResult:
    """``placements``' answer, the runs no thread has begun run on ``spare`` first
    (None: none), with the seconds it took here."""
    t0 = time.perf_counter()
    if spare is not None:
        placements.work(spare, ahead_of_plain=True)
    res = placements.answer()
    return PriceFixResult(res.values, res.objective_usd, None, time.perf_counter() - t0)


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
    # the caller's help runs on a Highs of its own: the caller's ``h`` then holds the same
    # state whether or not it helped, and what runs on it next takes the same path
    spare = second_highs(h, cm) if quick_too and pf.lp_basis is not None else None
    return RestartAhead(
        own, cm, m, pf.lp_values, time_limit_s, pf.lp_basis, enough, quick_too, spare
    )
