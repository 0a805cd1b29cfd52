"""The plant's actual conditions per step: the plan's data with ``operate.events`` applied
(the controller is not warned of them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import optimize
from microgrid.assemble import Inputs, window_mask
from microgrid.scenario import Scenario


@dataclass(frozen=True)
class PlantConditions:
    """Actual per-step conditions with the events applied (arrays of n_steps)."""

    pv_mw: np.ndarray  # available (0 in a trip)
    wind_mw: np.ndarray
    price_usd_per_mwh: np.ndarray  # LMP with spikes
    import_max_mw: np.ndarray  # 0 in an outage
    export_max_mw: np.ndarray
    outage: np.ndarray  # bool
    pv_trip: np.ndarray  # bool
    wind_trip: np.ndarray  # bool
    price_factor: np.ndarray  # spike factor (1: none)
    net_import_cap_mw: np.ndarray | None  # demand-response caps (NaN: none)
    ramp_mw_per_h: float | None
    line_out: dict[str, np.ndarray] = field(default_factory=dict)  # line name -> bool steps

    def events_at(self, k: int) -> tuple[bool, float, frozenset[str]]:
        """What the controller can see going on at step k: an outage, the price spike's
        factor and the tripped renewables (``Known``)."""
        return bool(self.outage[k]), float(self.price_factor[k]), self.tripped(k)

    def tripped(self, k: int) -> frozenset[str]:
        """Renewables tripped at step k."""
        return frozenset(n for n, t in (("pv", self.pv_trip), ("wind", self.wind_trip)) if t[k])


def plant_conditions(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem, events
) -> PlantConditions:
    """The plan's availability, prices and grid limits with ``events`` applied."""
    n = problem.n_steps
    ren = {r.name: r.available_mw for r in problem.renewables}
    pv = ren.get("pv", np.zeros(n)).copy()
    wind = ren.get("wind", np.zeros(n)).copy()
    price = inputs.frame["price_usd_per_mwh"].to_numpy(float).copy()
    imax = problem.grid.import_max_mw.copy()
    emax = problem.grid.export_max_mw.copy()
    flags = {kind: np.zeros(n, bool) for kind in ("grid_outage", "pv_trip", "wind_trip")}
    spike = np.ones(n)
    line_out: dict[str, np.ndarray] = {}
    for ev in events:
        m = window_mask(scenario, inputs.index, ev.start, ev.end)
        if ev.kind in flags:
            flags[ev.kind] |= m
        elif ev.kind == "price_spike":
            spike[m] *= ev.factor
        elif ev.kind == "line_out":
            line_out[ev.line] = line_out.get(ev.line, np.zeros(n, bool)) | m
    outage = flags["grid_outage"]
    imax[outage] = 0.0
    emax[outage] = 0.0
    pv[flags["pv_trip"]] = 0.0
    wind[flags["wind_trip"]] = 0.0
    return PlantConditions(
        pv_mw=pv,
        wind_mw=wind,
        price_usd_per_mwh=price * spike,
        import_max_mw=imax,
        export_max_mw=emax,
        outage=outage,
        pv_trip=flags["pv_trip"],
        wind_trip=flags["wind_trip"],
        price_factor=spike,
        net_import_cap_mw=problem.grid.net_import_cap_mw,
        ramp_mw_per_h=problem.grid.ramp_mw_per_h,
        line_out=line_out,
    )
