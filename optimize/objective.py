"""Objective: Σ cost terms (USD) + carbon_price_usd_per_t · emissions_t; carbon budget cap.

Emissions (t) = Σ_t step_h · (grid_import_mw[t] · carbon_g_per_kwh[t]
+ Σ_g gen_mw[g, t] · carbon_g_per_kwh_g) / 1000  (MWh × g/kWh = kg; / 1000 → t).
Constraint ``carbon_budget``: emissions_t <= carbon_budget_t (if set).
In elastic mode (diagnosis) the objective is the sum of the registered slacks instead, all
but the carbon budget's (t: not to be summed with MW or hours of work; ``diagnosis.py``
minimises it in a second solve).
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimize._util import linear_sum, var_list
from optimize.elastic import add_slack
from optimize.problem import Problem


def emissions_t_expr(m: pyo.Block, problem: Problem):
    step_h = problem.step_h
    coefs = (problem.grid.carbon_g_per_kwh * (step_h / 1000.0)).tolist()
    vars_ = var_list(m.grid_import_mw)
    n = problem.n_steps
    for g in problem.generators:
        if g.carbon_g_per_kwh != 0:
            coefs += [g.carbon_g_per_kwh * step_h / 1000.0] * n
            vars_ += [m.gen_mw[g.name, t] for t in range(n)]
    return linear_sum(coefs, vars_)


def define_objective(m: pyo.Block, problem: Problem, terms: list, elastic: bool = False) -> None:
    obj = problem.objective
    emissions = None
    if obj.carbon_price_usd_per_t != 0 or obj.carbon_budget_t is not None:
        emissions = emissions_t_expr(m, problem)
    if obj.carbon_budget_t is not None:
        budget = float(obj.carbon_budget_t)
        if elastic:
            s = add_slack(m, "slack_carbon_budget_t", "carbon_budget", "objective", "t")
            m.carbon_budget = pyo.Constraint(expr=emissions - s <= budget)
        else:
            m.carbon_budget = pyo.Constraint(expr=emissions <= budget)
    if elastic:
        slack_vars = [
            v for e in m.elastic_slacks if e.kind != "carbon_budget" for v in e.var.values()
        ]
        m.total_slack = pyo.Objective(expr=linear_sum([1.0] * len(slack_vars), slack_vars))
        return
    if obj.carbon_price_usd_per_t != 0:
        terms = [*terms, obj.carbon_price_usd_per_t * emissions]
    m.total_cost_usd = pyo.Objective(expr=sum(terms) if terms else 0.0, sense=pyo.minimize)
