"""Cost–carbon Pareto front by the ε-constraint method.

1. Minimum cost: the scenario with a carbon price of 0 and no carbon budget; its
   emissions `E_max` are the loose end of the front.
2. Minimum emissions: a carbon price of `MIN_EMISSIONS_CARBON_PRICE_USD_PER_T` (so
   large that any tonne outweighs any cost difference) gives the least emissions
   `E_min`; then, for the cost at that end, cost is minimised under the budget
   `E_min` (plus a hair for solver tolerance), carbon price 0.
3. N − 2 budgets evenly spaced strictly between `E_max` and `E_min`, each a full solve
   minimising cost (carbon price 0) with `Objective.carbon_budget_t` = budget.

Each point is a full MILP solve with the scenario's solver options, so with a non-zero
`solver.mip_rel_gap` costs are optimal only to that gap. `pareto.csv` has `budget_t`
(empty at the minimum-cost end: no budget), `cost_usd` (total cost as in summary.json,
carbon not priced), `emissions_t`, `status`, `mip_gap`, `solve_s`; `pareto.png` plots it.
Demand-response caps (fractional ones need a baseline solve) are computed once and used
for every point.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import build_problem, load_inputs, solver_options
from microgrid.costs import TOTAL_KEYS
from microgrid.pipeline import demand_response_caps
from microgrid.resultdir import write_dir
from microgrid.scenario import Scenario

MIN_EMISSIONS_CARBON_PRICE_USD_PER_T = 1.0e5
BUDGET_REL_TOL = 1e-6
COLUMNS = ["point", "budget_t", "cost_usd", "emissions_t", "status", "mip_gap", "solve_s"]


def _with_objective(problem: optimize.Problem, price: float, budget: float | None):
    obj = dataclasses.replace(
        problem.objective, carbon_price_usd_per_t=price, carbon_budget_t=budget
    )
    return dataclasses.replace(problem, objective=obj)


def _solve_point(problem, options, label: str, budget: float | None) -> dict:
    t0 = time.perf_counter()
    row = {"point": label, "budget_t": budget, "mip_gap": np.nan}
    try:
        d = optimize.solve(problem, options)
    except optimize.Infeasible:
        row.update(cost_usd=np.nan, emissions_t=np.nan, status="infeasible")
    else:
        row.update(
            cost_usd=_total_cost(d),
            emissions_t=d.costs["emissions_t"],
            status=d.status,
            mip_gap=d.mip_gap,
        )
    row["solve_s"] = time.perf_counter() - t0
    return row


def _total_cost(d: optimize.Dispatch) -> float:
    """Total cost as in summary.json (carbon not priced)."""
    return float(sum(d.costs.get(k, 0.0) for k in TOTAL_KEYS))


def pareto_front(scenario: Scenario, points: int = 5, progress=None) -> pd.DataFrame:
    """The front as a table, loosest budget first; `progress(row)` is called per point."""
    if points < 2:
        raise ValueError("a Pareto front needs at least 2 points (its two ends)")
    inputs = load_inputs(scenario)
    caps = demand_response_caps(scenario, inputs)
    base = build_problem(scenario, inputs, net_import_cap_mw=caps)
    options = solver_options(scenario)
    rows = []

    def add(row: dict) -> dict:
        rows.append(row)
        if progress is not None:
            progress(row)
        return row

    lo_cost = add(_solve_point(_with_objective(base, 0.0, None), options, "min-cost", None))
    if lo_cost["status"] == "infeasible":
        return pd.DataFrame(rows, columns=COLUMNS)
    e_max = lo_cost["emissions_t"]
    t0 = time.perf_counter()
    clean = optimize.solve(
        _with_objective(base, MIN_EMISSIONS_CARBON_PRICE_USD_PER_T, None), options
    )
    e_min = clean.costs["emissions_t"]
    lex_s = time.perf_counter() - t0
    budgets = np.linspace(e_max, e_min, points)[1:-1] if points > 2 else np.array([])
    for k, budget in enumerate(budgets):
        add(_solve_point(_with_objective(base, 0.0, float(budget)), options, f"e{k + 1}", budget))
    end_budget = e_min * (1.0 + BUDGET_REL_TOL) + BUDGET_REL_TOL
    row = _solve_point(_with_objective(base, 0.0, end_budget), options, "min-emissions", end_budget)
    row["solve_s"] += lex_s
    add(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_front(front: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = front[front["status"] != "infeasible"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(ok["emissions_t"], ok["cost_usd"] / 1e3, "o-", color="tab:blue")
    for _, r in ok.iterrows():
        ax.annotate(
            r["point"],
            (r["emissions_t"], r["cost_usd"] / 1e3),
            fontsize=8,
            textcoords="offset points",
            xytext=(4, 4),
        )
    ax.set_xlabel("emissions (t CO2)")
    ax.set_ylabel("cost (thousand USD)")
    ax.set_title(title or "cost-carbon Pareto front (epsilon-constraint)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def write_front(
    front: pd.DataFrame,
    out: str | os.PathLike,
    title: str = "",
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """`pareto.csv` and `pareto.png` in the folder `out`, built beside it and swapped in
    (microgrid.resultdir: only over an empty folder or an earlier Pareto front; `inputs`
    are files whose folders are never replaced). Returns `out` absolute."""

    def fill(tmp: Path) -> None:
        front.to_csv(tmp / "pareto.csv", index=False, float_format="%.9g")
        plot_front(front, tmp / "pareto.png", title)

    return write_dir(out, "pareto", fill, inputs)
