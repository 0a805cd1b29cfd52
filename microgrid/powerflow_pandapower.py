"""The reference power-flow engine: one `pandapower.runpp` per step.

Each step's profile values are written into the net's element tables, the flow is solved
and the results read back; the net's own values are restored afterwards. A step that does
not converge stays NaN (`converged` False).
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandas as pd

from microgrid.powerflow_steps import Profiles, StepArrays, StepLines


def _empty(net: pp.pandapowerNet, n: int) -> StepArrays:
    return StepArrays(
        vm_pu=np.full((n, len(net.bus)), np.nan),
        line_loading_pct=np.full((n, len(net.line)), np.nan),
        trafo_loading_pct=np.full((n, len(net.trafo)), np.nan),
        pcc_p_mw=np.full(n, np.nan),
        pcc_q_mvar=np.full(n, np.nan),
        losses_mw=np.full(n, np.nan),
        converged=np.zeros(n, dtype=bool),
    )


def run_pandapower(net: pp.pandapowerNet, profiles: Profiles, index: pd.Index) -> StepArrays:
    """One AC power flow per row of `index`, with the profiles' values of that row."""
    n = len(index)
    mats = {k: v.to_numpy(dtype=float) for k, v in profiles.items()}
    saved = {k: net[k[0]][k[1]].copy() for k in profiles}
    pos = {k: net[k[0]].index.get_indexer(v.columns) for k, v in profiles.items()}
    out = _empty(net, n)
    eg = np.nonzero(net.ext_grid.in_service.to_numpy(bool))[0]
    lines = StepLines(n)
    try:
        for t in range(n):
            lines.done(t)
            for k, m in mats.items():
                col = net[k[0]].columns.get_loc(k[1])
                net[k[0]].iloc[pos[k], col] = m[t]
            try:
                # numba is installed (optimize.job_dp), but pandapower's numba path compiles
                # anew in every process (1.4 s on its case118) for nothing a step on nets of
                # this size (28-30 ms a step on case118 either way)
                pp.runpp(net, numba=False)
            except pp.LoadflowNotConverged:
                continue
            out.converged[t] = True
            out.vm_pu[t] = net.res_bus.vm_pu.to_numpy()
            out.line_loading_pct[t] = net.res_line.loading_percent.to_numpy()
            out.trafo_loading_pct[t] = net.res_trafo.loading_percent.to_numpy()
            out.pcc_p_mw[t] = net.res_ext_grid.p_mw.to_numpy()[eg].sum()
            out.pcc_q_mvar[t] = net.res_ext_grid.q_mvar.to_numpy()[eg].sum()
            out.losses_mw[t] = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
    finally:
        for (table, column), values in saved.items():
            net[table][column] = values
    return out
