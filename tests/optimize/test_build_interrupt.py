"""A Ctrl-C while Pyomo builds a model prints nothing of Pyomo's: the command's own
`interrupted` line is the only one (README, Ctrl-C). Pyomo logs the component whose
construction failed ("ERROR: Constructing component ... failed: KeyboardInterrupt") on
stdout before it re-raises; an interrupted sweep once ended with those lines."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import optimize.model
from optimize import build_model
from optimize import headroom as hr
from optimize.headroom import HeadroomCase
from tests.optimize.small_problems import small_problem


def _pyomo_lines(caplog, capsys) -> list[str]:
    """What Pyomo logged (pytest takes it from the handlers) and what reached stdout or
    stderr (Pyomo's own handler, outside pytest, writes its records to stdout)."""
    out, err = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("pyomo")]
    return logged + [line for line in (out + err).splitlines() if line]


def _interrupted_rule(m, t):
    raise KeyboardInterrupt


def test_a_ctrl_c_inside_a_components_construction_prints_nothing(monkeypatch, caplog, capsys):
    balance = optimize.model.define_power_balance

    def balance_then_ctrl_c(m, load):
        balance(m, load)
        m.stopped = pyo.Constraint(m.T, rule=_interrupted_rule)  # Pyomo constructs it here

    monkeypatch.setattr(optimize.model, "define_power_balance", balance_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        build_model(small_problem(n=4))
    assert _pyomo_lines(caplog, capsys) == []


def test_any_other_error_in_a_construction_is_still_logged(monkeypatch, caplog, capsys):
    """Only the interrupt is quiet: Pyomo's line for a real error (a bug) stays."""
    balance = optimize.model.define_power_balance

    def broken_rule(m, t):
        raise ValueError("a bug")

    def balance_then_bug(m, load):
        balance(m, load)
        m.broken = pyo.Constraint(m.T, rule=broken_rule)

    monkeypatch.setattr(optimize.model, "define_power_balance", balance_then_bug)
    with pytest.raises(ValueError):
        build_model(small_problem(n=4))
    assert any("ValueError: a bug" in line for line in _pyomo_lines(caplog, capsys))


def test_headroom_models_are_quiet_too(monkeypatch, caplog, capsys):
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hr, "linear_sum", ctrl_c)  # called by the constraints' rules
    case = HeadroomCase(
        step_h=1.0,
        pue=np.full(4, 1.2),
        inference_frac=np.zeros(4),
        connection_avail_frac=np.ones(4),
    )
    with pytest.raises(KeyboardInterrupt):
        hr.max_campus(case, 100.0, 0.0)
    assert _pyomo_lines(caplog, capsys) == []
