"""A run's summary as `microgrid run` prints it: the total cost and every part of it, the
bill's lines, emissions, renewable share, peak, deadlines, the mode's own lines (plan-ac,
operate), the power flow and the baselines. Reads `summary.json`'s dict only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from microgrid.report_html.kpis import (
    ALERT_KIND,
    actual_cost_note,
    billed_in_full,
    missed_deadline_text,
    month_coverage,
    plan_reference_text,
    unfinished_job_text,
)

_KIND_NAMES = {"flat": "flat", "tou": "TOU"}


def _billing_note(summary: dict) -> str:
    """How the demand charge was billed, e.g. "  (prorated: 22.6 % of 2023-08)"; with
    coincident-peak alerts (planning) the demand cost holds their expected charge, which
    is not pro-rated and not billed, so the note splits it: ": flat 42,383 (prorated: 9.7
    % of 2023-08) + coincident-peak alerts' expected charge 287,309 (the plan's estimate;
    billed on the real intervals: see the bill)"."""
    d = summary.get("demand_charge")
    if not d or not d["months"]:
        return ""
    covered = month_coverage(summary)
    shares = [_share_text(m, covered.get(m["month"])) for m in d["months"]]
    shares = [s for s in shares if s]
    billing = f"({d['billing']}: {', '.join(shares)})"
    charges = [c for m in d["months"] for c in m.get("charges", [])]
    alerts = [c for c in charges if c["kind"] == ALERT_KIND]
    if not alerts:
        return f"  {billing}"
    monthly = [c for c in charges if c["kind"] != ALERT_KIND]
    kinds = " and ".join(dict.fromkeys(_KIND_NAMES.get(c["kind"], c["kind"]) for c in monthly))
    parts = [f"{kinds} {sum(c['charge_usd'] for c in monthly):,.0f} {billing}"] if monthly else []
    parts.append(
        f"coincident-peak alerts' expected charge {sum(c['charge_usd'] for c in alerts):,.0f} "
        "(the plan's estimate; billed on the real intervals: see the bill)"
    )
    return ": " + " + ".join(parts)


def _share_text(m: dict, covered: float | None) -> str:
    """A month's share billed, "22.6 % of 2023-08", or where its whole charge is billed for
    a period covering part of it, "all of 2023-08 though the period is 22.6 % of it" (it said "100.0
    % of 2023-08", as if the week were the month); "" without a share."""
    share = m.get("share_billed")
    if share is None:
        return ""
    if billed_in_full(share, covered):
        return f"all of {m['month']} though the period is {100 * covered:.1f} % of it"
    return f"{100 * share:.1f} % of {m['month']}"


def _breaches_line(b: dict, broken_only: bool = False) -> str:
    """Breaches of the limits in `b` (operate's or a baseline's `limit_breaches`), e.g.
    "ramp 1 step (max 2.9 MW), DR cap 1 step (max 3.0 MW, 2.98 MWh above it)"; the import
    limit (baselines), the energy above the DR cap and the final state of charge only when
    `b` has them; `broken_only`: only the limits broken ("" if none). Operate mode: the
    plant pauses jobs first, never inference."""

    def part(name: str, key: str, energy: bool = False) -> str:
        n = int(b.get(f"{key}_breach_steps", 0))
        if n == 0:
            return f"{name} none"
        mwh = b.get(f"{key}_breach_mwh") if energy else None
        worst = f"max {b[f'{key}_breach_max_mw']:.1f} MW"
        worst += f", {mwh:.3g} MWh above it" if mwh is not None else ""
        return f"{name} {n} step{'s' if n > 1 else ''} ({worst})"

    parts = [part("import", "import")] if "import_breach_steps" in b else []
    parts += [part("ramp", "ramp"), part("DR cap", "dr_cap", energy=True)]
    if "it_capacity_breach_steps" in b:
        parts.append(part("IT capacity", "it_capacity"))
    if "soc_final_short_mwh" in b:
        short = b["soc_final_short_mwh"]
        parts.append(f"final SOC {short:.3g} MWh short" if short else "final SOC none")
    if "carbon_budget_over_t" in b:  # a baseline under a carbon budget
        over = b["carbon_budget_over_t"]
        parts.append(f"carbon budget {over:,.1f} t over" if over else "carbon budget none")
    return ", ".join(p for p in parts if not (broken_only and p.endswith(" none")))


def _baseline_line(name: str, b: dict) -> str:
    """The optimum against one baseline, e.g. "vs asap  saves 412,300 USD (82.5 %) and
    12.3 % carbon; asap breaks: ramp 3 steps (max 4.1 MW)"."""
    if "total_cost_usd" not in b:
        why = ""
        if b["status"] == "infeasible":  # the reason in words (an older folder's: the slacks)
            reason = b.get("reason", "")
            generic = "asap's jobs cannot run within the limits"
            why = reason if reason.startswith("asap's jobs") else generic
        return f"  vs {name:<17}no plan ({b['status']}){': ' + why if why else ''}"
    usd = b["cost_saving_usd"]
    money = f"saves {usd:,.0f} USD" if usd >= 0 else f"costs {-usd:,.0f} USD more"
    money += _share_clause(name, b) + _carbon_clause(b)
    broken = _breaches_line(b["limit_breaches"], broken_only=True)
    limits = f"{name} breaks: {broken}" if broken else f"{name} keeps every limit"
    return f"  vs {name:<17}{money}; {limits}"


def _share_clause(name: str, b: dict) -> str:
    """ " (12.0 %)" of the baseline's cost, " (12.0 % more)", never a negative share. Where
    either total is a net revenue no share means anything (R1's plan earns 39,841 USD: its
    saving is more than asap's whole cost, once printed "101.1 %"): both totals instead,
    " (asap pays 3,639,463 USD, the plan earns 39,841 USD net)"."""
    base_usd = b["total_cost_usd"]
    plan_usd = base_usd - b["cost_saving_usd"]
    if base_usd < -_NET_TOL_USD or plan_usd < -_NET_TOL_USD:
        return f" ({_pays(name, base_usd)}, {_pays('the plan', plan_usd)})"
    pct = b["cost_saving_pct"]
    if pct is None:
        return ""
    return f" ({pct:.1f} %)" if b["cost_saving_usd"] >= 0 else f" ({-pct:.1f} % more)"


# a total below this (USD) is a net revenue (baselines.summary's tolerance)
_NET_TOL_USD = 1e-9


def _pays(who: str, usd: float) -> str:
    """ "asap pays 3,639,463 USD" / "the plan earns 39,841 USD net"."""
    return f"{who} pays {usd:,.0f} USD" if usd >= 0 else f"{who} earns {-usd:,.0f} USD net"


def _carbon_clause(b: dict) -> str:
    """ " and 12.3 % carbon" / ", 2.1 % more carbon"; in tonnes (", 70.0 t more carbon")
    where the percentage is undefined (the baseline emits 0 t)."""
    pct = b["emissions_saving_pct"]
    if pct is not None:
        return f" and {pct:.1f} % carbon" if pct >= 0 else f", {-pct:.1f} % more carbon"
    saved_t = b.get("emissions_saving_t")
    if saved_t is None:
        return ""
    return f" and {saved_t:,.1f} t carbon" if saved_t >= 0 else f", {-saved_t:,.1f} t more carbon"


def _value_of_line(v: dict) -> str:
    """What optimising the dispatch and job flexibility buy (summary["value_of"]), one
    line. `storage_usd` is asap -> storage-optimal: the battery (if there is one),
    curtailment, generators and grid exchange optimised around asap's jobs within every
    limit, so it is not the battery's value alone: without a battery it is the rest, and
    where asap breaks a limit (a ramp) it holds the cost of keeping it."""
    broken = "" if v["asap_keeps_all_limits"] else "; asap breaks a limit, storage-optimal keeps it"
    line = (
        f"  value of dispatch {v['storage_usd']:,.0f} USD (asap -> storage-optimal: "
        f"battery, curtailment, generators and grid exchange optimised{broken}), "
        f"job flexibility {v['job_flexibility_usd']:,.0f} USD (storage-optimal -> optimum)"
    )
    if v["job_flexibility_within_gap"]:
        line += f", within the solver's gap of {v['optimum_gap_usd']:,.0f} USD"
    return line


_PLAIN_BILL = {"energy_usd", "demand_flat_usd"}  # the lines energy and demand already say


def _bill_lines(bill: dict | None) -> list[str]:
    """The bill's line items (summary["bill"]), one row each, when it has more than the
    plain energy and flat demand lines (a tariff, coincident peaks, a DR program); then
    its planning estimates (coincident-peak alerts' expected charge), which the total cost
    holds and the bill does not."""
    if not bill or set(bill["lines"]) <= _PLAIN_BILL:
        return []
    months = ", ".join(m["month"] for m in bill["months"])
    rows = [f"  bill            {bill['total_usd']:>16,.0f} USD  ({months}; bill.csv)"]
    # each amount under the bill's, its label after it: a tariff period's label names
    # its hours, longer than any column would hold
    for key, usd in bill["lines"].items():
        rows.append(f"  {'':16}{usd:>16,.0f} USD  {bill['labels'][key]}")
    for key, usd in bill.get("estimates", {}).items():
        rows.append(f"  not billed      {bill['labels'][key]}: {usd:,.0f} USD (in the total cost)")
    return rows


def _coincident_peak_line(cp: dict) -> str:
    """The coincident-peak tag and charge (summary["coincident_peak"]), one line."""
    covered = sum(1 for i in cp["intervals"] if i["covered"])
    line = (
        f"  coincident peak tag {cp['tag_mw']:.1f} MW ({covered} of {cp['n_peaks']} intervals "
        f"in the period): {cp['charge_usd']:,.0f} USD"
    )
    if "expected_usd" in cp:
        line += f"; alerts priced at {cp['expected_usd']:,.0f} USD expected"
    return line


def _dr_program_line(dr: dict) -> str:
    """The DR program's commitment and settlement (summary["demand_response_program"])."""
    return (
        f"  DR program      {dr['commit_mw']:.1f} MW committed, {len(dr['events'])} events: "
        f"{dr['net_revenue_usd']:,.0f} USD to the site (capacity "
        f"{dr['capacity_payment_usd']:,.0f}, energy {dr['energy_payment_usd']:,.0f}, "
        f"shortfall penalty {dr['shortfall_penalty_usd']:,.0f})"
    )


def _gap_note(solver: dict) -> str:
    """`, proven within 0.99 % (8,951 USD; 1 % asked)`: what the solve leaves open,
    relative to its gap basis and in USD, and the gap the scenario asked for (empty for an
    LP or a solve without a gap). Rolling windows: how many windows have the run's status
    (printed before this note) and what the others have, and the largest window gap. The
    asked gap is what "optimal" and "heuristic" are measured against."""
    gap, basis = solver.get("mip_gap"), solver.get("gap_basis_usd")
    asked = _asked(solver)
    if solver.get("gap_scope") == "each window":
        within = f"within {100 * gap:.2f} %" if gap is not None else "to its gap"
        scope = f"{asked}; " if asked else ""
        return f" {_window_statuses(solver)}, each proven {within} ({scope}no bound for the period)"
    if not gap or basis is None:
        return ""
    usd = f"{gap * basis:,.0f} USD" + (f"; {asked}" if asked else "")
    return f", proven within {100 * gap:.2f} % ({usd})"


def _asked(solver: dict) -> str:
    """`1 % asked`: the relative gap the scenario asked for (`solver.mip_rel_gap`); empty
    where the summary does not hold it (a run folder written before it did)."""
    asked = solver.get("mip_rel_gap")
    return "" if asked is None else f"{100 * asked:g} % asked"


def _window_statuses(solver: dict) -> str:
    """`in each of 4 rolling windows` where every window has the run's status, else `in 1
    of 4 rolling windows (3 optimal)`: the run's status is its worst window's (one
    heuristic window makes the run heuristic), which the other windows need not share."""
    windows = solver.get("windows", [])
    n, status = len(windows), solver.get("status")
    others = Counter(w.get("status") for w in windows if w.get("status") != status)
    if not others:
        return f"in each of {n} rolling windows"
    rest = ", ".join(f"{k} {s}" for s, k in others.items())
    return f"in {n - sum(others.values())} of {n} rolling windows ({rest})"


# the parts of the total cost after energy and demand (summary key, label), printed where
# not zero: every part of the total is listed under it
_OTHER_PARTS = (
    ("fuel_cost_usd", "fuel"),
    ("wear_cost_usd", "battery wear"),
    ("fixed_cost_usd", "fixed charge"),
    ("dr_program_usd", "DR program"),
    ("unfinished_penalty_usd", "unfinished"),
)


def _cost_lines(s: dict) -> list[str]:
    """The total cost and each of its parts (energy and demand always, the others where
    not zero), then the carbon cost, which the total leaves out (it is priced, not paid:
    the solver minimises the total plus it)."""
    rows = [
        f"  total cost      {s['total_cost_usd']:>16,.0f} USD",
        f"    energy        {s['energy_cost_usd']:>16,.0f} USD",
        f"    demand        {s['demand_cost_usd']:>16,.0f} USD{_billing_note(s)}",
    ]
    for key, label in _OTHER_PARTS:
        if s.get(key):
            rows.append(f"    {label:<14}{s[key]:>16,.0f} USD")
    if s.get("carbon_cost_usd"):
        rows.append(
            f"  carbon cost     {s['carbon_cost_usd']:>16,.0f} USD  (priced, not in the total)"
        )
    return rows


def print_summary(summary: dict, out: Path) -> None:
    s = summary
    print(f"scenario {s['scenario']['name']}: {s['solver']['status']}{_gap_note(s['solver'])}")
    for line in _cost_lines(s):
        print(line)
    for line in _bill_lines(s.get("bill")):
        print(line)
    if "coincident_peak" in s:
        print(_coincident_peak_line(s["coincident_peak"]))
    if "demand_response_program" in s:
        print(_dr_program_line(s["demand_response_program"]))
    print(f"  emissions       {s['emissions_t']:>16,.1f} t")
    print(f"  renewable share {100 * s['renewable_share']:>15.1f} %")
    print(f"  peak import     {s['peak_import_mw']:>16.1f} MW")
    j = s["jobs"]
    dropped = j.get("instances_outside_period", 0)
    if j["n_jobs"] or dropped:
        # a weekly template's instance whose window leaves the period is not planned: say
        # so, or "1 / 1 met" reads as every instance of the template
        note = f" ({dropped} weekly instance(s) left out: window not inside the period)"
        met = f"{j['deadlines_met']:>10d} / {j['n_jobs']} met"
        print(f"  job deadlines   {met}{note if dropped else ''}{_missed_clause(s)}")
        capping = _capping_line(j.get("power_capping"))
        if capping:
            print(capping)
    if "ac_plan" in s:
        a = s["ac_plan"]
        print(
            f"  plan-ac         {a['iterations']} iterations, {a['violations_initial']} -> "
            f"{a['violations_left']} violations, cost of AC feasibility "
            f"{a['cost_of_ac_feasibility_usd']:,.0f} USD"
        )
    if "operate" in s:
        for line in _operate_lines(s["operate"], s.get("fixed_cost_usd") or 0.0):
            print(line)
    if "powerflow" in s:
        print(f"  power flow      {_powerflow_line(s['powerflow'])}")
    if "operate" in s and s.get("baselines"):
        print(OPERATE_BASELINES_NOTE)
    for name, b in s.get("baselines", {}).items():
        print(_baseline_line(name, b))
    if "value_of" in s:
        print(_value_of_line(s["value_of"]))
    print(f"results in {out}")


def _capping_line(c: dict | None) -> str:
    """What running the jobs below full power saves on the throughput curve's terms
    (summary.jobs.power_capping), one line; "" where they ran at full power (or an older
    folder has no figures). The curve is the scenario's assumption, and the baselines run
    at full power: part of the savings against them rests on it."""
    if not c or c["mean_power_fraction"] is None or c["saved_mwh"] < 0.05:
        return ""
    share = 100 * c["saved_mwh"] / c["full_power_energy_mwh"]
    return (
        f"  power capping   jobs at {100 * c['mean_power_fraction']:.0f} % of full power where "
        f"they run: {c['saved_mwh']:,.1f} MWh IT ({share:.1f} %) less than the same work at full "
        "power, by datacenter.throughput_curve (an assumption; the baselines run at full power)"
    )


def _missed_clause(s: dict) -> str:
    """ "; missed: pretrain-frontier (21.06 of 110.00 h of work done by ...)": the jobs the
    plan leaves unfinished (summary.jobs.missed_deadlines; "" for none, or for an older
    folder without the list). Operate mode names its own in its "missed deadline" lines."""
    missed = s["jobs"].get("missed_deadlines") or []
    if not missed or "operate" in s:
        return ""
    return "; missed: " + ", ".join(unfinished_job_text(m) for m in missed)


# In operate mode the baselines are plan-mode simulations (perfect foresight, no
# operate.events) set against the total cost, which leaves out unserved energy: a reader
# must not take them for alternatives run through the same events.
OPERATE_BASELINES_NOTE = (
    "  baselines       plan-mode rules with perfect foresight and no operate.events, set "
    "against the total cost (unserved energy is in the actual cost only)"
)


def _operate_lines(o: dict, fixed_usd: float = 0.0) -> list[str]:
    """operate's actual cost (and what it holds beyond the total cost: `actual_cost_note`;
    `fixed_usd`: the tariff's fixed charge, in the total only) beside the plan-mode
    optimum, each missed deadline, the limit breaches, the DR program and the response to
    coincident-peak alerts."""
    missed = o.get("missed_deadlines") or []
    unpriced = sum(1 for m in missed if m["penalty_usd"] is None)
    cost_note = actual_cost_note(o, fixed_usd)
    notes = [cost_note] if cost_note else []
    if unpriced:
        notes.append(f"+ {unpriced} missed deadline{'s' if unpriced > 1 else ''}, unpriced")
    said = f" ({'; '.join(notes)})" if notes else ""
    rows = [
        f"  operate         actual cost {o['actual_cost_usd']:,.0f} USD{said}, unserved "
        f"{o['unserved_energy_mwh']:.2f} MWh, {_replans_clause(o)}"
    ]
    if o.get("plan_reference"):
        rows.append(_plan_reference_line(o["plan_reference"], bool(cost_note)))
    rows += [_missed_deadline_line(m) for m in missed]
    for jid, n in (o.get("forced_interruptions") or {}).items():
        rows.append(
            f"  interrupted     job {jid}: non-preemptible, stopped {n} time{'s' * (n > 1)} "
            "with work left (resumed from its checkpoint)"
        )
    rows.append(f"  limit breaches  {_breaches_line(o.get('limit_breaches') or {})}")
    if o.get("demand_response_program"):
        rows.append(_dr_program_line(o["demand_response_program"]))
    if o.get("coincident_peak_response"):
        r = o["coincident_peak_response"]
        rows.append(
            f"  CP alerts       tag {r['responding']['tag_mw']:.1f} MW (ignoring them: "
            f"{r['ignoring']['tag_mw']:.1f} MW); curtailments cost "
            f"{r['curtailment_cost_usd']:,.0f} USD, saving {r['saving_usd']:,.0f} USD"
        )
    return rows


def _replans_clause(o: dict) -> str:
    """`7 re-plans (1 at the node limit, largest gap 0.95 %)`: how far the re-plans are
    proven (the closed loop has no gap of its own); older folders: `7 re-plans`."""
    stops = [
        f"{n} at the {what} limit"
        for n, what in (
            (o.get("node_limited_replans"), "node"),
            (o.get("time_limited_solves"), "time"),
        )
        if n
    ]
    gap = o.get("max_replan_gap")
    if gap is not None:
        stops.append(f"largest gap {100 * gap:.2f} %")
    return f"{o['n_solves']} re-plans" + (f" ({', '.join(stops)})" if stops else "")


def _plan_reference_line(r: dict, costed_as_actual: bool = False) -> str:
    """The actual cost against the plan-mode optimum (summary.operate.plan_reference), e.g.
    "vs plan mode    549,150 USD (its optimum: perfect foresight, no operate.events);
    actual +74,082 USD (+13.5 %)": the report's words (`plan_reference_text`)."""
    return f"  vs plan mode    {plan_reference_text(r, costed_as_actual)}"


def _missed_deadline_line(m: dict) -> str:
    """One job the closed loop left unfinished (summary.operate.missed_deadlines), with
    its price or why it has none: the report's words (`missed_deadline_text`)."""
    return f"  missed deadline {missed_deadline_text(m)}"


def _powerflow_line(pf: dict) -> str:
    if not pf["converged_steps"]:
        return f"no solution at any of {pf['steps']} steps"
    text = (
        f"vm {pf['min_vm_pu']:.4f}-{pf['max_vm_pu']:.4f} pu, line loading <= "
        f"{pf['max_line_loading_pct']:.1f} %, {pf['violation_steps']} steps with violations"
    )
    if pf["diverged_steps"]:
        text += f", no solution at {pf['diverged_steps']} steps"
    if pf.get("outage_steps_solved"):  # the grid taken as the slack where it was out
        text += (
            f"; {pf['outage_steps_solved']} grid-outage steps solved with the grid as slack "
            f"(up to {pf['pcc_max_import_excess_mw']:.2f} MW it could not give)"
        )
    return text
