"""The CLI's summary lines that are built from summary.json alone."""

from __future__ import annotations

from microgrid.cli import _breaches_line, _gap_note


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


def test_the_status_line_says_what_the_proven_gap_leaves_open():
    r1 = {"mip_gap": 0.009914842839555352, "gap_basis_usd": 902764.3228241177}
    assert _gap_note(r1) == ", proven within 0.99 % (8,951 USD)"
    assert _gap_note({"mip_gap": 0.0, "gap_basis_usd": 10.0}) == ""  # an LP, or exact
    assert _gap_note({"mip_gap": 0.01}) == ""  # no basis: nothing to state in USD
