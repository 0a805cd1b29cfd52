"""The `microgrid` command line: run, validate, export, sweep, sweep-report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from microgrid.errors import InputError
from weather import WeatherDataError

EXIT_INPUT = 2


def _print_summary(summary: dict, out: Path) -> None:
    s = summary
    print(f"scenario {s['scenario']['name']}: {s['solver']['status']}")
    print(f"  total cost      {s['total_cost_usd']:>16,.0f} USD")
    print(f"    energy        {s['energy_cost_usd']:>16,.0f} USD")
    print(f"    demand        {s['demand_cost_usd']:>16,.0f} USD")
    print(f"  emissions       {s['emissions_t']:>16,.1f} t")
    print(f"  renewable share {100 * s['renewable_share']:>15.1f} %")
    print(f"  peak import     {s['peak_import_mw']:>16.1f} MW")
    j = s["jobs"]
    if j["n_jobs"]:
        print(f"  job deadlines   {j['deadlines_met']:>10d} / {j['n_jobs']} met")
    if "ac_plan" in s:
        a = s["ac_plan"]
        print(
            f"  plan-ac         {a['iterations']} iterations, {a['violations_initial']} -> "
            f"{a['violations_left']} violations, cost of AC feasibility "
            f"{a['cost_of_ac_feasibility_usd']:,.0f} USD"
        )
    if "operate" in s:
        o = s["operate"]
        print(
            f"  operate         actual cost {o['actual_cost_usd']:,.0f} USD, unserved "
            f"{o['unserved_energy_mwh']:.2f} MWh, {o['n_solves']} re-plans"
        )
    if "powerflow" in s:
        pf = s["powerflow"]
        print(
            f"  power flow      vm {pf['min_vm_pu']:.4f}-{pf['max_vm_pu']:.4f} pu, "
            f"line loading <= {pf['max_line_loading_pct']:.1f} %, "
            f"{pf['violation_steps']} steps with violations"
        )
    for name, b in s.get("baselines", {}).items():
        print(
            f"  vs {name:<13}{b['cost_saving_pct']:>8.1f} % cost, "
            f"{b['emissions_saving_pct']:.1f} % carbon saved"
        )
    print(f"results in {out}")


def cmd_run(args: argparse.Namespace) -> int:
    import microgrid

    result = microgrid.run(args.scenario, powerflow=not args.no_powerflow, mode=args.mode)
    out = result.write(args.out)
    _print_summary(result.summary, out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from microgrid.assemble import build_problem, load_inputs
    from microgrid.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    inputs = load_inputs(scenario)
    build_problem(scenario, inputs)
    n = len(inputs.index)
    print(
        f"{args.scenario}: valid ({n} steps of {scenario.period.step_minutes} min, "
        f"{len(inputs.jobs)} jobs)"
    )
    return 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from microgrid.pareto import pareto_front, write_front
    from microgrid.scenario import load_scenario

    if args.points < 2:
        raise InputError("--points must be at least 2 (the two ends of the front)")
    scenario = load_scenario(args.scenario)

    def show(row: dict) -> None:
        budget = "-" if row["budget_t"] is None else f"{row['budget_t']:.1f}"
        print(
            f"  {row['point']:<14} budget {budget:>10} t  cost {row['cost_usd']:>14,.0f} USD  "
            f"emissions {row['emissions_t']:>10,.1f} t  {row['status']}",
            flush=True,
        )

    print(f"scenario {scenario.name}: cost-carbon front, {args.points} points")
    front = pareto_front(scenario, args.points, progress=show)
    out = write_front(front, args.out, title=f"{scenario.name}: cost-carbon front")
    print(f"results in {out / 'pareto.csv'} and {out / 'pareto.png'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="microgrid",
        description="Grid co-simulation and microgrid optimizer for AI data centers.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="solve a scenario and write its result directory")
    p.add_argument("scenario", type=Path)
    p.add_argument("--out", type=Path, default=Path("out"), help="result directory")
    p.add_argument("--no-powerflow", action="store_true", help="skip the AC power flow check")
    p.add_argument(
        "--mode",
        choices=("plan", "plan-ac", "operate"),
        default="plan",
        help="plan (default), plan-ac (iterate to an AC-feasible plan) or operate "
        "(closed-loop co-simulation under forecast error and events)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check a scenario and its data without solving")
    p.add_argument("scenario", type=Path)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("pareto", help="cost-carbon Pareto front (epsilon-constraint solves)")
    p.add_argument("scenario", type=Path)
    p.add_argument("--points", type=int, default=5, help="points on the front (>= 2)")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for pareto.csv/.png")
    p.set_defaults(func=cmd_pareto)

    for register in _plugin_parsers():
        register(sub)
    return parser


def _plugin_parsers() -> list[Callable]:
    """Sub-commands that live beside their feature (export, sweep)."""
    from microgrid.export.cli import add_export_parser
    from microgrid.sweeps.cli import add_sweep_parsers

    return [add_export_parser, add_sweep_parsers]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, WeatherDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
