"""A small, real stand-in case function for sweeps: a battery/PV arbitrage LP.

`run_case(scenario)` reads the scenario's price and carbon CSV, builds a crude PV profile
(a daylight sine clipped at the inverter rating), a flat load (inference mean + the
training fleet at half power, times the PUE base) and solves one linear programme with
HiGHS (scipy's `linprog`): grid import/export, PV use, battery charge/discharge/SOC and
one peak-import variable for the demand charge. It returns an object shaped like
`microgrid.run`'s `Result` (`summary` dict, `write(out_dir)`), so the sweep machinery can
be exercised without the full pipeline. It is deterministic and fast (a week: ~10 ms,
a year: ~1 s), and it fails like the real thing: a period outside the signal file is an
`InputError`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from microgrid.billing import flat_demand_charges
from microgrid.errors import InputError
from microgrid.result_files import split_timings
from microgrid.resultdir import write_dir
from microgrid.scenario import Scenario


class StandinResult:
    def __init__(self, summary: dict, series: pd.DataFrame) -> None:
        self.summary = summary
        self.series = series

    def write(self, out_dir: str | Path) -> Path:
        """Write summary.json (its seconds in timings.json) and series.csv as a run result
        folder (its marker; built beside, then swapped in: `microgrid.resultdir`), as
        `Result.write` does."""

        def fill(tmp: Path) -> None:
            summary, timings = split_timings(self.summary)
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            (tmp / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
            self.series.to_csv(tmp / "series.csv")

        return write_dir(out_dir, "run", fill)


def _signals(s: Scenario, idx: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    sig = s.signals
    if sig.csv is None:
        price = np.full(len(idx), float(sig.price_usd_per_mwh or 0.0))
        return price, np.full(len(idx), float(sig.carbon_g_per_kwh or 0.0))
    path = s.resolve(sig.csv)
    try:
        df = pd.read_csv(path, usecols=[sig.timestamp_column, sig.price_column, sig.carbon_column])
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read signals: {exc}", path=str(path)) from None
    df.index = pd.to_datetime(df.pop(sig.timestamp_column), utc=True)
    # Like the shipped data, a local-time year may run a few hours past the UTC year:
    # carry the edge values over at most a day; anything else missing is an error.
    df = df[~df.index.duplicated()].reindex(idx).ffill(limit=24).bfill(limit=24)
    if df.isna().any().any():
        missing = df.index[df.isna().any(axis=1)]
        raise InputError(
            f"signals do not cover the period: {len(missing)} steps missing from {missing[0]}",
            path=str(path),
        )
    return df[sig.price_column].to_numpy(float), df[sig.carbon_column].to_numpy(float)


@dataclass(frozen=True)
class _Profiles:
    """Per-step inputs of the LP (n steps of `step_h` hours)."""

    price: np.ndarray  # USD/MWh
    carbon: np.ndarray  # g/kWh
    pv_av_mw: np.ndarray  # PV available (AC)
    load_mw: np.ndarray  # facility load
    # USD per MW of the period's one peak: the sum of its billing months' flat charges
    # (pro-rated as the real model bills them, microgrid/billing.py)
    demand_usd_per_mw: float


@dataclass(frozen=True)
class _Lp:
    """The stand-in LP in scipy's `linprog` form and the positions of its variables."""

    c: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    bounds: list[tuple[float, float | None]]
    imp: np.ndarray  # grid import, MW
    exp_: np.ndarray  # grid export, MW
    pvu: np.ndarray  # PV used, MW
    ch: np.ndarray  # battery charge, MW
    dis: np.ndarray  # battery discharge, MW
    soc: np.ndarray  # battery state of charge, MWh
    peak: int  # peak import, MW


def _profiles(s: Scenario, idx: pd.DatetimeIndex) -> _Profiles:
    """Signals, a daylight-sine PV profile clipped at the inverter and a flat load."""
    price, carbon = _signals(s, idx)
    local_h = idx.tz_convert(s.site.timezone).hour.to_numpy() + idx.minute.to_numpy() / 60
    sun = np.clip(np.sin((local_h - 6.0) / 12.0 * np.pi), 0.0, None)
    pv_av = np.zeros(len(idx))
    if s.pv is not None:
        pv_av = np.minimum(sun * s.pv.dc_mw * 0.82, s.pv.ac_mw)
    fleet_mw = s.datacenter.it_capacity_mw - s.datacenter.inference.mean_mw
    load_mw = (s.datacenter.inference.mean_mw + 0.5 * fleet_mw) * s.datacenter.pue.base
    g = s.grid
    charges = flat_demand_charges(
        idx, s.site.timezone, s.step_h, g.demand_charge_usd_per_kw_month, g.demand_charge_billing
    )
    demand = sum(c.usd_per_mw for c in charges)
    return _Profiles(price, carbon, pv_av, np.full(len(idx), load_mw), demand)


def _objective(s: Scenario, p: _Profiles, n: int) -> np.ndarray:
    """Cost per unit of each variable: imp, exp, pv, ch, dis, soc (n each), peak (1)."""
    g, b, dt = s.grid, s.battery, s.step_h
    cprice = s.objective.carbon_price_usd_per_t * p.carbon / 1000.0  # USD per MWh imported
    c = np.zeros(6 * n + 1)
    c[:n] = (p.price + g.import_adder_usd_per_mwh + cprice) * dt
    c[n : 2 * n] = -(p.price + g.export_adder_usd_per_mwh) * dt
    c[4 * n : 5 * n] = (b.wear_usd_per_mwh if b else 0.0) * dt
    c[6 * n] = p.demand_usd_per_mw
    return c


def _equalities(s: Scenario, p: _Profiles, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Power balance and battery energy balance."""
    b, dt = s.battery, s.step_h
    eye = sp.identity(n, format="csr")
    z = sp.csr_matrix((n, n))
    # Balance: imp - exp + pv - ch + dis = load.
    a_bal = sp.hstack([eye, -eye, eye, -eye, eye, z, sp.csr_matrix((n, 1))])
    # SOC: soc[t] - soc[t-1] - eta_c dt ch + dt/eta_d dis = (t == 0) soc0.
    eta_c = b.charge_efficiency if b else 1.0
    eta_d = b.discharge_efficiency if b else 1.0
    shift = sp.eye(n, k=-1, format="csr")
    a_soc = sp.hstack(
        [z, z, z, -eta_c * dt * eye, dt / eta_d * eye, eye - shift, sp.csr_matrix((n, 1))]
    )
    b_soc = np.zeros(n)
    b_soc[0] = (b.soc_initial_frac if b else 0.0) * (b.energy_mwh if b else 0.0)
    return sp.vstack([a_bal, a_soc]).tocsr(), np.concatenate([p.load_mw, b_soc])


def _build_lp(s: Scenario, p: _Profiles) -> _Lp:
    n = len(p.price)
    g, b = s.grid, s.battery
    p_b = b.power_mw if b else 0.0
    e_b = b.energy_mwh if b else 0.0
    imp, exp_, pvu, ch, dis, soc = (np.arange(n) + k * n for k in range(6))
    a_eq, b_eq = _equalities(s, p, n)
    # Peak: imp[t] - peak <= 0; final SOC >= soc_final * E.
    eye = sp.identity(n, format="csr")
    a_pk = sp.hstack([eye, sp.csr_matrix((n, 5 * n)), -sp.csr_matrix(np.ones((n, 1)))])
    rows = [a_pk]
    b_ub = [np.zeros(n)]
    if b and b.soc_final_frac is not None:
        rows.append(sp.csr_matrix(([-1.0], ([0], [soc[-1]])), shape=(1, 6 * n + 1)))
        b_ub.append(np.array([-b.soc_final_frac * e_b]))
    lo_soc = (b.soc_min_frac if b else 0.0) * e_b
    hi_soc = (b.soc_max_frac if b else 0.0) * e_b
    bounds = (
        [(0, g.import_max_mw)] * n
        + [(0, g.export_max_mw)] * n
        + [(0, float(a)) for a in p.pv_av_mw]
        + [(0, p_b)] * (2 * n)
        + [(lo_soc, hi_soc)] * n
        + [(0, None)]
    )
    c = _objective(s, p, n)
    a_ub, b_ub_all = sp.vstack(rows).tocsr(), np.concatenate(b_ub)
    return _Lp(c, a_ub, b_ub_all, a_eq, b_eq, bounds, imp, exp_, pvu, ch, dis, soc, 6 * n)


def _summary(s: Scenario, p: _Profiles, lp: _Lp, x: np.ndarray) -> dict:
    """Costs (USD), emissions (t), shares and the peak of the solution `x`."""
    g, dt = s.grid, s.step_h
    energy = float(
        np.sum(x[lp.imp] * (p.price + g.import_adder_usd_per_mwh) * dt)
        - np.sum(x[lp.exp_] * (p.price + g.export_adder_usd_per_mwh) * dt)
    )
    demand = float(lp.c[lp.peak] * x[lp.peak])
    wear = float(np.sum(lp.c[lp.dis] * x[lp.dis]))
    load_mwh = float(p.load_mw.sum() * dt)
    return {
        "total_cost_usd": energy + demand + wear,
        "energy_cost_usd": energy,
        "demand_cost_usd": demand,
        "emissions_t": float(np.sum(x[lp.imp] * p.carbon) * dt / 1000.0),
        "renewable_share": float(x[lp.pvu].sum() * dt / load_mwh) if load_mwh else 0.0,
        "curtailed_mwh": float((p.pv_av_mw - x[lp.pvu]).clip(0).sum() * dt),
        "peak_import_mw": float(x[lp.peak]),
    }


def _series(p: _Profiles, lp: _Lp, x: np.ndarray, idx: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grid_import_mw": x[lp.imp],
            "grid_export_mw": x[lp.exp_],
            "pv_used_mw": x[lp.pvu],
            "pv_available_mw": p.pv_av_mw,
            "battery_charge_mw": x[lp.ch],
            "battery_discharge_mw": x[lp.dis],
            "battery_soc_mwh": x[lp.soc],
            "facility_load_mw": p.load_mw,
        },
        index=idx,
    )


def run_case(scenario: Scenario) -> StandinResult:
    """Build and solve the stand-in LP of `scenario`; a Result-shaped object."""
    t0 = time.perf_counter()
    idx = scenario.index()
    p = _profiles(scenario, idx)
    lp = _build_lp(scenario, p)
    t1 = time.perf_counter()
    res = linprog(
        lp.c, A_ub=lp.a_ub, b_ub=lp.b_ub, A_eq=lp.a_eq, b_eq=lp.b_eq, bounds=lp.bounds,
        method="highs",
    )  # fmt: skip
    t2 = time.perf_counter()
    if res.status != 0:
        raise InputError(f"stand-in LP not solved: {res.message}")
    summary = {
        **_summary(scenario, p, lp, res.x),
        "solver": {"status": "optimal", "mip_gap": 0.0, "build_s": t1 - t0, "solve_s": t2 - t1},
        "jobs": {"n_jobs": 0, "deadlines_met": True},
    }
    return StandinResult(summary, _series(p, lp, res.x, idx))
