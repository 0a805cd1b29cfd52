"""microgrid: grid co-simulation and renewable microgrid optimizer for AI data centers.

import microgrid
sc = microgrid.load_scenario("scenarios/ercot-dallas.yaml")
res = microgrid.run(sc)      # res.timeseries, res.summary, res.net (pandapower)
res.write("out/")
"""

from microgrid.errors import InputError
from microgrid.run import Result, run
from microgrid.scenario import Scenario, load_scenario
from microgrid.sweeps import sweep, sweep_report

__all__ = ["InputError", "Result", "Scenario", "load_scenario", "run", "sweep", "sweep_report"]
__version__ = "0.1.0"
