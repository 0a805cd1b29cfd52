"""microgrid: grid co-simulation and renewable microgrid optimizer for AI data centers.

import microgrid
sc = microgrid.load_scenario("scenarios/ercot-dallas.yaml")
sc = sc.with_updates({"battery.power_mw": 60})  # a validated copy, fields by dotted path
res = microgrid.run(sc)      # res.timeseries, res.summary, res.violations, res.net (pandapower)
res.write("out/")

Units are in the names (`_mw`, `_mwh`, `_usd`, `_t`, `_pu`, `_pct`); `_frac` fields and
`summary["renewable_share"]` are fractions 0..1. Bad input raises `InputError`
(`microgrid.errors.InputErrors` for several at once) naming the file, line and field, or
for `with_updates` the override; `help(microgrid.run)` lists what else a solve raises.

The public names load on first use (PEP 562), so `microgrid validate` and a bad input's
one-line answer do not wait seconds for pandapower and the plotting stack to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microgrid.errors import InputError
from microgrid.lazy import lazy_names

if TYPE_CHECKING:
    from microgrid.connection_headroom import headroom
    from microgrid.output import Result
    from microgrid.pipeline import run
    from microgrid.scenario import Scenario, load_scenario
    from microgrid.sizing.run import size
    from microgrid.sweeps import sweep, sweep_report

# Public name -> the module that defines it.
_LAZY = {
    "Result": "microgrid.output",
    "headroom": "microgrid.connection_headroom.curve",
    "run": "microgrid.pipeline",
    "size": "microgrid.sizing.run",
    "Scenario": "microgrid.scenario",
    "load_scenario": "microgrid.scenario",
    "sweep": "microgrid.sweeps",
    "sweep_report": "microgrid.sweeps",
}

__all__ = [
    "InputError",
    "Result",
    "Scenario",
    "headroom",
    "load_scenario",
    "run",
    "size",
    "sweep",
    "sweep_report",
]
__version__ = "0.1.0"


__getattr__ = lazy_names(__name__, globals(), _LAZY)
