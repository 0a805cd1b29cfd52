"""Weather files as a scenario reads them: typical years at any offset and period,
half-hour stamps, the site's location, hostile values (one line, exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
import yaml
from weather_files import FIELD, epw_records, write_epw

from microgrid.cli import main
from microgrid.errors import InputError
from microgrid.resources import read_weather, resource_profiles
from microgrid.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PVLIB_DATA = Path(pvlib.__file__).parent / "data"
GREENSBORO = {"latitude_deg": 36.1, "longitude_deg": -79.95, "altitude_m": 273.0}
SYDNEY = {"latitude_deg": -33.87, "longitude_deg": 151.21, "altitude_m": 40.0}


def scenario_file(
    tmp_path: Path,
    site: dict,
    timezone: str,
    start: str,
    end: str,
    weather: dict,
    step_minutes: int = 60,
    wind: bool = True,
) -> Path:
    """A scenario with flat signals, PV (and wind) at ``site`` over local [start, end)."""
    sc = {
        "name": "weather-test",
        "site": {**site, "timezone": timezone},
        "period": {"start": start, "end": end, "step_minutes": step_minutes},
        "signals": {"price_usd_per_mwh": 50, "carbon_g_per_kwh": 400},
        "weather": weather,
        "pv": {
            "dc_mw": 100,
            "ac_mw": 80,
            "tilt_deg": 30,
            "azimuth_deg": 0 if site["latitude_deg"] < 0 else 180,
        },
        "grid": {"import_max_mw": 1000, "export_max_mw": 1000},
        "datacenter": {"it_capacity_mw": 10, "inference": {"mean_mw": 5, "amplitude_mw": 0}},
    }
    if wind:
        sc["wind"] = {"turbine_type": "E-126/4200", "n_turbines": 10, "hub_height_m": 135}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def validate(capsys, path: Path) -> tuple[int, str]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def profiles(path: Path) -> pd.DataFrame:
    sc = load_scenario(path)
    return resource_profiles(sc, sc.index())


# ------------------------------------------------------------------ typical years (defect 1)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2023-01-01T00:00", "2023-01-04T00:00"), ("2023-12-29T00:00", "2024-01-03T00:00")],
)
def test_sydney_epw_serves_a_local_new_year(tmp_path, capsys, start, end):
    """UTC+10: local 1 January starts on 31 December UTC. The typical year used to be laid
    on the UTC year of the period's start only, so these periods were 'missing'."""
    epw = write_epw(tmp_path / "syd.epw")
    path = scenario_file(
        tmp_path, SYDNEY, "Australia/Sydney", start, end, {"source": "tmy", "path": str(epw)}
    )
    code, err = validate(capsys, path)
    assert code == 0, err
    # the synthetic temperature is the record's hour of the year / 1000
    temp = profiles(path)["temp_air_c"]
    local = temp.index.tz_convert("Etc/GMT-10")
    want = ((local.dayofyear - 1) * 24 + local.hour) / 1000.0
    np.testing.assert_allclose(temp.to_numpy(), want, atol=1e-9)


def test_greensboro_tmy3_serves_the_local_calendar_year(tmp_path, capsys):
    """pvlib's Greensboro TMY3 (UTC-5) over local 2023 in America/New_York: the last five
    hours are in 2024 UTC and were missing; they hold the file's last records."""
    path = scenario_file(
        tmp_path,
        GREENSBORO,
        "America/New_York",
        "2023-12-30T00:00",
        "2024-01-01T00:00",
        {"source": "tmy", "path": str(PVLIB_DATA / "723170TYA.CSV")},
    )
    code, err = validate(capsys, path)
    assert code == 0, err
    raw, _ = pvlib.iotools.read_tmy3(str(PVLIB_DATA / "723170TYA.CSV"), map_variables=True)
    temp = profiles(path)["temp_air_c"]
    np.testing.assert_array_equal(temp.iloc[-5:].to_numpy(), raw["temp_air"].iloc[-5:].to_numpy())


# ------------------------------------------------------------- half-hour stamps (defect 2)

ST_JOHNS = {"latitude_deg": 47.56, "longitude_deg": -52.71, "altitude_m": 50.0}
ADELAIDE = {"latitude_deg": -34.93, "longitude_deg": 138.6, "altitude_m": 50.0}


@pytest.mark.parametrize("step_minutes", [60, 30])
def test_st_johns_site_csv_at_half_past(tmp_path, capsys, step_minutes):
    """utc_offset_seconds -9000 puts the rows at :30 UTC; they cover the period."""
    stamps = pd.date_range("2023-07-09", periods=24 * 5, freq="h")
    rows = [f"{t:%Y-%m-%dT%H:%M},{i % 24},60,50,20" for i, t in enumerate(stamps)]
    csv = tmp_path / "stjohns.csv"
    csv.write_text(
        "time_local,temp_air_c,relative_humidity_pct,cloud_cover_pct,wind_speed_10m_kmh\n"
        + "\n".join(rows)
        + "\n"
    )
    weather = {"source": "site_csv", "path": str(csv), "utc_offset_seconds": -9000}
    path = scenario_file(
        tmp_path,
        ST_JOHNS,
        "America/St_Johns",
        "2023-07-10T00:30",
        "2023-07-12T00:30",
        weather,
        step_minutes=step_minutes,
    )
    code, err = validate(capsys, path)
    assert code == 0, err
    prof = profiles(path)
    assert prof["pv_available_mw"].max() > 10 and prof["wind_available_mw"].max() > 0


def test_adelaide_epw_at_half_past(tmp_path, capsys):
    """An EPW with TZ 9.5: its records are stamped at :30 UTC."""
    epw = write_epw(tmp_path / "adl.epw", lat=-34.93, lon=138.6, tz_h=9.5, alt=50)
    path = scenario_file(
        tmp_path,
        ADELAIDE,
        "Australia/Adelaide",
        "2023-06-19T00:30",
        "2023-06-22T00:30",
        {"source": "tmy", "path": str(epw)},
    )
    code, err = validate(capsys, path)
    assert code == 0, err


# ------------------------------------------------------------------- pressure (defect 5)


def _pressure_epw(tmp_path: Path, text: str) -> Path:
    rows = epw_records()
    for r in rows:
        r[FIELD["pressure"]] = text
    return write_epw(tmp_path / "p.epw", rows)


def _sydney_day(tmp_path: Path, epw: Path) -> Path:
    """A scenario of 19 June 2023 in Sydney on the EPW file `epw`."""
    weather = {"source": "tmy", "path": str(epw)}
    return scenario_file(
        tmp_path, SYDNEY, "Australia/Sydney", "2023-06-19T00:00", "2023-06-20T00:00", weather
    )


def test_epw_pressure_missing_everywhere_keeps_the_wind(tmp_path, capsys):
    """All pressures 999999 (missing): wind as with the standard atmosphere at 40 m, not 0."""
    runs = {}
    for text in ("999999", f"{pvlib.atmosphere.alt2pres(40.0):.0f}"):
        path = _sydney_day(tmp_path, _pressure_epw(tmp_path, text))
        runs[text] = profiles(path)["wind_available_mw"]
    missing, standard = runs.values()
    assert missing.sum() > 100
    np.testing.assert_allclose(missing.to_numpy(), standard.to_numpy(), rtol=1e-5)


def test_epw_pressure_zero_is_refused(tmp_path, capsys):
    epw = _pressure_epw(tmp_path, "0")
    path = _sydney_day(tmp_path, epw)
    code, err = validate(capsys, path)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{epw}, line 9, field pressure_pa: value 0 Pa outside" in err


# ----------------------------------------------------------------- hostile EPW (defect 7)


@pytest.mark.parametrize(
    ("field", "pos", "text", "needle"),
    [
        ("hour", 3, "25", "line 109, field hour: hour '25': expected a whole number 1..24"),
        ("minute", 4, "30", "line 109, field minute: minute '30': expected 0 or 60"),
    ],
)
def test_hostile_epw_is_one_line(tmp_path, capsys, field, pos, text, needle):
    rows = epw_records()
    rows[100][pos] = text
    epw = write_epw(tmp_path / "bad.epw", rows)
    path = _sydney_day(tmp_path, epw)
    code, err = validate(capsys, path)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"{epw}, {needle}" in err


# ------------------------------------------------------- the file's location (defect 6)


def test_weather_file_far_from_the_site_is_refused(tmp_path, capsys):
    """A Sydney site with the Greensboro TMY3 was 'valid'."""
    weather = {"source": "tmy", "path": str(PVLIB_DATA / "723170TYA.CSV")}
    path = scenario_file(
        tmp_path, SYDNEY, "Australia/Sydney", "2023-06-19T00:00", "2023-06-20T00:00", weather
    )
    code, err = validate(capsys, path)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "field weather.path" in err and "36.1000, -79.9500, 15,402 km from the site" in err
    assert "-33.8700, 151.2100 (weather.max_site_distance_km is 100)" in err
    weather["max_site_distance_km"] = 16_000
    path = scenario_file(
        tmp_path, SYDNEY, "Australia/Sydney", "2023-06-19T00:00", "2023-06-20T00:00", weather
    )
    assert validate(capsys, path)[0] == 0


# --------------------------------------------------------------- a hub below the blades


def test_a_hub_below_the_blade_tips_is_refused(tmp_path, capsys):
    """A 5 m hub for the E-126 (127 m rotor) ran, its log-law wind taken at 5 m."""
    epw = _pressure_epw(tmp_path, "101325")
    path = _sydney_day(tmp_path, epw)
    sc = yaml.safe_load(path.read_text())
    sc["wind"]["hub_height_m"] = 60
    path.write_text(yaml.safe_dump(sc))
    code, err = validate(capsys, path)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "field wind.hub_height_m: hub height 60 m is below the E-126/4200's blade tips" in err
    sc["wind"]["hub_height_m"] = 64
    path.write_text(yaml.safe_dump(sc))
    assert validate(capsys, path)[0] == 0


def test_a_shipped_site_csv_is_held_to_the_distance_too():
    """The shipped site CSVs state their place in SITE_METADATA, not in the file: the
    distance check once skipped them (R2's 250 km setting was never used)."""
    r2 = load_scenario(
        Path(__file__).resolve().parents[2] / "scenarios" / "pjm-virginia-outage.yaml"
    )
    read_weather(r2)  # Philadelphia's file, 224 km from Ashburn, within R2's 250 km
    with pytest.raises(InputError, match="224 km from the site") as err:
        read_weather(r2.with_updates({"weather.max_site_distance_km": 200}))
    assert err.value.field == "weather.path" and "max_site_distance_km is 200" in str(err.value)
    with pytest.raises(InputError, match="km from the site"):
        read_weather(r2.with_updates({"site.latitude_deg": -33.87, "site.longitude_deg": 151.21}))


# ------------------------------------------- the header's location, EPW text (audit 2)


def _greensboro_day(tmp_path: Path, path: Path) -> Path:
    weather = {"source": "tmy", "path": str(path)}
    return scenario_file(
        tmp_path, GREENSBORO, "America/New_York", "2023-06-19T00:00", "2023-06-20T00:00", weather
    )


def test_a_non_finite_header_latitude_is_refused(tmp_path, capsys):
    """An EPW latitude 'inf' or a TMY3 latitude 'nan' made the site-distance check compare
    NaN: a file of anywhere was 'valid' at any site."""
    epw = write_epw(tmp_path / "x.epw", lat=float("inf"), lon=-79.95, tz_h=-5.0)
    code, err = validate(capsys, _greensboro_day(tmp_path, epw))
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{epw}, line 1, field latitude: LOCATION latitude 'inf': not a finite" in err
    lines = (PVLIB_DATA / "723170TYA.CSV").read_text().split("\n")
    lines[0] = lines[0].replace(",36.100,", ",nan,")
    tmy3 = tmp_path / "gso.csv"
    tmy3.write_text("\n".join(lines))
    code, err = validate(capsys, _greensboro_day(tmp_path, tmy3))
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{tmy3}, line 1, field latitude: TMY3 header latitude 'nan': not a finite" in err


def test_an_epw_comment_with_an_open_quote_is_one_line(tmp_path, capsys):
    """It was 'internal error (Error: field larger than field limit (131072))', exit 1."""
    epw = write_epw(tmp_path / "q.epw")
    epw.write_text(epw.read_text().replace("COMMENTS 1,synthetic", 'COMMENTS 1,"Sydney'))
    code, err = validate(capsys, _sydney_day(tmp_path, epw))
    assert code == 2 and len(err.splitlines()) == 1 and "internal error" not in err, err
    assert f"{epw}, line 6: a quote opened on this line is never closed" in err


def test_an_epw_with_a_byte_order_mark_is_valid(tmp_path, capsys):
    """It was refused: 'line 1 is not its LOCATION line'."""
    epw = write_epw(tmp_path / "bom.epw")
    epw.write_bytes(b"\xef\xbb\xbf" + epw.read_bytes())
    assert validate(capsys, _sydney_day(tmp_path, epw)) == (0, "")


# ------------------------------------------------------------------ site CSV instants


def test_site_csv_instants_serve_the_local_year_to_its_last_hour():
    """With `site_csv_values: instant` each hour is the mean of the file's values at its
    two ends; the local year's last hours lie past the fixed-offset file (edge held)."""
    dallas = ROOT / "scenarios" / "ercot-dallas-2023.yaml"
    sc = load_scenario(dallas).with_updates(
        {"period.start": "2023-12-30T00:00", "weather.site_csv_values": "instant"}
    )
    temp = resource_profiles(sc, sc.index())["temp_air_c"]
    raw = pd.read_csv(ROOT / "scenarios" / "data" / "weather" / "dallas-2023.csv")
    stamps = pd.to_datetime(raw["time_local"]) + pd.Timedelta(hours=5)  # the file's UTC-5
    at = pd.Series(raw["temp_air_c"].to_numpy(), index=stamps.dt.tz_localize("UTC"))
    inside = temp.index[temp.index + pd.Timedelta(hours=1) <= at.index[-1]]
    ends = at.reindex(inside).to_numpy() + at.reindex(inside + pd.Timedelta(hours=1)).to_numpy()
    assert temp[inside].to_numpy() == pytest.approx(ends / 2)
    assert temp.iloc[-2:].tolist() == [at.iloc[-1]] * 2  # past the file: its last instant
