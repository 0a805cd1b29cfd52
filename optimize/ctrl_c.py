"""A Ctrl-C while HiGHS runs with Python callbacks: noted, HiGHS stopped, raised after.

Python runs a signal's handler in the next Python code the main thread executes. While
HiGHS works, that is highspy's callback dispatcher (``Highs.__internal_callback``): the
KeyboardInterrupt Python's handler raises there escapes the callback, highspy turns it
into HiGHS's "Solve error", and the Ctrl-C is lost. R1's Pareto point e1 (its peak split's
halves run with callbacks) went on for 17 s after a Ctrl-C, and the command wrote the
front and exited 0.

``kept()``, the block ``optimize.callbacks.subscribed`` runs in, replaces the SIGINT
handler on the main thread for the block: a SIGINT is only noted (``noted()``), every
callback subscribed through ``optimize.callbacks`` then stops HiGHS at its next call, and
on leaving the block the previous handler is called with it (Python's raises
KeyboardInterrupt), once HiGHS has stopped. Inner blocks, other threads and a SIGINT that
is ignored (or not handled by Python code) keep the handler as it is.

``quiet_pyomo_interrupts()``: a Ctrl-C that lands while Pyomo constructs a component is
not logged by Pyomo (its "ERROR: Constructing component ... failed: KeyboardInterrupt"
lines on stdout, beside the command's one ``interrupted`` line); other errors still are.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

# Pyomo's logger of a component whose construction raised (pyomo.core.base.block and
# indexed_component log it, then raise the exception again)
PYOMO_CONSTRUCTION_LOGGER = "pyomo.core"


class _DropInterrupts(logging.Filter):
    """Drops a record that reports a KeyboardInterrupt (Pyomo writes the exception's
    type into the message: "...failed:\n    KeyboardInterrupt: ")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "KeyboardInterrupt:" not in record.getMessage()


_DROP_INTERRUPTS = _DropInterrupts()


def quiet_pyomo_interrupts() -> None:
    """Pyomo logs nothing for a Ctrl-C inside a component's construction: the interrupt
    is raised on as it is, and the caller says so once (`microgrid`'s `interrupted`
    line; a sweep's workers stop their case). Once per process; a model's builder calls
    it, so a library user who builds no model keeps Pyomo's logger as it was."""
    logger = logging.getLogger(PYOMO_CONSTRUCTION_LOGGER)
    if _DROP_INTERRUPTS not in logger.filters:
        logger.addFilter(_DROP_INTERRUPTS)


# the SIGINTs noted in the outermost block (signal number, frame), handled on leaving it
_NOTED: list[tuple[int, object]] = []


def noted() -> bool:
    """Whether a SIGINT is waiting for its block to end (HiGHS should stop)."""
    return bool(_NOTED)


def _note(signum: int, frame: object) -> None:
    _NOTED.append((signum, frame))


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """Within the block, a SIGINT is noted rather than raised where it lands; on leaving
    it the handler that was in place is called with it (see the module's docstring)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or previous is _note:  # ignored, default, or an outer block
        yield
        return
    signal.signal(signal.SIGINT, _note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if _NOTED:
            signum, frame = _NOTED[0]
            _NOTED.clear()
            previous(signum, frame)
