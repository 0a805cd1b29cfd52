"""Exceptions of the solver side: HiGHS stopped without a usable answer."""

from __future__ import annotations


class SolveError(RuntimeError):
    """HiGHS stopped without a usable solution for a reason other than infeasibility.

    ``status``: HiGHS's status (``"time_limit"``: no solution within the time limit), or
    None; ``suspects``: ``optimize.ranges.Extreme`` records of the largest numbers of the
    model (the usual cause of a numerical failure), empty when unknown.
    """

    def __init__(self, message: str, status: str | None = None, suspects: tuple = ()):
        super().__init__(message)
        self.status = status
        self.suspects = tuple(suspects)


class NumericRangeError(SolveError):
    """A model number is NaN, infinite where it must be finite, or beyond its limit
    (``optimize.ranges``), found before solving.

    ``part``: ``"cost"``, ``"coefficient"`` or ``"bound"``; ``component``: the name of the
    Pyomo variable or constraint that holds it; ``index``: its index there (or None).
    """

    def __init__(self, part: str, component: str, index, value: float, limit: float):
        self.part, self.component, self.index = part, component, index
        self.value, self.limit = float(value), float(limit)
        where = component if index is None else f"{component}[{index}]"
        super().__init__(f"{part} {self.value:.6g} of {where} is beyond +-{limit:.0e}")
