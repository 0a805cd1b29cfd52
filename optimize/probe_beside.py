"""The last probe over nodes on a second thread while HiGHS's MILP runs, with the answer of
the two run one after the other.

With one thread, a start still unproven after the peak-capped restart is probed over nodes
(``optimize.probing``), and HiGHS's MILP then runs from it with the probe's bound: an
incumbent within ``mip_rel_gap`` of that bound stops it (``optimize.highs.StopAtGap``).
Where the probe fails (pro-rated ERCOT 2023-02-06: 3.4 s of 11.5 s), its time only adds to
the MILP's. The MILP needs nothing of the probe but its bound, and the bound only decides
where the MILP stops, not how it searches. So with two threads the probe runs on a thread
of its own while the MILP runs from the same start, and the answer is still the one of the
probe first and the MILP after it:

- **The probe proves the start, or finds a schedule cheaper than its target:** the MILP is
  stopped at its next interrupt callback and its work dropped; the caller goes on as after
  that probe with one thread (the start is the answer, or the MILP runs from the schedule
  found).
- **The probe fails:** its bound ``b`` would have stopped the MILP at the first interrupt
  callback whose latest incumbent lies within the gap of ``b``. HiGHS's search, and so its
  incumbents and its callbacks, are the same with and without the bound, so
  ``HistoryStop`` records each incumbent and, at each interrupt callback, which incumbent
  was the latest and HiGHS's dual bound. When ``b`` is known (at the first callback after
  the probe ends, or after the MILP ends), the history gives that callback: passed
  already, the MILP is stopped and the answer is the incumbent and dual bound recorded
  there; not yet passed, the MILP goes on with ``b`` as the bound of its stop. A MILP that
  reaches the stop of the bound it started with (the one before the probe, at most ``b``)
  is stopped there and waits for ``b``: with ``b`` it would have stopped there or earlier.

Every step depends on counts and on HiGHS's search, never on which thread is first, so the
answer is the same on every machine and under any load (tested against the one-thread
order, and with the probe delayed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimize.highs import CompiledModel, StopAtGap, highest_bound, relative_gap
from optimize.on_thread import OnThread


class ProbeBeside(OnThread):
    """A prepared probe (``optimize.probing.prepared_probe``, wrapped to return the start
    with its bound, and the probe's result) run on its own thread from construction."""

    def __init__(self, search: Callable[[], tuple]) -> None:
        super().__init__(search, "probe-beside")


@dataclass(frozen=True)
class Incumbent:
    """An incumbent HiGHS reported: its cost and gap basis (USD) and its columns."""

    objective_usd: float
    basis_usd: float
    values: np.ndarray


class HistoryStop(StopAtGap):
    """``StopAtGap`` for a MILP beside a probe (``ProbeBeside``): the bound of its stop is
    the one before the probe until the probe's arrives (``settle``), and it records what a
    run with the probe's bound from the start would have stopped at (see the module
    docstring). ``stop_at``: the interrupt callback of that stop, once known; ``dropped``:
    the probe proved the start or found a schedule, and the MILP's work does not count.
    ``below_usd`` and ``below_within`` (``StopAtGap``'s) stop the run below a cost too,
    recorded the same way (a MILP at a tight gap: ``optimize.cutoff_restart``)."""

    def __init__(self, cm: CompiledModel, bound_usd, rel_gap: float, beside: ProbeBeside):
        super().__init__(cm, bound_usd, rel_gap)
        self.beside = beside
        self.incumbents: list[Incumbent] = []
        self.calls: list[tuple[int, float]] = []  # (latest incumbent or -1, dual bound)
        self.settled = self.dropped = False
        self.stop_at: int | None = None

    def mark(self, objective: float, basis_usd: float, solution=None) -> None:
        if solution is not None:
            values = np.array(solution, dtype=float)
            self.incumbents.append(Incumbent(objective, basis_usd, values))
        super().mark(objective, basis_usd)

    def interrupt(self, e) -> None:
        self.calls.append((len(self.incumbents) - 1, float(e.data_out.mip_dual_bound)))
        self.clear_stale(e)
        self.note_callback(e)
        if not self.settled and self.beside.done():
            self.settle()
        now = len(self.calls) - 1
        if self.settled and not self.dropped and self.stop_at is None and self._stops(now):
            self.stop_at = now
        # reached before settling: the probe's bound stops the run here or before
        if self.dropped or self.stop_at is not None or (not self.settled and self.reached):
            e.interrupt()

    def settle(self) -> tuple:
        """Take the probe's outcome (waited for): a bound raises the stop's and finds where
        a run with it from the start stopped (``stop_at``; None: not yet). Returns it."""
        outcome = self.beside.outcome()
        if not self.settled:
            self.settled = True
            start, probe = outcome
            if probe.proven or probe.values is not None:
                self.dropped = True
            else:
                self.bound_usd = highest_bound(self.bound_usd, start.bound_usd)
                self.stop_at = next((c for c in range(len(self.calls)) if self._stops(c)), None)
        return outcome

    def _stops(self, call: int) -> bool:
        """A run with the current bound stops at interrupt callback ``call`` (its latest
        incumbent is within the gap of the bound, or meets the stop below ``below_usd``)."""
        latest, dual_bound_usd = self.calls[call]
        if latest < 0:
            return False
        inc = self.incumbents[latest]
        fresh = call == 0 or self.calls[call - 1][0] != latest  # its first callback
        if fresh and self.below_stop(inc.objective_usd, inc.basis_usd, dual_bound_usd):
            return True
        if self.bound_usd is None:
            return False
        return relative_gap(inc.objective_usd, self.bound_usd, inc.basis_usd) <= self.rel_gap

    def stopped(self) -> tuple[Incumbent, float] | None:
        """The incumbent and HiGHS's dual bound (USD) at ``stop_at``, where there is one."""
        if self.stop_at is None:
            return None
        latest, dual_bound = self.calls[self.stop_at]
        return self.incumbents[latest], dual_bound
