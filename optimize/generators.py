"""Dispatchable generators: ``gen_mw[g, t] in [0, G · available_frac[t]]`` (G = capacity_mw).

With ``min_load_frac > 0`` (f) a binary ``gen_on[g, t]`` and
``gen_max[g, t]``: ``gen_mw <= G · available_frac[t] · on``,
``gen_min[g, t]``: ``gen_mw >= f · G · on``.
A sized generator (``optimize/sizing.py``, size G in ``[L_G, U_G]``): the bounds and
``gen_max`` use ``U_G``; ``gen_<g>_size_cap[t]``: ``gen_mw <= available_frac[t] · G``; and
``gen_min`` is the exact linearisation ``gen_mw >= f · G − f · U_G · (1 − on)`` (on: at least
f · G; off: no floor). With G fixed (``U_G = G``) that row is ``gen_mw >= f · G · on``.
Objective terms (USD): ``fuel_usd_per_mwh · step_h · Σ gen_mw``. Emissions (t) are
``carbon_g_per_kwh / 1000 · step_h · Σ gen_mw`` (see ``objective.py``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.problem import Generator
from optimize.sizing import Capacity, capacity, define_cap_rows


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
        cap = capacity(m, f"generator:{g.name}", g.capacity_mw)
        avail = np.ones(n) if g.available_frac is None else g.available_frac
        p = [m.gen_mw[g.name, t] for t in range(n)]
        if g.min_load_frac > 0:
            _min_load_rows(m, g, cap, avail, p)
        else:
            for t, ub in enumerate((cap.upper * avail).tolist()):
                p[t].setub(ub)
        define_cap_rows(m, f"gen_{g.name}_size_cap", p, avail, cap)
        m.bus_injections.append((1.0, p))
        if g.fuel_usd_per_mwh != 0:
            terms.append(linear_sum([g.fuel_usd_per_mwh * step_h] * n, p))
    return terms


def _min_load_rows(m: pyo.Block, g: Generator, cap: Capacity, avail, p: list) -> None:
    """``gen_max`` and ``gen_min`` of generator ``g`` (see the module docstring)."""
    p_max = (cap.upper * avail).tolist()
    f_u = g.min_load_frac * cap.upper
    coefs, size_vars, const = cap.scaled(-g.min_load_frac)  # −f · G
    for t in range(len(p)):
        on = m.gen_on[g.name, t]
        m.gen_max[g.name, t] = linear_sum((1.0, -p_max[t]), (p[t], on)) <= 0.0
        # gen − f·G − f·U_G·on >= −f·U_G
        m.gen_min[g.name, t] = (
            linear_sum((1.0, -f_u, *coefs), (p[t], on, *size_vars), const) >= -f_u
        )
