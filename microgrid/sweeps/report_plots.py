"""The sweep report's figures: cost and emissions along each axis (differences within the
solver tolerance drawn as such; two values joined only where they hold the same
combinations of the other axes), heat maps of two axes, and the cases' cost-emissions plot
(the axis convention of every Pareto plot, microgrid.plots.pareto_axes). Each says when the
sweep is unfinished (`note`)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from microgrid.plots import ThousandsFormatter, pareto_axes
from microgrid.sweeps.tolerance import COST, EMISSIONS, TOLERANCE, WITHIN_MARK

METRICS = {COST: "total cost (USD)", EMISSIONS: "emissions (t CO2e)"}
COLORS = {COST: "tab:blue", EMISSIONS: "tab:green"}
WITHIN_COLOR = "0.55"
DPI = 110


def png(fig: Figure) -> bytes:
    """`fig` as PNG bytes (a pyplot-free Figure: nothing to close)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def hollow_points(within: list[bool]) -> np.ndarray:
    """Per point: True when every step to a neighbour is within tolerance (the point
    cannot be told apart from its neighbours)."""
    n = len(within) + 1
    left = np.array([True, *within])
    right = np.array([*within, True])
    return left & right if n > 1 else np.array([False])


def _line(ax, x, y, within: list[bool], joined: list[bool], color: str) -> None:
    """Solid segments and filled markers where the step is beyond the solver tolerance;
    dotted grey segments and hollow markers where it is within (no trend); no segment
    between values that are not `joined` (their means are over different cases)."""
    for i, (w, j) in enumerate(zip(within, joined, strict=True)):
        if not j:
            continue
        style = {"color": WITHIN_COLOR, "ls": ":"} if w else {"color": color, "ls": "-"}
        ax.plot(x[i : i + 2], y[i : i + 2], lw=1.6, **style)
    hollow = hollow_points(within)
    ax.scatter(x[~hollow], y[~hollow], color=color, zorder=3, s=28)
    ax.scatter(x[hollow], y[hollow], facecolors="white", edgecolors=color, zorder=3, s=28)


def _legend_handles(color: str, band: bool, spread: bool, apart: bool) -> list:
    """Legend entries: the two line styles, the tolerance band (when any case has a
    tolerance), the min-max band (when a value has several cases) and the values not
    joined (`apart`)."""
    within = Line2D([], [], color=WITHIN_COLOR, ls=":", marker="o", mfc="white", mec=color)
    within.set_label(f"{WITHIN_MARK} within solver tolerance (no trend)")
    handles = [
        Line2D([], [], color=color, marker="o", label="difference beyond solver tolerance"),
        within,
    ]
    if band:
        handles.append(
            Patch(facecolor=color, alpha=0.2, hatch="///", label="± solver tolerance (cost)")
        )
    if spread:
        handles.append(Patch(facecolor="0.5", alpha=0.15, label="min-max of the cases"))
    if apart:
        handles.append(
            Line2D([], [], color=color, marker="o", ls="none",
                   label="not joined: other combinations of the other axes (see table)")
        )  # fmt: skip
    return handles


def _runs(joined: list[bool]) -> list[slice]:
    """The stretches of neighbouring values joined to each other (a value joined to
    neither neighbour: a stretch of one)."""
    runs, start = [], 0
    for i, j in enumerate(joined, start=1):
        if not j:
            runs.append(slice(start, i))
            start = i
    return [*runs, slice(start, len(joined) + 1)]


def _band(ax, x, lo, hi, joined: list[bool], **style) -> None:
    """A band from `lo` to `hi` over each joined stretch; a bar at a value alone."""
    for r in _runs(joined):
        if r.stop - r.start > 1:
            ax.fill_between(x[r], lo[r], hi[r], lw=0, **style)
        else:
            ax.bar(x[r], hi[r] - lo[r], bottom=lo[r], width=0.02 * np.ptp(x), lw=0, **style)


def _metric_panel(
    ax, table: pd.DataFrame, x, m: str, within: list[bool], joined: list[bool]
) -> None:
    mean = table[f"{m}_mean"].to_numpy(float)
    if (table["n_cases"] > 1).any():
        lo, hi = table[f"{m}_min"].to_numpy(float), table[f"{m}_max"].to_numpy(float)
        _band(ax, x, lo, hi, joined, color="0.5", alpha=0.15)
    if m == COST and f"{TOLERANCE}_mean" in table:
        tol = np.nan_to_num(table[f"{TOLERANCE}_mean"].to_numpy(float))
        _band(ax, x, mean - tol, mean + tol, joined, color=COLORS[m], alpha=0.2, hatch="///")
    _line(ax, x, mean, within, joined, COLORS[m])
    ax.set_ylabel(METRICS[m])
    ax.yaxis.set_major_formatter(ThousandsFormatter())
    note = f" ({WITHIN_MARK} all within solver tolerance: no trend)" if all(within) else ""
    ax.set_title(f"mean {METRICS[m]}{note}", fontsize=9)
    ax.grid(alpha=0.3)


def axis_figure(
    table: pd.DataFrame,
    axis: str,
    numeric: bool,
    within: list[bool],
    joined: list[bool],
    note: str = "",
) -> Figure:
    """Mean cost and emissions per value of `axis` (a sensitivity table); per pair of
    neighbouring rows, whether the step is `within` the solver tolerance (the emissions
    step shares the cost's mark) and whether the two are `joined` (the same combinations of
    the other axes); `note` (e.g. unfinished: n of N cases) goes into the title."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axs = fig.subplots(1, 2)
    x = table[axis].to_numpy(float) if numeric else np.arange(len(table), dtype=float)
    for ax, m in zip(axs, METRICS, strict=True):
        if f"{m}_mean" not in table:
            ax.set_visible(False)
            continue
        _metric_panel(ax, table, x, m, within, joined)
        ax.set_xlabel(axis)
        if not numeric:
            ax.set_xticks(x, [str(v) for v in table[axis]], rotation=30, ha="right")
    spread = bool((table["n_cases"] > 1).any())
    band = f"{TOLERANCE}_mean" in table and bool((table[f"{TOLERANCE}_mean"] > 0).any())
    handles = _legend_handles(COLORS[COST], band, spread, not all(joined))
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"cost and emissions vs {axis}" + (f" ({note})" if note else ""))
    return fig


def heatmap_figure(piv: dict[str, pd.DataFrame], a: str, b: str, labels, note: str = "") -> Figure:
    """Mean cost and emissions over two axes (`piv[metric]`: rows `a`, columns `b`);
    `labels(v)` prints an axis value; `note` (e.g. unfinished) goes into the title."""
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    if note:
        fig.suptitle(note)
    for ax, (m, p) in zip(fig.subplots(1, len(piv), squeeze=False)[0], piv.items(), strict=True):
        values = p.to_numpy(float)
        im = ax.imshow(values, aspect="auto", origin="lower", cmap="viridis")
        ax.set_yticks(range(len(p.index)), [labels(v) for v in p.index])
        ax.set_xticks(range(len(p.columns)), [labels(v) for v in p.columns], rotation=30)
        ax.set_ylabel(a)
        ax.set_xlabel(b)
        ax.set_title(f"mean {METRICS[m]}")
        fmt = "{:,.0f}" if m == COST else "{:,.1f}"
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7, color="w")
        fig.colorbar(im, ax=ax, format=ThousandsFormatter())
    return fig


def cases_pareto_figure(df: pd.DataFrame, front: pd.DataFrame, note: str = "") -> Figure:
    """Every ok case and the Pareto set, emissions on x and cost on y (as every Pareto
    plot); the set's points carry ± their solver tolerance; `note` (e.g. unfinished) goes
    into the title."""
    fig = Figure(figsize=(8.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.scatter(df[EMISSIONS], df[COST], s=18, alpha=0.6, label="cases")
    tol = np.nan_to_num(front[TOLERANCE].to_numpy(float)) if TOLERANCE in front else None
    ax.errorbar(front[EMISSIONS], front[COST], yerr=tol, fmt="r.-", capsize=3,
                label="Pareto set (± solver tolerance)")  # fmt: skip
    for _, r in front.iterrows():
        ax.annotate(str(r["case_id"]), (r[EMISSIONS], r[COST]), fontsize=7,
                    textcoords="offset points", xytext=(4, 4))  # fmt: skip
    pareto_axes(ax)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    ax.set_title("cost vs emissions across cases" + (f" ({note})" if note else ""))
    return fig
