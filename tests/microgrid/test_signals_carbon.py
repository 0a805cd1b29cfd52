"""Carbon values in `signals` are used or refused, never dropped (the carbon audit): a
time-of-use band without carbon, `signals.carbon_g_per_kwh` beside a CSV or beside bands
that all give their own, and carbon column names that state another unit."""

from __future__ import annotations

import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY, small_scenario

import microgrid
from microgrid.signals import load_signals


def _write(tmp_path, data: dict):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _line_of(path, text: str) -> int:
    return [n for n, t in enumerate(path.read_text().splitlines(), 1) if text in t][0]


def _tou(*carbons, default=None) -> dict:
    """TINY's three bands (0-8, 8-16, 16-24) with these carbons (None: none given)."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    for band, carbon in zip(data["signals"]["time_of_use"], carbons, strict=True):
        band.pop("carbon_g_per_kwh")
        if carbon is not None:
            band["carbon_g_per_kwh"] = carbon
    if default is not None:
        data["signals"]["carbon_g_per_kwh"] = default
    return data


def test_a_band_without_carbon_is_refused_naming_the_band(tmp_path, capsys):
    """It counted as 0 g/kWh: the audit's tou.yaml emitted its diesel's 70 t alone."""
    path = _write(tmp_path, _tou(300, None, 200))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line ")
    assert "field signals.time_of_use.1: band 1 (8-16) gives no carbon_g_per_kwh" in line
    assert "signals.carbon_g_per_kwh as the default" in line


def test_signals_carbon_is_the_default_of_bands_without_one(tmp_path):
    """The audit's tou400.yaml: 400 g/kWh beside the bands was ignored (0 counted)."""
    scenario = microgrid.load_scenario(_write(tmp_path, _tou(100, None, None, default=400)))
    signals = load_signals(scenario)
    hours = signals.index.tz_convert("UTC").hour
    expected = [100.0 if h < 8 else 400.0 for h in hours]
    assert signals["carbon_g_per_kwh"].tolist() == expected


def test_a_default_no_band_uses_is_refused(tmp_path, capsys):
    path = _write(tmp_path, _tou(300, 500, 200, default=400))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line {_line_of(path, 'carbon_g_per_kwh: 400')}, ")
    assert "field signals.carbon_g_per_kwh: " in line and "every band gives its own" in line


def test_signals_carbon_beside_a_csv_is_refused(tmp_path, capsys):
    """The audit's bad/y6.yaml: 0 g/kWh beside the ERCOT file, validated and ignored."""
    data = small_scenario()
    data["signals"]["carbon_g_per_kwh"] = 0
    path = _write(tmp_path, data)
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line {_line_of(path, 'carbon_g_per_kwh: 0')}, ")
    assert "field signals.carbon_g_per_kwh: carbon_g_per_kwh is not used beside csv" in line
