"""Price and carbon files that are not hourly rows on the step grid, and the lines their
errors name (an outside audit's findings: a 15-minute file was sampled at :00, a repeated
column quietly gave its first copy, a 3 h shift of a 2-hourly file moved it 2 h, and
blank lines shifted every later line number).

The scenario is TINY (two days from Monday 2023-01-02, UTC) reading a copy of ERCOT's
2023 file cut to 2023-01-01 .. 2023-01-05.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, TINY

from microgrid.scenario import load_scenario
from microgrid.signals import load_signals

ERCOT = DATA / "grid-signals" / "ercot-2023.csv"
WEATHER = DATA / "weather" / "dallas-2023.csv"
PRICE, CARBON = "price_usd_per_mwh", "carbon_direct_g_per_kwh"


def hourly() -> pd.DataFrame:
    """ERCOT's rows of 2023-01-01 .. 2023-01-05 (UTC) as read from the file, as text."""
    rows = pd.read_csv(ERCOT, dtype=str)
    return rows[(rows["timestamp_utc"] >= "2023-01-01") & (rows["timestamp_utc"] < "2023-01-06")]


def scenario(tmp_path: Path, rows: pd.DataFrame | str, step_minutes: int = 60, **signals) -> Path:
    tmp_path.mkdir(exist_ok=True)
    csv = tmp_path / "signals.csv"
    csv.write_text(rows if isinstance(rows, str) else rows.to_csv(index=False))
    data = copy.deepcopy(TINY)
    data["signals"] = {"csv": str(csv), **signals}
    data["period"]["step_minutes"] = step_minutes
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def signals_of(path: Path) -> pd.DataFrame:
    return load_signals(load_scenario(path))


def quarter_hours(rows: pd.DataFrame, extra: tuple[float, ...]) -> pd.DataFrame:
    """Each hourly row as four 15-minute rows whose prices add `extra` to the hour's."""
    out = []
    for _, row in rows.iterrows():
        t = pd.Timestamp(row["timestamp_utc"])
        for q, add in enumerate(extra):
            stamp = (t + pd.Timedelta(minutes=15 * q)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append({**row, "timestamp_utc": stamp, PRICE: float(row[PRICE]) + add})
    return pd.DataFrame(out)


def test_an_hourly_file_on_the_grid_is_read_as_it_is(tmp_path):
    got = signals_of(scenario(tmp_path, hourly()))
    want = hourly().set_index(pd.to_datetime(hourly()["timestamp_utc"], utc=True))
    want = want.loc[got.index, PRICE].astype(float).to_numpy()
    assert np.array_equal(got[PRICE].to_numpy(), want)  # bit for bit, no averaging
    assert len(got) == 48


@pytest.mark.parametrize("step_minutes", [60, 30])
def test_a_finer_file_gives_each_step_its_mean(tmp_path, step_minutes):
    extra = (0.0, 100.0, 200.0, 300.0)
    got = signals_of(scenario(tmp_path / "q", quarter_hours(hourly(), extra), step_minutes))
    base = signals_of(scenario(tmp_path / "h", hourly(), step_minutes))
    # an hour's four quarters average to +150; a half hour's two to +50 or +250
    if step_minutes == 60:
        want = base[PRICE].to_numpy() + 150.0
    else:
        want = base[PRICE].to_numpy() + np.tile([50.0, 250.0], len(base) // 2)
    assert got[PRICE].to_numpy() == pytest.approx(want, abs=1e-9)
    assert got["carbon_g_per_kwh"].to_numpy() == pytest.approx(base["carbon_g_per_kwh"])


def test_an_hourly_file_off_the_grid_is_weighted_by_the_time_each_row_holds(tmp_path):
    rows = hourly()
    stamps = pd.to_datetime(rows["timestamp_utc"], utc=True) + pd.Timedelta(minutes=30)
    shifted = rows.assign(timestamp_utc=stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    got = signals_of(scenario(tmp_path, shifted))
    price = rows[PRICE].astype(float).to_numpy()
    start = int(np.flatnonzero(stamps == got.index[0] + pd.Timedelta(minutes=30))[0])
    # the step [t, t + 1 h) holds the row of t - 30 min for half of it, of t + 30 min the rest
    want = 0.5 * price[start - 1 : start + 47] + 0.5 * price[start : start + 48]
    assert got[PRICE].to_numpy() == pytest.approx(want, abs=1e-9)


def test_a_repeated_column_is_refused(tmp_path, capsys):
    text = hourly().to_csv(index=False).replace(f"{PRICE},", f"{PRICE},{PRICE},", 1)
    lines = [text.splitlines()[0]] + [ln.replace(",", ",1000,", 1) for ln in text.splitlines()[1:]]
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    line = one_error_line(capsys, ["validate", str(path)])
    assert f"signals.csv, line 1, field {PRICE}: column '{PRICE}' appears twice" in line


def test_a_shift_that_is_not_whole_rows_is_refused(tmp_path, capsys):
    two_hourly = hourly().iloc[::2]
    path = scenario(tmp_path, two_hourly, price_shift_h=3)
    line = one_error_line(capsys, ["validate", str(path)])
    assert "field signals.price_shift_h: price_shift_h (3 h) is not a whole number" in line
    # 4 h is two rows: the price at t is the file's at t + 4 h
    path = scenario(tmp_path, two_hourly, price_shift_h=4)
    got, plain = signals_of(path), signals_of(scenario(tmp_path, two_hourly))
    assert np.array_equal(got[PRICE].to_numpy()[:-4], plain[PRICE].to_numpy()[4:])


def test_blank_lines_do_not_shift_the_line_an_error_names(tmp_path, capsys):
    lines = hourly().to_csv(index=False).splitlines()
    lines[50] = lines[50].split(",")[0] + ",zzz," + ",".join(lines[50].split(",")[2:])
    text = "\n".join(lines[:41] + ["", "   ", ""] + lines[41:]) + "\n"
    path = scenario(tmp_path, text)
    line = one_error_line(capsys, ["validate", str(path)])
    assert f"signals.csv, line 54, field {PRICE}: not a number: 'zzz'" in line  # 51 + 3


def test_a_row_with_too_many_cells_names_its_line(tmp_path, capsys):
    lines = hourly().to_csv(index=False).splitlines()
    lines[41] += ",7"
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.endswith("signals.csv, line 42: 5 cells where the header has 4"), line


def test_weather_blank_lines_do_not_shift_the_line_an_error_names(tmp_path, capsys):
    lines = WEATHER.read_text().splitlines()
    lines[5597] = lines[5597].split(",")[0] + ",zz," + ",".join(lines[5597].split(",")[2:])
    weather = tmp_path / "dallas-2023.csv"  # the shipped name: its site metadata applies
    weather.write_text("\n".join(lines[:101] + [""] + lines[101:]) + "\n")
    data = copy.deepcopy(TINY)
    data["weather"] = {"source": "site_csv", "path": str(weather)}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "dallas-2023.csv, line 5599, field temp_air_c: not a number: 'zz'" in line, line
