"""Result plots (PNG): dispatch with price, carbon and SOC; voltage; power swings; and the
axis convention every cost-emissions (Pareto) plot shares.

Each plot has a `*_figure` function that builds the matplotlib figure without saving it
(tests read its legend), and a `plot_*` function that saves it and closes it. Legends sit
outside the axes, to the right of the figure, so they never hide data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402

# A series whose magnitude never exceeds this is an absent asset: not drawn, no legend entry.
ABSENT_MW = 1e-6
DPI = 110

# Every Pareto plot: emissions on x, total cost on y (the ε-constraint front is the least
# cost for each emissions budget), both with units and thousands separators.
PARETO_X_LABEL = "emissions (t CO2e)"
PARETO_Y_LABEL = "total cost (USD)"


@dataclass(frozen=True)
class Series:
    """One timeseries column drawn as a stacked area."""

    column: str
    label: str
    color: str


SUPPLY = (
    Series("pv_used_mw", "PV", "#f2b701"),
    Series("wind_used_mw", "Wind", "#3fa7d6"),
    Series("battery_discharge_mw", "Battery discharge", "#59cd90"),
    Series("backup_gen_mw", "Backup generation", "#8c564b"),
    Series("grid_import_mw", "Grid import", "#7f7f7f"),
)
SINKS = (
    Series("battery_charge_mw", "Battery charge", "#2a9d8f"),
    Series("grid_export_mw", "Grid export", "#b0b0b0"),
)
PRICE_COLOR = "#d62728"
CARBON_COLOR = "#2ca02c"
SOC_COLOR = "#2a9d8f"


def present(ts: pd.DataFrame, series: tuple[Series, ...]) -> list[Series]:
    """The series of `series` that are in `ts` and not all (near) zero MW."""
    return [s for s in series if s.column in ts and float(ts[s.column].abs().max()) > ABSENT_MW]


def has_battery(ts: pd.DataFrame) -> bool:
    """Whether the result has a battery: it charges, discharges or holds energy (MWh)."""
    cols = ("battery_charge_mw", "battery_discharge_mw", "battery_soc_mwh")
    return any(c in ts and float(ts[c].abs().max()) > ABSENT_MW for c in cols)


def _legend_outside(fig: Figure, handles: list, labels: list[str]) -> None:
    """One legend for the whole figure, right of the axes (constrained layout makes room)."""
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)


def _power_panel(ax, x, ts: pd.DataFrame) -> None:
    """Supply stacked above zero, charging and export below, loads as lines (MW)."""
    for series, sign in ((present(ts, SUPPLY), 1.0), (present(ts, SINKS), -1.0)):
        if series:
            ax.stackplot(
                x,
                *[sign * ts[s.column].to_numpy() for s in series],
                labels=[s.label for s in series],
                colors=[s.color for s in series],
                step="post",
                alpha=0.9,
            )
    ax.step(x, ts["facility_load_mw"], where="post", color="k", lw=1.2, label="Facility load")
    ax.step(x, ts["it_load_mw"], where="post", color="k", lw=0.8, ls="--", label="IT load")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("power (MW)")


def _price_panel(ax_price, x, ts: pd.DataFrame) -> list:
    """Price (USD/MWh, left axis) and grid carbon intensity (gCO2/kWh, right axis); returns
    both lines for the legend, whose labels name their axis."""
    price = ts["price_usd_per_mwh"]
    (p_line,) = ax_price.step(
        x, price, where="post", color=PRICE_COLOR, lw=1, label="Price (USD/MWh, left axis)"
    )
    ax_price.set_ylabel("price (USD/MWh)", color=PRICE_COLOR)
    if price.max() > 10 * max(1.0, np.median(price)):
        ax_price.set_yscale("symlog", linthresh=100)  # keep scarcity spikes and the rest legible
    ax_carbon = ax_price.twinx()
    (c_line,) = ax_carbon.step(
        x, ts["carbon_g_per_kwh"], where="post", color=CARBON_COLOR, lw=0.8,
        label="Grid carbon (gCO2/kWh, right axis)",
    )  # fmt: skip
    ax_carbon.set_ylabel("carbon (gCO2/kWh)", color=CARBON_COLOR)
    return [p_line, c_line]


def dispatch_figure(ts: pd.DataFrame, scenario) -> Figure:
    """Stacked panels sharing local time: power (MW), price and carbon, and battery SOC
    (MWh, only with a battery). Absent assets (all-zero series) get no area and no entry."""
    battery = has_battery(ts)
    ratios = [3, 1, 1] if battery else [3, 1]
    fig, axs = plt.subplots(
        len(ratios), 1, figsize=(13, 8 if battery else 6.5), sharex=True,
        gridspec_kw={"height_ratios": ratios}, layout="constrained",
    )  # fmt: skip
    x = ts.index.tz_convert(scenario.site.timezone)
    _power_panel(axs[0], x, ts)
    axs[0].set_title(f"{scenario.name}: dispatch ({scenario.site.timezone})")
    price_lines = _price_panel(axs[1], x, ts)
    if battery:
        axs[2].plot(
            x, ts["battery_soc_mwh"], color=SOC_COLOR, label="Battery SOC (MWh, bottom panel)"
        )
        axs[2].set_ylabel("SOC (MWh)")
    axs[-1].set_xlabel("local time")
    handles, labels = axs[0].get_legend_handles_labels()
    handles += price_lines
    labels += [h.get_label() for h in price_lines]
    if battery:
        h_soc, l_soc = axs[2].get_legend_handles_labels()
        handles, labels = handles + h_soc, labels + l_soc
    _legend_outside(fig, handles, labels)
    return fig


def save(fig: Figure, path: Path) -> None:
    """Write `fig` as PNG to `path` and release it."""
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_dispatch(ts: pd.DataFrame, scenario, path: Path) -> None:
    """dispatch.png: see `dispatch_figure`."""
    save(dispatch_figure(ts, scenario), path)


def voltage_figure(ts: pd.DataFrame, scenario, vm_min_pu: float, vm_max_pu: float) -> Figure:
    """Data-center bus voltage (pu) over the horizon with the voltage band."""
    local = ts.index.tz_convert(scenario.site.timezone)
    fig, ax = plt.subplots(figsize=(13, 3.5), layout="constrained")
    ax.step(local, ts["dc_bus_vm_pu"], where="post", color="#1f77b4", lw=1.2,
            label="data-center bus")  # fmt: skip
    ax.axhline(
        vm_min_pu, color="#d62728", ls="--", lw=0.8, label=f"limits {vm_min_pu}-{vm_max_pu} pu"
    )
    ax.axhline(vm_max_pu, color="#d62728", ls="--", lw=0.8)
    ax.set_ylabel("voltage (pu)")
    ax.set_xlabel("local time")
    ax.set_title(f"{scenario.name}: data-center bus voltage ({scenario.site.timezone})")
    _legend_outside(fig, *ax.get_legend_handles_labels())
    return fig


def plot_voltage(
    ts: pd.DataFrame, scenario, path: Path, vm_min_pu: float, vm_max_pu: float
) -> None:
    """voltage.png: see `voltage_figure`."""
    save(voltage_figure(ts, scenario, vm_min_pu, vm_max_pu), path)


def swings_figure(profile: pd.DataFrame, summary: dict) -> Figure:
    """Sub-hourly IT load and net import at the PCC (MW), without and with battery smoothing."""
    fig, ax = plt.subplots(figsize=(13, 4), layout="constrained")
    t_min = profile["t_s"].to_numpy() / 60.0
    ax.plot(t_min, profile["net_import_mw"], lw=0.6, color="#7f7f7f", label="PCC, no battery")
    ax.plot(t_min, profile["net_import_smoothed_mw"], lw=0.9, color="#2a9d8f",
            label="PCC, battery smoothing")  # fmt: skip
    ax.set_xlabel("minutes into the hour")
    ax.set_ylabel("power (MW)")
    ax.set_title(
        "training power swings: max MW/min "
        f"{summary.get('max_mw_per_min_without_battery', float('nan')):.1f} without, "
        f"{summary.get('max_mw_per_min_with_battery', float('nan')):.1f} with battery "
        f"(limit {summary.get('ramp_limit_mw_per_min', float('nan')):.1f})"
    )
    _legend_outside(fig, *ax.get_legend_handles_labels())
    return fig


def plot_swings(profile: pd.DataFrame, summary: dict, path: Path) -> None:
    """swings.png: see `swings_figure`."""
    save(swings_figure(profile, summary), path)


class ThousandsFormatter(Formatter):
    """Tick labels with thousands separators and as many decimals as the tick step needs
    (441,200 / 441,250 but 12.5 / 13.0)."""

    def __init__(self) -> None:
        super().__init__()
        self._ticks = np.array([])  # the axis's tick values, set by matplotlib before labels

    def set_locs(self, locs) -> None:
        self._ticks = np.asarray(locs, dtype=float)

    def __call__(self, x, pos=None) -> str:
        locs = self._ticks
        step = float(np.min(np.abs(np.diff(locs)))) if len(locs) > 1 else 1.0
        decimals = int(max(0, -np.floor(np.log10(step)))) if step > 0 else 0
        return f"{x:,.{decimals}f}"


def pareto_axes(ax) -> None:
    """The one axis convention of every Pareto plot: emissions (t CO2e) on x, total cost
    (USD) on y, tick labels with thousands separators."""
    ax.set_xlabel(PARETO_X_LABEL)
    ax.set_ylabel(PARETO_Y_LABEL)
    ax.xaxis.set_major_formatter(ThousandsFormatter())
    ax.yaxis.set_major_formatter(ThousandsFormatter())
    ax.grid(alpha=0.3)
