"""``SolverOptions.threads``: HiGHS's parallel search gives one answer per thread count, and
solves with other counts (or another library's HiGHS) can follow each other in a process."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

import optimize
from optimize.highs import compile_model, make_highs, new_highs
from optimize.model import build_model
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import random_day


@pytest.fixture(autouse=True)
def _pool_of_one_after():
    """Leave HiGHS's process-wide pool at one thread, as the other tests expect it."""
    yield
    new_highs(threads=1)


def _run(cm, threads: int, simulate: bool = False):
    h = make_highs(cm, SolverOptions(threads=threads, mip_rel_gap=0.0))
    if simulate:  # HiGHS's workers of the same search, taking turns on one core
        h.setOptionValue("mip_search_simulate_concurrency", True)
    h.run()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    return info.mip_node_count, info.objective_function_value, info.mip_dual_bound, x


@pytest.mark.parametrize("seed", [1, 4])
def test_the_parallel_search_gives_the_answer_of_its_workers_on_one_core(seed):
    cm = compile_model(build_model(random_day(seed)))
    serial = _run(cm, 1)
    parallel = _run(cm, 2)
    simulated = _run(cm, 2, simulate=True)
    # the search with two threads is another search than with one (several workers) ...
    assert parallel[0] != serial[0]
    # ... and the same, bit for bit, when its workers take turns on one core
    assert parallel[:3] == simulated[:3]
    assert np.array_equal(parallel[3], simulated[3])
    assert parallel[1] == pytest.approx(serial[1], rel=1e-9)


def test_solves_with_other_thread_counts_follow_each_other_in_one_process():
    p = random_day(0)
    objectives = []
    for threads in (1, 2, 1):
        objectives.append(optimize.solve(p, SolverOptions(threads=threads)).objective_usd)
        # another library's HiGHS makes the pool its own size in between
        highspy.Highs.resetGlobalScheduler(True)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 3)
        h.addVars(1, np.zeros(1), np.ones(1))
        assert h.run() == highspy.HighsStatus.kOk
    assert objectives == pytest.approx([objectives[0]] * 3, rel=1e-6)


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_a_thread_count_that_is_not_a_positive_integer_is_refused(threads):
    with pytest.raises(ValueError, match="threads"):
        SolverOptions(threads=threads)
