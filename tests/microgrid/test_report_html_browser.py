"""The report in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
installed by .ci/system-deps): loaded from file:// with every network request sent to a
dead proxy, it logs no console error, and every section is shown with its plots drawn."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_case import SECTION_IDS, tiny_operate_run

from microgrid.report_html.page import REPORT_NAME

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the test extra)")
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="chromium and chromedriver are not installed (Debian: chromium "
        "chromium-driver; `make system-deps` installs them)",
    ),
    pytest.mark.slow,  # the fixture: a solve, then a browser start and a 5 MB page
]
# figures per section: the page's plot divs, each drawn by plotly.js into an <svg>
PLOTS = {"kpis": 0, "jobs": 1, "dispatch": 1, "bill": 0, "voltage": 1, "baselines": 1, "operate": 1}


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # no network: every http(s) request goes to a closed port and fails, and a failed
        # load is a SEVERE console entry the test sees
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return tiny_operate_run(tmp_path_factory.mktemp("report-browser"))


@pytest.fixture(scope="module")
def loaded(browser, run_dir):
    browser.get((run_dir / REPORT_NAME).as_uri())
    n_plots = sum(PLOTS.values())
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.execute_script(
                "return document.querySelectorAll('.js-plotly-plot svg.main-svg').length"
            )
            >= n_plots
        )
    )
    return browser


def test_no_console_errors(loaded):
    severe = [e for e in loaded.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_every_section_is_shown_with_its_plots_drawn(loaded):
    ids = loaded.execute_script(
        "return Array.from(document.querySelectorAll('section')).map(s => s.id)"
    )
    assert ids == SECTION_IDS
    for sid in SECTION_IDS:
        section = loaded.find_element("id", sid)
        assert section.is_displayed(), sid
        assert section.find_element("tag name", "h2").text
        plots = section.find_elements("css selector", ".js-plotly-plot")
        assert len(plots) == PLOTS[sid], sid
        for plot in plots:
            svg = plot.find_elements("css selector", "svg.main-svg")
            assert svg and svg[0].size["height"] > 100, sid


def test_gantt_draws_a_bar_per_segment(loaded, run_dir):
    bars = loaded.find_elements("css selector", "#fig-jobs .barlayer .point")
    segments = (run_dir / "jobs.csv").read_text().strip().splitlines()[1:]
    assert len(segments) >= 1 and len(bars) == len(segments)
