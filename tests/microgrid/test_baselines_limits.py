"""The rule baselines keep the limits they can, and report exactly those they cannot.

Built on the tiny scenario (scenario_factory.TINY; see tests/microgrid/test_baselines.py
for its numbers): 11 MW of facility load (10 MW IT x PUE 1.10), 22 MW while the 10 MW job
runs in 08-12 (asap), a 5 MW / 20 MWh battery at 10 MWh (floor 2, top 18 MWh,
efficiencies 0.95). The battery's shaving threshold on day 1 is the horizon's mean load,
11 + 44/48 MW.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_baselines import check_rows, problem_of, tiny

from microgrid.assemble import build_problem, load_inputs
from microgrid.baselines import run_baselines, simulate
from microgrid.baselines.limits import keeps_all
from microgrid.dispatch import demand_response_caps
from microgrid.results import balance_residual_mw


def asap(tmp_path, **changes):
    inputs, problem = problem_of(tiny(tmp_path, **changes))
    res = simulate(problem, "asap", np.zeros(problem.n_steps, dtype=int), inputs.index)
    assert balance_residual_mw(res.timeseries).abs().max() <= 1e-6
    return problem, res


def col(res, name):
    return res.timeseries[name].to_numpy()


def test_ramp_kept_with_the_battery(tmp_path):
    problem, res = asap(tmp_path, **{"grid.ramp_mw_per_h": 6})
    # 08:00: the job adds 11 MW; the battery gives 5, import rises 6 (the limit). 09:00
    # the battery's last 2.6 MW. 12:00: the job ends, the load falls 11 MW: import may
    # fall only 6, so the battery charges 5 MW
    assert col(res, "grid_import_mw")[7:14] == pytest.approx([11, 17, 19.4, 22, 22, 16, 11])
    assert col(res, "battery_discharge_mw")[8:10] == pytest.approx([5.0, 2.6])
    assert col(res, "battery_charge_mw")[12] == pytest.approx(5.0)
    assert res.breaches["ramp_breach_steps"] == 0 and keeps_all(res.breaches)
    check_rows(problem, res.timeseries)


def test_ramp_breach_reported_when_nothing_can_keep_it(tmp_path):
    # no battery: the 11 MW jump and drop break the 6 MW/h limit by 5 MW each
    _, res = asap(tmp_path, **{"grid.ramp_mw_per_h": 6, "battery": None})
    b = res.breaches
    assert b["ramp_breach_steps"] == 2 and b["ramp_breach_max_mw"] == pytest.approx(5.0)
    assert b["ramp_breach_times_utc"] == ["2023-01-02T08:00:00+00:00", "2023-01-02T12:00:00+00:00"]
    assert b["import_breach_steps"] == 0 and b["soc_final_short_mwh"] == 0.0


def test_final_soc_reached_by_a_planned_recharge(tmp_path):
    problem, res = asap(tmp_path, **{"battery.soc_final_frac": 0.9})
    soc, charge = col(res, "battery_soc_mwh"), col(res, "battery_charge_mw")
    # day 1 shaves 5 + 2.6 MW down to the 2 MWh floor; the recharge to 18 MWh is planned
    # backwards from the end at half the battery's power (2.5 MW x 0.95 = 2.375 MWh per
    # step): 7 steps, the first one partial
    assert soc[40] == pytest.approx(2.0) and soc[-1] == pytest.approx(18.0)
    assert charge[41:] == pytest.approx([1.75 / 0.95] + [2.5] * 6)
    assert charge[:41].sum() == 0.0
    assert res.breaches["soc_final_short_mwh"] == 0.0 and keeps_all(res.breaches)
    check_rows(problem, res.timeseries)


def test_import_limit_kept_with_a_reserve(tmp_path):
    problem, res = asap(tmp_path, **{"grid.import_max_mw": 19})
    # the job's 22 MW exceed the 19 MW limit by 3 MW for 4 h: the battery holds
    # 2 + 12 / 0.95 MWh when the job starts, charged before at 2.5 MW
    imp, soc = col(res, "grid_import_mw"), col(res, "battery_soc_mwh")
    assert soc[7] == pytest.approx(2.0 + 12 / 0.95)
    assert imp[6:8] == pytest.approx([11 + (soc[6] - 10) / 0.95, 13.5])
    assert imp[8:12] == pytest.approx([19.0] * 4)
    assert soc[11] == pytest.approx(2.0)
    assert keeps_all(res.breaches)
    check_rows(problem, res.timeseries)


def test_outage_breach_counted_exactly(tmp_path):
    outage = {"outages": [{"start": "2023-01-02T09:00", "end": "2023-01-02T12:00"}]}
    problem, res = asap(tmp_path, events=outage)
    # 22 MW of load with the grid down for 3 h: the battery held 3 x 5 / 0.95 MWh for it
    # and gives its 5 MW power; 17 MW a step could not be served (imported anyway)
    assert col(res, "battery_discharge_mw")[9:12] == pytest.approx([5.0] * 3)
    b = res.breaches
    assert b["import_breach_steps"] == 3
    assert b["import_breach_max_mw"] == pytest.approx(17.0)
    assert b["import_breach_mwh"] == pytest.approx(51.0)
    assert b["ramp_breach_steps"] == 0 and b["dr_cap_breach_steps"] == 0
    assert not keeps_all(b)


def _asap_under_cap(tmp_path, cap_mw: float):
    """The tiny scenario's asap baseline under a DR cap of `cap_mw` at 10-12: its problem
    and the simulation."""
    dr = {"demand_response": [{"start": "2023-01-02T10:00", "end": "2023-01-02T12:00",
                               "cap_mw": cap_mw}]}  # fmt: skip
    scenario = tiny(tmp_path, events=dr)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs, demand_response_caps(scenario, inputs))
    return problem, simulate(problem, "asap", np.zeros(problem.n_steps, dtype=int), inputs.index)


def test_demand_response_cap_kept(tmp_path):
    problem, res = _asap_under_cap(tmp_path, 18)
    # the job's 22 MW over an 18 MW cap at 10-12: the battery reserved 2 x 4 / 0.95 MWh
    # beyond its shaving (which ends at the 2 MWh floor)
    net = col(res, "grid_import_mw") - col(res, "grid_export_mw")
    assert net[10:12] == pytest.approx([18.0, 18.0])
    assert keeps_all(res.breaches)
    check_rows(problem, res.timeseries)


def test_demand_response_cap_breach_energy(tmp_path):
    # a 10 MW cap on the job's 22 MW at 10-12: the battery's 5 MW cannot keep it, and the
    # energy above the cap is summed as the closed loop's is (dr_cap_breach_mwh)
    problem, res = _asap_under_cap(tmp_path, 10)
    net = col(res, "grid_import_mw") - col(res, "grid_export_mw")
    above_mwh = np.maximum(net[10:12] - 10.0, 0.0).sum() * problem.step_h
    assert above_mwh >= 2 * (22.0 - 10.0 - 5.0)  # at least what the battery's power leaves
    assert res.breaches["dr_cap_breach_steps"] == 2
    assert res.breaches["dr_cap_breach_mwh"] == pytest.approx(above_mwh)


def test_carbon_threshold_keeps_limits_too(tmp_path):
    inputs, problem = problem_of(tiny(tmp_path, **{"grid.import_max_mw": 19}))
    res = run_baselines(problem, inputs.index, "UTC")["carbon-threshold"]
    # the job runs 16-20 (clean hours) at 22 MW: the battery covers the 3 MW over 19
    assert col(res, "grid_import_mw")[16:20] == pytest.approx([19.0] * 4)
    assert keeps_all(res.breaches)
