"""`microgrid --help` and `--version` answer without loading the solver or data stack.

Not a timed test: it checks what is imported (Pyomo, HiGHS, pandas, pandapower, pvlib each
take a second or more to load), which is what makes the answer fast on any machine.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

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
