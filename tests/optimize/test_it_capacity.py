"""The campus's IT capacity holds the inference and the jobs together at every step
(`optimize/facility.py`); without it two jobs ran side by side past the campus's GPUs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize
from optimize.facility import it_capacity_steps
from optimize.problem import Facility, Job
from tests.optimize.small_problems import grid_problem

OPTIONS = optimize.SolverOptions(mip_rel_gap=0.0)
# cheap in steps 0-3, dear after: both jobs want the first four steps
PRICE = np.array([10.0] * 4 + [100.0] * 8)
JOBS = (
    Job("a", full_power_it_mw=6.0, work_h=4.0, release_step=0, deadline_step=12),
    Job("b", full_power_it_mw=6.0, work_h=4.0, release_step=0, deadline_step=12),
)


def _problem(cap_mw: float | None) -> optimize.Problem:
    p = grid_problem([2.0] * 12, PRICE)
    facility = dataclasses.replace(p.facility, it_capacity_mw=cap_mw)
    return dataclasses.replace(p, facility=facility, jobs=JOBS)


def test_two_jobs_share_the_capacity():
    free = optimize.solve(_problem(None), OPTIONS)
    it_free = 2.0 + free.series["job_a_mw"] + free.series["job_b_mw"]
    assert it_free.max() == pytest.approx(14.0)  # both at full power in the cheap steps
    held = optimize.solve(_problem(10.0), OPTIONS)
    it_held = 2.0 + held.series["job_a_mw"] + held.series["job_b_mw"]
    assert it_held.max() <= 10.0 + 1e-6
    assert held.objective_usd > free.objective_usd
    for j in ("a", "b"):
        assert held.series[f"job_{j}_mw"].sum() == pytest.approx(24.0)  # 4 h at 6 MW


def test_rows_only_where_the_capacity_could_bind():
    facility = Facility(np.full(12, 2.0), np.ones(12), it_capacity_mw=10.0)
    late = (dataclasses.replace(JOBS[0], release_step=6), JOBS[1])
    assert it_capacity_steps(facility, late, 12) == list(range(6, 12))
    assert it_capacity_steps(dataclasses.replace(facility, it_capacity_mw=14.0), JOBS, 12) == []


def test_no_room_for_the_work_is_diagnosed():
    # 2 MW of room beside 2 MW of inference: 24 of the jobs' 48 MWh fit in 12 h. The
    # diagnosis may leave work undone or break the capacity (it sums hours and MW alike)
    with pytest.raises(optimize.Infeasible) as caught:
        optimize.solve(_problem(4.0), OPTIONS)
    assert {s.kind for s in caught.value.diagnosis} <= {"it_capacity", "job_unfinished"}
    elastic = optimize.model.build_model(_problem(4.0), elastic=True)
    assert "it_capacity" in {e.kind for e in elastic.elastic_slacks}


def test_inference_above_the_capacity_is_refused():
    with pytest.raises(ValueError, match="exceeds it_capacity_mw"):
        Facility(np.full(3, 12.0), np.ones(3), it_capacity_mw=10.0)


def test_rows_come_only_where_a_solution_needs_them():
    """optimize.solve adds the rows lazily: a plan that never reaches the capacity is
    solved on the model without a cap, and one that does gets rows at its steps."""
    m, res, _, _ = optimize.solving.solve_model(_problem(10.0), OPTIONS)
    rows = set(m.facility_it_capacity) if hasattr(m, "facility_it_capacity") else set()
    assert 0 < len(rows) < 12 and {0, 1, 2, 3} <= rows  # where the free plan ran both jobs
    assert not optimize.facility.it_capacity_breaches(m)
    loose, _, _, _ = optimize.solving.solve_model(_problem(13.9), OPTIONS)
    assert not hasattr(loose, "facility_it_capacity") or len(loose.facility_it_capacity) < 12
