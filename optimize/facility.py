"""Facility load: ``facility_load_mw[t] = (inference_it_mw[t] + jobs_it_mw[t]) · pue[t]`` (MW).

Without jobs the load is a constant array and no Pyomo component is created; with jobs
``m.facility_load_mw`` is an ``Expression`` over ``m.T``.

IT capacity (``Facility.it_capacity_mw``, MW): the campus's GPUs are shared, so
``facility_it_capacity[t]``: ``inference_it_mw[t] + jobs_it_mw[t] ≤ it_capacity_mw``, only at
the steps where the inference and every job released there could pass it together (elsewhere
the row cannot bind, and the model is the same as without a cap). Elastic (the diagnosis):
``− s[t]`` on the left, kind ``it_capacity``.
"""

from __future__ import annotations

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


def _define_it_capacity(m, facility: Facility, jobs_it_mw, jobs, elastic: bool) -> None:
    steps = it_capacity_steps(facility, jobs, len(m.T))
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
