"""Training power swings: hand-checkable square waves and battery smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from microgrid.swings import job_power_shape, max_mw_per_min, smooth_with_battery


def test_square_wave_gives_its_depth_per_minute():
    # 40 MW of training dipping 30 % for 6 s of every 20 s: steps of 12 MW
    shape = job_power_shape(3600, 1.0, 20.0, 0.7, 0.3, 1800.0, 0.0, 0.8)
    assert shape.max() == 1.0 and shape.min() == pytest.approx(0.7)
    assert shape.mean() == pytest.approx(0.7 * 1.0 + 0.3 * 0.7)
    p = 40.0 * shape
    assert max_mw_per_min(p, 1.0) == pytest.approx(12.0)
    # a slow wave (period 10 min) still changes by its full depth within one minute
    slow = 40.0 * job_power_shape(3600, 1.0, 600.0, 0.5, 0.25, 1800.0, 0.0, 0.0)
    assert max_mw_per_min(slow, 1.0) == pytest.approx(10.0)
    # a linear ramp of 2 MW per minute reads as 2 MW/min
    ramp = np.arange(0, 600) * (2.0 / 60.0)
    assert max_mw_per_min(ramp, 1.0) == pytest.approx(2.0)


def test_checkpoint_dip_dominates():
    # checkpoints: 80 % dip of 50 MW for 60 s every 30 min -> 40 MW step
    shape = job_power_shape(3600, 1.0, 20.0, 0.7, 0.1, 1800.0, 60.0, 0.8)
    assert max_mw_per_min(50.0 * shape, 1.0) == pytest.approx(40.0)


def test_battery_smoothing_brings_the_ramp_under_the_limit():
    shape = job_power_shape(3600, 1.0, 20.0, 0.7, 0.3, 1800.0, 60.0, 0.5)
    load = 30.0 + 60.0 * shape  # inference + training, MW
    before = max_mw_per_min(load, 1.0)
    assert before == pytest.approx(30.0)  # the checkpoint dip: 50 % of 60 MW
    extra = smooth_with_battery(load, 1.0, 300.0, 50.0, 50.0, 80.0, 80.0)
    # what is left is the moving average's own slope: the mean load falls from
    # 30 + 60 * (0.7 + 0.3 * 0.7) = 84.6 MW to 60 MW at a checkpoint, 24.6 MW over 300 s
    after = max_mw_per_min(load - extra, 1.0)
    assert after == pytest.approx(24.6 * 60 / 300, abs=0.05)
    assert after < 10.0 < before
    assert np.abs(extra).max() <= 50.0
    # a battery too small for the swing cannot meet the limit
    weak = smooth_with_battery(load, 1.0, 300.0, 2.0, 2.0, 80.0, 80.0)
    assert max_mw_per_min(load - weak, 1.0) > 10.0
    # an empty battery discharges only what it has charged before: SOC stays >= its minimum
    empty = smooth_with_battery(load, 1.0, 300.0, 50.0, 50.0, 0.0, 80.0)
    assert np.cumsum(empty).max() / 3600.0 <= 1e-9


@pytest.mark.parametrize("step_s", [900.0, 1800.0, 3600.0])
def test_every_step_length_profiles_a_checkpoint(step_s):
    """A 900 s step never reached the checkpoint at 1,740 s of its 1,800 s interval: at
    15-minute steps the dip that sets the ramp was never modelled."""
    shape = job_power_shape(step_s, 1.0, 20.0, 0.7, 0.1, 1800.0, 60.0, 0.8)
    assert np.count_nonzero(np.isclose(shape, 0.2)) == 60 * (2 if step_s == 3600 else 1)


def test_hourly_checkpoints_are_where_they_were():
    t = np.arange(0.0, 3600.0)
    old = np.where(np.mod(t, 1800.0) >= 1740.0, 1.0 - 0.8, 1.0)
    assert (job_power_shape(3600, 1.0, 20.0, 1.0, 0.0, 1800.0, 60.0, 0.8) == old).all()
