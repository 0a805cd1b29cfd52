"""What the two power-flow engines share: the profiles they read and the arrays they return.

`Profiles` maps (table, column) to element profiles (rows = steps, columns = element
indices; `simbench.get_absolute_values`' format) for the PQ tables of `PQ_TABLES`.
`StepArrays` is one engine's per-step result on the user's net. `StepLines` is their
progress lines on a long run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimize import progress

Profiles = Mapping[tuple[str, str], pd.DataFrame]

PQ_TABLES = {"load": 1.0, "sgen": -1.0, "storage": 1.0}  # sign of p/q as consumption


@dataclass
class StepArrays:
    """Per-step results of an engine; rows are steps, NaN where a step did not converge."""

    vm_pu: np.ndarray  # steps x net.bus
    line_loading_pct: np.ndarray  # steps x net.line
    trafo_loading_pct: np.ndarray  # steps x net.trafo
    pcc_p_mw: np.ndarray  # active power the ext grid delivers (> 0 import)
    pcc_q_mvar: np.ndarray  # reactive power the ext grid delivers (> 0 into the net)
    losses_mw: np.ndarray  # line and trafo losses
    converged: np.ndarray  # bool

    def set_rows(self, rows: list[int], other: StepArrays) -> None:
        """Overwrite `rows` with `other` (its rows in the same order)."""
        self.vm_pu[rows] = other.vm_pu
        self.line_loading_pct[rows] = other.line_loading_pct
        self.trafo_loading_pct[rows] = other.trafo_loading_pct
        self.pcc_p_mw[rows] = other.pcc_p_mw
        self.pcc_q_mvar[rows] = other.pcc_q_mvar
        self.losses_mw[rows] = other.losses_mw
        self.converged[rows] = other.converged


@dataclass
class StepLines:
    """Progress lines of an engine's run over `n_steps` steps (where progress is on, see
    `optimize.progress`), e.g. "power flow: 12,288 of 35,040 steps · 8.1 s": a year at
    15-minute steps takes minutes on the pandapower engine (30 ms a step)."""

    n_steps: int
    pacer: progress.LinePacer = field(default_factory=progress.LinePacer)

    def done(self, n_done: int) -> None:
        """`n_done` steps are solved: a line where one is due."""
        elapsed_s = self.pacer.due_s()
        if elapsed_s is not None:
            progress.report(f"power flow: {n_done:,} of {self.n_steps:,} steps · {elapsed_s:.1f} s")
