"""AC power flow of the actual rows, with the ``line_out`` events of the run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from microgrid.assemble import network_parameters
from microgrid.errors import InputErrors
from microgrid.network import INJECTION_COLUMNS, build_network
from microgrid.powerflow import check_timeseries, combine_checks
from microgrid.scenario import Scenario


def actual_powerflow(scenario: Scenario, actual: pd.DataFrame, line_out: dict[str, np.ndarray]):
    """AC power flow of the actual rows (served load); steps with a ``line_out`` event run
    on a net with one circuit of that line removed (the whole line when it has one
    circuit). Returns the intact net (the first topology when every step has a line out)
    and the power-flow check of every step (a ``PowerflowCheck``)."""
    inj = actual[[c for c in INJECTION_COLUMNS if c in actual]].copy()
    inj["facility_load_mw"] = actual["facility_load_mw"] - actual["unserved_mw"]
    key = np.zeros(len(inj), dtype=object)
    key[:] = ""
    for name, mask in line_out.items():
        key[mask] = np.char.add(key[mask].astype(str), f"{name};")
    parts, nets = [], []
    combos = list(pd.unique(key))
    for combo in combos:
        net = _net_without(scenario, filter(None, str(combo).split(";")))
        parts.append(check_timeseries(net, inj[key == combo], engine=scenario.network.engine))
        nets.append(net)
    base = next((nt for nt, c in zip(nets, combos, strict=True) if c == ""), nets[0])
    return base, combine_checks(parts, inj.index)


def check_event_lines(scenario: Scenario) -> None:
    """Every ``line_out`` event names a line of the scenario's network (its pandapower
    name, or that name without ``line_``): checked before any solve, by ``validate`` too
    (the closed loop once met a wrong name after all its re-plans)."""
    events = [(i, ev) for i, ev in enumerate(scenario.operate.events) if ev.kind == "line_out"]
    if not events:
        return
    net = build_network(network_parameters(scenario))
    errors = [
        scenario.error(
            f"no line named {ev.line!r} in the network (lines: {', '.join(net.line.name)})",
            f"operate.events.{i}.line",
        )
        for i, ev in events
        if not len(_line_rows(net, str(ev.line)))
    ]
    if errors:
        raise InputErrors(errors)


def _line_rows(net, name: str) -> pd.Index:
    """The net's line rows called ``name`` (or ``line_<name>``)."""
    idx = net.line.index[net.line.name == name]
    return idx if len(idx) else net.line.index[net.line.name == f"line_{name}"]


def _net_without(scenario: Scenario, lines):
    """The scenario's net with one circuit of each of ``lines`` out of service (their
    names checked by ``check_event_lines``)."""
    net = build_network(network_parameters(scenario))
    for name in lines:
        for li in _line_rows(net, name):
            if net.line.at[li, "parallel"] > 1:
                net.line.at[li, "parallel"] -= 1
            else:
                net.line.at[li, "in_service"] = False
    return net
