"""A fixed workload timed beside a benchmark, so that figures from days when the shared
machine runs at another speed can be compared.

The workload is R1's week (scenarios/ercot-dallas.yaml) as the job MILP's LP relaxation:
every integer column relaxed, solved from scratch by HiGHS's dual simplex on one thread,
as price-fix's first LP is. Its median time over REPEATS solves is the check, printed at
the end of B5 (`all_weeks.py`) and B2 (`year_milp_rolling.py`) beside the reference:
0.121-0.137 s in five runs on the evening of 2026-12-01, when the code of 95f7cbe ran B2
with 2 threads in 40.9-42.3 s, against 29.3-31.6 s on the two days before
(docs/model_jobs.md). It was first measured that evening, so how closely it follows the
benchmarks' times from day to day is still to be seen: a check well above the reference
says the machine is slow that day, and figures against a goal are to be read with it.

    python benchmarks/machine_check.py          # prints the check
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from microgrid.assemble import build_problem, load_inputs  # noqa: E402
from microgrid.scenario import load_scenario  # noqa: E402
from optimize.highs import compile_model, make_highs, set_integrality  # noqa: E402
from optimize.model import build_model  # noqa: E402
from optimize.solver_options import SolverOptions  # noqa: E402

R1 = ROOT / "scenarios" / "ercot-dallas.yaml"
REPEATS = 15
# the check on the 2-core development machine, 2026-12-01 evening: the median of five runs
REFERENCE_S = 0.134
REFERENCE_NOTE = "2026-12-01 evening (B2 with 2 threads: 40.9-42.3 s)"


def r1_relaxation():
    """R1's week compiled, in a one-thread ``Highs`` with every integer column relaxed."""
    scenario = load_scenario(R1)
    cm = compile_model(build_model(build_problem(scenario, load_inputs(scenario))))
    h = make_highs(cm, SolverOptions(threads=1))
    set_integrality(h, cm.integer_columns(), False)
    return h


def machine_check(repeats: int = REPEATS) -> tuple[float, float]:
    """The median seconds of ``repeats`` cold solves of R1's LP relaxation, and its
    objective (USD; the same on every machine)."""
    h = r1_relaxation()
    seconds = []
    for _ in range(repeats):
        h.clearSolver()  # no basis kept: each solve starts from scratch
        t0 = time.perf_counter()
        h.run()
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), float(h.getInfo().objective_function_value)


def check_line(repeats: int = REPEATS) -> str:
    """One line for a benchmark's report: the check beside its reference."""
    seconds, _ = machine_check(repeats)
    line = f"machine check (R1's week LP, cold, median of {repeats}): {seconds:.3f} s"
    return line + f"; {seconds / REFERENCE_S:.2f}x the {REFERENCE_S:.3f} s of {REFERENCE_NOTE}"


if __name__ == "__main__":
    print(check_line())
