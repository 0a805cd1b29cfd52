"""Data-center load models: inference IT profile and temperature-driven PUE."""

from __future__ import annotations

import numpy as np
import pandas as pd

from microgrid.scenario_demand import Inference, PUEModel
from microgrid.wall_time import step_of


def inference_it_mw(index: pd.DatetimeIndex, inference: Inference, timezone: str) -> np.ndarray:
    """Inflexible inference IT load in MW: mean + amplitude × cos(2π (h − peak) / 24).

    `h` is the local hour at the middle of each step, so an hourly step's average sits
    on the sine where the step's energy is centred.
    """
    step = step_of(index)
    local = (index + step / 2).tz_convert(timezone)
    hour = local.hour + local.minute / 60.0 + local.second / 3600.0
    phase = 2.0 * np.pi * (np.asarray(hour, dtype=float) - inference.peak_hour_local) / 24.0
    return inference.mean_mw + inference.amplitude_mw * np.cos(phase)


def pue(temp_air_c: np.ndarray, model: PUEModel) -> np.ndarray:
    """Power usage effectiveness (facility / IT, dimensionless) from air temperature in C."""
    temp = np.asarray(temp_air_c, dtype=float)
    value = model.base + model.slope_per_c * np.maximum(0.0, temp - model.threshold_c)
    return np.minimum(value, model.max)
