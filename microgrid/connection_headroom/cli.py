"""`microgrid headroom SCENARIO --out DIR [--curtail-pct 0,0.25,0.5,1,2] [--measure energy]
[--backup none]`: the headroom curve, printed as a short table and written to DIR.

`add_headroom_parser(subparsers)` registers the sub-command; bad input raises `InputError`
(the main CLI prints one line and exits 2).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from microgrid.errors import InputError

MEASURES = ("energy", "hours")  # as optimize.headroom.MEASURES (not imported: --help stays light)
BACKUP_MODES = ("none", "outages", "always")  # as microgrid.connection_headroom.case


def parse_pcts(text: str) -> tuple[float, ...]:
    """``"0,0.25,1"`` -> (0.0, 0.25, 1.0); a bad number is one InputError line."""
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        msg = f"--curtail-pct: {text!r} is not a comma-separated list of numbers"
        raise InputError(msg) from None


def add_headroom_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "headroom",
        help="interconnection headroom: the largest campus the connection carries at X %% "
        "curtailment, and the connection the campus needs",
        description="For each curtailment limit X (share of training energy, or of hours), "
        "with and without the scenario's on-site assets: the largest campus (IT MW) the "
        "scenario's grid connection carries, and the connection its campus needs. "
        "See docs/headroom.md.",
    )
    p.add_argument("scenario", type=Path, help="scenario YAML")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: out/<scenario file name without .yaml>-headroom): new, "
        "empty or an earlier headroom result (replaced whole)",
    )
    p.add_argument(
        "--curtail-pct",
        default="0,0.25,0.5,1,2",
        help="curtailment limits in percent, comma-separated, each in [0, 100) "
        "(default: 0,0.25,0.5,1,2)",
    )
    p.add_argument(
        "--measure",
        choices=MEASURES,
        default="energy",
        help="energy: share of the training energy (an LP); hours: share of the steps with "
        "any curtailment (a MILP, one binary per step)",
    )
    p.add_argument(
        "--backup",
        choices=BACKUP_MODES,
        default="none",
        help="where backup generators may serve the campus: none (default), outages, always",
    )
    p.add_argument(
        "--time-limit-s",
        type=float,
        default=None,
        help="a limit on each hours MILP, in seconds (default: none; each stops at a proven "
        "0.1 %% or after 1,000 nodes); a limit that binds is reported with the proven bound",
    )
    p.set_defaults(func=cmd_headroom)
    return p


def cmd_headroom(args: argparse.Namespace) -> int:
    pcts = parse_pcts(args.curtail_pct)
    # imported here, not at the top: building the parser must not load Pyomo (--help)
    from microgrid.connection_headroom.curve import check_curtail_pct, headroom
    from microgrid.connection_headroom.files import write_headroom
    from microgrid.resultdir import check_target, scenario_inputs, written_to
    from microgrid.scenario import load_scenario

    check_curtail_pct(pcts)
    out = args.out or Path("out") / f"{args.scenario.stem}-headroom"
    scenario = load_scenario(args.scenario)
    inputs = scenario_inputs(scenario)  # the scenario and its data files
    check_target(out, "headroom", inputs=inputs)  # before the solves
    result = headroom(scenario, pcts, args.measure, args.backup, args.time_limit_s)
    out = write_headroom(result, out, inputs=inputs)
    with written_to(out):
        print(table_text(result))
        print(f"headroom: {out}")
    return 0


def table_text(result) -> str:
    """The curve as a short table (MW; '-' where no connection serves the campus), headed
    by the period it covers in the site's zone: X and the curtailed MWh are of that
    period alone (a week's answer is not a year's)."""
    unit = "training energy" if result.measure == "energy" else "hours"
    lines = [
        f"{result.scenario_name}: {_period_text(result.period, result.n_steps * result.step_h)}",
        f"X: curtailment limit in % of the {unit} over that period",
        f"{'':16}{f'on the {result.connection_mw:g} MW connection':<32}"
        f"for the {result.campus_it_mw:g} MW IT campus",
        f"{'X %':>6} {'on-site':>8} {'max campus IT MW':>17} {'curtailed MWh':>14} "
        f"{'connection needed MW':>21}",
    ]
    for r in result.rows:
        need = r.connection_needed
        conn = f"{need.connection_mw:21.1f}" if need.feasible else f"{'-':>21}"
        lines.append(
            f"{r.curtail_pct:>6g} {'yes' if r.onsite else 'no':>8} "
            f"{r.max_campus.campus_it_mw:17.1f} {r.max_campus.curtailed_mwh:14.1f} {conn}"
        )
    return "\n".join(lines)


def _period_text(period: dict, hours: float) -> str:
    """'2023-07-31 00:00 to 2023-08-07 00:00 America/New_York (168 h)': the period
    record's UTC bounds in the site's zone, the end exclusive."""
    zone = ZoneInfo(str(period["timezone"]))
    start, end = (
        datetime.fromisoformat(str(period[k])).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        for k in ("start_utc", "end_utc")
    )
    return f"{start} to {end} {zone.key} ({hours:g} h)"
