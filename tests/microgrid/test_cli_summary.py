"""The CLI's summary lines that are built from summary.json alone."""

from __future__ import annotations

from microgrid.cli import _breaches_line


def test_breaches_line_names_each_limit_and_its_worst_excess():
    none = {"ramp_breach_steps": 0, "ramp_breach_max_mw": 0.0, "dr_cap_breach_steps": 0}
    assert _breaches_line(none) == "ramp none, DR cap none"
    some = {
        "ramp_breach_steps": 1,
        "ramp_breach_max_mw": 2.94,
        "dr_cap_breach_steps": 3,
        "dr_cap_breach_max_mw": 1.25,
    }
    assert _breaches_line(some) == "ramp 1 step (max 2.9 MW), DR cap 3 steps (max 1.2 MW)"
