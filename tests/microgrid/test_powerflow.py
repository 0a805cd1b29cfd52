"""AC time-series power flow: hand calculation, R1 limits, lightsim2grid == runpp, R4 slice."""

from __future__ import annotations

import cmath
import io
import math
import re

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from microgrid.network import NetworkParameters, build_network
from microgrid.powerflow import (
    SUMMARY_COLUMNS,
    list_violations,
    run_timeseries,
    run_timeseries_detailed,
)
from optimize import progress


def _receiving_end_voltage(v_s: float, z: complex, s_load: complex) -> complex:
    """Closed form for a 2-bus line: V_r (pu) from |V_s|, series Z (pu) and load S (pu).

    With V_s = V_r + Z conj(S / V_r), taking V_r real: |V_s|^2 = |V_r^2 + Z conj(S)|^2 / V_r^2,
    a quadratic in u = V_r^2: u^2 + (2 Re(Z conj S) - |V_s|^2) u + |Z conj S|^2 = 0.
    """
    a = z * s_load.conjugate()
    b = 2 * a.real - v_s**2
    u = (-b + math.sqrt(b * b - 4 * abs(a) ** 2)) / 2
    v_r = math.sqrt(u)
    return complex(v_r, 0.0), cmath.phase(complex(v_r**2, 0) + a)


def _two_bus(p_mw: float, q_mvar: float) -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b0 = pp.create_bus(net, 20.0)
    b1 = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(
        net, b0, b1, length_km=10.0, r_ohm_per_km=0.2, x_ohm_per_km=0.4, c_nf_per_km=0.0,
        max_i_ka=0.4,
    )  # fmt: skip
    pp.create_load(net, b1, p_mw=p_mw, q_mvar=q_mvar)
    return net


@pytest.mark.parametrize("engine", ["pandapower", "lightsim2grid"])
def test_two_bus_against_hand_calculation(engine):
    p, q = 8.0, 3.0
    net = _two_bus(p, q)
    z_base = 20.0**2 / 1.0
    z = complex(2.0, 4.0) / z_base
    v_r, _ = _receiving_end_voltage(1.0, z, complex(p, q) / 1.0)
    i_ka = abs(complex(p, q)) / (math.sqrt(3) * 20.0 * abs(v_r))
    inj = {("load", "p_mw"): pd.DataFrame({0: [p, p / 2]}), ("load", "q_mvar"): pd.DataFrame(
        {0: [q, q / 2]})}  # fmt: skip
    res = run_timeseries_detailed(net, inj, engine)
    assert res.engine == engine
    assert res.vm_pu.iloc[0, 1] == pytest.approx(abs(v_r), abs=1e-8)
    assert res.line_loading_pct.iloc[0, 0] == pytest.approx(i_ka / 0.4 * 100, abs=1e-5)
    losses = 3 * (i_ka**2) * 2.0  # MW: 3 I^2 R with I in kA and R in ohm
    assert res.summary.losses_mw.iloc[0] == pytest.approx(losses, rel=1e-6)
    assert res.summary.pcc_p_mw.iloc[0] == pytest.approx(p + losses, rel=1e-6)
    v_half, _ = _receiving_end_voltage(1.0, z, complex(p, q) / 2)
    assert res.vm_pu.iloc[1, 1] == pytest.approx(abs(v_half), abs=1e-8)


def _r1_injections(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    charge = rng.uniform(0, 50, n) * (rng.random(n) < 0.5)
    return pd.DataFrame(
        {
            "facility_load_mw": rng.uniform(30, 140, n),
            "pv_used_mw": rng.uniform(0, 65, n),
            "wind_used_mw": rng.uniform(0, 50.4, n),
            "battery_charge_mw": charge,
            "battery_discharge_mw": np.where(charge > 0, 0.0, rng.uniform(0, 50, n)),
        },
        index=pd.date_range("2023-08-21", periods=n, freq="h", tz="UTC"),
    )


def test_r1_extremes_converge_in_limits():
    net = build_network()
    inj = pd.DataFrame(
        {
            "facility_load_mw": [140.0, 30.0],
            "battery_discharge_mw": [20.0, 0.0],
            "pv_used_mw": [0.0, 65.0],
            "wind_used_mw": [0.0, 15.5],
        }
    )
    out = run_timeseries(net, inj)
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    assert out.converged.all()
    assert out.pcc_p_mw.iloc[0] == pytest.approx(120.0, abs=2.0)
    assert out.pcc_p_mw.iloc[1] == pytest.approx(-50.0, abs=1.5)
    assert (out.n_violations == 0).all()
    assert out.min_vm_pu.min() >= 0.95 and out.max_vm_pu.max() <= 1.05
    assert out.dc_bus_vm_pu.iloc[0] < out.dc_bus_vm_pu.iloc[1]


def test_violations_detected_when_limit_tightened():
    net = build_network(NetworkParameters(max_loading_pct=50.0))
    inj = pd.DataFrame({"facility_load_mw": [140.0, 20.0]}, index=["peak", "light"])
    res = run_timeseries_detailed(net, inj, vm_min_pu=0.97)
    out = res.summary
    assert out.loc["peak", "n_violations"] >= 2  # the data-center line and the dc bus voltage
    assert out.loc["light", "n_violations"] == 0
    v = list_violations(res)
    assert set(v.step) == {"peak"}
    line = v[(v.element_type == "line")]
    assert list(line.name) == ["line_datacenter"]
    assert (line.value > 50.0).all() and (line.limit == 50.0).all()
    bus = v[v.element_type == "bus"]
    assert "datacenter" in set(bus.name)
    assert (bus.value < 0.97).all()
    # the default limits (0.95 pu, 100 %) see nothing at the same step
    assert run_timeseries(build_network(), inj).n_violations.sum() == 0


def test_lightsim2grid_equals_runpp_on_sampled_steps():
    net = build_network(NetworkParameters(has_backup=True, pv_power_factor=0.95))
    inj = _r1_injections(40)
    inj["backup_gen_mw"] = np.linspace(0, 10, len(inj))
    a = run_timeseries_detailed(net, inj, "lightsim2grid")
    b = run_timeseries_detailed(net, inj, "pandapower")
    assert a.engine == "lightsim2grid" and b.engine == "pandapower"
    assert a.summary.converged.all() and b.summary.converged.all()
    assert np.abs(a.vm_pu.to_numpy() - b.vm_pu.to_numpy()).max() <= 1e-6
    assert np.abs(a.line_loading_pct.to_numpy() - b.line_loading_pct.to_numpy()).max() <= 1e-4
    assert np.abs(a.trafo_loading_pct.to_numpy() - b.trafo_loading_pct.to_numpy()).max() <= 1e-4
    assert np.abs(a.summary.pcc_p_mw - b.summary.pcc_p_mw).max() <= 1e-5
    assert np.abs(a.summary.losses_mw - b.summary.losses_mw).max() <= 1e-5
    # the user's net is left with its own element values
    assert net.load.p_mw.iloc[0] == 0.0


def test_auto_falls_back_to_pandapower_for_unsupported_features():
    net = build_network()
    pp.create_gen(net, net["microgrid"]["buses"]["pv"], p_mw=5.0, vm_pu=1.0)
    res = run_timeseries_detailed(net, _r1_injections(3))
    assert res.engine == "pandapower"
    assert res.summary.converged.all()


@pytest.mark.slow
def test_r4_slice_if_simbench_installed():
    pytest.importorskip(
        "simbench", reason="R4 needs the optional simbench extra (pip install microgrid[simbench])"
    )
    from microgrid.simbench_case import load_simbench, run_r4

    net, profiles = load_simbench()
    res = run_r4(net_and_profiles=(net, profiles), steps=slice(17000, 17096))
    assert res.with_dc.engine == "lightsim2grid"
    assert len(res.with_dc.summary) == 96 and res.with_dc.summary.converged.all()
    sl = {k: v.iloc[17000:17012] for k, v in profiles.items()}
    a = run_timeseries_detailed(net, sl, "lightsim2grid")
    b = run_timeseries_detailed(net, sl, "pandapower")
    assert np.nanmax(np.abs(a.vm_pu.to_numpy() - b.vm_pu.to_numpy())) <= 1e-6
    assert np.nanmax(np.abs(a.line_loading_pct.to_numpy() - b.line_loading_pct.to_numpy())) <= 1e-4
    # the data center adds load at the substation: more transformer loading
    assert (
        res.with_dc.summary.trafo_loading_pct.mean()
        > res.without_dc.summary.trafo_loading_pct.mean()
    )


@pytest.mark.parametrize("engine", ["lightsim2grid", "pandapower"])
def test_a_long_run_prints_its_steps_only_when_progress_is_on(engine, monkeypatch):
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 0.0)  # no timing in unit tests
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    net, inj = build_network(), _r1_injections(5)
    stream = io.StringIO()
    with progress.solve_progress(True, stream):
        shown = run_timeseries(net, inj, engine)
    lines = stream.getvalue().splitlines()
    assert lines and all(
        re.fullmatch(r"power flow: \d of 5 steps · \d+\.\d s", x) for x in lines
    ), lines
    if engine == "pandapower":  # one line a step, before it
        assert [x.split(" of")[0] for x in lines] == [f"power flow: {t}" for t in range(5)]
    quiet = io.StringIO()
    with progress.solve_progress(False, quiet):
        plain = run_timeseries(net, inj, engine)
    assert quiet.getvalue() == ""
    pd.testing.assert_frame_equal(shown, plain)
