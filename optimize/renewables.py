"""Curtailable renewables: ``renewable_used_mw[r, t] in [0, available_mw[t]]`` (MW).

A sized renewable (``optimize/sizing.py``, size ``S_r`` MW in ``[L_r, U_r]``): the bound is
``profile_per_unit[t] · U_r`` and the row ``<r>_size_cap[t]``: ``renewable_used_mw[r, t] <=
profile_per_unit[t] · S_r``; its ``Renewable.available_mw`` is not used.
Curtailment is free (``available − used``); there is no objective term.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimize.problem import Renewable
from optimize.sizing import capacity, define_cap_rows


def define_renewables(m: pyo.Block, renewables: tuple[Renewable, ...]) -> list:
    """Add ``renewable_used_mw`` over ``m.RENEWABLES × m.T``; inject into the bus."""
    names = [r.name for r in renewables]
    m.RENEWABLES = pyo.Set(initialize=names, ordered=True)
    m.renewable_used_mw = pyo.Var(m.RENEWABLES, m.T, within=pyo.NonNegativeReals)
    used = m.renewable_used_mw
    n = len(m.T)
    for r in renewables:
        cap = capacity(m, r.name, 1.0)
        avail = r.available_mw if not cap.sized else cap.profile * cap.upper
        vars_r = [used[r.name, t] for t in range(n)]
        for t, ub in enumerate(avail.tolist()):
            vars_r[t].setub(ub)
        if cap.sized:
            define_cap_rows(m, f"{r.name}_size_cap", vars_r, cap.profile, cap)
        m.bus_injections.append((1.0, vars_r))
    return []
