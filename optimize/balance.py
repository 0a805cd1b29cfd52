"""Power balance at the single bus, one equality per step (MW):

``grid_import − grid_export + Σ renewable_used + battery_discharge − battery_charge
+ Σ gen = facility_load``.

Each ``define_*`` function registers its bus injections in ``m.bus_injections`` as
``(sign, [var for t in T])``; this module adds them up step by step.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def define_power_balance(m: pyo.Block, load: list) -> None:
    inj = m.bus_injections
    coefs = [float(c) for c, _ in inj]

    def rule(m, t):
        body = LinearExpression(
            constant=0.0, linear_coefs=list(coefs), linear_vars=[v[t] for _, v in inj]
        )
        return body == load[t]

    m.power_balance = pyo.Constraint(m.T, rule=rule)
