"""Demand-response caps known without a solve: the windows' caps in MW
(`fixed_demand_response_caps`) and those no schedule can meet (`unreachable_caps_error`,
by `optimize.cap_reach`'s bounds). `validate` reads this module: it loads no solver."""

from __future__ import annotations

import numpy as np

import optimize
from microgrid.assemble import Inputs, window_mask
from microgrid.diagnosis_text import DIAGNOSIS_LINE_CHARS, diagnosis_message
from microgrid.errors import InputError, allow_long
from microgrid.scenario import Scenario
from optimize.cap_reach import unreachable_caps


def fixed_demand_response_caps(scenario: Scenario, inputs: Inputs) -> np.ndarray | None:
    """The caps per step of the windows in MW (`cap_mw`; NaN: none), which need no
    solve; None without demand-response windows."""
    windows = scenario.events.demand_response
    if not windows:
        return None
    caps = np.full(len(inputs.index), np.nan)
    for w in windows:
        if w.cap_mw is not None:
            mask = window_mask(scenario, inputs.index, w.start, w.end)
            caps[mask] = np.fmin(caps[mask], w.cap_mw)
    return caps


def unreachable_caps_error(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem
) -> InputError | None:
    """The one-line error of `problem`'s demand-response caps that no schedule can meet,
    found without solving (`optimize.cap_reach`: a cap below the site's least net
    import, or one the battery cannot carry to its end), worded as the plan's diagnosis
    (`infeasible_error`); None where those bounds find none (a solve may still). Said of
    the whole period: a rolling solve's windows have no part in it."""
    slacks = unreachable_caps(problem)
    if not slacks:
        return None
    outage = inputs.frame["outage"].to_numpy(dtype=bool)
    exc = optimize.Infeasible(slacks)
    message = diagnosis_message(exc, inputs.index, scenario.site.timezone, problem, outage)
    error = scenario.error(message, "events.demand_response")
    return allow_long(error, DIAGNOSIS_LINE_CHARS)
