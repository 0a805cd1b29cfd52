"""Exceptions of the solver side: no feasible schedule (with the slacks that would make one,
found by ``optimize.diagnosis``), or HiGHS stopped without a usable answer."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class Slack:
    kind: str  # "import_limit", "ramp_limit_up", "soc_min", "dr_cap", "carbon_budget", ...
    name: str  # the asset or job
    steps: list[int]  # contiguous steps (empty: not tied to a step)
    amount: float  # largest violation over the steps, in ``unit``
    unit: str

    def __str__(self) -> str:
        if not self.steps:
            where = ""
        elif len(self.steps) == 1:
            where = f" at step {self.steps[0]}"
        else:
            where = f" at steps {self.steps[0]}-{self.steps[-1]}"
        return f"{self.kind} ({self.name}){where}: short by up to {self.amount:.6g} {self.unit}"


class Infeasible(Exception):
    """The problem has no feasible schedule; ``diagnosis`` lists the minimal relaxations."""

    def __init__(self, diagnosis: list[Slack]):
        self.diagnosis = list(diagnosis)
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.diagnosis:
            return "infeasible (no elastic slack could explain it)"
        lines = [f"infeasible: {len(self.diagnosis)} limit(s) must be relaxed:"]
        lines += [f"  - {s}" for s in self.diagnosis]
        return "\n".join(lines)
