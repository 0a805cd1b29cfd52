"""The checks of ``benchmarks/random_cases.py`` (bounds and gaps against a reference) and
its case generator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.random_cases import Outcome, parse_args, random_case, run, violations
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import small_problem

# a reference proven optimal at 1,000 USD, and an answer within 1 % of it
REFERENCE = Outcome("optimal", 1000.0, 999.9999, 1e-7, 1000.0, 1.0)
GOOD = Outcome("optimal", 1005.0, 995.0, 0.01, 1000.0, 0.5)


def test_a_consistent_answer_passes():
    assert violations(GOOD, REFERENCE, 0.01) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"bound_usd": 1000.5, "mip_gap": 0.0045}, "above a schedule"),
        ({"objective_usd": 999.0, "bound_usd": 990.0}, "below the bound"),
        ({"objective_usd": 1012.0, "bound_usd": 1002.0 - 0.0001}, "'optimal' but"),
        ({"mip_gap": 0.02}, "is not (objective - bound)"),
    ],
)
def test_each_check_flags_its_fault(change, words):
    out = dataclasses.replace(GOOD, **change)
    if "mip_gap" not in change:  # keep the stated gap consistent: only one fault
        out = dataclasses.replace(out, mip_gap=(out.objective_usd - out.bound_usd) / 1000.0)
    found = violations(out, REFERENCE, 0.01)
    assert any(words in v for v in found), found


def test_optimal_is_checked_only_against_a_proven_reference():
    limited = dataclasses.replace(REFERENCE, status="time_limit", bound_usd=900.0)
    far = Outcome("optimal", 1012.0, 995.0, 0.017, 1000.0, 0.5)
    assert violations(far, limited, 0.01) == []
    assert violations(far, REFERENCE, 0.01) != []


def test_cases_are_reproducible_and_feasible_in_size():
    a, b, other = random_case(3), random_case(3), random_case(4)
    assert a.jobs == b.jobs and np.array_equal(a.grid.ramp_mw_per_h, b.grid.ramp_mw_per_h)
    assert np.array_equal(a.grid.import_price_usd_per_mwh, b.grid.import_price_usd_per_mwh)
    assert a.jobs != other.jobs
    for seed in range(40):
        for job in random_case(seed).jobs:
            window = job.deadline_step - job.release_step
            assert window >= 12 and job.work_h <= 0.6 * window + 0.05


def test_bad_seeds_exit_with_code_2(capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(["--seeds", "5"])
    assert e.value.code == 2
    assert "--seeds" in capsys.readouterr().err


def test_a_case_without_a_schedule_is_compared_by_feasibility():
    # 10 h of work in a 3-step window: no schedule exists
    impossible = small_problem(n=6, jobs=(Job("big", 4.0, 10.0, 0, 3),))
    out = run(impossible, SolverOptions())
    assert out.status == "infeasible" and out.objective_usd is None
    assert violations(out, out, 0.01) == []
    found = violations(out, REFERENCE, 0.01)
    assert found and "'infeasible' where" in found[0]
    assert "reference proves none" in violations(REFERENCE, out, 0.01)[0]
