"""`microgrid --help` and `--version` answer without loading the solver or data stack.

Not a timed test: it checks what is imported (Pyomo, HiGHS, pandas, pandapower, pvlib each
take a second or more to load), which is what makes the answer fast on any machine.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from scenario_factory import ROOT

import microgrid

HEAVY = ("pyomo", "highspy", "pandas", "pandapower", "pvlib", "matplotlib")

PROBE = """
import sys
from microgrid.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("EXIT", code, "HEAVY", ",".join(heavy) or "none", file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["export", "--help"]])
def test_help_and_version_load_no_heavy_package(argv):
    code = PROBE.format(argv=argv, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    last = out.stderr.strip().splitlines()[-1]
    assert last == "EXIT 0 HEAVY none", last
    if argv == ["--version"]:
        assert out.stdout.strip() == f"microgrid {microgrid.__version__}"
    else:
        assert out.stdout.startswith("usage: microgrid")


def test_validate_loads_no_network_solver_or_plotting_stack():
    # validate makes run's checks before the solve: pandapower (the AC power flow), the
    # solver stack (Pyomo, HiGHS) and the plotting libraries are no part of them, and take
    # seconds to import
    r1 = str(ROOT / "scenarios" / "ercot-dallas.yaml")
    probe = PROBE.replace("    main(", "    code = main(")  # validate returns its exit code
    heavy = ("pandapower", "matplotlib", "plotly", "pyomo", "highspy")
    code = probe.format(argv=["validate", r1], heavy=heavy)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "EXIT 0 HEAVY none", out.stderr
    assert out.stdout.startswith(f"{r1}: valid (168 steps of 60 min, 8 jobs)")
