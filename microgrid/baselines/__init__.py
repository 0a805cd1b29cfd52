"""Baselines: what a plain operator would do, to show what optimisation buys.

Three plans on the same `optimize.Problem` the optimizer solves (rules in
docs/baselines.md):

- `asap` and `carbon-threshold`: rule-based simulations. Job rules in `jobs.py`; the
  energy rules (`energy.py`, with the look-ahead of `plant.py`) keep every limit they
  can: the import limit (outages and demand-response caps included), the ramp limit on
  net import and the final state of charge, and run the battery and generators first
  where the job rule would force a breach.
- `storage-optimal` (`storage.py`): the jobs run as in asap, everything else is
  optimised; it splits the optimum's saving into what storage buys and what job
  flexibility buys on top.

Every plan's limit breaches are measured on its rows (`limits.py`), its costs by
`microgrid.costs.cost_breakdown`, the optimizer's own accounting.
"""

from microgrid.baselines.jobs import RULE_BASELINES, schedule_job, schedule_jobs, trailing_median
from microgrid.baselines.limits import limit_breaches
from microgrid.baselines.result import BaselineResult
from microgrid.baselines.run import BASELINES, STORAGE_OPTIMAL, local_days, run_baselines, simulate
from microgrid.baselines.summary import add_baselines, baseline_summary, value_of

__all__ = [
    "BASELINES",
    "RULE_BASELINES",
    "STORAGE_OPTIMAL",
    "BaselineResult",
    "add_baselines",
    "baseline_summary",
    "limit_breaches",
    "local_days",
    "run_baselines",
    "schedule_job",
    "schedule_jobs",
    "simulate",
    "trailing_median",
    "value_of",
]
