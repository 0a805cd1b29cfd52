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

Each callback is subscribed behind a guard: once a Ctrl-C is noted (``optimize.ctrl_c``,
the block ``subscribed`` runs in) or a callback raised one (any BaseException that is not
an Exception: highspy would turn it into HiGHS's "Solve error" and drop it), every guarded
callback on that ``Highs`` stops HiGHS (``e.interrupt()``) instead of running, and
``subscribed`` raises the Ctrl-C on leaving its block, once HiGHS has stopped. Other
exceptions are left as they were.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator

import highspy

from optimize import ctrl_c

# a Ctrl-C a guarded callback raised on a Highs, raised when a ``subscribed`` block ends
_PENDING: weakref.WeakKeyDictionary[highspy.Highs, BaseException] = weakref.WeakKeyDictionary()
# each subscribed callback's guard, by (callback type, callback), for ``unsubscribe``
_GUARDS: weakref.WeakKeyDictionary[highspy.Highs, dict] = weakref.WeakKeyDictionary()


def leave_unset(h: highspy.Highs) -> None:
    """Unset highspy's callback function on ``h`` (nothing is subscribed to it yet)."""
    h.disableCallbacks()


def subscribe(h: highspy.Highs, event, callback: Callable) -> None:
    """``event.subscribe(callback)`` (``event``: one of ``h``'s, e.g. ``h.cbMipInterrupt``),
    setting highspy's callback function on ``h`` first if nothing was subscribed."""
    if not _any_subscribed(h):
        h.enableCallbacks()
    guards = _GUARDS.setdefault(h, {})
    key = (event.callback_type, callback)
    guard = guards.get(key) or _guard(weakref.ref(h), callback)
    event.subscribe(guard)
    guards[key] = guard


def unsubscribe(h: highspy.Highs, event, callback: Callable) -> None:
    """``event.unsubscribe(callback)``, unsetting highspy's callback function on ``h``
    once nothing is subscribed."""
    guard = _GUARDS.get(h, {}).pop((event.callback_type, callback), None)
    event.unsubscribe(callback if guard is None else guard)
    if not _any_subscribed(h):
        h.disableCallbacks()


def _guard(h_ref: weakref.ref, callback: Callable) -> Callable:
    """``callback`` behind the Ctrl-C guard (the module's docstring); it holds its
    ``Highs`` weakly (the ``Highs`` holds it)."""

    def guarded(e) -> None:
        h = h_ref()
        if ctrl_c.noted() or (h is not None and h in _PENDING):
            e.interrupt()  # stopping: HiGHS ends at its next check
            return
        try:
            callback(e)
        except Exception:
            raise
        except BaseException as exc:  # a Ctrl-C raised in the callback: kept, not dropped
            if h is not None:
                _PENDING.setdefault(h, exc)
            e.interrupt()

    return guarded


@contextlib.contextmanager
def subscribed(h: highspy.Highs, *pairs: tuple[object, Callable]) -> Iterator[None]:
    """Within the block, each ``(event, callback)`` of ``pairs`` is subscribed on ``h``
    (``subscribe``); on leaving it, those subscribed are unsubscribed in reverse order,
    whatever happened in between, and a Ctrl-C noted or raised in a callback on ``h``
    during the block is raised (the module's docstring)."""
    with ctrl_c.kept():
        done: list[tuple[object, Callable]] = []
        try:
            for event, callback in pairs:
                subscribe(h, event, callback)
                done.append((event, callback))
            yield
        finally:
            for event, callback in reversed(done):
                unsubscribe(h, event, callback)
            pending = _PENDING.pop(h, None)
            if pending is not None:
                raise pending


def _any_subscribed(h: highspy.Highs) -> bool:
    return any(event.callbacks for event in h.callbacks)
