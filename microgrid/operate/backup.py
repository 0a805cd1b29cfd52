"""The plant's backup generators, unit by unit: each is off or runs between its minimum
load and its available capacity, as in the dispatch MILP (``optimize/generators.py``).

A deficit is covered by the cheapest unit first and a surplus taken from the dearest
first, in merit order: fuel + carbon price × carbon, the cost the optimiser gives each MWh
of the unit. A unit that is on rises up to its capacity and falls down to its minimum
load, and goes off when the whole of its output is surplus. A unit that is off starts for
a deficit below its minimum load only when the surplus its minimum makes can be absorbed
(``room_mw``: less import or more export within the grid band, less battery discharge or
more charge, curtailed renewables); otherwise it stays off and the deficit goes on to the
jobs and then to unserved load: an operator does not run a genset below its minimum
stable load, and cannot dump what an islanded bus does not take. For the same reason a
unit whose minimum load is more than the bus takes stops (``stop_units``), and what it
carried is covered by the grid and the battery or shed.
"""

from __future__ import annotations

import optimize
from microgrid.operate.state import Unit

#: Below this (MW) an output or a deficit is round-off.
_TOL_MW = 1e-9
#: A set-point this far (MW) below a unit's minimum load is the solver's tolerance, not off.
_MIN_LOAD_TOL_MW = 1e-6


def units_at(problem: optimize.Problem, k: int) -> tuple[Unit, ...]:
    """The generators of ``problem`` at step ``k``, cheapest first."""
    carbon_usd_per_t = problem.objective.carbon_price_usd_per_t
    units = []
    for g in problem.generators:
        avail = 1.0 if g.available_frac is None else float(g.available_frac[k])
        units.append(
            Unit(
                name=g.name,
                min_mw=g.min_load_frac * g.capacity_mw,
                max_mw=g.capacity_mw * avail,
                # g/kWh = kg/MWh: / 1000 to t/MWh
                cost_usd_per_mwh=g.fuel_usd_per_mwh + carbon_usd_per_t * g.carbon_g_per_kwh / 1e3,
            )
        )
    return tuple(sorted(units, key=lambda u: u.cost_usd_per_mwh))  # stable: ties keep order


def within_limits_mw(unit: Unit, set_point_mw: float) -> float:
    """A set-point the unit can run at: capped at its capacity; off below its minimum load
    (beyond the solver's tolerance), which a capacity derated below it also means."""
    p = min(set_point_mw, unit.max_mw)
    if p <= _TOL_MW or p < unit.min_mw - _MIN_LOAD_TOL_MW:
        return 0.0
    return p


def raise_units(units: tuple[Unit, ...], gen_mw: dict[str, float], deficit_mw: float,
                room_mw: float) -> float:  # fmt: skip
    """Cover ``deficit_mw`` cheapest unit first, in place on ``gen_mw``; a unit started at
    its minimum load above the deficit uses up to ``room_mw`` of absorbable surplus.
    Returns what is left (< 0: the surplus of a minimum load, to be absorbed)."""
    for u in units:
        if deficit_mw <= _TOL_MW:
            break
        p = gen_mw.get(u.name, 0.0)
        if p > 0:
            add = max(min(u.max_mw - p, deficit_mw), 0.0)
        elif u.max_mw > _TOL_MW and u.max_mw >= u.min_mw:
            add = min(u.max_mw, max(deficit_mw, u.min_mw))
            surplus = max(add - deficit_mw, 0.0)
            if surplus > room_mw + _TOL_MW:
                continue  # its minimum load could not be absorbed: it stays off
            room_mw -= surplus
        else:
            continue
        gen_mw[u.name] = p + add
        deficit_mw -= add
    return deficit_mw


def lower_units(units: tuple[Unit, ...], gen_mw: dict[str, float], deficit_mw: float) -> float:
    """Take a surplus (``deficit_mw`` < 0) from the dearest unit first, in place on
    ``gen_mw``: off when its whole output is surplus, else down to its minimum load.
    Returns what is left (≤ 0)."""
    for u in reversed(units):
        if deficit_mw >= -_TOL_MW:
            break
        p = gen_mw.get(u.name, 0.0)
        if p <= 0:
            continue
        cut = p if -deficit_mw >= p else max(min(p - u.min_mw, -deficit_mw), 0.0)
        gen_mw[u.name] = p - cut
        deficit_mw += cut
    return deficit_mw


def stop_units(units: tuple[Unit, ...], gen_mw: dict[str, float], deficit_mw: float,
               takeable_mw: float) -> float:  # fmt: skip
    """Stop units, dearest first, in place on ``gen_mw``, while the surplus
    (−``deficit_mw``) is above what can still be taken (``takeable_mw``: curtailment):
    units at their minimum loads that nothing absorbs. Returns the deficit left."""
    for u in reversed(units):
        if deficit_mw >= -takeable_mw - _TOL_MW:
            break
        deficit_mw += gen_mw.get(u.name, 0.0)
        gen_mw[u.name] = 0.0
    return deficit_mw
