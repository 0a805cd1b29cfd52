"""Scenario → weather package: read the weather source and compute PV and wind power."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from microgrid.datafiles import require_data_file
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from weather import UnknownTurbineError, WeatherDataError
from weather.chain import ResourceChain, Site
from weather.io import read_tmy
from weather.pv import PVSystem
from weather.site_csv import distance_km, read_site_csv, site_metadata
from weather.wind import WindFarm, rotor_diameter_m


def read_weather(scenario: Scenario) -> pd.DataFrame | None:
    """The scenario's weather as a UTC-indexed frame, or None for clear-sky only."""
    w = scenario.weather
    if w.source == "clearsky":
        return None
    path = scenario.resolve(w.path)
    require_data_file(scenario, path, "weather.path")
    try:
        weather = _read_weather_file(scenario, path)
    except WeatherDataError as exc:
        raise _input_error(exc) from None
    _check_site_distance(scenario, weather, path)
    return weather


def _file_location(scenario: Scenario, weather: pd.DataFrame, path: Path):
    """(latitude, longitude) the weather file states: a typical year's header, or a
    shipped site CSV's metadata (looked up by name, as its UTC offset is); None for a
    custom site CSV, which states none."""
    lat, lon = weather.attrs.get("latitude_deg"), weather.attrs.get("longitude_deg")
    if lat is not None and lon is not None:
        return lat, lon
    if scenario.weather.source == "site_csv":
        with contextlib.suppress(WeatherDataError):
            meta = site_metadata(path)
            return meta["latitude_deg"], meta["longitude_deg"]
    return None


def _check_site_distance(scenario: Scenario, weather: pd.DataFrame, path: Path) -> None:
    """The weather file's location (when it states one) is near the site."""
    where = _file_location(scenario, weather, path)
    if where is None:  # a custom site CSV states no location
        return
    lat, lon = where
    s, limit = scenario.site, scenario.weather.max_site_distance_km
    km = float(distance_km(s.latitude_deg, s.longitude_deg, lat, lon))
    if km > limit:
        raise scenario.error(
            f"{path}: the weather file is at {lat:.4f}, {lon:.4f}, {km:,.0f} km from the site "
            f"at {s.latitude_deg:.4f}, {s.longitude_deg:.4f} (weather.max_site_distance_km is "
            f"{limit:g})",
            "weather.path",
        )


def _input_error(exc: WeatherDataError) -> InputError:
    """`exc` as an InputError: its echo of the file is bounded, and `load_inputs` lists
    it with the errors of the other data files."""
    return InputError(exc.message, path=exc.path, line=exc.line, field=exc.field)


def _read_weather_file(scenario: Scenario, path: Path) -> pd.DataFrame:
    w = scenario.weather
    if w.source == "tmy":
        return read_tmy(path, years=_typical_years(scenario))
    offset = w.utc_offset_seconds
    if offset is None:
        try:
            offset = site_metadata(path)["utc_offset_seconds"]
        except WeatherDataError:
            raise scenario.error(
                f"unknown site CSV {path.name}: set weather.utc_offset_seconds (the fixed "
                "UTC offset of its time_local stamps)",
                "weather.path",  # the override that named the file, if one did
            ) from None
    return read_site_csv(
        path, timezone=scenario.site.timezone, utc_offset_seconds=offset, values=w.site_csv_values
    )


def _typical_years(scenario: Scenario) -> tuple[int, int]:
    """The years a typical-year file is laid on: every year of the file's local time the
    period touches, with the neighbour hour each side the interpolation reads (a day
    either side of the UTC period: a UTC offset is at most 18 h)."""
    day = pd.Timedelta(days=1)
    start = scenario.to_utc(scenario.period.start) - day
    end = scenario.to_utc(scenario.period.end) + day
    return start.year, end.year


def _check_turbine(scenario: Scenario, wind) -> None:
    """The turbine is in the library and its hub is above its blades' reach."""
    try:
        rotor_m = rotor_diameter_m(wind.turbine_type)  # raises for a name not in the library
    except UnknownTurbineError as exc:
        raise scenario.error(str(exc).split(": ", 1)[-1], "wind.turbine_type") from None
    if rotor_m is not None and wind.hub_height_m <= rotor_m / 2:
        raise scenario.error(
            f"hub height {wind.hub_height_m:g} m is below the {wind.turbine_type}'s blade "
            f"tips (rotor diameter {rotor_m:g} m): the hub must stand above {rotor_m / 2:g} m",
            "wind.hub_height_m",
        )


def resource_profiles(scenario: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    """`pv_available_mw`, `wind_available_mw` and `temp_air_c` on the scenario index."""
    s = scenario.site
    pv = scenario.pv
    wind = scenario.wind
    chain = ResourceChain(
        Site(latitude_deg=s.latitude_deg, longitude_deg=s.longitude_deg, altitude_m=s.altitude_m),
        pv=None
        if pv is None
        else PVSystem(
            dc_mw=pv.dc_mw,
            ac_mw=pv.ac_mw,
            tilt_deg=pv.tilt_deg,
            azimuth_deg=pv.azimuth_deg,
            gamma_pdc_per_c=pv.gamma_pdc_per_c,
            losses_pct=pv.losses_pct,
            inverter_efficiency=pv.inverter_efficiency,
        ),
        wind=None
        if wind is None
        else WindFarm(
            turbine_type=wind.turbine_type,
            n_turbines=wind.n_turbines,
            hub_height_m=wind.hub_height_m,
        ),
    )
    weather = read_weather(scenario)
    if wind is not None:
        _check_turbine(scenario, wind)
    # The site CSVs use one fixed UTC offset, so a local calendar year can end an hour
    # past the file: repeat at most that last hour (weather.resample.select_period), and
    # the instant at its end, which the last hour's mean reads, with instants.
    edge_fill_hours = 2 if scenario.weather.site_csv_values == "instant" else 1
    try:
        out = chain.run(
            index,
            weather=weather,
            temp_air_c=scenario.weather.temp_air_c,
            edge_fill_hours=edge_fill_hours,
        )
    except WeatherDataError as exc:  # e.g. the weather does not cover the period
        raise _input_error(exc) from None
    cols = ["temp_air_c", "pv_available_mw", "wind_available_mw", "ghi_w_per_m2"]
    out = out.reindex(columns=cols).fillna({"pv_available_mw": 0.0, "wind_available_mw": 0.0})
    return out
