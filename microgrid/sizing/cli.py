"""`microgrid size SCENARIO --out DIR`: size the assets, write sizing.json and sizes.csv,
print a short table (sizes, costs, the planning-vs-verified gap, flexibility).

`add_size_parser(subparsers)` registers the sub-command; bad input raises `InputError`
(the main CLI turns it into one line and exit code 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microgrid.resultdir import check_target, scenario_inputs, written_to


def default_sizing_out(scenario: Path) -> Path:
    """`out/<scenario file stem>-sizing`: beside `run`'s folder, never the same one."""
    return Path("out") / f"{scenario.stem}-sizing"


def _solve_text(name: str, f: dict) -> str:
    return f"{name} {f['status']} (gap {100 * f['mip_gap']:.2f} %)"


def table_lines(s: dict) -> list[str]:
    """The printed table of a sizing.json content `s`."""
    lines = [
        f"scenario {s['scenario']['name']}: sizing ({s['method']}), "
        f"{_solve_text('planning', s['planning'])}, {_solve_text('verified', s['verified'])}",
    ]
    lines += _parts_bound_lines(s["planning"])
    lines += _parts_objective_lines(s["planning"])
    lines.append(
        f"  {'asset':<22}{'unit':<6}{'existing':>10}{'new':>10}{'total':>10}{'USD/yr':>16}"
    )
    for name, a in s["assets"].items():
        lines.append(
            f"  {name:<22}{a['unit']:<6}{a['existing']:>10.1f}{a['new']:>10.1f}"
            f"{a['total']:>10.1f}{a['annual_usd_per_year']:>16,.0f}"
        )
    h, y = s["horizon"], s["annual"]
    lines.append(
        f"  cost over {h['hours']:g} h  planning {s['planning']['objective_usd']:,.0f} USD, "
        f"verified {s['verified']['objective_usd']:,.0f} USD, "
        f"gap {100 * s['planning_vs_verified_gap']:.3f} %"
    )
    lcos = y["levelised_cost_of_supply_usd_per_mwh"]
    if y["scale_to_year"] != 1:  # a horizon other than a year: say the year is scaled
        lines.append(f"  per year: {y['note']}")
    carbon_usd = y["carbon_cost_usd_per_year"]
    lines.append(
        f"  per year        {y['total_cost_usd_per_year']:,.0f} USD ({_parts_text(y)}), NPV "
        f"{y['npv_of_costs_usd']:,.0f} USD over {s['analysis_years']} years, "
        + ("" if lcos is None else f"{lcos:,.2f} USD/MWh")
    )
    if carbon_usd:
        lines.append(_carbon_line(y))
    lines.append(
        f"  supply          renewable share {100 * y['renewable_share']:.1f} %, emissions "
        f"{y['emissions_t_per_year']:,.0f} t/yr, curtailed "
        f"{y['curtailed_renewable_mwh_per_year']:,.0f} MWh/yr"
    )
    f = s["flexibility"]
    if f is not None:
        grid = f["grid_import_difference_mw"]
        mw = f"{grid:+,.1f} MW of grid import" if grid is not None else "grid import not sized"
        lines.append(
            f"  inflexible jobs {mw}, {f['peak_import_difference_mw']:+,.1f} MW peak import, "
            f"{f['annual_cost_difference_usd_per_year']:+,.0f} USD/yr"
        )
        lines += _it_breach_lines(f.get("inflexible_limit_breaches") or {})
    return lines


def _parts_text(y: dict) -> str:
    """What the per-year cost holds (sizing.json's `annual`): the capacity cost, and the
    tariff's fixed charge and the carbon price where there are any, e.g. "incl. capacity
    1,000, fixed charge 500 and carbon price 200"."""
    parts = [f"capacity {y['capacity_cost_usd_per_year']:,.0f}"]
    if y["fixed_cost_usd_per_year"]:
        parts.append(f"fixed charge {y['fixed_cost_usd_per_year']:,.0f}")
    if y["carbon_cost_usd_per_year"]:
        parts.append(f"carbon price {y['carbon_cost_usd_per_year']:,.0f}")
    if len(parts) == 1:
        return parts[0]
    return "incl. " + ", ".join(parts[:-1]) + " and " + parts[-1]


def _parts_bound_lines(planning: dict) -> list[str]:
    """A plan by parts whose cuts pin the battery's charge: what its gap is measured
    against ([] otherwise)."""
    bound = planning.get("parts_bound_usd")
    if bound is None:
        return []
    return [
        f"  planning gap measured to the parts' bound, {bound:,.0f} USD: no bound of the whole",
        "  horizon, since each part starts and ends the battery at its set charge",
    ]


def _parts_objective_lines(planning: dict) -> list[str]:
    """A plan by parts whose split of the demand charges understates its bill: the
    parts' own figure beside the plan's cost ([] otherwise)."""
    parts_usd = planning.get("parts_objective_usd")
    if parts_usd is None or planning["objective_usd"] - parts_usd < 0.5:
        return []
    return [
        "  planning cost is its dispatch's bill; the parts' own figure, each demand charge",
        f"  split by share on each part's peak: {parts_usd:,.0f} USD",
    ]


def _carbon_line(y: dict) -> str:
    """The carbon price's share of the per-year line's figures (cost, NPV, USD/MWh; from
    sizing.json's `annual`): the objective prices it, as `run`'s does, but the site does
    not pay it; the figures without it are what it does pay."""
    paid_usd = y["total_cost_usd_per_year"] - y["carbon_cost_usd_per_year"]
    energy_mwh = y["facility_energy_mwh_per_year"]
    lcos = f", {paid_usd / energy_mwh:,.2f} USD/MWh" if energy_mwh > 0 else ""
    return (
        f"  carbon price    {y['carbon_cost_usd_per_year']:,.0f} USD/yr in those figures, not "
        f"paid by the site; without it {paid_usd:,.0f} USD/yr{lcos}"
    )


def _it_breach_lines(b: dict) -> list[str]:
    """The inflexible load's IT capacity breach, as `run` prints a baseline's ([] if
    none): asap starts each job at its release whatever else runs."""
    n = int(b.get("it_capacity_breach_steps", 0))
    if n == 0:
        return []
    first = b["it_capacity_breach_times_utc"][0]
    return [
        f"  inflexible jobs break: IT capacity {n} step{'s' if n > 1 else ''} (max "
        f"{b['it_capacity_breach_max_mw']:.1f} MW, first {first})"
    ]


def cmd_size(args: argparse.Namespace) -> int:
    # lazy, as in microgrid/cli.py: registering the command must not load the solver stack
    from microgrid.scenario import load_scenario
    from microgrid.sizing.run import size

    out = args.out or default_sizing_out(args.scenario)
    # before the solve, not after it; the scenario's data files are inputs too
    check_target(out, "sizing", inputs=scenario_inputs(load_scenario(args.scenario)))
    result = size(args.scenario)
    out = result.write(out)
    with written_to(out):
        for line in table_lines(result.summary()):
            print(line)
        print(f"results in {out}")
    return 0


def add_size_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "size",
        help="size PV, wind, storage, generators and the grid connection with the dispatch",
        description="Co-optimise the sizes in the scenario's sizing section with the "
        "dispatch and the training jobs, verify them with the exact dispatch, and write "
        "sizing.json and sizes.csv (docs/sizing.md).",
    )
    p.add_argument("scenario", type=Path, help="the scenario YAML file with a sizing section")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result folder (default: out/<scenario file name without .yaml>-sizing); an "
        "existing one is replaced only if it is a sizing folder microgrid wrote",
    )
    p.set_defaults(func=cmd_size)
