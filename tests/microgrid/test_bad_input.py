"""Bad input: one clear line naming file, field and line; exit code 2; no traceback; no
partial output directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from microgrid.cli import main

ROOT = Path(__file__).resolve().parents[2]
SIGNALS = ROOT / "scenarios" / "data" / "grid-signals" / "ercot-2023.csv"


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def assert_clean_failure(code: int, err: str, out: Path, *needles: str) -> None:
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    assert leftovers == []


def _with_price(row: str, price: str) -> str:
    stamp, _, *rest = row.split(",")
    return ",".join([stamp, price, *rest])


def broken_signals(tmp_path: Path, edit) -> Path:
    lines = SIGNALS.read_text().splitlines()
    lines = edit(lines)
    path = tmp_path / "signals.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_unknown_key(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"battery.capacity_mwh": 10})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(
        code, err, tmp_path / "out", str(path), "battery.capacity_mwh", "unknown key", "line "
    )


def test_negative_capacity(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"pv.dc_mw": -5})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", "pv.dc_mw", "greater than or equal to 0")


def test_soc_min_above_max(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"battery.soc_min_frac": 0.8, "battery.soc_max_frac": 0.3})
    code, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and "soc_min_frac (0.8) > soc_max_frac (0.3)" in err and "battery" in err


def test_latitude_out_of_range(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"site.latitude_deg": 123})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", "site.latitude_deg", "line ")


def test_a_choice_not_offered_is_quoted_beside_the_choices(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"solver.window_h": 48, "solver.window_handover": "gided"})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(
        code, err, tmp_path / "out", "solver.window_handover", "'guided' or 'fixed'", "got 'gided'"
    )


def test_line_number_points_at_the_key(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    text = (ROOT / "scenarios" / "ercot-dallas.yaml").read_text()
    text = text.replace("  latitude_deg: 32.7944", "  latitude_deg: 132.7944")
    path.write_text(text)
    expected = 1 + text.splitlines().index("  latitude_deg: 132.7944")
    code, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and f"line {expected}" in err


@pytest.mark.parametrize(
    ("edit", "line", "needle"),
    [
        # a gap: the row of 2023-08-22T10:00Z is removed (data row k sits on line k + 2)
        (lambda ls: ls[:5602] + ls[5603:], 5603, "gap in time series"),
        (lambda ls: ls[:5602] + [ls[5601]] + ls[5602:], 5603, "duplicate time stamp"),
        (lambda ls: ls[:5602] + [_with_price(ls[5602], "n/a")] + ls[5603:], 5603, "'n/a'"),
    ],
    ids=["gap", "duplicate", "non-numeric"],
)
def test_broken_signal_csv(tmp_path, write_scenario, capsys, edit, line, needle):
    csv_path = broken_signals(tmp_path, edit)
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", str(csv_path), f"line {line}", needle)


def test_signals_do_not_cover_period(tmp_path, write_scenario, capsys):
    csv_path = broken_signals(tmp_path, lambda ls: ls[:5000])
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", str(csv_path), "but the period needs")


def test_unknown_turbine(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"wind.turbine_type": "E-126/4201"})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", "E-126/4201", "E-126/4200")


def test_infeasible_names_the_limit_and_hour(tmp_path, write_scenario, capsys):
    # 25 MW of inference x PUE > 1.1 cannot be served through a 10 MW connection at night.
    path = write_scenario(**{"grid.import_max_mw": 10, "grid.ramp_mw_per_h": None})
    code, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(code, err, tmp_path / "out", "infeasible", "import", "2023-08-2")


def test_failed_run_keeps_previous_results(tmp_path, write_scenario, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}')
    path = write_scenario(**{"grid.import_max_mw": 10, "grid.ramp_mw_per_h": None})
    code, err = run_cli(capsys, "run", str(path), "--out", str(out))
    assert code == 2
    assert (out / "summary.json").read_text() == '{"previous": true}'


@pytest.mark.slow
def test_subprocess_exit_code_and_no_traceback(tmp_path, write_scenario):
    path = write_scenario(**{"site.latitude_deg": -91})
    proc = subprocess.run(
        [sys.executable, "-m", "microgrid.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "site.latitude_deg" in proc.stderr
