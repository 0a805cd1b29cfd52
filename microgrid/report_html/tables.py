"""The report's HTML tables: baselines against the plan (every key summary.json holds,
so new baseline fields appear without a change here), operate's events and figures."""

from __future__ import annotations

import pandas as pd

from microgrid.report_html.fmt import esc, label_of, number, value_text
from microgrid.report_html.kpis import (
    actual_cost_note,
    missed_deadline_text,
    plan_objective_usd,
    plan_reference_text,
)
from microgrid.report_html.timeaxis import short_zone
from microgrid.wall_time import parse_time_utc

# dict-valued baseline keys that list limit breaches: shown as one cell naming what is broken
BREACH_KEYS = ("limit_breaches", "violations")


def _flat(prefix: str, value: object, out: dict[str, object]) -> None:
    """Nested dicts as dotted keys (`jobs.restarts`); breach dicts stay whole."""
    if isinstance(value, dict) and prefix.rsplit(".", 1)[-1] not in BREACH_KEYS:
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def flatten(doc: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    _flat("", doc, out)
    return out


def breach_text(breaches: dict) -> tuple[str, bool]:
    """The non-zero entries of a breach dict ("ramp violation steps 1, soc final
    shortfall 35.4 MWh") and whether there is any; lists (times) are not repeated."""
    parts = []
    for k, v in breaches.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v == 0:
            continue
        label = label_of(k)
        unit = label[label.rfind("(") + 1 : -1] if label.endswith(")") else ""
        name = label[: label.rfind(" (")] if unit else label
        if unit == "steps" and v == 1:
            unit = "step"
        parts.append(f"{esc(name)}: {value_text(k, v)}{' ' + unit if unit else ''}")
    return (", ".join(parts), True) if parts else ("none", False)


def _cell(key: str, value: object) -> str:
    if key.rsplit(".", 1)[-1] in BREACH_KEYS and isinstance(value, dict):
        text, broken = breach_text(value)
        return f'<td class="{"breach" if broken else "ok"}">{text}</td>'
    if value is None:
        return '<td class="na">&mdash;</td>'
    return f"<td>{value_text(key, value)}</td>"


def baselines_table(summary: dict) -> str:
    """Rows: every key any baseline has (first-seen order); columns: this plan, then each
    baseline. The plan's cell is its summary.json value where the key is the same."""
    baselines = {name: _planned(flatten(b)) for name, b in summary["baselines"].items()}
    plan = flatten({k: v for k, v in summary.items() if k != "baselines"})
    for key, where in PLAN_KEYS.items():  # the plan keeps these under `solver`
        plan.setdefault(key, plan.get(where))
    plan["objective_usd"] = plan_objective_usd(summary)  # as the baselines define theirs
    keys: list[str] = []
    for flat in baselines.values():
        keys += [k for k in flat if k not in keys]
    head = "".join(f"<th>{esc(n)}</th>" for n in ["this plan", *baselines])
    rows = []
    for key in keys:
        label = "limit breaches" if key.rsplit(".", 1)[-1] in BREACH_KEYS else label_of(key)
        label = _BASELINE_LABELS.get(key, label)
        cells = _cell(key, plan.get(key)) + "".join(
            _cell(key, b.get(key)) for b in baselines.values()
        )
        rows.append(f'<tr data-key="{esc(key)}"><th>{esc(label)}</th>{cells}</tr>')
    return (
        f'<table class="data"><thead><tr><th>metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# a baseline's key -> where summary.json keeps the plan's own value
PLAN_KEYS = {"status": "solver.status"}
# rows whose summary key alone would not say what they hold: the objective here is the
# baselines' (fixed charge in), not the solver's that the proven-gap card gives
_BASELINE_LABELS = {
    "objective_usd": "objective: total cost with the fixed charge, plus carbon cost (USD)"
}
# what a baseline without a plan still shows: its status and why it has no plan
_NO_PLAN_KEYS = ("status", "reason")


def _planned(flat: dict) -> dict:
    """A baseline's figures, or its status and reason alone where it has no plan
    (infeasible: its job counts would read as deadlines met)."""
    if flat.get("status") == "infeasible":
        return {k: (v if k in _NO_PLAN_KEYS else None) for k, v in flat.items()}
    return flat


# events.csv's columns whose names do not end in their unit
_EVENT_LABELS = {"unserved_mwh_delta": "unserved energy change (MWh)"}


def events_table(events: pd.DataFrame, timezone: str) -> str:
    """events.csv as a table (every column it has), its local times with the zone."""
    if not len(events):
        return "<p>No events in this run.</p>"
    head = "".join(
        f"<th>{esc(_EVENT_LABELS.get(str(c)) or label_of(str(c)))}</th>" for c in events.columns
    )
    rows = []
    for _, ev in events.iterrows():
        cells = "".join(f"<td>{_event_cell(str(c), v, timezone)}</td>" for c, v in ev.items())
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _event_cell(column: str, value: object, timezone: str) -> str:
    """One cell: a local time with its zone's abbreviation (events.csv writes local time
    with its UTC offset, older folders wall time: read as the event windows' shading reads
    it), a figure, or "—" for none."""
    if pd.isna(value):
        return "—"
    if not column.endswith("_local"):
        return value_text(column, value)
    try:
        local = parse_time_utc(str(value), timezone).tz_convert(timezone)
    except ValueError:  # the shading of the same window names the file and the row
        return esc(value)
    return esc(f"{local:%Y-%m-%d %H:%M} {short_zone(local)}")


def facts_list(facts: list[tuple[str, str]]) -> str:
    """A definition list of (label, HTML-safe value) pairs."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl class="facts">{items}</dl>'


def operate_facts(op: dict, fixed_usd: float = 0.0) -> list[tuple[str, str]]:
    """The closed loop's headline figures from summary.json["operate"]: the actual cost
    (and how it differs from the total cost: `actual_cost_note`; `fixed_usd`: the tariff's
    fixed charge), the plan-mode optimum beside it and each missed deadline as the CLI
    prints them (in folders written since f26ee8f), unserved energy, re-plans, forecast,
    breaches."""
    note = actual_cost_note(op, fixed_usd)
    facts = [
        ("actual cost (USD)", number(op["actual_cost_usd"], 0) + esc(f" ({note})" * bool(note)))
        if "actual_cost_usd" in op
        else None,
        ("vs plan mode", esc(plan_reference_text(op["plan_reference"], bool(note))))
        if isinstance(op.get("plan_reference"), dict)
        else None,
        *(
            ("missed deadline", esc(missed_deadline_text(m)))
            for m in op.get("missed_deadlines") or []
        ),
        ("unserved energy (MWh)", number(op["unserved_energy_mwh"], 2))
        if "unserved_energy_mwh" in op
        else None,
        ("re-plans", number(op["n_solves"], 0)) if "n_solves" in op else None,
        ("forecast", esc(op.get("forecast", ""))),
    ]
    if isinstance(op.get("limit_breaches"), dict):
        facts.append(("limit breaches", breach_text(op["limit_breaches"])[0]))
    return [f for f in facts if f is not None]


def bill_table(bill: dict, demand_charge: dict | None = None) -> str:
    """summary.json["bill"]: one row per line item (its label), one column per billing
    month and the horizon's total; the DR program's lines in the total column only; the
    planning estimates (not billed) below the bill's total, per month from
    summary.json["demand_charge"] where it has them."""
    months = bill["months"]
    head = "".join(f"<th>{esc(m['month'])}</th>" for m in months) + "<th>total</th>"
    rows = _share_row(months)
    for key, total in bill["lines"].items():
        cells = "".join(_bill_cell(key, m) for m in months)
        label = bill["labels"].get(key, key)
        rows.append(
            f'<tr data-key="{esc(key)}"><th>{esc(label)} (USD)</th>{cells}'
            f"<td>{value_text(key, total)}</td></tr>"
        )
    totals = "".join(f"<td>{value_text('total_usd', m['total_usd'])}</td>" for m in months)
    rows.append(
        f'<tr data-key="total_usd"><th>bill total (USD)</th>{totals}'
        f"<td>{value_text('total_usd', bill['total_usd'])}</td></tr>"
    )
    rows += _estimate_rows(bill, _estimates_by_month(bill, demand_charge))
    return (
        f'<table class="data"><thead><tr><th>line item</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_BILLING_WORDS = {"prorated": "prorated", "full_month": "full month", "per_day": "per day"}


def _share_row(months: list[dict]) -> list[str]:
    """The row of each billing month's share the period covers (summary.json's
    `month_share`), none for a folder written before it."""
    if all(m.get("month_share") is None for m in months):
        return []
    cells = "".join(
        '<td class="na">&mdash;</td>'
        if m.get("month_share") is None
        else f"<td>{number(100 * m['month_share'], 2)}</td>"
        for m in months
    )
    return [
        f'<tr data-key="month_share"><th>share of the billing month in the period (%)</th>'
        f'{cells}<td class="na">&mdash;</td></tr>'
    ]


def _bill_cell(key: str, m: dict) -> str:
    """One month's USD of a line, with how it was billed where the month says (the
    demand its charge is on, prorated or full month), e.g. "25,155 on 86.6 MW,
    prorated"."""
    if key not in m["lines"]:
        return '<td class="na">&mdash;</td>'
    mw = (m.get("billed_demand_mw") or {}).get(key)
    billing = (m.get("billing") or {}).get(key)
    how = [f"on {number(mw, 1)} MW"] if mw is not None else []
    if billing:
        how.append(_BILLING_WORDS.get(billing, str(billing)))
    note = f'<br><span class="how">{esc(", ".join(how))}</span>' if how else ""
    return f"<td>{value_text(key, m['lines'][key])}{note}</td>"


def _estimates_by_month(bill: dict, demand_charge: dict | None) -> dict[str, list[str]]:
    """Per planning estimate (bill key `<line item>_usd`), its cell in each bill month:
    the sum of the month's demand charges of that line item in summary.json's
    demand_charge (0 where the month has none), or "—" for every month when the months do
    not add up to the estimate's total (an old folder without per-charge fields)."""
    dc_months = {
        m.get("month"): m.get("charges") or [] for m in (demand_charge or {}).get("months", [])
    }
    cells = {}
    for key, total in (bill.get("estimates") or {}).items():
        per_month = [
            sum(
                c["charge_usd"]
                for c in dc_months.get(m["month"], [])
                if f"{c.get('line_item')}_usd" == key
            )
            for m in bill["months"]
        ]
        adds_up = abs(sum(per_month) - total) <= 1e-6 * max(1.0, abs(total))
        cells[key] = [
            f"<td>{value_text(key, usd)}</td>" if adds_up else '<td class="na">&mdash;</td>'
            for usd in per_month
        ]
    return cells


def _estimate_rows(bill: dict, cells: dict[str, list[str]]) -> list[str]:
    """Rows below the bill's total for its planning estimates (the coincident-peak alerts'
    expected charge): shown beside the bill, not in it."""
    return [
        f'<tr data-key="{esc(key)}" class="estimate"><th>not in the bill: '
        f"{esc(bill['labels'].get(key, key))} (USD)</th>{''.join(cells[key])}"
        f"<td>{value_text(key, usd)}</td></tr>"
        for key, usd in (bill.get("estimates") or {}).items()
    ]


def estimates_note(bill: dict) -> str:
    """What the rows below the bill's total are, when there are any: the alerts' expected
    charge is what the plan minimised and the total cost's demand charge holds; the bill
    charges the real intervals' coincident-peak charge instead."""
    if not bill.get("estimates"):
        return ""
    return (
        "<p>Not in the bill: the coincident-peak alerts' expected charge, the plan's "
        "estimate of what its alert-day peaks will cost, which it minimised and which the "
        "total cost holds (in its demand charge, with the flat and TOU charges). The bill "
        "charges the coincident-peak charge on the real intervals instead (its own row "
        "above).</p>"
    )


def market_facts(summary: dict) -> list[tuple[str, str]]:
    """The coincident-peak tag and the DR program's commitment beside the bill (from
    summary.json["coincident_peak"] and ["demand_response_program"], or operate's)."""
    facts = []
    cp = summary.get("coincident_peak")
    if isinstance(cp, dict) and "tag_mw" in cp:
        covered = sum(1 for i in cp.get("intervals", []) if i.get("covered"))
        facts.append(
            (
                "coincident-peak tag (MW)",
                f"{number(cp['tag_mw'], 2)} ({covered} of {cp.get('n_peaks', '?')} intervals "
                f"in the period; charge {number(cp.get('charge_usd', 0.0), 0)} USD)",
            )
        )
    dr = summary.get("demand_response_program") or (summary.get("operate") or {}).get(
        "demand_response_program"
    )
    if isinstance(dr, dict) and "commit_mw" in dr:
        facts.append(
            (
                "DR program commitment (MW)",
                f"{number(dr['commit_mw'], 1)} ({len(dr.get('events', []))} events; "
                f"{number(dr.get('net_revenue_usd', 0.0), 0)} USD to the site)",
            )
        )
    return facts
