"""Dispatchable generators: ``gen_mw[g, t] in [0, capacity_mw · available_frac[t]]``.

With ``min_load_frac > 0`` a binary ``gen_on[g, t]`` and
``gen_max[g, t]``: ``gen_mw <= capacity · available_frac[t] · on``,
``gen_min[g, t]``: ``gen_mw >= min_load_frac · capacity · on``.
Objective terms (USD): ``fuel_usd_per_mwh · step_h · Σ gen_mw``. Emissions (t) are
``carbon_g_per_kwh / 1000 · step_h · Σ gen_mw`` (see ``objective.py``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.problem import Generator


def define_generators(m: pyo.Block, generators: tuple[Generator, ...], step_h: float) -> list:
    n = len(m.T)
    m.GENERATORS = pyo.Set(initialize=[g.name for g in generators], ordered=True)
    m.gen_mw = pyo.Var(m.GENERATORS, m.T, within=pyo.NonNegativeReals)
    binaries = [g.name for g in generators if g.min_load_frac > 0]
    if binaries:
        m.GEN_BINARY = pyo.Set(initialize=binaries, ordered=True)
        m.gen_on = pyo.Var(m.GEN_BINARY, m.T, within=pyo.Binary)
        m.gen_max = pyo.Constraint(m.GEN_BINARY, m.T)
        m.gen_min = pyo.Constraint(m.GEN_BINARY, m.T)
    terms = []
    for g in generators:
        avail = np.ones(n) if g.available_frac is None else g.available_frac
        p_max = (g.capacity_mw * avail).tolist()
        p = [m.gen_mw[g.name, t] for t in range(n)]
        if g.min_load_frac > 0:
            p_min = g.min_load_frac * g.capacity_mw
            for t in range(n):
                on = m.gen_on[g.name, t]
                m.gen_max[g.name, t] = linear_sum((1.0, -p_max[t]), (p[t], on)) <= 0.0
                m.gen_min[g.name, t] = linear_sum((1.0, -p_min), (p[t], on)) >= 0.0
        else:
            for t in range(n):
                p[t].setub(p_max[t])
        m.bus_injections.append((1.0, p))
        if g.fuel_usd_per_mwh != 0:
            terms.append(linear_sum([g.fuel_usd_per_mwh * step_h] * n, p))
    return terms
