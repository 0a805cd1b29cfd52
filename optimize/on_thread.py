"""One call run on a second Python thread while the caller goes on (``threads`` from 2:
``SolverOptions.second_thread``): the peak-capped restart beside the edge search
(``optimize.restart_ahead``), the last probe beside HiGHS's MILP
(``optimize.probe_beside``). HiGHS releases Python's lock while it runs, so the two
proceed on two cores."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable


class OnThread:
    """``call()`` on a daemon thread of its own named ``name``, started at construction,
    in a copy of the caller's context variables (the progress sink, the objective unit)."""

    def __init__(self, call: Callable[[], object], name: str) -> None:
        self._done = threading.Event()
        self._value: object = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, call), name=name, daemon=True
        )
        self._thread.start()

    def _run(self, call) -> None:
        try:
            self._value = call()
        except Exception as exc:  # noqa: BLE001 - raised again on the caller's thread
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        """Whether the call has ended (its outcome is then ready without waiting)."""
        return self._done.is_set()

    def wait(self) -> None:
        """Wait for the call to end (an error it raised stays for ``outcome``)."""
        self._thread.join()

    def outcome(self):
        """What the call returned, waited for; what it raised is raised here."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value
