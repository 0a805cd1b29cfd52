"""The headline figures of a run: value, unit and one sentence on what each means, taken
from summary.json as written (the report computes nothing a planner would have to check)."""

from __future__ import annotations

from dataclasses import dataclass

from microgrid.report_html.fmt import number, signed

# summary.demand_charge's kind of an alert day's expected charge (billing._charge_kind)
ALERT_KIND = "coincident_peak_alert"

# a charge's peak above the month's metered peak by more than this share is a prior peak
PRIOR_PEAK_TOL_REL = 1e-9


@dataclass(frozen=True)
class Kpi:
    """One headline figure. `key` is its dotted path in summary.json ("" for a text-only
    figure such as the solver status); `value` is the number as stored there."""

    key: str
    label: str
    value: float | str
    text: str  # as shown: thousands separators, the unit's decimals
    unit: str
    meaning: str
    part: bool = False  # a part of the total cost (indented under it)


# (key, label, unit, decimals, meaning, part of the total cost)
_MONEY = (
    ("total_cost_usd", "Total cost", "USD", 0,
     "What the plan pays over the period: the parts below (the carbon price is not paid "
     "and is not in it).", False),
    ("energy_cost_usd", "Energy", "USD", 0,
     "Imports at each step's price minus export revenue (negative: exports earned more).",
     True),
    ("demand_cost_usd", "Demand charge", "USD", 0, "", True),
    ("fuel_cost_usd", "Generator fuel", "USD", 0, "Fuel burnt by on-site generators.", True),
    ("wear_cost_usd", "Battery wear", "USD", 0,
     "Battery degradation, charged per MWh discharged.", True),
    ("fixed_cost_usd", "Fixed charge", "USD", 0,
     "The tariff's fixed charge, which no schedule changes.", True),
    ("dr_program_usd", "DR program", "USD", 0,
     "The demand-response program's penalties less its payments (negative: it paid).", True),
    ("unfinished_penalty_usd", "Unfinished work", "USD", 0,
     "The scenario's penalty for job work left undone at the deadlines.", True),
    ("carbon_cost_usd", "Carbon price", "USD", 0,
     "The scenario's carbon price times the emissions: not paid and not in the total cost; "
     "the solver minimises the total cost plus this.", False),
)  # fmt: skip
# parts shown only where they are not zero (a tariff without a fixed charge, no program)
_IF_NOT_ZERO = {"fixed_cost_usd", "dr_program_usd", "unfinished_penalty_usd"}
_ENERGY = (
    ("emissions_t", "Emissions", "t CO2e", 1,
     "Grid imports times each step's average carbon intensity (CO2-equivalent in the "
     "shipped data), plus generator emissions. Exports are not credited; the AC network "
     "losses are left out."),
    ("grid_import_mwh", "Energy imported", "MWh", 1, "Energy bought from the grid."),
    ("grid_export_mwh", "Energy exported", "MWh", 1, "Energy sold to the grid."),
    ("peak_import_mw", "Peak import", "MW", 1,
     "The highest step-average grid import of the period. Each demand charge bills the "
     "peak of its own month or TOU period, or a ratchet's higher demand: the demand "
     "charge says which."),
    ("renewable_share", "Renewable share", "%", 1,
     "The share of the facility's energy that on-site PV and wind supplied in the same "
     "step (what is exported or stored is not counted)."),
    ("curtailed_mwh", "Curtailment", "MWh", 1, "PV and wind energy available but not used."),
)  # fmt: skip


def _tou_name(period: int | None) -> str:
    """A TOU demand charge's period as the bill's labels name it: "TOU period 2 (URDB
    demand period 1)" (summary.json's `period` is URDB's 0-based index + 1)."""
    if not isinstance(period, int):
        return f"TOU period {period}"
    return f"TOU period {period} (URDB demand period {period - 1})"


def _charge_text(c: dict, share: float | None, metered_mw: float | None = None) -> str:
    """One monthly demand charge as billed, its parts multiplying to its USD, e.g. "flat 12
    USD/kW-month × 80.0 MW (set by a ratchet, above the peak of 29.4 MW) × 13.3 % = 128,000
    USD". `metered_mw`: the month's metered peak in the period; a charge's peak above it is
    the month's peak from before the period (the tariff's prior peak), and says so."""
    demand = f"{number(c['billed_demand_mw'], 1)} MW"
    peak = c.get("peak_import_mw")
    prior = (
        metered_mw is not None
        and peak is not None
        and peak > metered_mw + PRIOR_PEAK_TOL_REL * max(1.0, abs(metered_mw))
    )
    if c.get("set_by") == "ratchet":
        of = "the month's prior peak of" if prior else "the peak of"
        demand += f" (set by a ratchet, above {of} {number(peak, 1)} MW)"
    elif c.get("set_by") == "prior_peak" and prior:
        demand += " (the month's prior peak, before the period)"
    usd = f"{number(c['charge_usd'], 0)} USD"
    kind = c.get("kind")
    name = {"flat": "flat", "tou": _tou_name(c.get("period"))}.get(kind, str(kind))
    rate = c.get("usd_per_kw_month")
    if rate is None or share is None:
        return f"{name} {number(c['usd_per_mw'], 0)} USD/MW × {demand} = {usd}"
    return (
        f"{name} {number(rate, None)} USD/kW-month × {demand} × {number(100 * share, 1)} % = {usd}"
    )


def _alerts_text(alerts: list[dict]) -> str:
    """The coincident-peak alert days' expected charges, e.g. "coincident-peak alerts
    (expected charges, a planning estimate): 2023-08-24 3,125 USD/MW × 20.7 MW (the alert
    window's peak) = 64,755 USD"."""
    days = [
        f"{str(c.get('key', '')).partition('@')[2]} {number(c['usd_per_mw'], 0)} USD/MW × "
        f"{number(c['billed_demand_mw'], 1)} MW (the alert window's peak) = "
        f"{number(c['charge_usd'], 0)} USD"
        for c in alerts
    ]
    return "coincident-peak alerts (expected charges, a planning estimate): " + ", ".join(days)


def _legacy_charge_text(m: dict, share: float | None, rate: float | None) -> list[str]:
    """The flat charge of a month in a summary written before the per-charge fields
    (before 5751c3b: one `usd_per_kw_month` for the run, no billed demand per month), e.g.
    "flat 8 USD/kW-month on the month's billed demand × 9.7 % = 51,937 USD"."""
    if rate is None:
        return []
    times_share = f" × {number(100 * share, 1)} %" if share is not None else ""
    return [
        f"flat {number(rate, None)} USD/kW-month on the month's billed demand{times_share} "
        f"= {number(m['charge_usd'], 0)} USD"
    ]


def month_coverage(summary: dict) -> dict[str, float]:
    """Per billing month, the share of its hours the period covers (summary.json's
    `bill.months[].month_share`); {} for a folder written before it."""
    bill = summary.get("bill") if isinstance(summary.get("bill"), dict) else {}
    return {
        m["month"]: m["month_share"]
        for m in bill.get("months") or []
        if isinstance(m, dict) and m.get("month_share") is not None
    }


def billed_in_full(share_billed: float | None, covered: float | None) -> bool:
    """A month whose whole charge is billed (`full_month`) for a period that covers only
    part of it: its share billed (1) is not the period's share of the month."""
    return share_billed is not None and covered is not None and covered < share_billed - 1e-9


def _month_text(m: dict, legacy_rate: float | None = None, covered: float | None = None) -> str:
    """A billing month's demand charges, e.g. "2023-09 (13.3 % of the month, metered peak
    29.4 MW): flat ... = 128,000 USD", or billed in full for part of it "2023-08 (billed in
    full though the period is 22.6 % of the month, metered peak ...)"; `legacy_rate`: the run's flat
    rate of an old summary whose months have no `charges`; `covered`: the period's share
    of the month (`month_coverage`), None where unknown."""
    share = m.get("share_billed")
    head = f"{m['month']} ("
    if billed_in_full(share, covered):
        head += f"billed in full though the period is {number(100 * covered, 1)} % of the month, "
    elif share is not None:
        head += f"{number(100 * share, 1)} % of the month, "
    head += f"metered peak {number(m['peak_import_mw'], 1)} MW)"
    if "charges" not in m:
        parts = _legacy_charge_text(m, share, legacy_rate)
        return head + (": " + ", ".join(parts) if parts else "")
    charges = m["charges"]
    alerts = [c for c in charges if c.get("kind") == ALERT_KIND]
    metered = m.get("peak_import_mw")
    parts = [_charge_text(c, share, metered) for c in charges if c not in alerts]
    if alerts:
        parts.append(_alerts_text(alerts))
    return head + (": " + ", ".join(parts) if parts else "")


def demand_meaning(summary: dict) -> str:
    """How the demand charges were billed (summary.json["demand_charge"]): per billing
    month and charge, the rate, the billed demand (and when a ratchet set it) and the
    month's share billed, adding up to the total, e.g. "Billed prorated, per local
    calendar month: 2023-08 (22.6 % of the month, metered peak 87.6 MW): flat 8
    USD/kW-month × 87.6 MW × 22.6 % = 158,271 USD. In all 158,271 USD."; an old summary
    (one `usd_per_kw_month` for the run) gives each month that rate and its charge."""
    d = summary.get("demand_charge")
    if not isinstance(d, dict) or not d.get("months"):
        return "No demand charge in this run."
    billing = str(d.get("billing", "")).replace("_", " ")
    covered = month_coverage(summary)
    months = "; ".join(
        _month_text(m, d.get("usd_per_kw_month"), covered.get(m["month"])) for m in d["months"]
    )
    total = d.get("charge_usd")
    in_all = f" In all {number(total, 0)} USD." if total is not None else ""
    return f"Billed {billing}, per local calendar month: {months}.{in_all}" + _estimate_note(
        summary
    )


def _estimate_note(summary: dict) -> str:
    """In coincident-peak mode "alerts" (planning): which coincident-peak charge the cost
    holds, the alerts' expected charge, not the real intervals' that the bill has."""
    bill = summary.get("bill") if isinstance(summary.get("bill"), dict) else {}
    expected = (bill.get("estimates") or {}).get("coincident_peak_expected_usd")
    if expected is None:
        return ""
    real = (summary.get("coincident_peak") or {}).get("charge_usd")
    real_text = f" ({number(real, 0)} USD)" if real is not None else ""
    return (
        f" It holds the coincident-peak alerts' expected charge ({number(expected, 0)} USD), "
        f"the planning estimate the plan minimised, not the real intervals' charge"
        f"{real_text} that the bill has."
    )


def _money(summary: dict) -> list[Kpi]:
    out = []
    for key, label, unit, dec, meaning, part in _MONEY:
        if key in summary and not (key in _IF_NOT_ZERO and not summary[key]):
            meaning = meaning or demand_meaning(summary)
            if key == "total_cost_usd":
                meaning += _estimate_note(summary)
            if key == "total_cost_usd" and summary.get("mode") == "operate":
                meaning = meaning.replace("the plan pays", "the plant's actual dispatch paid")
            value = summary[key]
            out.append(Kpi(key, label, value, number(value, dec), unit, meaning, part))
    return out


def _energy(summary: dict) -> list[Kpi]:
    out = []
    for key, label, unit, dec, meaning in _ENERGY:
        if key in summary:
            value = summary[key]
            shown = 100 * value if unit == "%" else value  # the share is stored as 0-1
            out.append(Kpi(key, label, value, number(shown, dec), unit, meaning))
    return out


def missed_deadline_text(m: dict) -> str:
    """One job the closed loop left unfinished (summary.operate.missed_deadlines), with
    its penalty or why it has none, as the CLI's "missed deadline" line says it, e.g.
    "finetune-a: 5.91 h of work short at 2023-08-22T03:00:00+00:00; penalty 29,538 USD
    (in the actual cost)"."""
    penalty = m.get("penalty_usd")
    price = (
        "not priced: the scenario sets no objective.unfinished_work_penalty_usd_per_h"
        if penalty is None
        else f"penalty {number(penalty, 0)} USD (in the actual cost)"
    )
    return (
        f"{m.get('job', '?')}: {number(m['unfinished_h'], 2)} h of work short at "
        f"{m.get('deadline_utc', '?')}; {price}"
    )


def unfinished_job_text(m: dict) -> str:
    """One job the plan leaves unfinished (summary.jobs.missed_deadlines), as the CLI's
    deadlines line names it, e.g. "pretrain-frontier (21.06 of 110.00 h of work done by
    2023-08-07T04:00:00+00:00)"."""
    return (
        f"{m.get('job', '?')} ({number(m['work_done_h'], 2)} of {number(m['work_h'], 2)} h "
        f"of work done by {m.get('deadline_utc') or '?'})"
    )


def _actual_vs_plan(r: dict) -> str:
    """The actual cost's difference from the plan-mode optimum, e.g. "actual +930,854 USD
    (+305.4 %)", and when it is within the plan's proven gap."""
    diff, pct, gap = r["actual_minus_plan_usd"], r.get("actual_minus_plan_pct"), r["plan_gap_usd"]
    if min(r["plan_cost_usd"], r.get("actual_cost_usd", 0.0)) < 0:
        pct = None  # a share of a net revenue (an older folder's "+2,750.0 %")
    text = f"actual {signed(diff, 0)} USD"
    text += f" ({signed(pct, 1)} %)" if pct is not None else ""
    if abs(diff) <= gap:
        text += f", within the plan's proven gap of {number(gap, 0)} USD"
    return text


# what operate's actual cost holds that the total cost does not (summary.operate.costs)
_BEYOND_TOTAL = (("carbon_usd", "the carbon price"), ("unserved_usd", "unserved energy"))


def actual_cost_note(op: dict, fixed_usd: float = 0.0) -> str:
    """How operate's actual cost differs from the total cost printed above it: it holds
    the carbon price (priced, not paid) and unserved energy at the value of lost load, and
    not the tariff's fixed charge, e.g. "the total cost with the carbon price 357,121 USD"
    (R1's carbon-aware week, whose total is 1,009,369 USD and actual cost 1,366,491 USD);
    "" where it holds neither and there is no fixed charge (or an older folder)."""
    costs = op.get("costs") or {}
    parts = [f"{label} {number(costs[k], 0)} USD" for k, label in _BEYOND_TOTAL if costs.get(k)]
    text = f"with {' and '.join(parts)}" if parts else ""
    if fixed_usd:
        text += f"{', ' if text else ''}without the fixed charge {number(fixed_usd, 0)} USD"
    return f"the total cost {text}" if text else ""


def plan_reference_text(r: dict, costed_as_actual: bool = False) -> str:
    """The actual cost against the plan-mode optimum (summary.operate.plan_reference), as
    the CLI's "vs plan mode" line says it, e.g. "304,833 USD (its optimum: perfect
    foresight, no operate.events); actual +930,854 USD (+305.4 %)"; `costed_as_actual`:
    say it is costed as the actual cost is (where that is not the total cost:
    `actual_cost_note`), not as plan mode's total cost."""
    if r.get("plan_cost_usd") is None:
        return f"no reference: {r.get('note', 'not computed')}"
    costed = "; costed as the actual cost" if costed_as_actual else ""
    return (
        f"{number(r['plan_cost_usd'], 0)} USD (its optimum: perfect foresight, no "
        f"operate.events{costed}); {_actual_vs_plan(r)}"
    )


def _jobs(summary: dict) -> list[Kpi]:
    j = summary.get("jobs")
    if not isinstance(j, dict) or not j.get("n_jobs"):
        return []
    met, n = j["deadlines_met"], j["n_jobs"]
    meaning = f"Training jobs that finish their work by their deadline ({met} of {n})."
    missed = (summary.get("operate") or {}).get("missed_deadlines") or []
    unfinished = j.get("missed_deadlines") or []  # the plan's; older folders have no list
    if missed:  # written by operate since f26ee8f; older folders have no list
        meaning += " Missed: " + "; ".join(missed_deadline_text(m) for m in missed) + "."
    elif unfinished and "operate" not in summary:
        meaning += " Missed: " + "; ".join(unfinished_job_text(m) for m in unfinished) + "."
    return [
        Kpi("jobs.deadlines_met", "Job deadlines met", met, f"{met:,d} / {n:,d}", "jobs", meaning)
    ]


def _solver(summary: dict) -> list[Kpi]:
    s = summary["solver"]
    status = str(s.get("status", "unknown"))
    if status == "operate":  # the plant run step by step: no one solve, no proven gap
        meaning = (
            "operate: the plant run step by step, re-planning as it goes; no single solve "
            "proves a gap for the whole run (the plan-mode reference below states its own)."
        )
        return [Kpi("solver.status", "Solver status", status, status, "", meaning)]
    out = [
        Kpi("solver.status", "Solver status", status, status, "",
            "optimal: proven within the scenario's MIP gap; node_limit, time_limit or "
            "heuristic: the best plan found, with the proven gap below."),
    ]  # fmt: skip
    if s.get("gap_scope") == "each window":
        return out + [_window_gap(s)]
    if "mip_gap" in s:
        gap = s["mip_gap"]
        bound = s.get("bound_usd")
        basis = s.get("gap_basis_usd")
        meaning = (
            "How far the plan can be from the best possible, proven by the solver"
            + _gap_detail(gap, s.get("objective_usd"), bound, basis)
            + _fixed_charge_clause(summary, s.get("objective_usd"), bound, basis)
        )
        out.append(
            Kpi("solver.mip_gap", "Proven gap", gap, number(100 * gap, 2), "%", meaning + ".")
        )
    return out


def _window_gap(s: dict) -> Kpi:
    """Rolling windows: the largest window's gap, said to be no bound of the period (the
    windows see only their own steps; a sum of their bounds bounds nothing)."""
    gap, n = s.get("mip_gap") or 0.0, len(s.get("windows", []))
    meaning = (
        f"The period was solved in {n} rolling windows (solver.window_h), each proven within "
        "this gap of its own best plan. No bound exists for the whole period: a whole-period "
        "solve can be much cheaper (summary.json lists each window)."
    )
    return Kpi("solver.mip_gap", "Largest window gap", gap, number(100 * gap, 2), "%", meaning)


def _gap_detail(gap: float, objective: float | None, bound, basis) -> str:
    """`: its objective (the total cost, less the tariff's fixed charge, plus the carbon
    cost) of X USD is at most g % of B USD above the lower bound L USD; B is ...`: what the
    gap is measured on. The objective is what the solver minimises and bounds, not the
    total cost; the basis is the larger of the plan's gross cost (what it buys, before
    export revenue) and the objective's size (``optimize.highs.gap_basis_usd``)."""
    if objective is None or bound is None or basis is None:
        return ""
    return (
        f": its objective (what the solver minimises: the total cost without the tariff's "
        f"fixed charge, plus the carbon cost) of {number(objective, 0)} USD is at most "
        f"{number(100 * gap, 2)} % of {number(basis, 0)} USD above the lower bound "
        f"{number(bound, 0)} USD; the gap is measured on the larger of the plan's gross "
        f"cost (what it buys, before export revenue) and the objective's size"
    )


def plan_objective_usd(summary: dict) -> float:
    """The plan's objective as the baselines define theirs (baselines.summary): its total
    cost (the tariff's fixed charge in) plus its carbon cost. The solver's objective
    leaves the fixed charge out, a constant of every plan."""
    return summary["total_cost_usd"] + (summary.get("carbon_cost_usd") or 0.0)


def _fixed_charge_clause(summary: dict, objective: float | None, bound, basis) -> str:
    """Where the tariff has a fixed charge and the report a baselines table, how the
    solver's objective (without the charge) meets the table's (with it), e.g. "; the
    baselines table's objective adds the tariff's fixed charge of 565 USD: 926,537 USD"."""
    fixed = summary.get("fixed_cost_usd")
    if not fixed or not summary.get("baselines") or None in (objective, bound, basis):
        return ""
    return (
        f"; the baselines table's objective adds the tariff's fixed charge of "
        f"{number(fixed, 0)} USD: {number(plan_objective_usd(summary), 0)} USD"
    )


def _operate(summary: dict) -> list[Kpi]:
    """Operate mode: what the closed loop paid in all, the plan-mode optimum it is held
    against (folders written before f26ee8f have none) and the load it could not serve."""
    op = summary.get("operate")
    if not isinstance(op, dict):
        return []
    out = []
    if "actual_cost_usd" in op:
        v = op["actual_cost_usd"]
        meaning = (
            "What the closed loop cost in all: the costs above (without the tariff's fixed "
            "charge) plus the carbon price (priced, not paid) and unserved energy at the "
            "scenario's value of lost load."
        )
        note = actual_cost_note(op, summary.get("fixed_cost_usd") or 0.0)
        meaning += f" Here: {note}." if note else ""
        out.append(
            Kpi("operate.actual_cost_usd", "Actual cost (operate)", v, number(v, 0), "USD", meaning)
        )
    ref = op.get("plan_reference")
    if isinstance(ref, dict) and ref.get("plan_cost_usd") is not None:
        v = ref["plan_cost_usd"]
        meaning = (
            "The plan-mode optimum on the same data: one solve of the whole period with "
            "perfect foresight and without operate.events, costed as the actual cost (not "
            "as plan mode's total cost); "
            f"{_actual_vs_plan(ref)} against it."
        )
        key = "operate.plan_reference.plan_cost_usd"
        out.append(Kpi(key, "Plan-mode reference", v, number(v, 0), "USD", meaning))
    if "unserved_energy_mwh" in op:
        v = op["unserved_energy_mwh"]
        meaning = "Load the plant could not serve (outages beyond the battery and generators)."
        out.append(
            Kpi("operate.unserved_energy_mwh", "Unserved energy", v, number(v, 2), "MWh", meaning)
        )
    return out


def headline_kpis(summary: dict) -> list[Kpi]:
    """The figures of the report's first section, in reading order."""
    return (
        _money(summary) + _operate(summary) + _energy(summary) + _jobs(summary) + _solver(summary)
    )
