"""Facility load: ``facility_load_mw[t] = (inference_it_mw[t] + jobs_it_mw[t]) · pue[t]`` (MW).

Without jobs the load is a constant array and no Pyomo component is created; with jobs
``m.facility_load_mw`` is an ``Expression`` over ``m.T``.

IT capacity (``Facility.it_capacity_mw``, MW): the campus's GPUs are shared, so
``facility_it_capacity[t]``: ``inference_it_mw[t] + jobs_it_mw[t] ≤ it_capacity_mw``, only at
the steps where the inference and every job released there could pass it together (elsewhere
the row cannot bind, and the model is the same as without a cap). Elastic (the diagnosis):
``− s[t]`` on the left, kind ``it_capacity``.

``optimize.solve`` adds these rows lazily (``it_capacity_rows``): first at no step, then at
the steps where a solution passes the capacity, and solves again, as for the battery's
binaries (``optimize.simultaneous``). A model with fewer rows is a relaxation, so its bound
stays valid, and an answer that keeps the capacity everywhere is feasible. Most plans never
reach the capacity (R1's week peaks at 77.8 MW of IT on 100 MW): their model is then the
one without a cap, row for row. With every row from the start, B5's pro-rated weeks took
176.7 s against 158.1 s, two of them past 10 s (2026-12-06).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator

import numpy as np
import pyomo.environ as pyo

from optimize.elastic import add_slack
from optimize.problem import Facility, Job


def define_facility_load(
    m: pyo.Block, facility: Facility, jobs_it_mw=None, jobs: tuple[Job, ...] = (), elastic=False
) -> list:
    """Return the facility load per step: floats, or expressions when ``jobs_it_mw`` is given.

    ``jobs_it_mw`` is indexable by step (``m.jobs_it_mw``) or ``None`` (no jobs: 0 MW);
    ``jobs`` are the problem's, whose windows say where the IT capacity can bind.
    """
    pue = facility.pue.tolist()
    if jobs_it_mw is None:
        return (facility.inference_it_mw * facility.pue).tolist()
    inf = facility.inference_it_mw.tolist()
    m.facility_load_mw = pyo.Expression(m.T, rule=lambda m, t: (inf[t] + jobs_it_mw[t]) * pue[t])
    if facility.it_capacity_mw is not None:
        _define_it_capacity(m, facility, jobs_it_mw, jobs, elastic)
    return [m.facility_load_mw[t] for t in m.T]


def it_capacity_steps(facility: Facility, jobs: tuple[Job, ...], n_steps: int) -> list[int]:
    """The steps where the inference and the jobs open there could pass the IT capacity."""
    could = facility.inference_it_mw.copy()
    for j in jobs:
        could[max(j.release_step, 0) : min(j.deadline_step, n_steps)] += j.full_power_it_mw
    return np.flatnonzero(could > facility.it_capacity_mw + 1e-9).tolist()


# None: a row at every step that could bind; else only at these steps
_IT_CAPACITY_ROWS: contextvars.ContextVar[frozenset | None] = contextvars.ContextVar(
    "it_capacity_rows", default=None
)
# IT load above the capacity by more than this (MW): a breach, not rounding
_TOL_MW = 1e-6


@contextlib.contextmanager
def it_capacity_rows(steps: Iterable[int]) -> Iterator[None]:
    """Within the block, models get their IT capacity rows at ``steps`` only (those of
    them where it could bind)."""
    token = _IT_CAPACITY_ROWS.set(frozenset(int(t) for t in steps))
    try:
        yield
    finally:
        _IT_CAPACITY_ROWS.reset(token)


def it_capacity_breaches(m: pyo.Block) -> list[int]:
    """Steps of the loaded solution whose IT load passes the capacity."""
    cap = m.problem.facility.it_capacity_mw
    if cap is None or not hasattr(m, "jobs_it_mw"):
        return []
    inf = m.problem.facility.inference_it_mw
    return [t for t in m.T if inf[t] + pyo.value(m.jobs_it_mw[t]) > cap + _TOL_MW]


def _define_it_capacity(m, facility: Facility, jobs_it_mw, jobs, elastic: bool) -> None:
    steps = it_capacity_steps(facility, jobs, len(m.T))
    only = _IT_CAPACITY_ROWS.get()
    if only is not None:
        steps = [t for t in steps if t in only]
    if not steps:
        return
    inf, cap = facility.inference_it_mw.tolist(), float(facility.it_capacity_mw)
    if elastic:
        s = add_slack(m, "slack_it_capacity_mw", "it_capacity", "datacenter", "MW", steps)
        m.facility_it_capacity = pyo.Constraint(
            steps, rule=lambda m, t: inf[t] + jobs_it_mw[t] - s[t] <= cap
        )
    else:
        m.facility_it_capacity = pyo.Constraint(
            steps, rule=lambda m, t: inf[t] + jobs_it_mw[t] <= cap
        )
