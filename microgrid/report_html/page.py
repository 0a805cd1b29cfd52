"""The report page: sections (each with a stable id, a heading and one sentence on what it
shows) in one self-contained HTML file with plotly.js inline, so it opens offline.

Deterministic: the same result folder gives the same bytes (fixed div ids, no time stamps,
no random numbers), so a re-run that changes nothing changes no file of its folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from microgrid.atomic import atomic_write_text, clean_dead_temps
from microgrid.errors import InputError
from microgrid.report_html import figures
from microgrid.report_html.fmt import esc, label_of, number, value_text
from microgrid.report_html.kpis import Kpi, headline_kpis
from microgrid.report_html.rundir import RunData, read_run
from microgrid.report_html.tables import (
    baselines_table,
    bill_table,
    estimates_note,
    events_table,
    facts_list,
    market_facts,
    operate_facts,
)
from microgrid.resultdir import add_entry

REPORT_NAME = "report.html"
# in the first bytes of every page: an existing --out file is replaced only if it has it
GENERATOR_TAG = '<meta name="generator" content="microgrid report">'
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3b57;color:#fff;padding:16px 28px}header h1{margin:0 0 4px;font-size:1.5em}
header p{margin:2px 0;opacity:.9}nav{padding:6px 28px;background:#e8eef4;position:sticky;top:0;
z-index:10}nav a{margin-right:18px;color:#1f3b57;text-decoration:none;font-weight:600}
main{padding:8px 28px 40px;max-width:1400px}section{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:12px 20px;margin:16px 0}section h2{margin:4px 0}
p.lead{color:#555;margin:4px 0 12px}.kpis{display:grid;gap:10px;
grid-template-columns:repeat(auto-fill,minmax(230px,1fr))}.kpi{border:1px solid #e3e3e3;
border-radius:5px;padding:8px 12px}.kpi.part{background:#f6f8fa}.kpi .label{font-weight:600}
.kpi .value{font-size:1.45em;margin:2px 0}.kpi .unit{font-size:.65em;color:#666}
.kpi .meaning{font-size:.82em;color:#555}table.data{border-collapse:collapse;font-size:.9em;
margin:8px 0}table.data th,table.data td{border:1px solid #ddd;padding:3px 8px;text-align:right}
table.data th:first-child{text-align:left}td.breach{background:#fde2e1;color:#8a1c1c;
text-align:left}td.ok{color:#2c7a2c}td.na{color:#999}dl.facts{display:grid;
grid-template-columns:max-content auto;gap:2px 14px}dl.facts dt{font-weight:600}
dl.facts dd{margin:0}td .how{font-size:.8em;color:#666}
"""


@dataclass(frozen=True)
class Section:
    """One section of the page; `figures` are (div id, figure) pairs drawn inside it."""

    id: str
    title: str
    lead: str
    body: str = ""
    figures: tuple[tuple[str, go.Figure], ...] = field(default_factory=tuple)


def figure_html(div_id: str, fig: go.Figure) -> str:
    """A plotly figure as a div and its script, with a fixed div id (plotly makes a random
    one otherwise) and without plotly.js (the page carries it once)."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        default_height=f"{fig.layout.height}px",
    )


def kpi_html(k: Kpi) -> str:
    raw = k.value if isinstance(k.value, str) else json.dumps(k.value)
    unit = f' <span class="unit">{esc(k.unit)}</span>' if k.unit else ""
    return (
        f'<div class="kpi{" part" if k.part else ""}" data-key="{esc(k.key)}" '
        f'data-value="{esc(raw)}"><div class="label">{esc(k.label)}</div>'
        f'<div class="value"><span class="num">{esc(k.text)}</span>{unit}</div>'
        f'<div class="meaning">{esc(k.meaning)}</div></div>'
    )


def kpi_section(run: RunData) -> Section:
    cards = "".join(kpi_html(k) for k in headline_kpis(run.summary))
    return Section(
        "kpis",
        "Headline figures",
        "The run's totals over the whole period, each with its unit and what it means.",
        f'<div class="kpis">{cards}</div>',
    )


def jobs_section(run: RunData) -> Section:
    lead = (
        "When each training job runs (bars; hover for power fraction, work and energy), "
        "between its release (green triangle) and its deadline (red mark)."
    )
    if not run.jobs_spec and not len(run.segments):
        return Section("jobs", "Job schedule", lead, "<p>This scenario has no training jobs.</p>")
    return Section("jobs", "Job schedule", lead, figures=(("fig-jobs", figures.gantt_figure(run)),))


def dispatch_section(run: RunData) -> Section:
    return Section(
        "dispatch",
        "Dispatch",
        "Where the facility's power comes from at each step (stacked above zero; exports and "
        "battery charging below), with the grid price, carbon intensity and battery state of "
        "charge on their own axes; drag to zoom, double-click to reset.",
        figures=(("fig-dispatch", figures.dispatch_figure(run)),),
    )


def _powerflow_facts(summary: dict) -> list[tuple[str, str]]:
    pf = summary.get("powerflow") or {}
    facts = [
        ("steps solved", f"{pf['converged_steps']:,d} of {pf['steps']:,d}")
        if "converged_steps" in pf
        else None,
        ("voltage range", f"{pf['min_vm_pu']:.4f} to {pf['max_vm_pu']:.4f} pu")
        if pf.get("min_vm_pu") is not None and pf.get("max_vm_pu") is not None
        else None,
        ("highest line loading", f"{number(pf['max_line_loading_pct'], 1)} %")
        if pf.get("max_line_loading_pct") is not None
        else None,
        ("steps with violations", number(pf["violation_steps"], 0))
        if "violation_steps" in pf
        else None,
    ]
    a = summary.get("ac_plan")
    if isinstance(a, dict) and "iterations" in a:
        facts.append(
            (
                "plan-ac",
                f"{a['iterations']} iterations, {a['violations_initial']} &rarr; "
                f"{a['violations_left']} violations, cost of AC feasibility "
                f"{number(a['cost_of_ac_feasibility_usd'], 0)} USD",
            )
        )
    return [f for f in facts if f is not None]


def voltage_section(run: RunData) -> Section:
    src = "the scenario's network section" if run.limits.from_scenario else "default limits"
    return Section(
        "voltage",
        "Voltages and line loading",
        "The AC power flow of every step: the data-center bus voltage against its band and "
        f"the most loaded line against its limit (limits from {src}).",
        facts_list(_powerflow_facts(run.summary)),
        (("fig-voltage", figures.voltage_figure(run)),),
    )


# summary.json["value_of"]'s keys keep their names (readers and sweep tables use them);
# `storage_*` measures the whole dispatch, so the page names it as the CLI does
_VALUE_OF_LABELS = {
    "storage_usd": "dispatch, asap → storage-optimal (USD)",
    # savings, as the keys hold them (asap's minus storage-optimal's): negative adds
    "storage_emissions_t": "dispatch, asap → storage-optimal: emissions saved (t)",
    "job_flexibility_usd": "job flexibility, storage-optimal → optimum (USD)",
    "job_flexibility_emissions_t": (
        "job flexibility, storage-optimal → optimum: emissions saved (t)"
    ),
}


def _value_of(summary: dict) -> str:
    """summary.json["value_of"] (what optimising the dispatch and job flexibility buy),
    every key shown."""
    v = summary.get("value_of")
    if not isinstance(v, dict) or not v:
        return ""
    facts = [(_VALUE_OF_LABELS.get(k) or label_of(k), value_text(k, x)) for k, x in v.items()]
    return (
        "<h3>Value of dispatch and job flexibility</h3><p>dispatch (summary key "
        "value_of.storage_usd): asap &rarr; storage-optimal: battery, curtailment, "
        "generators and grid exchange optimised around asap's jobs within every limit; not "
        "the battery's value alone (where asap breaks a limit, it holds the cost of keeping "
        "it). Job flexibility: storage-optimal &rarr; optimum, moving and throttling the "
        "jobs.</p>" + facts_list(facts)
    )


def _negative_cost_note(summary: dict) -> str:
    """Why the savings have no share: the plan earns more than it pays, so a saving is
    more than a baseline's whole cost (R1's once read "101.1 %")."""
    total = summary.get("total_cost_usd")
    if not isinstance(total, (int, float)) or total >= 0:
        return ""
    return (
        f"<p class='note'>This plan's total cost is {number(total, 0)} USD: it earns "
        f"{number(-total, 0)} USD net (export revenue above what it buys), so its saving "
        "against a baseline is more than that baseline's whole cost: the saving is given in "
        "USD, not as a share of a cost (&mdash;; a result folder written before 2026-12-07 "
        "gives it as over 100 %).</p>"
    )


def baselines_section(run: RunData) -> Section:
    return Section(
        "baselines",
        "Baselines and savings",
        "The plan against rule-based schedules of the same period: their costs, emissions "
        "and savings, and the limits each baseline still breaks (a saving against a "
        "baseline that breaks a limit is not all the plan's doing).",
        baselines_table(run.summary) + _negative_cost_note(run.summary) + _value_of(run.summary),
        (("fig-baselines", figures.baselines_figure(run.summary)),),
    )


def bill_section(run: RunData) -> Section:
    return Section(
        "bill",
        "The bill, line by line",
        "What the utility (and a demand-response program) would bill for this plan, in the "
        "tariff's own line items per billing month, to hold against a real bill: the share "
        "of each month the period covers, and under each demand charge the demand it is "
        "on and how the month was billed (prorated: the month's charge times that share; "
        "full month: all of it); bill.csv has the same rows.",
        _market(run.summary)
        + bill_table(run.summary["bill"], run.summary.get("demand_charge"))
        + estimates_note(run.summary["bill"])
        + _warnings_note(run.summary),
    )


def _warnings_note(summary: dict) -> str:
    """summary.json's `warnings` (what the figures cannot show: a demand window or a
    coincident-peak interval shorter than the step), as the CLI prints them; none in
    older folders."""
    warnings = summary.get("warnings")
    if not isinstance(warnings, list):
        return ""
    return "".join(f"<p class='note'>Warning: {esc(str(w))}.</p>" for w in warnings)


def _market(summary: dict) -> str:
    facts = market_facts(summary)
    return facts_list(facts) if facts else ""


def operate_section(run: RunData) -> Section:
    op = run.summary.get("operate") or {}
    body = facts_list(operate_facts(op, run.summary.get("fixed_cost_usd") or 0.0))
    body += "<h3>Events</h3>" + (
        events_table(run.events, run.summary["period"]["timezone"])
        if run.events is not None
        else "<p>No events file.</p>"
    )
    if op.get("event_cost_method"):
        body += f"<p class='note'>Event costs: {esc(op['event_cost_method'])}.</p>"
    figs = ()
    if run.planned_vs_actual is not None:
        figs = (("fig-operate", figures.planned_actual_figure(run)),)
    return Section(
        "operate",
        "Planned vs actual",
        "The closed loop: what the plant did against the plan it followed, with unserved "
        "load, and the events with their windows shaded and their cost.",
        body,
        figs,
    )


def sections(run: RunData) -> list[Section]:
    """The page's sections in reading order; mode-specific ones only where they apply."""
    out = [kpi_section(run), jobs_section(run), dispatch_section(run)]
    if run.summary.get("bill"):
        out.append(bill_section(run))
    if figures.has_voltages(run):
        out.append(voltage_section(run))
    if run.summary.get("baselines"):
        out.append(baselines_section(run))
    if run.summary.get("mode") == "operate" or run.planned_vs_actual is not None:
        out.append(operate_section(run))
    return out


def section_html(s: Section) -> str:
    plots = "".join(f'<div class="plot">{figure_html(i, f)}</div>' for i, f in s.figures)
    return (
        f'<section id="{s.id}"><h2>{esc(s.title)}</h2><p class="lead">{esc(s.lead)}</p>'
        f"{s.body}{plots}</section>"
    )


def _header(summary: dict) -> str:
    sc, period = summary["scenario"], summary["period"]
    start, end = (str(period.get(k, "?"))[:16].replace("T", " ") for k in ("start_utc", "end_utc"))
    return (
        f"<header><h1>{esc(sc.get('name', '?'))}</h1>"
        f"<p>mode {esc(summary.get('mode', 'plan'))} &middot; {esc(start)} to {esc(end)} UTC, "
        f"{esc(period.get('step_minutes', '?'))}-minute steps, site time zone "
        f"{esc(period.get('timezone', '?'))}</p><p>result {esc(summary.get('result_id', '?'))}"
        f" &middot; scenario sha256 {esc(sc.get('sha256'))}</p></header>"
    )


def page_html(run: RunData) -> str:
    """The whole page as one string."""
    secs = sections(run)
    nav = "".join(f'<a href="#{s.id}">{esc(s.title)}</a>' for s in secs)
    title = f"{run.summary['scenario'].get('name', 'run')}: microgrid report"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{GENERATOR_TAG}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        # plotly.js inline (about 4.8 MB): the page makes no network request
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"{_header(run.summary)}<nav>{nav}</nav><main>"
        f"{''.join(section_html(s) for s in secs)}</main></body></html>\n"
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of the result folder `run_dir` to `out` (default
    `run_dir/report.html`) atomically; return its path."""
    run = read_run(run_dir)
    target = Path(out) if out is not None else run.folder / REPORT_NAME
    if target.is_dir():
        raise InputError("is a folder: name the report's file", path=str(target))
    if not target.parent.is_dir():
        raise InputError("folder not found for the report", path=str(target.parent))
    _check_replaceable(target)
    text = page_html(run)
    try:
        clean_dead_temps(target)  # what a killed report of this file left
        atomic_write_text(target, text)
        if target.resolve().parent == Path(run.folder).resolve():
            add_entry(run.folder, target.name)  # the run folder's own file from now on
    except OSError as exc:
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}", path=str(target)
        ) from None
    return target


def _check_replaceable(target: Path) -> None:
    """An existing file at `target` is replaced only if it is a microgrid report (its
    first bytes hold `GENERATOR_TAG`); anything else, or a symbolic link, is refused."""
    if target.is_symlink():
        raise InputError("is a symbolic link: not replaced, nothing was written", path=str(target))
    if not target.exists():
        return
    try:
        with open(target, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(target)) from None
    if GENERATOR_TAG.encode() not in head:
        raise InputError(
            "exists and is not a microgrid report: not replaced, nothing was written",
            path=str(target),
        )
