"""How a limit breach is summarised, the same way wherever it is measured: the rule
baselines (`microgrid.baselines.limits`) and the closed loop (`microgrid.operate.record`),
so one CLI formatter and one report table read both.

For a limit `name` and its excess per step (MW; 0 where kept): `<name>_breach_steps`,
`<name>_breach_max_mw` (the worst excess) and `<name>_breach_times_utc` (the first
`MAX_TIMES` steps that break it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_TIMES = 20


def breach_fields(name: str, excess_mw: np.ndarray, index: pd.DatetimeIndex) -> dict:
    """The summary fields of limit `name` from its excess per step (MW); `index` the UTC
    time stamps of the steps."""
    steps = np.flatnonzero(excess_mw > 0)
    return {
        f"{name}_breach_steps": len(steps),
        f"{name}_breach_max_mw": float(excess_mw.max(initial=0.0)),
        f"{name}_breach_times_utc": [index[s].isoformat() for s in steps[:MAX_TIMES]],
    }
