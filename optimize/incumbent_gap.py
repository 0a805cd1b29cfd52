"""HiGHS callbacks that follow the gap of each incumbent of a MILP run: the stop at the
gap asked for, measured against each incumbent's own gap basis, and at an incumbent a bound
found before proves. Used by the MILP after the start (``optimize.milp_from_start``) and
its runs with a cutoff (``optimize.cutoff_restart``).
"""

from __future__ import annotations

import highspy

from optimize import progress
from optimize.highs import CompiledModel, HighsResult, StopAtGap, gap_basis_usd


class AbsGapOfIncumbent:
    """HiGHS's improving-solution callback that sets ``mip_abs_gap`` to ``rel_gap`` of
    each new incumbent's gap basis. HiGHS reads the option when it takes the incumbent
    (the callback runs first) and prunes every node that cannot beat it by more: the
    search stops once the gap is within ``rel_gap`` of the basis the answer reports.
    Without it the abs gap stays the start's, and a cheaper incumbent with a smaller
    basis stopped HiGHS short of the gap, costing a second run from scratch (R1's Pareto
    point at 3,194.5 t: 13.5 s, then 22.2 s more).

    ``bound_usd``: a bound proven before the MILP (the LP's, or the probe's, often above
    HiGHS's own root bound). An incumbent within ``rel_gap`` of it is proven already: the
    MIP-interrupt callback (``interrupt``, ``optimize.highs.StopAtGap``) then stops HiGHS
    (``proven``). ``stop``: that stop (a ``StopAtGap`` of ``bound_usd`` where None)."""

    def __init__(
        self,
        h,
        cm: CompiledModel,
        rel_gap: float,
        abs_gap0: float,
        bound_usd: float | None,
        stop: StopAtGap | None = None,
    ) -> None:
        self.h, self.cm, self.rel_gap, self.abs_gap0 = h, cm, rel_gap, abs_gap0
        self.stop = stop if stop is not None else StopAtGap(cm, bound_usd, rel_gap)
        self.interrupt = self.stop.interrupt

    @property
    def proven(self) -> bool:
        return self.stop.reached

    def __call__(self, e) -> None:
        d = e.data_out
        objective = float(d.objective_function_value)
        basis = gap_basis_usd(self.cm, d.mip_solution, objective)
        self.h.setOptionValue("mip_abs_gap", max(self.abs_gap0, self.rel_gap * basis))
        progress.follow_gap_basis(self.h, basis)  # the progress lines report the same gap
        self.stop.mark(objective, basis, d.mip_solution)


def stopped_proven(h, follow: AbsGapOfIncumbent, res: HighsResult, rel_gap: float) -> bool:
    """Whether ``follow`` stopped HiGHS at an answer proven within ``rel_gap`` by the bound
    found before the MILP (its status is then HiGHS's "interrupted")."""
    interrupted = h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    return interrupted and follow.proven and res.gap_basis is not None and res.mip_gap <= rel_gap
