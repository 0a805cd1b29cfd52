"""A coincident-peak interval or alert window shorter than the step is a warning
(microgrid/coincident_peak_warning.py): a 15-minute 4CP interval on hourly steps was
billed on the hour's average without a word."""

from __future__ import annotations

import json

import pytest
import yaml
from scenario_factory import TINY

from microgrid.cli import main

RATE = {"usd_per_mw_year": 24_000, "n_peaks": 4}
ALERT_HEADER = "date,probability,window_start_local,window_end_local\n"


def write_case(tmp_path, cp: dict | None, step_minutes: int = 60) -> str:
    """The tiny scenario at `step_minutes` with the coincident-peak section `cp`."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["period"]["step_minutes"] = step_minutes
    if cp is not None:
        data["grid"]["coincident_peaks"] = cp
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def known(minutes: int) -> dict:
    return {**RATE, "intervals": ["2023-01-02T09:00"], "interval_minutes": minutes}


def alerts(tmp_path, minutes: int, window: str) -> dict:
    (tmp_path / "alerts.csv").write_text(ALERT_HEADER + f"2023-01-02,0.5,{window}\n")
    return {**known(minutes), "mode": "alerts", "alerts_csv": "alerts.csv"}


def warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_an_interval_shorter_than_the_step_is_a_warning(tmp_path, capsys):
    assert main(["validate", write_case(tmp_path, known(15))]) == 0
    [line] = warning_lines(capsys.readouterr().err)
    assert line.startswith(
        "warning: grid.coincident_peaks.interval_minutes is 15 minutes but the steps are 60 minutes"
    )
    assert "billed on the import averaged over the step" in line
    assert "under-bill" in line
    assert "expected charge" not in line  # mode known: no alerts to speak of


def test_run_keeps_the_warning_in_the_summary(tmp_path, capsys):
    out = tmp_path / "out"
    path = write_case(tmp_path, known(30))
    assert main(["run", path, "--out", str(out), "--no-powerflow", "--quiet"]) == 0
    [warning] = json.loads((out / "summary.json").read_text())["warnings"]
    assert "interval_minutes is 30 minutes but the steps are 60 minutes" in warning
    assert warning_lines(capsys.readouterr().err) == [f"warning: {warning}"]


def test_alerts_mode_says_the_expected_charge_is_on_the_step_too(tmp_path, capsys):
    assert main(["validate", write_case(tmp_path, alerts(tmp_path, 15, "09:00,11:00"))]) == 0
    [line] = warning_lines(capsys.readouterr().err)
    assert "interval_minutes is 15 minutes" in line
    assert "highest 60-minute average, at most its highest 15-minute one" in line


def test_an_alert_window_shorter_than_the_step_is_a_warning(tmp_path, capsys):
    cp = alerts(tmp_path, 60, "09:00,09:30")
    assert main(["validate", write_case(tmp_path, cp)]) == 0
    [line] = warning_lines(capsys.readouterr().err)
    assert line.startswith(
        "warning: 1 alert window in alerts.csv is shorter than the 60-minute steps (the "
        "first 2023-01-02 09:00-09:30, the shortest 30 minutes)"
    )


@pytest.mark.parametrize(
    ("step_minutes", "cp"),
    [
        (60, known(60)),  # PJM 5CP hours on hourly steps
        (15, known(15)),  # ERCOT 4CP intervals on their own steps
        (15, known(30)),  # intervals of two steps: their average, as a meter's
        (60, None),  # no coincident peaks at all
        (60, "alerts 09:00-10:00"),  # a window of one step
        (30, "alerts 09:00-09:30"),
    ],
)
def test_no_warning_where_the_steps_meet_the_intervals(tmp_path, capsys, step_minutes, cp):
    if isinstance(cp, str):
        start, end = cp.split()[1].split("-")
        cp = alerts(tmp_path, 60, f"{start},{end}")
    assert main(["validate", write_case(tmp_path, cp, step_minutes)]) == 0
    assert capsys.readouterr().err == ""
