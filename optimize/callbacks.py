"""HiGHS callbacks set on a ``Highs`` object only while one is subscribed.

highspy sets its Python callback function on every ``Highs`` it makes, subscribed or
not. HiGHS keeps that function in its options, and copies the options several times in
every run (and in every sub-MIP of a MILP): each copy of a Python function takes Python's
lock (the GIL). Alone that costs nothing, but beside another Python thread (a rolling
solve's window builder, a restart on the second thread) every copy waits for the lock:
a trivial LP's run took six switch intervals instead of one, and B2's price-fix LPs
14.8 s instead of 12.9 s (docs/model_jobs_history.md, forty-fourth session).

So ``optimize.highs.new_highs`` unsets it (``leave_unset``), and ``subscribe`` sets it
again for the first subscriber and ``unsubscribe`` unsets it after the last. A callback
only tells the search where to stop, so the answers are the same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import highspy


def leave_unset(h: highspy.Highs) -> None:
    """Unset highspy's callback function on ``h`` (nothing is subscribed to it yet)."""
    h.disableCallbacks()


def subscribe(h: highspy.Highs, event, callback: Callable) -> None:
    """``event.subscribe(callback)`` (``event``: one of ``h``'s, e.g. ``h.cbMipInterrupt``),
    setting highspy's callback function on ``h`` first if nothing was subscribed."""
    if not _any_subscribed(h):
        h.enableCallbacks()
    event.subscribe(callback)


def unsubscribe(h: highspy.Highs, event, callback: Callable) -> None:
    """``event.unsubscribe(callback)``, unsetting highspy's callback function on ``h``
    once nothing is subscribed."""
    event.unsubscribe(callback)
    if not _any_subscribed(h):
        h.disableCallbacks()


@contextlib.contextmanager
def subscribed(h: highspy.Highs, *pairs: tuple[object, Callable]) -> Iterator[None]:
    """Within the block, each ``(event, callback)`` of ``pairs`` is subscribed on ``h``
    (``subscribe``); on leaving it, those subscribed are unsubscribed in reverse order,
    whatever happened in between."""
    done: list[tuple[object, Callable]] = []
    try:
        for event, callback in pairs:
            subscribe(h, event, callback)
            done.append((event, callback))
        yield
    finally:
        for event, callback in reversed(done):
            unsubscribe(h, event, callback)


def _any_subscribed(h: highspy.Highs) -> bool:
    return any(event.callbacks for event in h.callbacks)
