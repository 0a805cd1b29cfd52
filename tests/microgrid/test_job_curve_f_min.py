"""A job whose f_min lies between two points of its throughput curve does the work the
curve gives there. The curve was cut to its points at or above f_min, so the segment
through f_min was lost and the next, flatter one, extended back to f_min, overstated the
work: 10 steps at f 0.6 did 7.40 h of an 8 h job and were reported as 8.4 h, on time."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scenario_factory import TINY

import microgrid
from microgrid.scenario import Scenario
from optimize.throughput import throughput

CURVE = [[0.5, 0.65], [0.8, 0.92], [1.0, 1.0]]


def true_work_h(f: np.ndarray) -> float:
    """The documented curve: linear between its points."""
    return float(np.sum(np.where(f > 0, np.interp(f, *zip(*CURVE, strict=True)), 0.0)))


def test_work_between_curve_points_is_the_curves():
    data = copy.deepcopy(TINY)
    job = data["jobs"]["items"][0]
    job.update(work_h=8, preemptible=False, f_min=0.6, throughput_curve=CURVE)
    result = microgrid.run(Scenario.model_validate(data), powerflow=False, baselines=False)
    f = result.timeseries["job_train_mw"].to_numpy() / 10.0  # 10,000 GPUs at 1 kW
    assert f.max() > 0 and np.all((f < 1e-9) | (f >= 0.6 - 1e-9))
    assert true_work_h(f) >= 8.0 - 1e-6
    assert throughput(CURVE, 0.6) == pytest.approx(0.74)
