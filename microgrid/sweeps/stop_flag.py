"""Has this process (a sweep's pool worker, or a case's child) had a Ctrl-C?
(docs/sweeps.md rule 7)

The SIGINT handlers of a pool worker (`backends._on_sigint`: every SIGINT, after which
the worker starts no further case) and of a time-limited case's child (`case_process`)
note the signal here BEFORE they raise KeyboardInterrupt. The KeyboardInterrupt is raised
at whatever Python instruction runs, and library code may wrap it into another exception:
pydantic-core turns one raised in a serializer into a `PydanticSerializationError`, which
the worker's `except Exception` would record as a failed case. So the worker reads this
flag before it writes any record: once it is set, whatever the case did is the
interrupt's, and the case writes no record.
"""

from __future__ import annotations

import signal

_noted = False  # one flag per process (a forked child inherits the worker's, False then)


def note_interrupt() -> None:
    """Note a Ctrl-C in this process (before raising KeyboardInterrupt)."""
    global _noted
    _noted = True


def interrupted() -> bool:
    """Whether this process has had a Ctrl-C that `note_interrupt` noted."""
    return _noted


def stop_case(signum: int, frame: object) -> None:
    """A SIGINT handler that stops the case at once: notes the signal, then raises
    KeyboardInterrupt (as Python's default handler does)."""
    note_interrupt()
    signal.default_int_handler(signum, frame)
