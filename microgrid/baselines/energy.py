"""The baselines' energy rules: one pass over the steps with the job schedule fixed.

Per step (docs/baselines.md, "Energy"):

1. Renewables serve the load first.
2. The battery's preferred move: charge from a renewable surplus, and at least up to its
   reserve (`plant.battery_reserve_mwh`); otherwise discharge when import would exceed the
   previous local day's mean import, by the excess, down to the reserve.
3. Net import must stay in a band: at most the look-ahead import cap and the previous
   net import plus the ramp limit; at least minus the export limit and the previous net
   import minus the ramp limit.
4. Above the band: discharge further down to the reserve (a recharge toward the reserve
   stops first), then the generators (merit order), then the battery below its reserve;
   what is left breaks the limit.
5. Below the band: discharge less, then charge, then curtail renewables; what is left
   breaks the ramp limit.

Where the import cap and the ramp band conflict (a step after a breach), the import cap
wins. Breaches are measured afterwards on the rows (`limits.limit_breaches`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import optimize
from microgrid.baselines.plant import Plant, battery_reserve_mwh

_TOL_MW = 1e-9


@dataclass
class Flows:
    """The simulated series: MW per step, ``soc_mwh`` the stored energy (MWh) at the end
    of each step, renewables used and generator output by name."""

    import_mw: np.ndarray
    export_mw: np.ndarray
    charge_mw: np.ndarray
    discharge_mw: np.ndarray
    soc_mwh: np.ndarray
    used_mw: dict[str, np.ndarray]
    gen_mw: dict[str, np.ndarray]

    @classmethod
    def zeros(cls, plant: Plant) -> Flows:
        n = len(plant.load_mw)
        return cls(
            import_mw=np.zeros(n),
            export_mw=np.zeros(n),
            charge_mw=np.zeros(n),
            discharge_mw=np.zeros(n),
            soc_mwh=np.zeros(n),
            used_mw={k: np.zeros(n) for k in plant.renewable_names},
            gen_mw={g.name: np.zeros(n) for g in plant.generators},
        )


@dataclass
class BatteryState:
    """The battery during the simulation: energy limits and stored energy (MWh), its
    available power (MW) and its reserve (MWh, end of step) per step."""

    spec: optimize.Battery
    e_lo_mwh: float
    e_hi_mwh: float
    level_mwh: float
    power_mw: np.ndarray
    reserve_mwh: np.ndarray

    def output_range_mw(self, t: int, step_h: float) -> tuple[float, float, float]:
        """(most charging, most output keeping the reserve, most output) in MW, output
        positive: a negative middle value is the charging the reserve needs."""
        b, p = self.spec, self.power_mw[t]
        most_in = min(p, max(0.0, self.e_hi_mwh - self.level_mwh) / (b.charge_efficiency * step_h))
        most_out = min(
            p, max(0.0, self.level_mwh - self.e_lo_mwh) * b.discharge_efficiency / step_h
        )
        floor = self.reserve_mwh[t]
        if self.level_mwh >= floor:
            keep = min(most_out, (self.level_mwh - floor) * b.discharge_efficiency / step_h)
        else:
            keep = max(-most_in, -(floor - self.level_mwh) / (b.charge_efficiency * step_h))
        return -most_in, keep, most_out

    def advance(self, output_mw: float, step_h: float) -> float:
        """Stored energy (MWh) after a step of battery output `output_mw` (MW, negative:
        charging)."""
        b = self.spec
        if output_mw >= 0:
            self.level_mwh -= step_h * output_mw / b.discharge_efficiency
        else:
            self.level_mwh -= step_h * output_mw * b.charge_efficiency
        return self.level_mwh


def battery_state(plant: Plant, b: optimize.Battery | None) -> BatteryState | None:
    if b is None:
        return None
    n = len(plant.load_mw)
    power = b.power_mw * (np.ones(n) if b.available_frac is None else b.available_frac)
    return BatteryState(
        spec=b,
        e_lo_mwh=b.soc_min_frac * b.energy_mwh,
        e_hi_mwh=b.soc_max_frac * b.energy_mwh,
        level_mwh=b.soc_initial_frac * b.energy_mwh,
        power_mw=power,
        reserve_mwh=battery_reserve_mwh(plant, b, power),
    )


@dataclass
class DayMeanImport:
    """The battery rule's threshold (MW): the previous local day's mean import; on the
    first day the horizon's mean facility load."""

    threshold_mw: float
    day: int
    sum_mw: float = 0.0
    steps: int = 0

    def start_step(self, day: int) -> None:
        if day != self.day:
            self.threshold_mw = self.sum_mw / self.steps
            self.sum_mw, self.steps, self.day = 0.0, 0, day

    def end_step(self, import_mw: float) -> None:
        self.sum_mw += import_mw
        self.steps += 1


@dataclass
class StepMove:
    """One step's decisions (MW): battery output (negative: charging) and its range
    (most charging, most output keeping the reserve, most output), generator output by
    name, renewables curtailed, and the resulting net import; `lo`/`hi` the band."""

    battery_mw: float
    b_min: float
    b_keep: float
    b_max: float
    gen_mw: dict[str, float]
    curtail_mw: float
    net_mw: float
    lo: float
    hi: float


def simulate_energy(
    plant: Plant, battery: optimize.Battery | None, day_of_step: np.ndarray
) -> Flows:
    """Run the energy rules over all steps; `day_of_step` is the local calendar day of
    each step (any increasing integers) for the battery's previous-day-mean rule."""
    flows = Flows.zeros(plant)
    bat = battery_state(plant, battery)
    rule = DayMeanImport(float(plant.load_mw.mean()), day_of_step[0])
    prev_net = plant.initial_net_mw
    for t in range(len(plant.load_mw)):
        rule.start_step(day_of_step[t])
        move = _preferred(plant, bat, t, rule.threshold_mw, prev_net)
        if move.net_mw > move.hi + _TOL_MW:
            _lower_net(plant, move, t)
        elif move.net_mw < move.lo - _TOL_MW:
            _raise_net(move)
        _record(plant, flows, move, t)
        if bat is not None:
            flows.soc_mwh[t] = bat.advance(move.battery_mw, plant.step_h)
        rule.end_step(flows.import_mw[t])
        prev_net = move.net_mw
    return flows


def _band(plant: Plant, t: int, prev_net: float | None) -> tuple[float, float]:
    """Net import band (MW) of step t: the cap, the export limit and the ramp limit; the
    cap wins where they conflict."""
    hi, lo = plant.import_cap_mw[t], -plant.export_max_mw[t]
    if plant.ramp_mw is not None and prev_net is not None:
        hi = min(hi, prev_net + plant.ramp_mw)
        lo = max(lo, prev_net - plant.ramp_mw)
    return min(lo, hi), hi


def _preferred(
    plant: Plant, bat: BatteryState | None, t: int, threshold_mw: float, prev_net: float | None
) -> StepMove:
    """Rules 1-2: renewables first, the battery's preferred move; no generators."""
    net0 = plant.net_load_mw[t]
    b_min = b_keep = b_max = 0.0
    if bat is not None:
        b_min, b_keep, b_max = bat.output_range_mw(t, plant.step_h)
    charge = max(-b_keep, -net0, 0.0)  # the reserve's need, or a surplus
    shave = min(max(net0 - threshold_mw, 0.0), b_keep)  # discharge above the threshold
    b = -min(charge, -b_min) if charge > 0 else shave
    lo, hi = _band(plant, t, prev_net)
    return StepMove(b, b_min, b_keep, b_max, {}, 0.0, net0 - b, lo, hi)


def _lower_net(plant: Plant, move: StepMove, t: int) -> None:
    """Rule 4: bring net import down to the band's top."""
    # a recharge toward the reserve stops before a generator starts: it catches up later
    _shift_battery(move, max(move.b_keep, 0.0), move.hi)
    for g in plant.generators:
        excess = move.net_mw - move.hi
        if excess <= _TOL_MW:
            break
        avail = float(plant.gen_avail_mw[g.name][t])
        p = min(excess, avail)
        if p > 0 and g.min_load_frac > 0:
            p = max(p, g.min_load_frac * avail)
            if p - excess > _absorb_room_mw(plant, move, t) + _TOL_MW:
                continue  # its minimum load could not be absorbed: leave it off
        move.gen_mw[g.name] = p
        move.net_mw -= p
    _shift_battery(move, move.b_max, move.hi)
    if move.net_mw < move.lo - _TOL_MW:  # a generator's minimum load overshoots
        _raise_net(move)


def _absorb_room_mw(plant: Plant, move: StepMove, t: int) -> float:
    """How far net import may fall below the band's top and still be brought back into
    the band by charging and curtailing (MW)."""
    used = plant.renewable_total_mw[t] - move.curtail_mw
    return (move.hi - move.lo) + (move.battery_mw - move.b_min) + used


def _shift_battery(move: StepMove, bound_mw: float, target_net_mw: float) -> None:
    """Raise battery output toward `bound_mw` (MW) to bring net import down to
    `target_net_mw`."""
    extra = min(move.net_mw - target_net_mw, bound_mw - move.battery_mw)
    if extra > 0:
        move.battery_mw += extra
        move.net_mw -= extra


def _raise_net(move: StepMove) -> None:
    """Rule 5: bring net import up to the band's bottom: less battery output (down to full
    charging), then curtailment (its room is checked when the step is recorded)."""
    less = min(move.lo - move.net_mw, move.battery_mw - move.b_min)
    if less > 0:
        move.battery_mw -= less
        move.net_mw += less
    if move.net_mw < move.lo:
        move.curtail_mw = move.lo - move.net_mw
        move.net_mw = move.lo


def _record(plant: Plant, flows: Flows, move: StepMove, t: int) -> None:
    """Write step t's decisions into `flows` (renewables used pro rata after curtailment,
    the last one takes the rounding so the balance is exact)."""
    total = plant.renewable_total_mw[t]
    curtail = min(move.curtail_mw, total)
    move.net_mw += curtail - move.curtail_mw  # curtailment beyond the renewables: no room
    flows.import_mw[t] = max(move.net_mw, 0.0)
    flows.export_mw[t] = max(-move.net_mw, 0.0)
    flows.discharge_mw[t] = max(move.battery_mw, 0.0)
    flows.charge_mw[t] = max(-move.battery_mw, 0.0)
    for name, p in move.gen_mw.items():
        flows.gen_mw[name][t] = p
    names = plant.renewable_names
    if not names:
        return
    keep = 1.0 - curtail / total if total > 0 else 0.0
    for k in names:
        flows.used_mw[k][t] = plant.available_mw[k][t] * keep
    others = sum(flows.used_mw[k][t] for k in names[:-1])
    supply = flows.import_mw[t] - flows.export_mw[t] + move.battery_mw + sum(move.gen_mw.values())
    flows.used_mw[names[-1]][t] = plant.load_mw[t] - supply - others
