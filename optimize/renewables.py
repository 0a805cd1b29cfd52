"""Curtailable renewables: ``renewable_used_mw[r, t] in [0, available_mw[t]]`` (MW).

Curtailment is free (``available − used``); there is no objective term.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimize.problem import Renewable


def define_renewables(m: pyo.Block, renewables: tuple[Renewable, ...]) -> list:
    """Add ``renewable_used_mw`` over ``m.RENEWABLES × m.T``; inject into the bus."""
    names = [r.name for r in renewables]
    m.RENEWABLES = pyo.Set(initialize=names, ordered=True)
    m.renewable_used_mw = pyo.Var(m.RENEWABLES, m.T, within=pyo.NonNegativeReals)
    used = m.renewable_used_mw
    n = len(m.T)
    for r in renewables:
        avail = r.available_mw.tolist()
        vars_r = [used[r.name, t] for t in range(n)]
        for t in range(n):
            vars_r[t].setub(avail[t])
        m.bus_injections.append((1.0, vars_r))
    return []
