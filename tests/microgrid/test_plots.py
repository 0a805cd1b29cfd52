"""Result plots (microgrid/plots.py) and the Pareto plots' shared axis convention.

The dispatch figures are built from hand-made time series (six hours, UTC), so each
legend entry can be predicted from which columns are non-zero."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.pareto import front_figure
from microgrid.plots import (
    PARETO_X_LABEL,
    PARETO_Y_LABEL,
    ThousandsFormatter,
    dispatch_figure,
    plot_dispatch,
)
from microgrid.sweeps.report_plots import cases_pareto_figure

SCENARIO = SimpleNamespace(name="hand", site=SimpleNamespace(timezone="UTC"))
LOADS = ["facility_load_mw", "it_load_mw"]
ALL_ZERO = [
    "pv_used_mw",
    "wind_used_mw",
    "battery_discharge_mw",
    "backup_gen_mw",
    "grid_import_mw",
    "battery_charge_mw",
    "grid_export_mw",
    "battery_soc_mwh",
]


def series(**nonzero: list[float]) -> pd.DataFrame:
    """Six hourly steps: every power column 0 unless given, 11 MW facility / 10 MW IT load,
    price 50 then 900 USD/MWh, carbon 300 g/kWh."""
    idx = pd.date_range("2023-01-02", periods=6, freq="h", tz="UTC")
    ts = pd.DataFrame({c: 0.0 for c in ALL_ZERO}, index=idx)
    ts["facility_load_mw"], ts["it_load_mw"] = 11.0, 10.0
    ts["price_usd_per_mwh"] = [50.0, 50.0, 50.0, 900.0, 900.0, 50.0]
    ts["carbon_g_per_kwh"] = 300.0
    for col, values in nonzero.items():
        ts[col] = values
    return ts


def legend_texts(fig) -> list[str]:
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


def test_dispatch_legend_has_no_entries_for_absent_assets():
    # PV and grid only: no wind, battery, generator or export
    ts = series(pv_used_mw=[0, 0, 4, 6, 0, 0], grid_import_mw=[11, 11, 7, 5, 11, 11])
    fig = dispatch_figure(ts, SCENARIO)
    assert legend_texts(fig) == [
        "PV",
        "Grid import",
        "Facility load",
        "IT load",
        "Price (USD/MWh, left axis)",
        "Grid carbon (gCO2/kWh, right axis)",
    ]
    # no SOC panel without a battery: power, price and the price panel's carbon twin
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "power (MW)",
        "price (USD/MWh)",
        "carbon (gCO2/kWh)",
    ]


def test_dispatch_legend_with_a_battery_names_its_series_and_the_soc_panel():
    ts = series(
        battery_discharge_mw=[0, 0, 0, 5, 0, 0],
        battery_charge_mw=[5, 0, 0, 0, 0, 0],
        battery_soc_mwh=[15, 15, 15, 10, 10, 10],
        grid_import_mw=[16, 11, 11, 6, 11, 11],
    )
    texts = legend_texts(dispatch_figure(ts, SCENARIO))
    assert texts[:3] == ["Battery discharge", "Grid import", "Battery charge"]
    assert texts[-1] == "Battery SOC (MWh, bottom panel)"
    assert not {"PV", "Wind", "Backup generation", "Grid export"} & set(texts)


def test_dispatch_legend_lies_outside_every_axes(tmp_path):
    ts = series(pv_used_mw=[0, 0, 4, 6, 0, 0], grid_import_mw=[11, 11, 7, 5, 11, 11])
    fig = dispatch_figure(ts, SCENARIO)
    fig.canvas.draw()  # run the layout: extents are final only after a draw
    legend_box = fig.legends[0].get_window_extent()
    for ax in fig.axes:
        assert not legend_box.overlaps(ax.get_window_extent()), ax.get_ylabel()
    # and inside the figure, so the saved PNG shows all of it
    assert legend_box.x1 <= fig.bbox.x1 and legend_box.x0 >= ax.get_window_extent().x1
    plot_dispatch(ts, SCENARIO, tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_thousands_formatter_uses_separators_and_the_decimals_the_step_needs():
    f = ThousandsFormatter()
    f.set_locs([1_000_000.0, 1_020_000.0, 1_040_000.0])
    assert f(1_020_000.0) == "1,020,000"
    f.set_locs([12.0, 12.5, 13.0])
    assert f(12.5) == "12.5"
    assert f(13.0) == "13.0"


FRONT = pd.DataFrame(
    {
        "point": ["min-cost", "e1", "min-emissions"],
        "cost_usd": [100_000.0, 120_000.0, 150_000.0],
        "emissions_t": [50.0, 40.0, 30.0],
        "status": ["optimal"] * 3,
    }
)


def test_every_pareto_plot_has_emissions_on_x_and_cost_on_y():
    cases = pd.DataFrame(
        {
            "case_id": ["a", "b", "c"],
            "total_cost_usd": [100_000.0, 120_000.0, 150_000.0],
            "emissions_t": [50.0, 40.0, 30.0],
            "cost_tolerance_usd": [0.0, 0.0, 0.0],
        }
    )
    for fig in (front_figure(FRONT), cases_pareto_figure(cases, cases)):
        (ax,) = fig.axes
        assert (ax.get_xlabel(), ax.get_ylabel()) == (PARETO_X_LABEL, PARETO_Y_LABEL)
        assert PARETO_X_LABEL == "emissions (t CO2e)" and PARETO_Y_LABEL == "total cost (USD)"
        line = ax.get_lines()[0]  # the front, in data units (no thousand-USD scaling)
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), [50.0, 40.0, 30.0])
        np.testing.assert_allclose(
            np.asarray(line.get_ydata(), float), [100_000.0, 120_000.0, 150_000.0]
        )


@pytest.mark.slow
def test_tiny_run_dispatch_legend_has_only_its_assets(tmp_path):
    """The tiny scenario: a battery, a grid without export, no PV, wind or generator."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    res = microgrid.run(microgrid.load_scenario(path))
    texts = legend_texts(dispatch_figure(res.timeseries, res.scenario))
    assert "Grid import" in texts and "Battery SOC (MWh, bottom panel)" in texts
    assert not {"PV", "Wind", "Backup generation", "Grid export"} & set(texts)
