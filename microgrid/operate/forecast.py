"""What the controller forecasts: PV and wind availability, LMP and carbon.

``perfect`` is the actual data, ``persistence`` the value one day earlier (the first day
from the day before the period when the data have it, else the first day itself),
``noisy`` actual × (1 + σ ε) (PV, wind, carbon; clipped at 0) and LMP + σ |LMP| ε, with ε
drawn from ``default_rng([seed, k])`` for the re-plan at step k (reproducible bit for bit).
Forecasts are of the resource before derates: derates are known outages of the plan and
are applied by the controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, load_inputs
from microgrid.scenario import Scenario

FORECAST_SERIES = ("pv_available_mw", "wind_available_mw", "price_usd_per_mwh", "carbon_g_per_kwh")


@dataclass(frozen=True)
class ForecastBase:
    """The series forecasts are made from, once per run."""

    kind: str  # perfect | persistence | noisy
    noise_std_frac: float
    seed: int
    actual: pd.DataFrame  # FORECAST_SERIES as the plan sees them (derates applied)
    underated: pd.DataFrame  # the same with the renewables before derates
    persistence: pd.DataFrame | None  # one day earlier (``persistence`` only)
    derate_frac: dict[str, np.ndarray]  # renewable name -> available fraction per step
    lmp_usd_per_mwh: np.ndarray

    def issue(self, k: int, h_steps: int) -> pd.DataFrame:
        """Forecast of FORECAST_SERIES for steps [k, k + h_steps) issued at step k."""
        a = self.underated.iloc[k : k + h_steps]
        if self.kind == "perfect":
            return a.copy()
        if self.kind == "persistence":
            return self.persistence.iloc[k : k + h_steps].copy()
        return _noisy(a, self.noise_std_frac, self.seed, k)


def _noisy(a: pd.DataFrame, std: float, seed: int, k: int) -> pd.DataFrame:
    rng = np.random.default_rng([int(seed), int(k)])
    eps = rng.standard_normal((len(a), len(FORECAST_SERIES)))
    vals = a.to_numpy() * (1.0 + std * eps)
    # price may be negative: noise relative to its magnitude; the others stay >= 0
    vals[:, 2] = a.iloc[:, 2].to_numpy() + std * np.abs(a.iloc[:, 2].to_numpy()) * eps[:, 2]
    for c in (0, 1, 3):
        vals[:, c] = np.maximum(vals[:, c], 0.0)
    return pd.DataFrame(vals, index=a.index, columns=a.columns)


def actual_series(problem: optimize.Problem, inputs: Inputs) -> pd.DataFrame:
    """FORECAST_SERIES as the plan sees them: derated availability, LMP, carbon."""
    n = problem.n_steps
    available = {r.name: r.available_mw for r in problem.renewables}
    return pd.DataFrame(
        {
            "pv_available_mw": available.get("pv", np.zeros(n)),
            "wind_available_mw": available.get("wind", np.zeros(n)),
            "price_usd_per_mwh": inputs.frame["price_usd_per_mwh"].to_numpy(float),
            "carbon_g_per_kwh": problem.grid.carbon_g_per_kwh,
        },
        index=inputs.index,
    )


def forecast_base(scenario: Scenario, inputs: Inputs, problem: optimize.Problem) -> ForecastBase:
    """The run's forecast series (the persistence base needs the day before the period)."""
    op = scenario.operate
    n = problem.n_steps
    actual = actual_series(problem, inputs)
    derate = {}
    for r in problem.renewables:
        col = f"{r.name}_available_frac"
        derate[r.name] = inputs.frame[col].to_numpy(float) if col in inputs.frame else np.ones(n)
    underated = actual.copy()
    for r in problem.renewables:
        with np.errstate(invalid="ignore", divide="ignore"):
            underated[f"{r.name}_available_mw"] = np.where(
                derate[r.name] > 0, actual[f"{r.name}_available_mw"] / derate[r.name], 0.0
            )
    persist = _persistence_base(scenario, inputs) if op.forecast == "persistence" else None
    return ForecastBase(
        kind=op.forecast,
        noise_std_frac=op.noise_std_frac,
        seed=op.seed,
        actual=actual,
        underated=underated,
        persistence=persist,
        derate_frac=derate,
        lmp_usd_per_mwh=actual["price_usd_per_mwh"].to_numpy(),
    )


def _persistence_base(scenario: Scenario, inputs: Inputs) -> pd.DataFrame:
    """Actual series shifted by one day (the first day from the day before the period when
    the data have it, else the first day itself)."""
    cols = list(FORECAST_SERIES)
    cur = inputs.frame.reindex(columns=cols).fillna(0.0)
    day = round(24 / scenario.step_h)
    try:
        earlier = scenario.with_updates({"period.start": scenario.period.start - timedelta(days=1)})
        prev = load_inputs(earlier).frame.reindex(columns=cols).fillna(0.0)
        shifted = prev.iloc[: len(cur)].to_numpy()
    except Exception:  # no data before the period: persistence starts from day one
        shifted = np.vstack([cur.iloc[:day].to_numpy(), cur.iloc[:-day].to_numpy()])[: len(cur)]
    return pd.DataFrame(shifted, index=cur.index, columns=cols)
