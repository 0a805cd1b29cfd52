"""The renewable share: the facility's energy that on-site PV and wind supplied in the
same step, never above 100 % (exported or stored renewable energy does not count)."""

from __future__ import annotations

import numpy as np
import pytest

from microgrid.results import renewable_share


def test_renewables_above_the_load_count_only_up_to_it():
    load = np.array([10.0, 10.0, 10.0, 10.0])
    used = np.array([0.0, 5.0, 10.0, 25.0])  # the last step exports or stores 15 MW
    assert renewable_share(load, used) == pytest.approx((0 + 5 + 10 + 10) / 40)
    assert renewable_share(load, np.full(4, 100.0)) == 1.0  # at most the whole load
    assert renewable_share(np.zeros(3), np.ones(3)) == 0.0  # no load: nothing to share


def test_the_share_is_the_stepwise_minimum_over_the_load():
    rng = np.random.default_rng(0)
    load = rng.uniform(50, 100, 168)
    used = rng.uniform(0, 150, 168)
    share = renewable_share(load, used)
    assert 0.0 <= share <= 1.0
    assert share == pytest.approx(np.minimum(load, used).sum() / load.sum())
    assert share < used.sum() / load.sum()  # the old ratio, above 100 % here
