"""Fixtures for the export tests; `slurm_cluster` starts a real one-node Slurm."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# plain `pytest` without an installed package: make `import microgrid` work
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# tests/slurm_cluster.py; appended, so tests/weather etc. never shadow the packages
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))

from slurm_cluster import slurm_cluster  # noqa: E402, F401
