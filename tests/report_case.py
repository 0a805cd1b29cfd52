"""The result folder the HTML report tests read: the tiny scenario (scenario_factory.TINY)
in operate mode, with a 2-hour grid outage, the AC power flow and the baselines, so that
every section of the page has something to show. Two re-plans of 24 h (plus the event's
re-simulation) keep it to a few seconds."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from scenario_factory import TINY

import microgrid

OUTAGE = {"kind": "grid_outage", "start": "2023-01-02T12:00", "end": "2023-01-02T14:00"}
SECTION_IDS = ["kpis", "jobs", "dispatch", "bill", "voltage", "baselines", "operate"]


def tiny_operate_run(folder: Path) -> Path:
    """Solve the case and write its result folder (report.html included) to folder/run."""
    data = copy.deepcopy(TINY)
    data["operate"] = {"lookahead_h": 24, "replan_every_steps": 24, "events": [OUTAGE]}
    path = folder / "tiny-operate.yaml"
    path.write_text(yaml.safe_dump(data))
    return microgrid.run(path, mode="operate").write(folder / "run")
