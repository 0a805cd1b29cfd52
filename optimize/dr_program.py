"""Demand-response program: commit capacity C (MW), deliver it in event steps.

Net import ``net[t] = grid_import_mw[t] − grid_export_mw[t]`` (MW). ``E`` = the event
steps of ``problem.dr_program`` (P), ``Δ`` = ``step_h``.
Variables:
- ``dr_commit_mw = C in [0, P.max_commit_mw]`` (fixed to ``P.commit_mw`` when given);
- ``dr_delivered_mw[t]`` (t in E, free below; only when ``energy_usd_per_mwh > 0``);
- ``dr_shortfall_mw[t] >= 0`` (t in E; only when ``shortfall_usd_per_mwh > 0``).
Baseline (MW, linear): ``B[t] = baseline_fixed_mw[t] + Σ_(t, j, w) w · net[j]``;
reduction ``r[t] = B[t] − net[t]``.
Constraints (t in E):
- ``dr_delivered_le_commit[t]``: ``d[t] <= C``;
- ``dr_delivered_le_reduction[t]``: ``d[t] <= r[t]``;
- ``dr_shortfall_def[t]``: ``s[t] >= C − r[t]``.
Objective terms (USD): ``− capacity_usd_per_mw · C − energy_usd_per_mwh · Δ · Σ d[t]
+ shortfall_usd_per_mwh · Δ · Σ s[t]``. At the optimum ``d[t] = min(r[t], C)`` and
``s[t] = max(0, C − r[t])``: ``settle`` computes the same numbers from any net-import
series (no solver, ``optimize/dr_settlement.py``), which is what the results and the
baselines report.

``d[t]`` has no lower bound: a step whose import is above the baseline is paid a negative
energy amount (symmetric settlement). With ``d[t] >= 0`` and ``d[t] <= r[t]`` an import
above the baseline would be infeasible, and ``d[t] = max(0, min(r[t], C))`` is not convex.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum, var_list
from optimize.dr_settlement import DrSettlement, fixed_baseline_mw, settle
from optimize.problem import DemandResponseProgram, Problem


def define_dr_program(m: pyo.Block, program: DemandResponseProgram, step_h: float) -> list:
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
    if not steps:
        return terms
    net_coefs, net_vars, fixed = _reduction_parts(m, program, steps)
    if program.energy_usd_per_mwh > 0:
        m.dr_delivered_mw = pyo.Var(steps, within=pyo.Reals)
        d = m.dr_delivered_mw
        m.dr_delivered_le_commit = pyo.Constraint(
            steps, rule=lambda m, t: linear_sum((1.0, -1.0), (d[t], c)) <= 0.0
        )
        # d[t] − r[t] <= 0  <=>  d[t] − Σ coef · net <= fixed[t]
        m.dr_delivered_le_reduction = pyo.Constraint(
            steps,
            rule=lambda m, t: (
                linear_sum([1.0, *(-a for a in net_coefs[t])], [d[t], *net_vars[t]]) <= fixed[t]
            ),
        )
        pay = -program.energy_usd_per_mwh * step_h
        terms.append(linear_sum([pay] * len(steps), [d[t] for t in steps]))
    if program.shortfall_usd_per_mwh > 0:
        m.dr_shortfall_mw = pyo.Var(steps, within=pyo.NonNegativeReals)
        s = m.dr_shortfall_mw
        # s[t] − C + r[t] >= 0  <=>  s[t] − C + Σ coef · net >= −fixed[t]
        m.dr_shortfall_def = pyo.Constraint(
            steps,
            rule=lambda m, t: (
                linear_sum([1.0, -1.0, *net_coefs[t]], [s[t], c, *net_vars[t]]) >= -fixed[t]
            ),
        )
        pen = program.shortfall_usd_per_mwh * step_h
        terms.append(linear_sum([pen] * len(steps), [s[t] for t in steps]))
    return terms


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
