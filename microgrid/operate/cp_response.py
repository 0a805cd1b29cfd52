"""What responding to coincident-peak alerts did in the closed loop: the tag it reached and
what its curtailments cost, against the same run that ignores the alerts.

Both runs are billed on the real intervals (`microgrid.coincident_peak.hindsight_grid`).
With `cost` the run's cost (operate's `run_cost`, the coincident-peak charge included)
and `cp` its coincident-peak charge:

    curtailment_cost_usd = (cost − cp)[responding] − (cost − cp)[ignoring]
    saving_usd           = cost[ignoring] − cost[responding]

so the curtailments' cost is what moving load off the alert windows cost in energy,
demand, fuel, wear and job penalties, and the saving what responding gained in all.
"""

from __future__ import annotations

import dataclasses

from microgrid.coincident_peak import CoincidentPeakCase
from microgrid.coincident_peak_bill import cp_bill
from microgrid.operate.loop import OperateCase, run_loop
from microgrid.operate.record import OperateRun


def _never_known(case: OperateCase) -> OperateCase:
    """`case` with every alert announced after the last step: the controller ignores them."""
    never = case.problem.n_steps + 1
    return dataclasses.replace(case, visible_from_step=dict.fromkeys(case.visible_from_step, never))


def alert_response(
    case: OperateCase, cp: CoincidentPeakCase, responding: OperateRun, run_cost
) -> dict:
    """`summary["operate"]["coincident_peak_response"]`: the tag and charge of the run
    that responds to alerts and of the same run ignoring them (one more closed loop), the
    curtailments' cost and the saving (USD; see the module header). `run_cost`: the
    function that totals a run's costs."""
    ignoring = run_loop(_never_known(case), label="operate, alerts ignored")
    index = case.inputs.index
    out = {}
    for name, run in (("responding", responding), ("ignoring", ignoring)):
        bill = cp_bill(cp, index, run.actual["grid_import_mw"].to_numpy())
        out[name] = {
            "tag_mw": bill.tag_mw,
            "charge_usd": bill.charge_usd,
            "cost_usd": run_cost(run.costs),
        }
    r, i = out["responding"], out["ignoring"]
    out["curtailment_cost_usd"] = (r["cost_usd"] - r["charge_usd"]) - (
        i["cost_usd"] - i["charge_usd"]
    )
    out["saving_usd"] = i["cost_usd"] - r["cost_usd"]
    return out


def needs_alert_response(case: OperateCase, cp: CoincidentPeakCase | None) -> bool:
    """Alerts to respond to, and event costs computed by re-simulation."""
    return (
        cp is not None
        and cp.mode == "alerts"
        and bool(case.visible_from_step)
        and case.scenario.operate.event_costs == "rerun"
    )
