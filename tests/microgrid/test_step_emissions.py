"""The time series' `emissions_t`: each step's t CO2e, grid import and generators, which
sum to the summary's emissions (plan and closed loop)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scenario_factory import small_scenario

import microgrid

GENERATORS = [
    {"name": "diesel", "capacity_mw": 20, "fuel_usd_per_mwh": 1, "carbon_g_per_kwh": 700},
    {"name": "gas", "capacity_mw": 30, "fuel_usd_per_mwh": 2, "carbon_g_per_kwh": 450},
]


def _run(tmp_path, mode: str):
    sc = small_scenario(
        **{"generators": GENERATORS, "grid.import_max_mw": 40, "operate.replan_every_steps": 24}
    )
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc))
    return microgrid.run(microgrid.load_scenario(path), baselines=False, powerflow=False, mode=mode)


@pytest.mark.parametrize("mode", ["plan", "operate"])
def test_each_step_and_their_sum(tmp_path, mode):
    res = _run(tmp_path, mode)
    ts = res.timeseries
    cols = list(ts.columns)
    assert cols[cols.index("carbon_g_per_kwh") + 1] == "emissions_t"
    gen_mw = ts["gen_diesel_mw"].to_numpy(), ts["gen_gas_mw"].to_numpy()
    assert gen_mw[0].max() > 1 and gen_mw[1].max() > 1  # both units run: the import is capped
    g_per_kwh = ts["grid_import_mw"] * ts["carbon_g_per_kwh"] + 700 * gen_mw[0] + 450 * gen_mw[1]
    np.testing.assert_allclose(ts["emissions_t"], g_per_kwh / 1000.0, rtol=1e-12, atol=1e-12)
    assert ts["emissions_t"].sum() == pytest.approx(res.summary["emissions_t"], rel=1e-12)
