"""summary.json's `jobs.power_capping` and its CLI line: what running jobs below full
power saves on the throughput curve's terms (an assumption the savings against the
full-power baselines rest on)."""

from __future__ import annotations

import pytest
from test_baselines import tiny

import microgrid
from microgrid.cli_summary import print_summary

# the tiny scenario's 10 MW job (4 h of work) at 0.6 of its power gives 0.78 of its
# throughput: the cheapest schedule runs it near there, in whole steps (5 at 0.636)
CURVE = [[0.6, 0.78], [1.0, 1.0]]


def _run(tmp_path, **changes):
    return microgrid.run(tiny(tmp_path, **changes), baselines=False, powerflow=False)


def test_jobs_below_full_power_save_energy_by_the_curve(tmp_path, capsys):
    res = _run(tmp_path, **{"jobs.items.0.f_min": 0.6, "datacenter.throughput_curve": CURVE})
    c = res.summary["jobs"]["power_capping"]
    mw = res.timeseries["job_train_mw"].to_numpy()
    on_steps = int((mw > 1e-6).sum())
    frac = mw[mw > 1e-6] / 10.0
    assert frac.min() >= 0.6 and frac.max() < 0.7  # near its least power
    work_h = sum(0.78 + 0.55 * (f - 0.6) for f in frac)  # the curve's line from 0.6 to 1
    assert work_h == pytest.approx(4.0, rel=1e-6)
    assert c["job_it_energy_mwh"] == pytest.approx(mw.sum())
    assert c["full_power_energy_mwh"] == pytest.approx(40.0)  # 4 h of work x 10 MW
    assert c["saved_mwh"] == pytest.approx(40.0 - mw.sum())
    assert c["saved_mwh"] > 7.0
    assert c["mean_power_fraction"] == pytest.approx(mw.sum() / (10.0 * on_steps))
    print_summary(res.summary, tmp_path)
    out = capsys.readouterr().out
    shown = f"jobs at 64 % of full power where they run: {c['saved_mwh']:.1f} MWh IT"
    assert f"power capping   {shown}" in out
    assert "by datacenter.throughput_curve (an assumption" in out


def test_jobs_at_full_power_save_nothing_and_print_no_line(tmp_path, capsys):
    res = _run(tmp_path)  # f_min 1: the job runs at its full 10 MW
    c = res.summary["jobs"]["power_capping"]
    assert c["saved_mwh"] == pytest.approx(0.0, abs=1e-9)
    assert c["mean_power_fraction"] == pytest.approx(1.0)
    print_summary(res.summary, tmp_path)
    assert "power capping" not in capsys.readouterr().out
