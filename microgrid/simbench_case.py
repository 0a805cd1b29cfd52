"""R4: a 10 MW IT edge cluster on SimBench ``1-MV-rural--0-sw`` (needs the ``simbench`` extra).

The grid: SimBench's rural 20 kV feeder group behind two 25 MVA 110/20 kV transformers,
with its own one-year, 15-minute load and generation profiles (35 136 steps, 2016 as
a leap year, as SimBench's profiles have 366 days).

Where the data center connects (``placement``): by default the 20 kV busbar of the
substation (``"substation"``, the strong bus). The alternative ``"feeder_end"`` (the 20 kV
load bus with the largest |Z| from that busbar along the operated radial topology, bus 47
``"MV1.101 Bus 47"``) was tried first, to show impact, and rejected: the feeder is 70 mm2
cable / 70-AL1 overhead line, and a single runpp with SimBench's base loads gives
0.98 pu at 2 MW there, 0.88 pu at 5 MW, 0.75 pu at 8 MW and 0.53 pu with 296 % line loading
at 10 MW (near voltage collapse; many steps of the year do not converge). A 10 MW load is
beyond what a rural MV feeder carries, so a utility would connect it with a dedicated
feeder at the substation busbar: that is what R4 studies, and the impact then shows on the
two 25 MVA transformers and on the MV voltage level. ``"feeder_end"`` stays available.

The data-center profile is an input: :func:`default_dc_profile_mw` makes a simple one
(inference 2.5 MW IT with a +-0.5 MW daily sine peaking at 15:00, a flat training IT load,
times a constant PUE) until the optimizer's profile is wired in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import pandapower as pp
import pandapower.topology as top
import pandas as pd

from microgrid.errors import InputError
from microgrid.powerflow import TimeseriesResult, run_timeseries_detailed

__all__ = [
    "SIMBENCH_CODE",
    "R4Result",
    "add_datacenter",
    "choose_dc_bus",
    "default_dc_profile_mw",
    "load_simbench",
    "run_r4",
]

SIMBENCH_CODE = "1-MV-rural--0-sw"
N_STEPS = 35136


def _simbench():
    try:
        import simbench
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise InputError(
            "R4 needs the optional simbench extra: pip install 'microgrid[simbench]'"
        ) from exc
    return simbench


def load_simbench(
    code: str = SIMBENCH_CODE,
) -> tuple[pp.pandapowerNet, dict[tuple[str, str], pd.DataFrame]]:
    """The SimBench net and its absolute profiles ``{(table, column): DataFrame}``.

    Profiles are indexed by a UTC ``DatetimeIndex`` at 15 minutes starting
    2016-01-01 00:00 (SimBench's profile year, 366 days = 35 136 steps).
    """
    sb = _simbench()
    net = sb.get_simbench_net(code)
    profiles = sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
    out = {}
    for key, frame in profiles.items():
        if frame.shape[1] == 0:
            continue
        f = frame.copy()
        f.index = pd.date_range("2016-01-01", periods=len(f), freq="15min", tz="UTC")
        out[key] = f
    return net, out


def choose_dc_bus(net: pp.pandapowerNet, placement: Literal["feeder_end", "substation"]) -> int:
    """The pandapower bus index the data center connects to (see module docstring).

    ``"feeder_end"``: the in-service 20 kV load bus with the largest |Z| to the substation
    20 kV busbar along the closed, in-service lines (radial after SimBench's open switches).
    ``"substation"``: the 20 kV side of the substation transformers.
    """
    lv_bus = int(net.trafo.lv_bus.iloc[0])
    if placement == "substation":
        return lv_bus
    if placement != "feeder_end":
        raise InputError(f"unknown placement {placement!r}", field="placement")
    graph = top.create_nxgraph(net, respect_switches=True, calc_branch_impedances=True)
    dist = nx.single_source_dijkstra_path_length(graph, lv_bus, weight="z_ohm")
    load_buses = set(net.load.bus[net.load.in_service]) - {lv_bus}
    mv = net.bus.index[net.bus.vn_kv == net.bus.vn_kv.loc[lv_bus]]
    candidates = [(dist[b], -b) for b in load_buses if b in dist and b in mv]
    return -max(candidates)[1]


def default_dc_profile_mw(
    index: pd.DatetimeIndex,
    *,
    inference_mean_mw: float = 2.5,
    inference_amplitude_mw: float = 0.5,
    peak_hour_local: float = 15.0,
    training_mw: float = 6.0,
    pue: float = 1.15,
    tz: str = "Europe/Berlin",
) -> pd.Series:
    """Facility MW: (inference sine + flat training) x PUE, on ``index``.

    Defaults: 2.5 +- 0.5 MW inference IT peaking at 15:00 local, 6 MW of training IT (the
    weekly job mix scaled by 1/10 averages about this much), PUE 1.15: 8.05-9.2 MW.
    """
    local = index.tz_convert(tz)
    hours = local.hour + local.minute / 60.0
    inference = inference_mean_mw + inference_amplitude_mw * np.cos(
        2 * np.pi * (hours - peak_hour_local) / 24.0
    )
    return pd.Series((inference + training_mw) * pue, index=index, name="facility_load_mw")


def add_datacenter(
    net: pp.pandapowerNet, bus: int, power_factor: float = 0.98
) -> tuple[int, float]:
    """Add the data-center load (named ``"datacenter"``) at ``bus``; returns (index, tan phi)."""
    idx = int(pp.create_load(net, bus, p_mw=0.0, q_mvar=0.0, name="datacenter"))
    net["microgrid"] = {"buses": {"datacenter": int(bus)}, "elements": {"load": idx}}
    return idx, float(np.tan(np.arccos(power_factor)))


@dataclass
class R4Result:
    """Year results with and without the data center, and the steps it causes."""

    dc_bus: int
    without_dc: TimeseriesResult
    with_dc: TimeseriesResult

    @property
    def caused_steps(self) -> pd.Index:
        """Steps with a violation with the data center and none without it."""
        a = self.without_dc.summary.n_violations
        b = self.with_dc.summary.n_violations
        return b.index[(b > 0) & (a == 0)]

    @property
    def worsened_steps(self) -> pd.Index:
        """Steps where the data center adds violations (includes :attr:`caused_steps`)."""
        a = self.without_dc.summary.n_violations
        b = self.with_dc.summary.n_violations
        return b.index[b > a]

    def report(self) -> dict[str, float]:
        a, b = self.without_dc.summary, self.with_dc.summary
        return {
            "steps": float(len(a)),
            "steps_with_violation_without_dc": float((a.n_violations > 0).sum()),
            "steps_with_violation_with_dc": float((b.n_violations > 0).sum()),
            "steps_caused_by_dc": float(len(self.caused_steps)),
            "steps_worsened_by_dc": float(len(self.worsened_steps)),
            "steps_relieved_by_dc": float((b.n_violations < a.n_violations).sum()),
            "min_vm_pu_without_dc": float(a.min_vm_pu.min()),
            "min_vm_pu_with_dc": float(b.min_vm_pu.min()),
            "max_line_loading_pct_without_dc": float(a.max_line_loading_pct.max()),
            "max_line_loading_pct_with_dc": float(b.max_line_loading_pct.max()),
            "max_trafo_loading_pct_with_dc": float(b.trafo_loading_pct.max()),
        }


def run_r4(
    dc_profile_mw: pd.Series | np.ndarray | None = None,
    *,
    placement: Literal["feeder_end", "substation"] = "substation",
    steps: slice | None = None,
    engine: Literal["auto", "lightsim2grid", "pandapower"] = "auto",
    power_factor: float = 0.98,
    net_and_profiles: tuple[pp.pandapowerNet, dict] | None = None,
) -> R4Result:
    """Run R4: SimBench's year with and without the data center.

    ``dc_profile_mw`` (facility MW per step, length of the year or of ``steps``) defaults to
    :func:`default_dc_profile_mw`. Limits are SimBench's own (``bus.min_vm_pu`` /
    ``max_vm_pu``: 0.965-1.055 pu on the 20 kV buses; 100 % loading).
    """
    net, profiles = net_and_profiles if net_and_profiles is not None else load_simbench()
    if steps is not None:
        profiles = {k: v.iloc[steps] for k, v in profiles.items()}
    index = next(iter(profiles.values())).index
    if dc_profile_mw is None:
        dc = default_dc_profile_mw(index).to_numpy()
    else:
        dc = np.asarray(dc_profile_mw, dtype=float)
        if len(dc) == N_STEPS and len(index) != N_STEPS and steps is not None:
            dc = dc[steps]
        if len(dc) != len(index):
            raise InputError(
                f"dc_profile_mw has {len(dc)} steps, the profiles {len(index)}",
                field="dc_profile_mw",
            )
    without = run_timeseries_detailed(net, profiles, engine)
    dc_net = _copy_without_profiles(net)
    bus = choose_dc_bus(dc_net, placement)
    load_idx, tan = add_datacenter(dc_net, bus, power_factor)
    with_profiles = dict(profiles)
    for col, values in (("p_mw", dc), ("q_mvar", dc * tan)):
        frame = profiles[("load", col)].copy()
        frame[load_idx] = values
        with_profiles[("load", col)] = frame
    with_dc = run_timeseries_detailed(dc_net, with_profiles, engine)
    return R4Result(dc_bus=bus, without_dc=without, with_dc=with_dc)


def _copy_without_profiles(net: pp.pandapowerNet) -> pp.pandapowerNet:
    held = net.get("profiles")
    try:
        if held is not None:
            net["profiles"] = {}
        return copy.deepcopy(net)
    finally:
        if held is not None:
            net["profiles"] = held
