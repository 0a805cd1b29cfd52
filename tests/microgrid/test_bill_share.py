"""The bill held against a real one (user study, `bill-share`): bill.csv and the report
say what share of each billing month the period covers, how each demand line was billed
and the demand it is on; a demand window shorter than the step is a warning (validate,
run, summary.json); a tariff period's line names URDB's period and the hours it covers.

The case: TINY (tests/scenario_factory.py) in New York on Mon 2023-07-31 and Tue 08-01,
billed on a two-period rate like the user's (on-peak weekdays 14:00-19:00 Jun-Sep, a TOU
demand charge on it, a flat demand charge, a monthly fixed charge, a 30-minute window).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

import microgrid
import optimize as o
from microgrid.bill_summary import bill_summary, bill_table
from microgrid.cli import main
from microgrid.report_html.tables import bill_table as bill_html
from microgrid.tariffs import rate_from_dict
from microgrid.tariffs.period_hours import hour_ranges_text, period_line_hours

NEW_YORK = "America/New_York"
FLAT_USD_PER_KW, TOU_USD_PER_KW, FIXED_USD = 9.0, 6.0, 2500.0
SUMMER = range(5, 9)  # Jun-Sep, 0-based
ON_PEAK = range(14, 19)


def _schedule(on_peak_months) -> list[list[int]]:
    return [[int(m in on_peak_months and h in ON_PEAK) for h in range(24)] for m in range(12)]


def two_period_rate(demandwindow: float | None = 30, **extra) -> dict:
    """Period 0 off-peak, period 1 on-peak (weekdays 14:00-19:00 in Jun-Sep)."""
    rate = {
        "label": "like-the-users",
        "energyweekdayschedule": _schedule(SUMMER),
        "energyweekendschedule": _schedule(()),
        "energyratestructure": [[{"rate": 0.004}], [{"rate": 0.012, "adj": 0.001}]],
        "demandweekdayschedule": _schedule(SUMMER),
        "demandweekendschedule": _schedule(()),
        "demandratestructure": [[{"rate": 0.0}], [{"rate": TOU_USD_PER_KW}]],
        "flatdemandstructure": [[{"rate": FLAT_USD_PER_KW}]],
        "flatdemandmonths": [0] * 12,
        "fixedchargefirstmeter": FIXED_USD,
        "fixedchargeunits": "$/month",
        **extra,
    }
    if demandwindow is not None:
        rate["demandwindow"] = demandwindow
    return rate


def write_case(tmp_path, step_minutes: int = 60, **rate_fields) -> str:
    """TINY over the July/August boundary in New York, no job, billed on the rate."""
    (tmp_path / "rate.json").write_text(json.dumps(two_period_rate(**rate_fields)))
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["site"]["timezone"] = NEW_YORK
    data["period"] = {
        "start": "2023-07-31T00:00",
        "end": "2023-08-02T00:00",
        "step_minutes": step_minutes,
    }
    data["jobs"] = {"items": []}
    data["grid"] = {
        "import_max_mw": 100,
        "demand_charge_usd_per_kw_month": 0,
        "tariff": {"urdb": "rate.json"},
    }
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The case run (no power flow, no baselines) and written: (folder, timeseries)."""
    tmp = tmp_path_factory.mktemp("bill-share")
    result = microgrid.run(write_case(tmp), powerflow=False, baselines=False)
    out = result.write(tmp / "out")
    return out, result.timeseries


def _local(ts: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ts.index).tz_convert(NEW_YORK)  # `Result.timeseries`: UTC starts


def test_bill_csv_says_each_months_share_and_how_each_demand_line_was_billed(written):
    """bill.csv gave `2023-07, demand_flat, 25,155.15` with nothing saying it was 1/31
    of the month's charge on a one-day peak."""
    out, ts = written
    table = pd.read_csv(out / "bill.csv", keep_default_na=False)
    assert list(table.columns[-3:]) == ["month_share", "billing", "billed_demand_mw"]
    local = _local(ts)
    imp = ts["grid_import_mw"].to_numpy()
    for month in ("2023-07", "2023-08"):
        rows = table[table["month"] == month].set_index("line_item")
        in_month = np.asarray(local.strftime("%Y-%m") == month)
        share = in_month.sum() / 744.0  # one day of July's and of August's 744 hours
        assert rows["month_share"].astype(float).to_numpy() == pytest.approx(share)
        flat = rows.loc["demand_flat"]
        on_peak = in_month & np.isin(local.hour, list(ON_PEAK))
        tou = rows.loc["demand_tou_2"]
        for row, rate, steps in ((flat, FLAT_USD_PER_KW, in_month), (tou, TOU_USD_PER_KW, on_peak)):
            assert row["billing"] == "prorated"
            assert float(row["billed_demand_mw"]) == pytest.approx(imp[steps].max(), abs=1e-4)
            # the row alone reproduces its charge: rate x demand x share
            usd = rate * 1000.0 * float(row["billed_demand_mw"]) * float(row["month_share"])
            assert row["usd"] == pytest.approx(usd, abs=0.02)
        assert rows.loc["fixed", "billing"] == "prorated"
        assert rows.loc["fixed", "usd"] == pytest.approx(FIXED_USD * share, abs=0.005)
        assert rows.loc["energy_period_1", "billing"] == ""  # energy: metered, no share
        assert rows.loc["energy_period_1", "billed_demand_mw"] == ""


def test_a_full_month_bill_says_so_and_keeps_the_share_covered():
    index = pd.date_range("2023-07-31 22:00", periods=4, freq="h", tz=NEW_YORK).tz_convert("UTC")
    july = np.array([True, True, False, False])
    grid = microgrid_grid(july)
    series = pd.DataFrame({"grid_import_mw": [10.0, 12.0, 8.0, 6.0], "grid_export_mw": 0.0})
    fixed = {"2023-07": 2500.0, "2023-08": 2500.0}
    bill = bill_summary(
        grid, 1.0, index, NEW_YORK, series, fixed, {}, billing="full_month", fixed_billing="per_day"
    )
    table = bill_table(bill).set_index(["month", "line_item"])
    assert table.loc[("2023-07", "demand_flat"), "billing"] == "full_month"
    assert table.loc[("2023-07", "demand_flat"), "billed_demand_mw"] == "12.0000"
    assert table.loc[("2023-08", "demand_flat"), "billed_demand_mw"] == "8.0000"
    assert table.loc[("2023-07", "fixed"), "billing"] == "per_day"
    assert float(table.loc[("2023-07", "energy"), "month_share"]) == pytest.approx(2 / 744)
    html = bill_html(bill)
    share_row = html[html.index('data-key="month_share"') :].split("</tr>")[0]
    assert "<td>0.27</td><td>0.27</td>" in share_row  # 2 of 744 hours, in %
    flat_row = html[html.index('data-key="demand_flat_usd"') :].split("</tr>")[0]
    assert '<span class="how">on 12.0 MW, full month</span>' in flat_row


def microgrid_grid(july: np.ndarray):
    """Four steps, a flat price, a flat demand charge per month (USD 100 per MW)."""
    n = len(july)
    return o.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.full(n, 50.0),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        peak_charges=(
            o.PeakCharge("demand_flat@2023-07", "demand_flat", 100.0, july),
            o.PeakCharge("demand_flat@2023-08", "demand_flat", 100.0, ~july),
        ),
    )


def test_period_lines_name_urdbs_period_and_its_hours(written):
    """ "Energy, tariff period 1" was URDB's period 0, with no word of its hours."""
    out, _ = written
    table = pd.read_csv(out / "bill.csv", keep_default_na=False)
    labels = dict(zip(table["line_item"], table["label"], strict=False))
    assert (
        labels["energy_period_2"] == "Energy, tariff period 2 (URDB period 1): weekdays 14:00-19:00"
    )
    assert labels["energy_period_1"] == (
        "Energy, tariff period 1 (URDB period 0): weekdays 00:00-14:00, 19:00-24:00, "
        "weekends all day"
    )
    assert labels["demand_tou_2"] == (
        "Demand charge, TOU period 2 (URDB demand period 1): weekdays 14:00-19:00"
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bill"]["labels"]["energy_period_2_usd"] == labels["energy_period_2"]


def test_a_period_named_per_season_where_the_months_differ():
    rate = rate_from_dict(two_period_rate(), "r.json")
    # Sep and Oct: on-peak in September only
    index = pd.date_range("2023-09-30", "2023-10-02", freq="h", tz=NEW_YORK).tz_convert("UTC")
    hours = period_line_hours(rate, index, NEW_YORK)
    assert hours["energy_period_2"] == "Sep: weekdays 14:00-19:00"
    assert hours["energy_period_1"] == (
        "Sep: weekdays 00:00-14:00, 19:00-24:00, weekends all day; Oct: all hours"
    )
    assert hour_ranges_text([0, 1, 2, 22, 23]) == "00:00-03:00, 22:00-24:00"
    assert hour_ranges_text(list(range(24))) == "all day"


def test_a_demand_window_shorter_than_the_step_is_a_warning(written, tmp_path, capsys):
    """A 30-minute window billed on hourly averages under-bills, and nothing said so."""
    out, _ = written
    [warning] = json.loads((out / "summary.json").read_text())["warnings"]
    assert "demandwindow (rate.json) is 30 minutes but the steps are 60 minutes" in warning
    assert "under-bill" in warning
    assert main(["validate", write_case(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert captured.err == f"warning: {warning}\n"


@pytest.mark.parametrize(
    ("step_minutes", "rate_fields"),
    [
        (30, {}),  # the steps are the window: the meter's intervals
        (60, {"demandwindow": None}),  # no window: the step's average is what is billed
        # a window, but no demand charge for it to bill
        (
            60,
            {
                "demandratestructure": [[{"rate": 0.0}], [{"rate": 0.0}]],
                "flatdemandstructure": None,
                "flatdemandmonths": None,
            },
        ),
    ],
)
def test_no_warning_where_the_step_meets_the_window(tmp_path, capsys, step_minutes, rate_fields):
    assert main(["validate", write_case(tmp_path, step_minutes, **rate_fields)]) == 0
    assert capsys.readouterr().err == ""


def test_the_scenarios_own_window_shorter_than_the_step_is_a_warning(tmp_path, capsys):
    path = write_case(tmp_path)
    data = yaml.safe_load((tmp_path / "case.yaml").read_text())
    data["grid"] = {"import_max_mw": 100, "demand_charge_usd_per_kw_month": 5,
                    "demand_window_minutes": 15}  # fmt: skip
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(data))
    assert main(["validate", path]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: grid.demand_window_minutes is 15 minutes but the steps")
    assert len(err.splitlines()) == 1


def test_run_prints_the_warning(tmp_path, capsys):
    path = write_case(tmp_path)
    assert main(["run", path, "--out", str(tmp_path / "out"), "--no-powerflow", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [
        f"warning: {w}"
        for w in json.loads((tmp_path / "out" / "summary.json").read_text())["warnings"]
    ]
    assert "demandwindow (rate.json) is 30 minutes" in err
