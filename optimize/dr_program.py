"""Demand-response program: commit capacity C (MW), deliver it in event steps.

Net import ``net[t] = grid_import_mw[t] − grid_export_mw[t]`` (MW). ``E`` = the event
steps of ``problem.dr_program`` (P), ``Δ`` = ``step_h``.
Baseline (MW, linear): ``B[t] = baseline_fixed_mw[t] + Σ_(t, j, w) w · net[j]``;
reduction ``r[t] = B[t] − net[t]``.
Settlement rule (capacity programs such as PJM Load Management or ERCOT ERS measure the
shortfall against the commitment): delivered ``d[t] = min(C, max(r[t], 0))``, shortfall
``s[t] = C − d[t] = max(0, C − max(r[t], 0))``. A step with import above the baseline
delivers nothing and falls short by at most C; at C = 0 nothing is paid or owed.
Variables:
- ``dr_commit_mw = C in [0, P.max_commit_mw]`` (fixed to ``P.commit_mw`` when given);
- ``dr_delivered_mw[t] in [0, C's bound]`` and ``dr_shortfall_mw[t] in [0, C's bound]``
  (t in E);
- ``dr_no_reduction[t]`` binary (t in E where ``r[t]`` can be negative): 1 writes the
  step off (``d[t] = 0``), which the model needs where ``r[t] < 0``.
Constraints (t in E):
- ``dr_shortfall_def[t]``: ``d[t] + s[t] = C`` (so ``d[t] <= C``);
- ``dr_delivered_le_reduction[t]``: ``d[t] <= r[t] + M[t] · z[t]``, with ``M[t]`` the
  largest ``−r[t]`` the variables' bounds allow (so z = 1 lifts the row);
- ``dr_written_off[t]``: ``d[t] <= C's bound · (1 − z[t])``.
``max(r, 0)`` is not concave, so the exact rule needs the binary; event steps are few.
Objective terms (USD): ``− capacity_usd_per_mw · C − energy_usd_per_mwh · Δ · Σ d[t]
+ shortfall_usd_per_mwh · Δ · Σ s[t]``. Both prices reward a larger ``d[t]``, so at
the optimum ``d[t] = min(C, max(r[t], 0))``: ``settle`` computes the same numbers from any
net-import series (no solver, ``optimize/dr_settlement.py``), which is what the results
and the baselines report. The shortfall is a column of its own so that the gap's basis
(``optimize.highs.gap_basis_usd``: the positive objective terms) counts the penalty the
schedule pays; written as ``shortfall · Δ · (|E| · C − Σ d[t])`` it counted ``|E| · C``
of penalty whatever was delivered (an outside audit: a basis up to 2.5 × what the site
pays, so a "1 %" gap was up to 2.5 % of it).

The elastic model of the infeasibility diagnosis leaves the delivery out: it minimises
the slacks, not money, and its import has no upper bound to take ``M[t]`` from.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum, var_list
from optimize.dr_settlement import DrSettlement, fixed_baseline_mw, settle
from optimize.problem import DemandResponseProgram, Problem


def define_dr_program(
    m: pyo.Block, program: DemandResponseProgram, step_h: float, elastic: bool = False
) -> list:
    """Add the program's variables and constraints to ``m`` (after ``define_grid``); return
    its objective terms (USD)."""
    top_mw = program.max_commit_mw
    if program.commit_mw is not None:
        # a plan's commitment may sit above its bound by the solver's tolerance: a value
        # fixed outside its bounds makes Pyomo warn (W1002), so the bound takes it in
        top_mw = max(top_mw, float(program.commit_mw))
    m.dr_commit_mw = pyo.Var(within=pyo.NonNegativeReals, bounds=(0.0, top_mw))
    if program.commit_mw is not None:
        m.dr_commit_mw.fix(float(program.commit_mw))
    c = m.dr_commit_mw
    terms = [linear_sum([-program.capacity_usd_per_mw], [c])]
    steps = program.event_steps()
    pen = program.shortfall_usd_per_mwh * step_h
    pay = program.energy_usd_per_mwh * step_h
    if not steps or pay + pen == 0 or top_mw == 0 or elastic:
        # without delivery every step falls short by C (a constant 0 when nothing pays)
        return [*terms, linear_sum([pen * len(steps)], [c])]
    d, short = _define_delivery(m, program, steps, top_mw)
    terms.append(linear_sum([-pay] * len(steps), [d[t] for t in steps]))
    terms.append(linear_sum([pen] * len(steps), [short[t] for t in steps]))
    return terms


def _define_delivery(
    m: pyo.Block, program: DemandResponseProgram, steps: list[int], top_mw: float
) -> tuple[pyo.Var, pyo.Var]:
    """``d[t] <= min(C, max(r[t], 0))`` and ``s[t] = C − d[t]`` on each event step (see
    the header); returns ``d`` and ``s``."""
    net_coefs, net_vars, fixed = _reduction_parts(m, program, steps)
    m.dr_delivered_mw = pyo.Var(steps, within=pyo.NonNegativeReals, bounds=(0.0, top_mw))
    m.dr_shortfall_mw = pyo.Var(steps, within=pyo.NonNegativeReals, bounds=(0.0, top_mw))
    d, s, c = m.dr_delivered_mw, m.dr_shortfall_mw, m.dr_commit_mw
    m.dr_shortfall_def = pyo.Constraint(
        steps, rule=lambda m, t: linear_sum((1.0, 1.0, -1.0), (d[t], s[t], c)) == 0.0
    )
    below = {t: _most_below_baseline_mw(net_coefs[t], net_vars[t], fixed[t]) for t in steps}
    maybe = [t for t in steps if below[t] > 0]  # where r[t] can be negative
    m.dr_no_reduction = pyo.Var(maybe, within=pyo.Binary)
    z = m.dr_no_reduction

    def le_reduction(m, t):  # d[t] − Σ coef · net − M[t] · z[t] <= fixed[t]
        coefs, vars_ = [1.0, *(-a for a in net_coefs[t])], [d[t], *net_vars[t]]
        if t in z:
            coefs, vars_ = [*coefs, -below[t]], [*vars_, z[t]]
        return linear_sum(coefs, vars_) <= fixed[t]

    m.dr_delivered_le_reduction = pyo.Constraint(steps, rule=le_reduction)
    m.dr_written_off = pyo.Constraint(
        maybe, rule=lambda m, t: linear_sum((1.0, top_mw), (d[t], z[t])) <= top_mw
    )
    return d, s


def _most_below_baseline_mw(coefs: list[float], vars_: list, fixed_mw: float) -> float:
    """The largest ``−r = −fixed − Σ coef · var`` the variables' bounds allow (MW)."""
    worst = -fixed_mw
    for a, v in zip(coefs, vars_, strict=True):
        bound = v.ub if a < 0 else v.lb  # −a · v is largest at this bound
        if bound is None:
            raise ValueError(f"demand response: {v.name} has no bound for the big-M")
        worst += -a * bound
    return worst


def _reduction_parts(m: pyo.Block, program: DemandResponseProgram, steps: list[int]):
    """Per event step t: the coefficients and variables of ``r[t]`` (the reduction, MW)
    and its constant (``baseline_fixed_mw[t]``), ``r[t] = fixed[t] + Σ coef · var``."""
    imp, exp = var_list(m.grid_import_mw), var_list(m.grid_export_mw)
    coefs = {t: [-1.0, 1.0] for t in steps}  # − net[t]
    vars_ = {t: [imp[t], exp[t]] for t in steps}
    for t, j, w in program.baseline_terms:  # + w · net[j]
        coefs[t] += [w, -w]
        vars_[t] += [imp[j], exp[j]]
    fixed = fixed_baseline_mw(program, max(steps) + 1)
    return coefs, vars_, {t: float(fixed[t]) for t in steps}


def solved_settlement(
    m: pyo.Block, problem: Problem, net_import_mw: np.ndarray
) -> DrSettlement | None:
    """The settlement of a solved model's schedule (``None`` without a program): the
    model's commitment, ``settle`` on its net import."""
    if problem.dr_program is None:
        return None
    commit_mw = float(m.dr_commit_mw.value or 0.0)
    return settle(problem.dr_program, problem.step_h, net_import_mw, commit_mw)
