"""Random job MILPs the solver was never tuned on, solved beside plain HiGHS: are the bounds
valid, are the answers within their gap, and how do the times compare?

B5 and B2 are the weeks and the year the solve was tuned on over many sessions. This
benchmark draws cases from a wider family (`random_case`), solves each by the product's
default method (`SolverOptions()` with `--gap` and `--threads`) and by plain HiGHS
(PLAIN_NOTE; within `--plain-limit-s`) to the same gap, and checks both against a
reference: plain HiGHS run to a relative gap of 1e-7 within `--reference-limit-s`. Ours
runs with no time limit, as the product's default does (its stops are counts and gaps).

Checks (a failed one is printed as VIOLATION and the script exits with code 1):
- the reported bound is at most the reference's objective (a lower bound of the optimum
  must not pass a schedule that exists);
- the objective is at least the reference's bound (no schedule is cheaper than a proven
  bound);
- where the reference is proven optimal, a solve reported "optimal" lies within its gap
  of that optimum (`(objective - optimum) <= gap * gap_basis_usd`);
- the reported gap is `(objective - bound) / gap_basis_usd`.

Cases (`random_case(seed)`): 48, 72 or 96 hourly steps of a daily price wave (cheap at
night) with PV peaking at 8 MW, 5 MW of inference at PUE 1.2, an 80 MW import and 5 MW
export limit, a 5 MW / 20 MWh battery in 70 % of cases, a net ramp limit of 8, 14 or
40 MW/h in half, and one demand charge over the whole horizon of 0, 300, 1,500 or
6,000 USD/MW (the last is a full month's charge on a few days: the peak decides the bill).
Four to six jobs of 3, 5, 8 or 12 MW (IT), released in the first third, due 12 steps or
more later, needing 25-60 % of their window at full power; 60 % preemptible (at most 0-3
restarts in 80 % of those, 0, 0.5 or 1.5 h of restart overhead), the rest one contiguous
block; f_min 0.6, 0.7 or 0.8 on the reference throughput curve. Nothing is tuned to them.

Times are solve seconds (`optimize.solving.solve_model`), one case at a time. The machine
is shared: compare ratios, and quote the machine check printed at the end.

    python benchmarks/random_cases.py                     # seeds 0-15 at 1 %, one thread
    python benchmarks/random_cases.py --seeds 16:32 --gap 0.001 --threads 2 --csv out/r.csv
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine_check import check_line  # noqa: E402
from microgrid.atomic import atomic_write_text  # noqa: E402
from microgrid.cli import OneLineParser  # noqa: E402
from optimize.errors import SolveError  # noqa: E402
from optimize.problem import (  # noqa: E402
    Battery,
    Facility,
    Grid,
    Job,
    Objective,
    PeakCharge,
    Problem,
    Renewable,
)
from optimize.solver_options import SolverOptions  # noqa: E402
from optimize.solving import solve_model  # noqa: E402

# the reference throughput curve (power fraction, throughput fraction)
CURVE = ((0.6, 0.78), (0.7, 0.87), (0.8, 0.94), (0.9, 0.98), (1.0, 1.0))
REFERENCE_GAP = 1e-7
PLAIN_NOTE = "method milp, no price-fix start, no node limit, HiGHS's root restart on"
# objectives and bounds compared to this share of the objective (solver round-off)
TOLERANCE = 1e-6
FIELDS = (
    "seed",
    "n_steps",
    "jobs",
    "demand_usd_per_mw",
    "ramp_mw_per_h",
    "battery",
    "run",
    "status",
    "objective_usd",
    "bound_usd",
    "mip_gap",
    "gap_basis_usd",
    "solve_s",
    "violations",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = OneLineParser(prog="random_cases.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0:16", help="a range A:B of case seeds (default 0:16)")
    ap.add_argument("--gap", type=float, default=0.01, help="relative gap of both solves")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads of both solves")
    ap.add_argument(
        "--reference-limit-s", type=float, default=120.0, help="the reference's time limit"
    )
    ap.add_argument(
        "--plain-limit-s", type=float, default=300.0, help="plain HiGHS's time limit at --gap"
    )
    ap.add_argument("--csv", type=Path, default=None, help="one row per case and run")
    args = ap.parse_args(argv)
    try:
        first, last = (int(x) for x in args.seeds.split(":"))
    except ValueError:
        ap.error(f"--seeds: expected A:B, got {args.seeds!r}")
    if not 0 <= first < last:
        ap.error(f"--seeds: need 0 <= A < B, got {args.seeds!r}")
    if not 0 < args.gap < 1:
        ap.error(f"--gap: need a value in (0, 1), got {args.gap}")
    args.seed_range = range(first, last)
    return args


def _random_job(rng: np.random.Generator, k: int, n: int) -> Job:
    release = int(rng.integers(0, n // 3))
    deadline = int(rng.integers(release + 12, n + 1))
    preemptible = bool(rng.random() < 0.6)
    restarts = None
    if preemptible and rng.random() < 0.8:
        restarts = int(rng.choice([0, 1, 2, 3]))
    return Job(
        f"j{k}",
        float(rng.choice([3.0, 5.0, 8.0, 12.0])),
        float(np.round(rng.uniform(0.25, 0.6) * (deadline - release), 1)),
        release,
        deadline,
        preemptible=preemptible,
        max_interruptions=restarts,
        restart_overhead_h=float(rng.choice([0.0, 0.5, 1.5])) if preemptible else 0.0,
        f_min=float(rng.choice([0.6, 0.7, 0.8])),
        throughput_curve=CURVE,
    )


def small_battery() -> Battery:
    """A 5 MW / 20 MWh battery, 95 % each way, 10-90 % state of charge, starting and ending
    at 50 %, 1 USD/MWh of wear (the optimize tests' small problems use it too)."""
    return Battery(
        power_mw=5.0,
        energy_mwh=20.0,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        soc_min_frac=0.1,
        soc_max_frac=0.9,
        soc_initial_frac=0.5,
        soc_final_frac=0.5,
        wear_usd_per_mwh=1.0,
    )


def random_case(seed: int) -> Problem:
    """The case of ``seed`` (module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([48, 72, 96]))
    jobs = tuple(_random_job(rng, k, n) for k in range(int(rng.integers(4, 7))))
    demand_usd_per_mw = float(rng.choice([0.0, 300.0, 1500.0, 6000.0]))
    ramp = float(rng.choice([8.0, 14.0, 40.0])) if rng.random() < 0.5 else None
    battery = small_battery() if rng.random() < 0.7 else None
    charges = ()
    if demand_usd_per_mw > 0:
        whole = np.ones(n, dtype=bool)
        charges = (PeakCharge("demand_flat", "demand_flat", demand_usd_per_mw, whole),)
    return wave_problem(n, jobs, import_max_mw=80.0, charges=charges, ramp=ramp, battery=battery)


def wave_problem(
    n: int,
    jobs: tuple[Job, ...],
    *,
    import_max_mw: float,
    charges: tuple[PeakCharge, ...] = (),
    ramp: float | None = None,
    battery: Battery | None = None,
    objective: Objective | None = None,
) -> Problem:
    """``n`` hourly steps of a daily price wave (cheap at night: 40 ± 30 USD/MWh for
    export, 5 USD/MWh more for import) with PV peaking at 8 MW, 5 MW of inference at PUE
    1.2, 400 g/kWh, ``import_max_mw`` of import and 5 MW of export; ``ramp`` in MW/h, the
    demand ``charges``, ``battery`` and ``objective`` as given (the optimize tests' small
    problems are built on it too)."""
    t = np.arange(n)
    wave = np.sin(2 * np.pi * (t - 6) / 24)
    price = 40 + 30 * wave
    grid = Grid(
        import_max_mw=np.full(n, import_max_mw),
        export_max_mw=np.full(n, 5.0),
        import_price_usd_per_mwh=price + 5,
        export_price_usd_per_mwh=price,
        carbon_g_per_kwh=np.full(n, 400.0),
        ramp_mw_per_h=ramp,
        peak_charges=charges,
    )
    return Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=Facility(inference_it_mw=np.full(n, 5.0), pue=np.full(n, 1.2)),
        renewables=(Renewable("pv", np.clip(8 * wave, 0, None)),),
        battery=battery,
        jobs=tuple(jobs),
        objective=objective if objective is not None else Objective(),
    )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One solve of a case: ``objective_usd`` is None where it ended without a schedule
    (``status`` then says why: "infeasible", or the stop that came first)."""

    status: str
    objective_usd: float | None
    bound_usd: float | None
    mip_gap: float | None
    gap_basis_usd: float | None
    solve_s: float


def run(problem: Problem, options: SolverOptions) -> Outcome:
    """``problem`` solved with ``options`` (``optimize.solving.solve_model``)."""
    t0 = time.perf_counter()
    try:
        _, res, _, solve_s = solve_model(problem, options)
    except SolveError as e:  # stopped without a schedule (a time limit)
        return Outcome(e.status or "error", None, None, None, None, time.perf_counter() - t0)
    if not res.has_solution:
        return Outcome(res.status, None, None, None, None, solve_s)
    return Outcome(res.status, res.objective, res.bound, res.mip_gap, res.gap_basis, solve_s)


def violations(out: Outcome, ref: Outcome, gap: float) -> list[str]:
    """The checks of the module docstring that ``out`` fails against the reference."""
    if out.objective_usd is None or ref.objective_usd is None:
        return _feasibility_violations(out, ref)
    tol = TOLERANCE * max(1.0, abs(ref.objective_usd))
    bad = []
    if out.bound_usd is not None and out.bound_usd > ref.objective_usd + tol:
        bad.append(f"bound {out.bound_usd:,.2f} above a schedule of {ref.objective_usd:,.2f}")
    if ref.bound_usd is not None and out.objective_usd < ref.bound_usd - tol:
        bad.append(f"objective {out.objective_usd:,.2f} below the bound {ref.bound_usd:,.2f}")
    if ref.status == "optimal" and out.status == "optimal" and not _within_gap(out, ref, gap):
        bad.append(f"'optimal' but {out.objective_usd - ref.objective_usd:,.2f} above it")
    if None not in (out.bound_usd, out.mip_gap, out.gap_basis_usd):
        stated = (out.objective_usd - out.bound_usd) / out.gap_basis_usd
        if abs(stated - out.mip_gap) > 1e-9:
            bad.append(f"gap {out.mip_gap:.6g} is not (objective - bound) / basis {stated:.6g}")
    return bad


def _feasibility_violations(out: Outcome, ref: Outcome) -> list[str]:
    """Where either solve has no schedule: one proven infeasible while the other has one."""
    if out.status == "infeasible" and ref.objective_usd is not None:
        return ["'infeasible' where the reference has a schedule"]
    if ref.status == "infeasible" and out.objective_usd is not None:
        return ["a schedule where the reference proves none exists"]
    return []


def _within_gap(out: Outcome, optimum: Outcome, gap: float) -> bool:
    """``out`` lies within ``gap`` of its basis above the proven ``optimum``."""
    tol = TOLERANCE * max(1.0, abs(optimum.objective_usd))
    basis = out.gap_basis_usd if out.gap_basis_usd is not None else abs(out.objective_usd)
    return out.objective_usd - optimum.objective_usd <= gap * basis + tol


def _options(args: argparse.Namespace) -> dict[str, SolverOptions]:
    """The runs of every case: ours, plain HiGHS at the same gap, and the reference."""
    plain = {"price_fix_start": False, "node_limit": None, "root_restart": True}
    return {
        "ours": SolverOptions(mip_rel_gap=args.gap, threads=args.threads),
        "plain": SolverOptions(
            mip_rel_gap=args.gap, threads=args.threads, time_limit_s=args.plain_limit_s, **plain
        ),
        "reference": SolverOptions(
            mip_rel_gap=REFERENCE_GAP, time_limit_s=args.reference_limit_s, **plain
        ),
    }


def _row(seed: int, problem: Problem, name: str, out: Outcome, bad: list[str]) -> dict:
    charges = problem.grid.peak_charges
    return {
        "seed": seed,
        "n_steps": problem.n_steps,
        "jobs": len(problem.jobs),
        "demand_usd_per_mw": charges[0].usd_per_mw if charges else 0.0,
        "ramp_mw_per_h": problem.grid.ramp_mw_per_h,
        "battery": problem.battery is not None,
        "run": name,
        **{f: getattr(out, f) for f in ("status", "objective_usd", "bound_usd", "mip_gap")},
        "gap_basis_usd": out.gap_basis_usd,
        "solve_s": round(out.solve_s, 3),
        "violations": "; ".join(bad),
    }


def _line(seed: int, problem: Problem, outs: dict[str, Outcome], bad: dict) -> str:
    ref = outs["reference"]
    parts = [f"seed {seed:3d}: {problem.n_steps} h, {len(problem.jobs)} jobs"]
    for name in ("ours", "plain"):
        o = outs[name]
        usd = ""
        if o.objective_usd is not None and ref.objective_usd is not None:
            usd = f" {o.objective_usd - ref.objective_usd:+,.0f} USD"
        parts.append(f"{name} {o.status} {o.solve_s:6.1f} s{usd}")
    parts.append(f"ratio {outs['ours'].solve_s / max(outs['plain'].solve_s, 1e-9):5.2f}")
    usd = "" if ref.objective_usd is None else f" {ref.objective_usd:,.0f} USD"
    parts.append(f"reference {ref.status}{usd} ({ref.solve_s:.1f} s)")
    flagged = [f"{name}: {b}" for name, items in bad.items() for b in items]
    return " | ".join(parts) + ("  VIOLATION " + "; ".join(flagged) if flagged else "")


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS)
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _summary(ratios: list[float], within: list[bool], n_bad: int, gap: float) -> None:
    print(f"cases: {len(ratios)}; violations: {n_bad} (goal 0)")
    if ratios:
        geo = float(np.exp(np.mean(np.log(ratios))))
        faster = sum(r < 1 for r in ratios)
        print(
            f"solve time, ours / plain HiGHS at {gap:g}: median {statistics.median(ratios):.2f}, "
            f"geometric mean {geo:.2f}, range {min(ratios):.2f}-{max(ratios):.2f}; "
            f"ours faster on {faster} of {len(ratios)}"
        )
        proven = f"{sum(within)} of {len(within)}"
        print(f"ours 'optimal' within {gap:g} of a proven reference optimum: {proven}")
    print(f"plain HiGHS: {PLAIN_NOTE}; reference: the same to a gap of {REFERENCE_GAP:g}")
    print(check_line())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = _options(args)
    rows, ratios, within, n_bad = [], [], [], 0
    for seed in args.seed_range:
        problem = random_case(seed)
        outs = {name: run(problem, o) for name, o in options.items()}
        ref = outs["reference"]
        bad = {name: violations(outs[name], ref, args.gap) for name in ("ours", "plain")}
        n_bad += sum(len(b) for b in bad.values())
        ratios.append(outs["ours"].solve_s / max(outs["plain"].solve_s, 1e-9))
        if ref.status == "optimal" and outs["ours"].status == "optimal":  # both have values
            within.append(_within_gap(outs["ours"], ref, args.gap))
        print(_line(seed, problem, outs, bad), flush=True)
        rows += [_row(seed, problem, n, o, bad.get(n, [])) for n, o in outs.items()]
        if args.csv is not None:
            _write_csv(args.csv, rows)
    _summary(ratios, within, n_bad, args.gap)
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
