"""A tight gap's answer is never weaker than the default gap's, where it fails that gap.

Below the default ``mip_rel_gap`` (``LOOSER_GAP``, 1 %) the chain's steps aim at a lower
target and prove less on the way: the probes ask for schedules cheaper than
``U − 0.1 % · basis`` where the 1 % solve asks for ``U − 1 % · basis``, the peak split does
not run (``optimize.peak_split.SPLIT_MIN_GAP``), and HiGHS's node limit is spent on a
longer proof. So a 0.1 % solve that stops at the node limit could report a weaker proven
gap than the 1 % solve of the same model: an outside audit's case of 41 steps gave 1.83 %
at 0.1 % against 1.0 % at 1 %, another 2.0 % against 1.0 % (2026-12-07). A planner who
asks for more precision should not get less.

``looser_wanted``: a ``milp`` solve below ``LOOSER_GAP`` that ended with a schedule whose
proven gap is above ``LOOSER_GAP``, and the clock (if any) not spent. The caller then solves
the same model again as the default gap would (the same options but ``mip_rel_gap``, and
what is left of the time limit) and ``stronger_answer`` keeps the cheaper schedule at its
own cost with the higher of the two bounds: both bounds are lower bounds of the one
model's optimum, so their maximum is too. The answer's gap is then at most both runs'
gaps, so at most what the 1 % solve alone reports. Its status is "optimal" where that
gap is within the asked ``mip_rel_gap``, else the tight run's stop (the clock's where it
bound the second). A tight run within ``LOOSER_GAP`` is left as it is: it keeps the
default's promise, and the second run would cost its time on every hard case for at
most a smaller number under 1 %.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimize.answer_cost import restated
from optimize.highs import CompiledModel, HighsResult, highest_bound
from optimize.solver_options import SolverOptions

# the default ``SolverOptions.mip_rel_gap``: the gap a tight solve's answer is kept within
LOOSER_GAP = SolverOptions().mip_rel_gap

# stops that leave time and a schedule to improve on (a clock stop leaves no time)
_COUNT_STOPS = ("node_limit", "heuristic")


def looser_wanted(options: SolverOptions, res: HighsResult, spent_s: float) -> bool:
    """Whether the answer ``res`` of a solve by ``options`` meets ``looser_options``'s
    solve (module docstring); ``spent_s``: seconds spent so far of the time limit."""
    if options.method != "milp" or options.mip_rel_gap >= LOOSER_GAP:
        return False
    if res.status not in _COUNT_STOPS or not res.has_solution or res.bound is None:
        return False
    limit = options.time_limit_s
    return res.mip_gap > LOOSER_GAP and (limit is None or spent_s < limit)


def looser_options(options: SolverOptions, spent_s: float) -> SolverOptions:
    """``options`` at ``LOOSER_GAP``, with what is left of the time limit."""
    limit = options.time_limit_s
    left = None if limit is None else limit - spent_s
    return dataclasses.replace(options, mip_rel_gap=LOOSER_GAP, time_limit_s=left)


def stronger_answer(
    cm: CompiledModel,
    options: SolverOptions,
    tight: tuple[HighsResult, np.ndarray],
    loose: tuple[HighsResult, np.ndarray],
) -> tuple[HighsResult, np.ndarray]:
    """The cheaper of the two answers (result, columns) of one model at its own cost,
    with the higher bound; "optimal" within ``options.mip_rel_gap``, else the tight
    answer's stop (``time_limit`` where the clock stopped the loose one). Times add up."""
    (res_t, x_t), (res_l, x_l) = tight, loose
    if not res_l.has_solution:
        return res_t, x_t
    res, x = (res_l, x_l) if res_l.objective < res_t.objective else (res_t, x_t)
    bound = highest_bound(res_t.bound, res_l.bound)
    # the clock, where it bound the second solve, is the stop a user can lift
    stop = res_l.status if res_l.status == "time_limit" else res_t.status
    out = restated(cm, options, x, res.objective, bound, stop, 0.0)
    out.solve_s = res_t.solve_s + res_l.solve_s
    return out, x
