"""Elastic slack variables for the infeasibility diagnosis.

When ``build_model(problem, elastic=True)`` is called, each ``define_*`` function relaxes
its hard limits with non-negative slack variables created by :func:`add_slack`. The slacks
are registered in ``m.elastic_slacks`` so that ``diagnosis.py`` can minimise their sum and
report the non-zero ones. ``optimize/jobs.py`` uses the same helper for deadline and
unfinished-work slacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo


@dataclass(frozen=True)
class SlackEntry:
    """One registered slack family.

    kind: what was relaxed (``"import_limit"``, ``"ramp_limit"``, ``"soc_min"``, ...).
    name: the asset or job it belongs to (``"grid"``, ``"battery"``, a job id).
    var: a Pyomo ``Var``, either indexed by step ``t`` or scalar.
    unit: unit of the slack amount (``"MW"``, ``"MWh"``, ``"h"``, ``"t"``).
    step: for a scalar slack, the step it refers to (``None``: no particular step).
    """

    kind: str
    name: str
    var: Any
    unit: str
    step: int | None = None


def add_slack(
    m: pyo.Block,
    component_name: str,
    kind: str,
    name: str,
    unit: str,
    index: Any = None,
    step: int | None = None,
) -> pyo.Var:
    """Create a non-negative slack ``Var`` called ``component_name`` on ``m`` and register it.

    ``index`` is a Pyomo set or list of steps (``None`` for a scalar slack, with ``step``
    naming the step it concerns, if any).
    """
    var = (
        pyo.Var(within=pyo.NonNegativeReals)
        if index is None
        else pyo.Var(index, within=pyo.NonNegativeReals)
    )
    m.add_component(component_name, var)
    if not hasattr(m, "elastic_slacks"):
        m.elastic_slacks = []
    m.elastic_slacks.append(SlackEntry(kind, name, var, unit, step))
    return var
