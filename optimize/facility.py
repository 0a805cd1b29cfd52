"""Facility load: ``facility_load_mw[t] = (inference_it_mw[t] + jobs_it_mw[t]) · pue[t]`` (MW).

Without jobs the load is a constant array and no Pyomo component is created; with jobs
``m.facility_load_mw`` is an ``Expression`` over ``m.T``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimize.problem import Facility


def define_facility_load(m: pyo.Block, facility: Facility, jobs_it_mw=None) -> list:
    """Return the facility load per step: floats, or expressions when ``jobs_it_mw`` is given.

    ``jobs_it_mw`` is indexable by step (``m.jobs_it_mw``) or ``None`` (no jobs: 0 MW).
    """
    pue = facility.pue.tolist()
    if jobs_it_mw is None:
        return (facility.inference_it_mw * facility.pue).tolist()
    inf = facility.inference_it_mw.tolist()
    m.facility_load_mw = pyo.Expression(m.T, rule=lambda m, t: (inf[t] + jobs_it_mw[t]) * pue[t])
    return [m.facility_load_mw[t] for t in m.T]
