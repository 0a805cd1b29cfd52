"""Dispatch plot: supply stacked against the facility load, with price and battery SOC."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SUPPLY = [
    ("pv_used_mw", "PV", "#f2b701"),
    ("wind_used_mw", "Wind", "#3fa7d6"),
    ("battery_discharge_mw", "Battery discharge", "#59cd90"),
    ("backup_gen_mw", "Backup generation", "#8c564b"),
    ("grid_import_mw", "Grid import", "#7f7f7f"),
]
SINKS = [
    ("battery_charge_mw", "Battery charge", "#2a9d8f"),
    ("grid_export_mw", "Grid export", "#b0b0b0"),
]


def plot_dispatch(ts: pd.DataFrame, scenario, path: Path) -> None:
    """Three stacked panels sharing local time: power (MW), price (USD/MWh), SOC (MWh)."""
    local = ts.index.tz_convert(scenario.site.timezone)
    fig, (ax, ax_price, ax_soc) = plt.subplots(
        3, 1, figsize=(12, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1]}
    )
    x = local
    ax.stackplot(
        x,
        *[ts[c].to_numpy() for c, _, _ in SUPPLY],
        labels=[lbl for _, lbl, _ in SUPPLY],
        colors=[col for _, _, col in SUPPLY],
        step="post",
        alpha=0.9,
    )
    ax.stackplot(
        x,
        *[-ts[c].to_numpy() for c, _, _ in SINKS],
        labels=[lbl for _, lbl, _ in SINKS],
        colors=[col for _, _, col in SINKS],
        step="post",
        alpha=0.9,
    )
    ax.step(x, ts["facility_load_mw"], where="post", color="k", lw=1.2, label="Facility load")
    ax.step(x, ts["it_load_mw"], where="post", color="k", lw=0.8, ls="--", label="IT load")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("MW")
    ax.legend(loc="upper left", ncol=4, fontsize=8)
    ax.set_title(f"{scenario.name}: dispatch ({scenario.site.timezone})")
    ax_price.step(x, ts["price_usd_per_mwh"], where="post", color="#d62728", lw=1)
    ax_price.set_ylabel("USD/MWh")
    if ts["price_usd_per_mwh"].max() > 10 * max(1.0, np.median(ts["price_usd_per_mwh"])):
        ax_price.set_yscale("symlog", linthresh=100)  # keep scarcity spikes and the rest legible
    ax_carbon = ax_price.twinx()
    ax_carbon.step(x, ts["carbon_g_per_kwh"], where="post", color="#2ca02c", lw=0.8)
    ax_carbon.set_ylabel("gCO2/kWh", color="#2ca02c")
    ax_soc.plot(x, ts["battery_soc_mwh"], color="#2a9d8f")
    ax_soc.set_ylabel("SOC MWh")
    ax_soc.set_xlabel("local time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_voltage(
    ts: pd.DataFrame, scenario, path: Path, vm_min_pu: float, vm_max_pu: float
) -> None:
    """Data-center bus voltage (pu) over the horizon with the voltage band."""
    local = ts.index.tz_convert(scenario.site.timezone)
    fig, ax = plt.subplots(figsize=(12, 3.5))
    ax.step(local, ts["dc_bus_vm_pu"], where="post", color="#1f77b4", lw=1.2,
            label="data-center bus")  # fmt: skip
    ax.axhline(vm_min_pu, color="#d62728", ls="--", lw=0.8, label=f"limits {vm_min_pu}-{vm_max_pu}")
    ax.axhline(vm_max_pu, color="#d62728", ls="--", lw=0.8)
    ax.set_ylabel("voltage (pu)")
    ax.set_xlabel("local time")
    ax.set_title(f"{scenario.name}: data-center bus voltage ({scenario.site.timezone})")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_swings(profile: pd.DataFrame, summary: dict, path: Path) -> None:
    """Sub-hourly IT load and net import at the PCC, without and with battery smoothing."""
    fig, ax = plt.subplots(figsize=(12, 4))
    t_min = profile["t_s"].to_numpy() / 60.0
    ax.plot(t_min, profile["net_import_mw"], lw=0.6, color="#7f7f7f", label="PCC, no battery")
    ax.plot(t_min, profile["net_import_smoothed_mw"], lw=0.9, color="#2a9d8f",
            label="PCC, battery smoothing")  # fmt: skip
    ax.set_xlabel("minutes into the hour")
    ax.set_ylabel("MW")
    ax.set_title(
        "training power swings: max MW/min "
        f"{summary.get('max_mw_per_min_without_battery', float('nan')):.1f} without, "
        f"{summary.get('max_mw_per_min_with_battery', float('nan')):.1f} with battery "
        f"(limit {summary.get('ramp_limit_mw_per_min', float('nan')):.1f})"
    )
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
