"""The `microgrid` command line: run, validate, export, sweep, sweep-report."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from microgrid import __version__
from microgrid.cli_summary import print_summary
from microgrid.errors import InputError, InputErrors
from microgrid.resultdir import check_target, interrupted_line, scenario_inputs, written_to
from weather.errors import WeatherDataError

EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_LIMITS_NOT_MET = 3  # plan-ac finished and wrote its best plan, but limits are violated
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command Ctrl-C stopped
EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for `yes` in `yes | head -1`
MAX_PARETO_POINTS = 50  # each point is a full solve; 50 already traces a smooth front
SCENARIO_HELP = "the scenario YAML file (docs/scenario-reference.md)"


def default_out(scenario: Path, suffix: str = "") -> Path:
    """`out/<scenario file stem><suffix>`: two scenarios never share a result folder."""
    return Path("out") / f"{scenario.stem}{suffix}"


def cmd_run(args: argparse.Namespace) -> int:
    import microgrid
    from microgrid.scenario import load_scenario

    out = args.out or default_out(args.scenario)
    # before the solve, not after it; the scenario's data files are inputs too
    check_target(out, "run", inputs=scenario_inputs(load_scenario(args.scenario)))
    result = microgrid.run(
        args.scenario,
        powerflow=not args.no_powerflow,
        mode=args.mode,
        baselines=not args.no_baselines,
    )
    out = result.write(out)
    with written_to(out):
        print_summary(result.summary, out)
        print_warnings(result.summary.get("warnings") or [])
        _powerflow_warning(result.summary)
        return _ac_plan_exit(result.summary, out)


def print_warnings(warnings: Sequence[str]) -> None:
    """One stderr `warning:` line each (summary.json's `warnings`)."""
    for text in warnings:
        print(f"warning: {text}", file=sys.stderr)


def _powerflow_warning(summary: dict) -> None:
    """One `warning:` line when the AC check found no solution at some steps (plan-ac's
    own warning covers its mode)."""
    pf = summary.get("powerflow")
    if pf is None or not pf["diverged_steps"] or "ac_plan" in summary:
        return
    print(
        f"warning: the AC power flow found no solution at {pf['diverged_steps']} of "
        f"{pf['steps']} steps (the network cannot carry the plan there: check line lengths, "
        "transformer rating and loads, or run --mode plan-ac)",
        file=sys.stderr,
    )


def _ac_plan_exit(summary: dict, out: Path) -> int:
    """0, or EXIT_LIMITS_NOT_MET with a one-line warning when plan-ac did not converge."""
    a = summary.get("ac_plan")
    if a is None or a["converged"]:
        return 0
    print(
        f"warning: plan-ac did not reach AC feasibility ({a['stopped_because']}): "
        f"{a['violations_left']} violations at {a['violation_steps_left']} steps remain in the "
        f"best plan written to {out} (see ac_plan in summary.json)",
        file=sys.stderr,
    )
    return EXIT_LIMITS_NOT_MET


MAX_LISTED_ERRORS = 20  # `validate` lists this many, then a count of the rest


def _print_errors(errors: Sequence[InputError]) -> None:
    """One stderr line per error, capped at MAX_LISTED_ERRORS lines plus a count."""
    for err in errors[:MAX_LISTED_ERRORS]:
        print(f"error: {err}", file=sys.stderr)
    more = len(errors) - MAX_LISTED_ERRORS
    if more > 0:
        print(f"error: ... and {more} more errors", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from microgrid.assemble import build_problem, load_inputs
    from microgrid.dr_caps import fixed_demand_response_caps, unreachable_caps_error
    from microgrid.input_warnings import input_warnings
    from microgrid.scenario import load_scenario

    try:
        scenario = load_scenario(args.scenario)
        inputs = load_inputs(scenario)
        # the caps in MW: a fractional one needs the baseline's solve, run's alone
        problem = build_problem(scenario, inputs, fixed_demand_response_caps(scenario, inputs))
        # run refuses a cap no schedule meets; a sizing's assets are `size`'s to choose
        cap_error = None if scenario.sizing else unreachable_caps_error(scenario, inputs, problem)
        if cap_error is not None:
            raise InputErrors([cap_error])
        warnings = input_warnings(scenario, inputs)
        if any(ev.kind == "line_out" for ev in scenario.operate.events):
            # the network's line names: the power-flow stack, loaded for these alone
            from microgrid.operate import check_event_lines

            check_event_lines(scenario)
    except InputErrors as exc:
        _print_errors(exc.errors)
        return EXIT_INPUT
    steps, jobs = len(inputs.index), len(inputs.jobs)
    print(
        f"{args.scenario}: valid ({steps} step{'s' if steps != 1 else ''} of "
        f"{scenario.period.step_minutes} min, {jobs} job{'s' if jobs != 1 else ''})"
    )
    print_warnings(warnings)
    return 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from microgrid.pareto import (
        front_to_folder,
        no_trade_off_note,
        progress_line,
        table_lines,
        undone_notes,
    )
    from microgrid.scenario import load_scenario

    if not 2 <= args.points <= MAX_PARETO_POINTS:
        raise InputError(
            f"--points must be 2-{MAX_PARETO_POINTS} (the two ends of the front and the "
            f"points between; got {args.points})"
        )
    out = args.out or default_out(args.scenario, "-pareto")
    scenario = load_scenario(args.scenario)

    def show(row: dict, k: int, points: int) -> None:
        print(progress_line(row, k, points), file=sys.stderr, flush=True)

    def started() -> None:  # the data are checked: no input error is left to come
        print(f"scenario {scenario.name}: cost-carbon front, {args.points} points", flush=True)

    def note(text: str) -> None:
        print(f"note: {text}", file=sys.stderr, flush=True)

    front, out = front_to_folder(
        scenario,
        out,
        args.points,
        None if args.quiet else show,
        end_method=args.end_method,
        started=started,
        note=note,
    )
    with written_to(out):
        for line in table_lines(front):
            print(line)
        if (single := no_trade_off_note(front)) is not None:
            print(f"note: {single}")
        for undone in undone_notes(front):  # a point's cost and emissions without its work
            print(f"note: {undone}")
        print(f"results in {out / 'pareto.csv'} and {out / 'pareto.png'}")
    return 0


# a help text that already says its default ("(default: 5)", "none (default)", "by
# default"): it gets no second "(default: ...)"
STATES_DEFAULT = re.compile(r"%\(default\)|\(default\b|\bdefault:|\bby default\b", re.IGNORECASE)


def help_with_default(action: argparse.Action) -> str:
    """An option's help text, ending in "(default: VALUE)" when it has a value worth
    showing (not None: the text says what happens then; not a flag's False) and the text
    does not state its default already."""
    text = action.help or ""
    if action.default in (None, False, argparse.SUPPRESS) or STATES_DEFAULT.search(text):
        return text
    return f"{text} (default: %(default)s)"


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """argparse's help with each option's default shown (help_with_default)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return help_with_default(action)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one `error:` line and exit code 2, like every other bad input; help
    shows defaults (sub-commands are built by this class too, so theirs do)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_INPUT)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        sys.stdout.flush()  # --help's text: a closed pipe shows here (main), not at exit
        super().exit(status, message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="microgrid",
        description="Grid co-simulation and microgrid optimizer for AI data centers.",
    )
    parser.add_argument("--version", action="version", version=f"microgrid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in (_add_run_parser, _add_validate_parser, _add_pareto_parser):
        register(sub)
    for register in _plugin_parsers():
        register(sub)
    for command in sub.choices.values():
        _add_output_options(command)
    return parser


def _add_run_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="solve a scenario and write its result directory",
        description="Solve a scenario (--mode: one optimal plan, a plan iterated until the "
        "AC power flow keeps every limit, or the closed loop under forecast error and "
        "events), check the plan with the AC power flow, compare it with the baselines, and "
        "write the result folder: summary.json, the time series, jobs.csv, plots and "
        "report.html (docs/report.md).",
    )
    p.add_argument("scenario", type=Path, help=SCENARIO_HELP)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result folder (default: out/<scenario file name without .yaml>); an existing "
        "one is replaced only if microgrid wrote it",
    )
    p.add_argument(
        "--no-powerflow",
        action="store_true",
        help="skip the AC power flow check of every step (faster): no voltages "
        "or line loadings in the time series, no powerflow section in summary.json, no "
        "violations.csv and no voltage section in report.html (plan-ac still runs its own "
        "power flows to reach AC feasibility)",
    )
    p.add_argument(
        "--no-baselines",
        action="store_true",
        help="skip the baselines (asap, carbon-threshold and storage-optimal: one more "
        "solve each; faster on a year): no baselines or value_of in summary.json, no "
        "baselines/ folder, no comparison lines",
    )
    p.add_argument(
        "--mode",
        choices=("plan", "plan-ac", "operate"),
        default="plan",
        help="plan (one optimal plan), plan-ac (iterate to an AC-feasible plan) or operate "
        "(closed-loop co-simulation under forecast error and events)",
    )
    p.set_defaults(func=cmd_run)


def _add_validate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check a scenario and its data without solving",
        description="Check a scenario as `run` would before it solves: the schema and "
        "cross-field rules, the price, carbon, weather and job files, the PV and wind "
        "profiles (the weather chain runs) and the optimisation problem's inputs; every "
        "error is listed.",
    )
    p.add_argument("scenario", type=Path, help=SCENARIO_HELP)
    p.set_defaults(func=cmd_validate)


def _add_pareto_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pareto",
        help="cost-carbon Pareto front (epsilon-constraint solves)",
        description="Trace the scenario's cost-carbon trade-off: the minimum-cost plan, "
        "the minimum-emissions plan and --points minus 2 plans between them, each the "
        "cheapest within an emissions cap, written to pareto.csv and pareto.png. An "
        "interrupted run resumes from its journal and solves only the missing points. "
        "The front is solved over the whole period at once, so a scenario with rolling "
        "windows (solver.window_h) is refused; for a long horizon, run `microgrid sweep` "
        "over objective.carbon_price_usd_per_t.",
    )
    p.add_argument("scenario", type=Path, help=SCENARIO_HELP)
    p.add_argument(
        "--points",
        type=int,
        default=5,
        help=f"points on the front, its two ends included (2-{MAX_PARETO_POINTS})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for pareto.csv/.png (default: out/<scenario file name>-pareto); an "
        "existing one is replaced only if microgrid wrote it",
    )
    p.add_argument(
        "--end-method",
        choices=("price-fix", "milp"),
        default="price-fix",
        help="how the cost at the front's least-emissions end (its emissions held at the "
        "minimum) is minimised: price-fix, the price-guided job-fixing heuristic started "
        "from the least-emissions schedule (seconds; pareto.csv's status says 'heuristic' "
        "and mip_gap what is proven), or milp, branch and bound like the other points "
        "(minutes on R1's week, for a tighter proven gap)",
    )
    p.set_defaults(func=cmd_pareto)


def _add_output_options(command: argparse.ArgumentParser) -> None:
    """--verbose and --quiet, which every sub-command takes."""
    command.add_argument(
        "--verbose",
        action="store_true",
        help="print the HiGHS log of solves in this process, and an internal error's traceback",
    )
    command.add_argument(
        "--quiet",
        action="store_true",
        help="no progress lines on stderr (solve bound/incumbent/gap, operate re-plans, "
        "plan-ac iterations, Pareto points, sweep cases); errors and warnings still print",
    )


def _plugin_parsers() -> list[Callable]:
    """Sub-commands that live beside their feature (export, sweep)."""
    from microgrid.connection_headroom.cli import add_headroom_parser
    from microgrid.export.parser import add_export_parser
    from microgrid.report_html.cli import add_report_parser
    from microgrid.sizing.cli import add_size_parser
    from microgrid.sweeps.cli import add_sweep_parsers

    return [
        add_export_parser,
        add_sweep_parsers,
        add_report_parser,
        add_headroom_parser,
        add_size_parser,
    ]


# Commands that solve nothing: they run without the solver's log and progress hooks, so
# they do not wait a second for Pyomo and HiGHS to load (`validate` answers at once).
NO_SOLVE_COMMANDS = frozenset({"validate", "export", "report", "sweep-report"})


@contextlib.contextmanager
def _solver_output(args: argparse.Namespace) -> Iterator[None]:
    """The HiGHS log (--verbose) and the progress lines (unless --quiet) of the solves
    the command runs."""
    if args.command in NO_SOLVE_COMMANDS:
        yield
        return
    # imported here, not at the top: Pyomo and HiGHS take seconds to load, and `--help`,
    # `--version` and the commands that solve nothing answer without them
    import optimize

    with optimize.solver_log_to_console(args.verbose), optimize.solve_progress(not args.quiet):
        yield


def _is_solve_error(exc: Exception) -> bool:
    """A SolveError (checked without importing optimize: a command that raised one has it
    loaded, one that did not need not load Pyomo to find out)."""
    errors = sys.modules.get("optimize.errors")
    return errors is not None and isinstance(exc, errors.SolveError)


def main(argv: Sequence[str] | None = None) -> int:
    """`microgrid ARGV`; returns the exit code. `argv` None: the program itself, which then
    ignores Ctrl-C while Python shuts down (its exit code is decided and its result, if
    any, written; README, "Output folders are never someone else's")."""
    _escape_unencodable_output()
    try:
        code = _command(argv)
    except BrokenPipeError:
        code = _stdout_closed()
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


def _escape_unencodable_output() -> None:
    """stdout and stderr write a character their encoding lacks as a backslash escape: a
    non-ASCII scenario name, or a path Python holds surrogate-escaped, on an ASCII or
    cp1252 stream (`PYTHONIOENCODING=ascii`, `LC_ALL=C PYTHONUTF8=0`, a Windows console)
    ended a finished run as an internal error, exit 1."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:  # replaced by something other than a text stream
            continue
        with contextlib.suppress(ValueError, OSError):  # closed, or not reconfigurable
            reconfigure(errors="backslashreplace")


def _command(argv: Sequence[str] | None) -> int:
    """Parse and run one command; errors become one line and an exit code (a closed stdout
    propagates: BrokenPipeError)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # --help, --version and usage errors end here
    try:
        with _solver_output(args):
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's shutdown
        return code
    except (InputError, WeatherDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        print(interrupted_line(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as exc:
        if _is_solve_error(exc):  # paths without a scenario to name the field on
            print(f"error: the solver failed on these inputs: {exc}", file=sys.stderr)
            return EXIT_INPUT
        # A bug, not bad input: one line and exit 1 by default, the traceback with --verbose.
        if args.verbose:
            raise
        print(
            f"error: internal error ({_one_line(exc)}); please report it with the input "
            "that caused it (--verbose shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _stdout_closed() -> int:
    """Stdout's reader went away (`microgrid ... | head -1`): stop quietly, as standard
    tools do (EXIT_STDOUT_CLOSED); what is still buffered goes to /dev/null, so that
    Python's own flush at exit does not complain."""
    with contextlib.suppress(OSError, ValueError):  # no file descriptor (a test's capture)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_STDOUT_CLOSED


def _one_line(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 300 else text[:300] + "..."


if __name__ == "__main__":
    sys.exit(main())
