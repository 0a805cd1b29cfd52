"""The CLI's summary lines that are built from summary.json alone."""

from __future__ import annotations

import pytest

from microgrid.cli_summary import (
    _bill_lines,
    _breaches_line,
    _coincident_peak_line,
    _cost_lines,
    _dr_program_line,
    _gap_note,
)


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
    # the energy above the caps where the breaches have it (operate's and the baselines')
    some["dr_cap_breach_mwh"] = 2.975
    expected = "ramp 1 step (max 2.9 MW), DR cap 3 steps (max 1.2 MW, 2.98 MWh above it)"
    assert _breaches_line(some) == expected


def test_the_status_line_says_what_the_proven_gap_leaves_open():
    r1 = {"mip_gap": 0.009914842839555352, "gap_basis_usd": 902764.3228241177}
    assert _gap_note(r1) == ", proven within 0.99 % (8,951 USD)"
    assert _gap_note({"mip_gap": 0.0, "gap_basis_usd": 10.0}) == ""  # an LP, or exact
    assert _gap_note({"mip_gap": 0.01}) == ""  # no basis: nothing to state in USD


def test_the_status_line_restates_the_gap_asked():
    # "optimal" means within the gap asked, which the line did not say
    r1 = {"mip_gap": 0.006, "gap_basis_usd": 890_833.0, "mip_rel_gap": 0.01}
    assert _gap_note(r1) == ", proven within 0.60 % (5,345 USD; 1 % asked)"
    assert _gap_note(r1 | {"mip_rel_gap": 0.001}).endswith("(5,345 USD; 0.1 % asked)")
    windows = {"gap_scope": "each window", "status": "optimal", "windows": []}
    note = _gap_note(r1 | windows)
    assert note.endswith("each proven within 0.60 % (1 % asked; no bound for the period)")


def test_bill_lines_only_when_the_bill_says_more_than_energy_and_demand():
    plain = {
        "lines": {"energy_usd": -199_573.2, "demand_flat_usd": 158_220.0},
        "labels": {"energy_usd": "Energy", "demand_flat_usd": "Demand charge (monthly peak)"},
        "months": [{"month": "2023-08"}],
        "total_usd": -41_353.2,
    }
    assert _bill_lines(plain) == []
    tou = {
        "lines": {"energy_period_2_usd": 55_000.0, "fixed_usd": 96.8},
        "labels": {"energy_period_2_usd": "Energy, tariff period 2", "fixed_usd": "Fixed charge"},
        "months": [{"month": "2023-07"}, {"month": "2023-08"}],
        "total_usd": 55_096.8,
    }
    rows = _bill_lines(tou)
    assert rows[0].split() == ["bill", "55,097", "USD", "(2023-07,", "2023-08;", "bill.csv)"]
    # each amount under the bill's, the label after it (a period's label names its hours)
    assert rows[1].split()[:2] == ["55,000", "USD"] and rows[1].endswith("tariff period 2")
    assert rows[2].split()[:2] == ["97", "USD"] and rows[2].endswith("Fixed charge")
    assert rows[1].index("55,000") + len("55,000") == rows[0].index("55,097") + len("55,097")


def test_coincident_peak_and_dr_program_lines():
    cp = {
        "intervals": [{"covered": True}, {"covered": False}, {"covered": True}],
        "n_peaks": 4,
        "tag_mw": 13.77,
        "charge_usd": 344_318.0,
    }
    assert _coincident_peak_line(cp) == (
        "  coincident peak tag 13.8 MW (2 of 4 intervals in the period): 344,318 USD"
    )
    dr = {
        "commit_mw": 20.0,
        "events": [{}, {}],
        "net_revenue_usd": 1_150.0,
        "capacity_payment_usd": 1_100.0,
        "energy_payment_usd": 250.0,
        "shortfall_penalty_usd": 200.0,
    }
    line = _dr_program_line(dr)
    assert "20.0 MW committed, 2 events: 1,150 USD to the site" in line
    assert line.endswith("(capacity 1,100, energy 250, shortfall penalty 200)")


def _costs(**extra) -> dict:
    """A summary's cost keys: R1's week with wear, the parts of its total."""
    s = {
        "energy_cost_usd": -201_376.0,
        "demand_cost_usd": 155_866.0,
        "fuel_cost_usd": 0.0,
        "wear_cost_usd": 5_669.0,
        "fixed_cost_usd": 0.0,
        "dr_program_usd": 0.0,
        "unfinished_penalty_usd": 0.0,
        "carbon_cost_usd": 0.0,
    } | extra
    parts = ("energy", "demand", "fuel", "wear", "fixed")
    s["total_cost_usd"] = sum(s[f"{k}_cost_usd"] for k in parts) + s["dr_program_usd"]
    s["total_cost_usd"] += s["unfinished_penalty_usd"]
    return s


def _usd(row: str) -> float:
    return float(row.split("USD")[0].split()[-1].replace(",", ""))


def test_the_printed_parts_add_up_to_the_printed_total():
    for s in (
        _costs(),
        _costs(fuel_cost_usd=1_234.0, fixed_cost_usd=96.8, dr_program_usd=-5_000.0),
        _costs(unfinished_penalty_usd=700.0, wear_cost_usd=0.0),
    ):
        rows = [r for r in _cost_lines(s) if "carbon" not in r]
        assert rows[0].split()[:2] == ["total", "cost"]
        assert sum(_usd(r) for r in rows[1:]) == pytest.approx(_usd(rows[0]), abs=2.0)
    assert "battery wear" in "".join(_cost_lines(_costs()))


def test_the_carbon_cost_is_printed_apart_from_the_total():
    s = _costs(carbon_cost_usd=650_493.0)
    rows = _cost_lines(s)
    carbon = [r for r in rows if "carbon" in r]
    assert len(carbon) == 1 and _usd(carbon[0]) == 650_493.0
    assert "not in the total" in carbon[0] and not carbon[0].startswith("    ")
    assert not any("carbon" in r for r in _cost_lines(_costs()))


def test_the_status_line_counts_the_windows_that_have_the_runs_status():
    # c4 of the rolling-bill audit: one price-fix window of four above the 1 % gap made
    # the run "heuristic", and the line read "heuristic in each of 4 rolling windows"
    gaps = {"optimal": 0.003, "heuristic": 0.0112}
    statuses = ["heuristic", "optimal", "optimal", "optimal"]
    windows = [{"status": s, "mip_gap": gaps[s]} for s in statuses]
    solver = {"status": "heuristic", "mip_gap": 0.0112, "gap_scope": "each window"}
    note = _gap_note(solver | {"windows": windows})
    assert note == (
        " in 1 of 4 rolling windows (3 optimal), each proven within 1.12 % "
        "(no bound for the period)"
    )
    same = [{"status": "optimal", "mip_gap": 0.003}] * 2
    note = _gap_note(solver | {"status": "optimal", "mip_gap": 0.003, "windows": same})
    assert note.startswith(" in each of 2 rolling windows, each proven within 0.30 %")
