"""Demand-response caps that a re-plan's window cannot meet: the plant's doing or the
inputs'.

A cap the plant's state cannot meet (its battery drawn down by an outage or a forecast
miss, a look-ahead that saw the cap too late) is the plant's own shortfall: the window is
planned with the cap soft (``soft_caps``) and the plant imports above it the least it
must. A cap the scenario's inputs cannot meet even from the best state the plant could
be in (``check_caps``) is plan mode's error, and stops the run as plan mode does.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import optimize
from optimize.window_state import sub_problem

#: The price (USD/MWh) on net import above a demand-response cap in a window the plant's
#: state leaves without a schedule under it (``soft_caps``): above every price, fuel and
#: wear, so the plan imports above the cap only what nothing else covers; and above the
#: unfinished-work penalty of a job of 1 MW or more (1e6 USD/h), so it pauses such jobs
#: first, as the plant does.
CAP_OVER_USD_PER_MWH = 1.0e6


class CapBeyondInputs(optimize.Infeasible):
    """A window's demand-response cap that the scenario's inputs cannot meet even from the
    best state the plant could be in (``check_caps``): plan mode's error, not a miss of
    the plant's; its steps count from the period's start."""


def check_caps(
    full: optimize.Problem,
    k: int,
    h: int,
    options: optimize.SolverOptions,
    checked: set[tuple[int, int]],
) -> None:
    """Raise ``CapBeyondInputs`` where the scenario's inputs alone cannot meet the
    demand-response caps of the window of ``h`` steps from ``k``: over the window
    stretched to the whole cap periods it cuts (``cap_span``), from the best state the
    plant could be in at its start (at step 0 the scenario's own, later a full battery and
    no last import to ramp from), with the actual resource, the plan's events and not
    ``operate.events``, the jobs paused and no SOC to end at. What the window misses
    otherwise is the plant's state's doing (or its forecast's). ``checked``: the spans
    found within reach so far (each solved once), added to."""
    a, e = cap_span(full.grid.net_import_cap_mw, k, k + h)
    if (a, e) in checked:
        return
    b, g = full.battery, full.grid
    soc_frac = None if a == 0 or b is None else b.soc_max_frac
    check = sub_problem(full, a, e, soc_frac, g.initial_net_import_mw if a == 0 else None, [])
    if b is not None:
        free_end = dataclasses.replace(check.battery, soc_final_frac=None)
        check = dataclasses.replace(check, battery=free_end)
    try:
        optimize.solve(check, options)
    except optimize.Infeasible as exc:
        shifted = [dataclasses.replace(s, steps=[t + a for t in s.steps]) for s in exc.diagnosis]
        raise CapBeyondInputs(shifted) from None
    checked.add((a, e))


def cap_span(cap_mw: np.ndarray | None, a: int, e: int) -> tuple[int, int]:
    """Steps ``[a, e)`` stretched to whole cap periods: back to the first of the capped
    steps running without a break into ``a``, on to the last of those running on from
    ``e − 1``."""
    if cap_mw is None:
        return a, e
    capped = ~np.isnan(cap_mw)
    while a > 0 and capped[a] and capped[a - 1]:
        a -= 1
    while e < len(capped) and capped[e - 1] and capped[e]:
        e += 1
    return a, e


def soft_caps(window: optimize.Problem) -> optimize.Problem:
    """``window`` with its demand-response caps soft at ``CAP_OVER_USD_PER_MWH`` and no
    SOC to end at: the plan keeps the caps as far as the plant's state lets it, filling
    the battery before them, running the generators and pausing jobs in them, and
    imports above them the least it must; it keeps no end SOC by importing above a cap."""
    g = dataclasses.replace(window.grid, dr_cap_over_usd_per_mwh=CAP_OVER_USD_PER_MWH)
    b = window.battery
    if b is not None:
        b = dataclasses.replace(b, soc_final_frac=None)
    return dataclasses.replace(window, grid=g, battery=b)


def capped(window: optimize.Problem) -> bool:
    """The window holds a step with a demand-response cap."""
    cap = window.grid.net_import_cap_mw
    return cap is not None and bool(np.any(~np.isnan(cap)))
