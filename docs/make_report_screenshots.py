"""Screenshots of the HTML report's sections for docs/report.md (docs/img/report-*.png).

    make demo                                      # R1's result folder: out/ercot-dallas
    .venv/bin/python docs/make_report_screenshots.py [RUN_DIR [SECTION_ID ...]]

Builds the report of RUN_DIR (default out/ercot-dallas) into a temporary file, so the
result folder is left as it is, opens it in headless Chromium (Debian's `chromium` and
`chromium-driver`, `make system-deps`) with every network request sent to a dead proxy, and
writes docs/img/report-<section id>.png for each section (or only the SECTION_IDs named).
Exits 1 with the browser's errors if the page logs any. docs/report.md says which folders
its pictures come from.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from microgrid.report_html.page import write_report

IMG = Path(__file__).resolve().parent / "img"
WIDTH_PX = 1400


def _driver() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH_PX},1000",
        "--proxy-server=http://127.0.0.1:9",  # offline: any request would fail and be logged
        "--proxy-bypass-list=<-loopback>",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # both paths given: Selenium Manager (which downloads drivers and sends usage stats)
    # is not run
    opts.binary_location = _which("chromium")
    return webdriver.Chrome(service=webdriver.ChromeService(_which("chromedriver")), options=opts)


def _which(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} not found: install Debian's chromium and chromium-driver")
    return path


def screenshots(run_dir: Path, only: list[str]) -> list[Path]:
    """One PNG per section of run_dir's report (those in `only`, if any) in docs/img;
    returns their paths."""
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = write_report(run_dir, Path(tmp) / "report.html")
        driver = _driver()
        try:
            driver.get(page.as_uri())
            n = driver.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
            WebDriverWait(driver, 60).until(
                lambda d: (
                    d.execute_script(
                        "return document.querySelectorAll('.js-plotly-plot svg.main-svg').length"
                    )
                    >= n
                )
            )
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if errors:
                sys.exit(f"the page logged errors: {errors}")
            # the whole page in one window: no section is cut at the viewport's edge
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(WIDTH_PX, height + 200)
            out = []
            for section in driver.find_elements("css selector", "section"):
                sid = section.get_attribute("id")
                if only and sid not in only:
                    continue
                path = IMG / f"report-{sid}.png"
                section.screenshot(str(path))
                out.append(path)
            return out
        finally:
            driver.quit()


if __name__ == "__main__":
    run = Path(sys.argv[1] if len(sys.argv) > 1 else "out/ercot-dallas")
    for p in screenshots(run, sys.argv[2:]):
        print(p)
