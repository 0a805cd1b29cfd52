"""Per-MW renewable profiles: available MW per MW of size, per step.

PV: the frame's `pv_available_mw` / the scenario's `pv.dc_mw` (size in MWdc; the
template's dc/ac ratio is kept, so clipping scales with the size). Wind:
`wind_available_mw` / nameplate MW (n_turbines × the turbine's rated power, the maximum
of its power curve). Derates (`pv_available_frac`, `wind_available_frac`) apply, by
`microgrid.assemble.renewable_available_mw` as for a run. Both resource models are linear
in the size at a fixed dc/ac ratio (PV) or turbine type (wind), so profile × size is the
size's output.
"""

from __future__ import annotations

import numpy as np

from microgrid.assemble import Inputs, renewable_available_mw
from microgrid.scenario import Scenario
from weather.wind import turbine_rated_mw


def template_mw(scenario: Scenario, name: str) -> float:
    """The scenario's own size of renewable `name` (MW): PV MWdc, wind nameplate."""
    if name == "pv":
        return float(scenario.pv.dc_mw)
    w = scenario.wind
    return w.n_turbines * turbine_rated_mw(w.turbine_type)


def unit_profile(scenario: Scenario, inputs: Inputs, name: str) -> np.ndarray:
    """Available MW per MW of `name` ("pv" or "wind") per step, derates applied."""
    return renewable_available_mw(inputs.frame, name) / template_mw(scenario, name)


def unit_profiles(scenario: Scenario, inputs: Inputs, names: list[str]) -> dict[str, np.ndarray]:
    """Renewable name -> its per-MW profile, for the renewables among `names`."""
    return {n: unit_profile(scenario, inputs, n) for n in names if n in ("pv", "wind")}
