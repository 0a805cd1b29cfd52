"""The report's interactive figures (plotly): job Gantt chart, dispatch with price, carbon
and SOC, voltages with limits, planned vs actual, and the baselines' cost and emissions.

Time axes are the site's local time on one UTC offset (microgrid/report_html/timeaxis.py:
its wall-clock time when the clocks do not change in the period; where they do, a dotted
line marks the change and the hover gives the wall-clock time); series that never leave
zero are absent assets and get no trace and no legend entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from microgrid.errors import InputError
from microgrid.report_html.fmt import chart_text, number, unit_of
from microgrid.report_html.rundir import RunData
from microgrid.report_html.timeaxis import CHANGE_LINE, HOVER_FORMAT, TimeAxis, time_axis
from microgrid.wall_time import parse_time_utc

ABSENT_MW = 1e-6  # a series never above this in magnitude is an absent asset
# A small template of our own: plotly's named ones are ~10 kB each, validated on every
# figure (0.1 s each) and repeated in the page once per figure.
_AXIS = {"gridcolor": "#ebebeb", "zerolinecolor": "#c8c8c8", "linecolor": "#c8c8c8"}
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#222"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "hoverlabel": {"namelength": -1},
    }
}
LIMIT_COLOR = "#d62728"


@dataclass(frozen=True)
class Stacked:
    """A power column drawn in a stack: supply above zero, sinks (sign -1) below."""

    column: str
    label: str
    sign: int
    color: str


SUPPLY = (
    Stacked("grid_import_mw", "grid import", 1, "#7f7f7f"),
    Stacked("pv_used_mw", "PV", 1, "#f2b701"),
    Stacked("wind_used_mw", "wind", 1, "#3b9ae1"),
    Stacked("battery_discharge_mw", "battery discharge", 1, "#2ca02c"),
    Stacked("backup_gen_mw", "generators", 1, "#8c564b"),
    Stacked("unserved_mw", "unserved load", 1, "#d62728"),
    Stacked("grid_export_mw", "grid export", -1, "#bcbd22"),
    Stacked("battery_charge_mw", "battery charge", -1, "#98df8a"),
)


# lines over the stack: (column, label, color, dash)
LOAD_LINES = (
    ("facility_load_mw", "facility load", "#000000", "solid"),
    ("it_load_mw", "IT load", "#000000", "dot"),
    ("pv_available_mw", "PV available", "#b8860b", "dash"),
)


def run_axis(run: RunData) -> TimeAxis:
    """The time axis of the run's period (every time figure of the report shares it)."""
    return time_axis(run.timeseries.index, run.step, run.timezone)


def step_bounds(index: pd.DatetimeIndex, run: RunData) -> pd.DatetimeIndex:
    """UTC start of each step plus the last step's end."""
    return index.append(pd.DatetimeIndex([index[-1] + run.step]))


def step_x(index: pd.DatetimeIndex, run: RunData) -> list[str]:
    """Axis times of each step's start plus the last step's end: with `held` values and
    a step ("hv") line, each step's average covers its whole step, the last one included."""
    return run_axis(run).x(step_bounds(index, run))


def held(values: pd.Series) -> np.ndarray:
    """The values with the last one repeated at the end of the last step (see `step_x`)."""
    v = values.to_numpy()
    return np.append(v, v[-1:])


def end_x(index: pd.DatetimeIndex, run: RunData) -> list[str]:
    """Axis times of each step's end: where an end-of-step state (battery SOC) belongs."""
    return run_axis(run).x(index + run.step)


def present(frame: pd.DataFrame, column: str) -> bool:
    """The column exists and is not an absent asset (all zero or missing)."""
    return column in frame and bool((frame[column].abs() > ABSENT_MW).any())


def _layout(fig: go.Figure, height: int, **extra) -> go.Figure:
    """The report's look: white template, legend right of the plot, unified hover (a
    figure may override any of these in `extra`)."""
    layout = {
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 30, "b": 50},
        "hovermode": "x unified",
        # "normal": legend in trace order (plotly reverses it for stacked areas)
        "legend": {
            "orientation": "v",
            "x": 1.02,
            "y": 1,
            "xanchor": "left",
            "traceorder": "normal",
        },
    }
    fig.update_layout(**(layout | extra))
    return fig


def new_figure() -> go.Figure:
    """An empty figure with the report's template (set at creation, so plotly does not
    apply and validate its default one first)."""
    return go.Figure(layout={"template": TEMPLATE})


def _time_axes(fig: go.Figure, axis: TimeAxis, rows: int = 1) -> None:
    """The time axis title (on the bottom panel of a figure of `rows` stacked panels), the
    hover title with the zone of the axis' offset, and a dotted line at each clock change
    labelled with the clock before and after it."""
    fig.update_xaxes(hoverformat=HOVER_FORMAT, unifiedhovertitle={"text": axis.hover_title})
    fig.update_xaxes(title_text=axis.title, **({"row": rows, "col": 1} if rows > 1 else {}))
    for change in axis.changes:
        (x,) = axis.x(pd.DatetimeIndex([change.at_utc]))
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=CHANGE_LINE)
        fig.add_annotation(
            x=x,
            xref="x",
            yref="paper",
            y=1,
            yanchor="bottom",
            showarrow=False,
            text=change.text,
            font={"size": 11, "color": CHANGE_LINE["color"]},
        )


def _clock_trace(
    axis: TimeAxis, times_utc: pd.DatetimeIndex, x: list[str], y: np.ndarray
) -> go.Scatter:
    """An unseen line whose hover is each time's wall-clock reading with its zone, for a
    period with a clock change (the hover title gives the axis time on one offset)."""
    return go.Scatter(
        x=x,
        y=y,
        name="wall clock",
        mode="lines",
        line={"width": 0, "color": "rgba(0,0,0,0)"},
        showlegend=False,
        customdata=axis.clock(times_utc),
        hovertemplate="%{customdata}",
    )


def _add_clock(fig: go.Figure, run: RunData, index: pd.DatetimeIndex, y: np.ndarray) -> None:
    """The wall-clock hover line on the top panel, where the clocks change in the period;
    `y`: one value per step bound (`step_bounds`), at a level the panel shows anyway, so
    the unseen line widens none of its range."""
    axis = run_axis(run)
    if axis.changes:
        bounds = step_bounds(index, run)
        fig.add_trace(_clock_trace(axis, bounds, axis.x(bounds), y), row=1, col=1)


# ---------------------------------------------------------------------------- Gantt


# a segment's figures in its hover: (jobs.csv column, label, decimals; None: the unit's)
BAR_HOVER = (
    ("gpus", "GPUs", 0),
    ("power_fraction_mean", "mean power fraction", 2),
    ("work_done_h", "work done", None),
    ("energy_mwh", "energy", None),
)


def _bar_hover(seg: pd.DataFrame) -> list[str]:
    """Each segment's number and figures: integers with thousands separators, the others
    with their unit's precision and unit ("energy: 1,360.2 MWh")."""
    have = [(c, label, d) for c, label, d in BAR_HOVER if c in seg]
    lines = []
    for _, row in seg.iterrows():
        parts = [f"segment {row['segment']}"] if "segment" in seg else []
        for column, label, decimals in have:
            unit, unit_decimals = unit_of(column)
            text = number(row[column], unit_decimals if decimals is None else decimals)
            parts.append(f"{label}: {text}{' ' + unit if unit else ''}")
        lines.append("<br>".join(parts))
    return lines


def _segment_bars(run: RunData, axis: TimeAxis) -> go.Bar:
    """jobs.csv's run segments as horizontal bars on a date axis (length in ms); the hover
    gives their wall-clock start and end with the zone."""
    seg = run.segments
    return go.Bar(
        name="run segment",
        orientation="h",
        y=[chart_text(i) for i in seg["job_id"]],
        base=axis.x(seg["start_utc"]),
        x=((seg["end_utc"] - seg["start_utc"]) / pd.Timedelta(milliseconds=1)).to_numpy(),
        customdata=np.column_stack([axis.clock(seg["start_utc"]), axis.clock(seg["end_utc"])])
        if len(seg)
        else None,
        text=_bar_hover(seg),
        textposition="none",
        hovertemplate="%{y}: %{customdata[0]} to %{customdata[1]}<br>%{text}<extra></extra>",
        marker={"color": "#1f77b4"},
    )


def _job_marks(
    run: RunData, axis: TimeAxis, key: str, name: str, symbol: str, color: str
) -> go.Scatter:
    """One marker per job at its jobs_spec.json time `key` (release or deadline); the
    hover gives its wall-clock time with the zone."""
    jobs = [j for j in run.jobs_spec if j.get(key)]
    times = pd.DatetimeIndex(pd.to_datetime([j[key] for j in jobs], utc=True))
    return go.Scatter(
        name=name,
        mode="markers",
        x=axis.x(times),
        y=[chart_text(j["id"]) for j in jobs],
        customdata=axis.clock(times),
        marker={"symbol": symbol, "size": 16, "color": color, "line": {"width": 3, "color": color}},
        hovertemplate=f"%{{y}} {name}: %{{customdata}}<extra></extra>",
    )


def gantt_figure(run: RunData) -> go.Figure:
    """One row per job: its run segments as bars (hover: power fraction, work, energy),
    its release as a green triangle and its deadline as a red bar."""
    ids = [j["id"] for j in run.jobs_spec]
    ids += sorted(set(run.segments["job_id"]) - set(ids))
    ids = [chart_text(i) for i in ids]
    axis = run_axis(run)
    fig = new_figure()
    fig.add_trace(_segment_bars(run, axis))
    fig.add_trace(_job_marks(run, axis, "release_utc", "release", "triangle-right", "#2ca02c"))
    fig.add_trace(_job_marks(run, axis, "deadline_utc", "deadline", "line-ns", LIMIT_COLOR))
    _layout(fig, 140 + 34 * max(len(ids), 1), hovermode="closest", barmode="overlay")
    fig.update_yaxes(categoryorder="array", categoryarray=ids[::-1], automargin=True)
    fig.update_xaxes(type="date")
    _time_axes(fig, axis)
    return fig


# ---------------------------------------------------------------------------- dispatch


def _stack_traces(fig: go.Figure, ts: pd.DataFrame, x: list[str]) -> None:
    for s in SUPPLY:
        if not present(ts, s.column):
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=held(s.sign * ts[s.column]),
                name=s.label,
                stackgroup="supply" if s.sign > 0 else "sinks",
                mode="lines",
                # power is the step's average: a step shape, not a ramp between steps
                line={"shape": "hv", "width": 0, "color": s.color},
                fillcolor=s.color,
                hovertemplate="%{y:,.1f} MW",
            ),
            row=1,
            col=1,
        )
    for column, label, color, dash in LOAD_LINES:
        if present(ts, column):
            fig.add_trace(_line(x, held(ts[column]), label, color, "MW", dash), row=1, col=1)


def _line(
    x: list[str], y: np.ndarray, name: str, color: str, unit: str, dash: str = "solid"
) -> go.Scatter:
    """A step line (a value held over its step); an SOC line is linear (`_soc_line`)."""
    return go.Scatter(
        x=x,
        y=y,
        name=name,
        mode="lines",
        line={"color": color, "dash": dash, "width": 1.5, "shape": "hv"},
        hovertemplate=f"%{{y:,.1f}} {unit}",
    )


def _soc_line(
    run: RunData, soc: pd.Series, name: str, color: str, dash: str = "solid"
) -> go.Scatter:
    """The battery's state of charge at each step's end, linear between (it charges at a
    constant rate within a step)."""
    line = _line(end_x(soc.index, run), soc.to_numpy(), name, color, "MWh", dash)
    line.line.shape = "linear"
    return line


def _signal_traces(fig: go.Figure, ts: pd.DataFrame, x: list[str]) -> None:
    """Price (left axis) and carbon intensity (right axis) in the second panel."""
    if "price_usd_per_mwh" in ts:
        price = _line(x, held(ts["price_usd_per_mwh"]), "price", "#9467bd", "USD/MWh")
        fig.add_trace(price, row=2, col=1)
        fig.update_yaxes(title_text="price (USD/MWh)", row=2, col=1, secondary_y=False)
    if "carbon_g_per_kwh" in ts:
        carbon = _line(x, held(ts["carbon_g_per_kwh"]), "carbon", "#8c564b", "g/kWh", "dot")
        fig.add_trace(carbon, row=2, col=1, secondary_y=True)
        fig.update_yaxes(
            title_text="carbon (g/kWh)", row=2, col=1, secondary_y=True, showgrid=False
        )


def dispatch_figure(run: RunData) -> go.Figure:
    """Power by source and sink (MW, stacked; sinks below zero) with the facility load;
    price and carbon on their own axes below; battery SOC at the bottom when present."""
    ts = run.timeseries
    x = step_x(ts.index, run)
    soc = present(ts, "battery_soc_mwh")
    rows = 3 if soc else 2
    fig = make_subplots(
        figure=new_figure(),
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        row_heights=[0.58, 0.22, 0.2][:rows],
        specs=[[{}], [{"secondary_y": True}], [{}]][:rows],
    )
    _stack_traces(fig, ts, x)
    fig.update_yaxes(title_text="power (MW)", row=1, col=1)
    _signal_traces(fig, ts, x)
    if soc:
        fig.add_trace(
            _soc_line(run, ts["battery_soc_mwh"], "battery SOC", "#2ca02c"),
            row=3,
            col=1,
        )
        fig.update_yaxes(title_text="SOC (MWh)", row=3, col=1, rangemode="tozero")
    _add_clock(fig, run, ts.index, np.zeros(len(ts) + 1))  # the stack is drawn from zero
    _time_axes(fig, run_axis(run), rows)
    return _layout(fig, 760 if soc else 620)


# ---------------------------------------------------------------------------- voltage


def has_voltages(run: RunData) -> bool:
    ts = run.timeseries
    return "dc_bus_vm_pu" in ts and bool(ts["dc_bus_vm_pu"].notna().any())


def _limit(fig: go.Figure, y: float, text: str, row: int) -> None:
    fig.add_hline(
        y=y,
        line={"color": LIMIT_COLOR, "dash": "dash", "width": 1},
        annotation_text=text,
        annotation_position="top left",
        row=row,
        col=1,
    )


def voltage_figure(run: RunData) -> go.Figure:
    """The data-center bus voltage (pu) with its band, and the highest line loading (%)
    with its limit, from the AC power flow of every step."""
    ts, lim = run.timeseries, run.limits
    x = step_x(ts.index, run)
    loading = "max_line_loading_pct" in ts and bool(ts["max_line_loading_pct"].notna().any())
    rows = 2 if loading else 1
    fig = make_subplots(
        figure=new_figure(), rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08
    )
    fig.add_trace(
        _line(x, held(ts["dc_bus_vm_pu"]), "data-center bus voltage", "#1f77b4", "pu"),
        row=1,
        col=1,
    )
    fig.update_traces(hovertemplate="%{y:.4f} pu", selector={"name": "data-center bus voltage"})
    _limit(fig, lim.vm_min_pu, f"min {lim.vm_min_pu:g} pu", 1)
    _limit(fig, lim.vm_max_pu, f"max {lim.vm_max_pu:g} pu", 1)
    fig.update_yaxes(title_text="voltage (pu)", row=1, col=1)
    if loading:
        fig.add_trace(
            _line(x, held(ts["max_line_loading_pct"]), "highest line loading", "#ff7f0e", "%"),
            row=2,
            col=1,
        )
        _limit(fig, lim.max_loading_pct, f"limit {lim.max_loading_pct:g} %", 2)
        fig.update_yaxes(title_text="line loading (%)", row=2, col=1, rangemode="tozero")
    _add_clock(fig, run, ts.index, held(ts["dc_bus_vm_pu"]))
    _time_axes(fig, run_axis(run), rows)
    return _layout(fig, 520 if loading else 340)


# ---------------------------------------------------------------------------- operate


def _event_time(run: RunData, row: int, column: str) -> pd.Timestamp:
    """events.csv's time in `column` of data row `row` as UTC: local time with its UTC
    offset (a folder written before 2026-12-07: wall-clock time at the site without one,
    as the scenario gave it; it refused one the clocks skip or repeat)."""
    try:
        return parse_time_utc(str(run.events[column].iloc[row]), run.timezone)
    except ValueError as exc:
        path = str(run.folder / "events.csv")
        raise InputError(f"{exc} (row {row + 1})", path=path, field=column) from None


def _event_windows(fig: go.Figure, run: RunData) -> None:
    """Shade each event's window (events.csv's local start and end times)."""
    events = run.events
    if events is None or not {"start_local", "end_local"} <= set(events.columns):
        return
    axis = run_axis(run)
    for row, (_, ev) in enumerate(events.iterrows()):
        start, end = (_event_time(run, row, c) for c in ("start_local", "end_local"))
        (x0, x1) = axis.x(pd.DatetimeIndex([start, end]))
        fig.add_vrect(
            x0=x0,
            x1=x1,
            fillcolor="#d62728",
            opacity=0.12,
            line_width=0,
            annotation_text=str(ev.get("kind", "event")),
            annotation_position="top left",
        )


def planned_actual_figure(run: RunData) -> go.Figure:
    """Operate mode: the controller's set-points for grid import and SOC against what the
    plant did, unserved load, and the events' windows shaded."""
    pva = run.planned_vs_actual
    x = step_x(pva.index, run)
    # result folders written before the set-point columns were named so call them planned_
    ref = "setpoint" if any(str(c).startswith("setpoint_") for c in pva) else "planned"
    panels = [
        (q, unit, label)
        for q, unit, label in (
            ("grid_import_mw", "MW", "grid import"),
            ("battery_soc_mwh", "MWh", "battery SOC"),
        )
        if f"{ref}_{q}" in pva and f"actual_{q}" in pva
    ]
    unserved = present(pva, "actual_unserved_mw")
    rows = max(len(panels) + int(unserved), 1)
    fig = make_subplots(
        figure=new_figure(), rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06
    )
    for row, (q, unit, label) in enumerate(panels, start=1):
        for kind, color, dash in ((ref, "#7f7f7f", "dash"), ("actual", "#1f77b4", "solid")):
            series, name = pva[f"{kind}_{q}"], f"{kind} {label}"
            line = (
                _soc_line(run, series, name, color, dash)
                if unit == "MWh"
                else _line(x, held(series), name, color, unit, dash)
            )
            fig.add_trace(line, row=row, col=1)
        fig.update_yaxes(title_text=f"{label} ({unit})", row=row, col=1)
    if unserved:
        fig.add_trace(
            _line(x, held(pva["actual_unserved_mw"]), "unserved load", LIMIT_COLOR, "MW"),
            row=rows,
            col=1,
        )
        fig.update_yaxes(title_text="unserved (MW)", row=rows, col=1)
    _event_windows(fig, run)
    top = f"actual_{panels[0][0]}" if panels else "actual_unserved_mw"
    _add_clock(fig, run, pva.index, _level(pva.get(top)))
    _time_axes(fig, run_axis(run), rows)
    return _layout(fig, 200 + 220 * rows)


def _level(series: pd.Series | None) -> np.ndarray:
    """A flat line at the mean of `series` (0 without one), one value per step bound:
    where an unseen line drawn in the series' panel widens none of its range."""
    values = series.to_numpy(dtype=float) if series is not None else np.zeros(1)
    mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
    return np.full(len(values) + 1, mean)


# ---------------------------------------------------------------------------- baselines


def baselines_figure(summary: dict) -> go.Figure:
    """Total cost and emissions of the plan and of each baseline, side by side."""
    names = ["this plan", *summary["baselines"]]
    rows = [summary, *summary["baselines"].values()]
    fig = make_subplots(
        figure=new_figure(),
        rows=1,
        cols=2,
        subplot_titles=("total cost (USD)", "emissions (t CO2e)"),
        horizontal_spacing=0.18,
    )
    for col, key, unit, color in (
        (1, "total_cost_usd", "USD", "#1f77b4"),
        (2, "emissions_t", "t", "#2ca02c"),
    ):
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=names,
                x=[r.get(key) for r in rows],
                marker={"color": color},
                showlegend=False,
                hovertemplate=f"%{{y}}: %{{x:,.1f}} {unit}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], automargin=True)
    fig.update_xaxes(tickformat=",")
    # the top margin keeps the mode bar off the panel titles
    margin = {"l": 70, "r": 30, "t": 60, "b": 40}
    return _layout(fig, 160 + 40 * len(names), hovermode="closest", margin=margin)
