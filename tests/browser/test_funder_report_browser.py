"""The funder's report's HTML page in a real browser: drawn, offline, and printed to PDF.

Headless Chromium from Debian (``/usr/bin/chromium``, as ``test_ui_browser``), driven by
Playwright, opens the page made from the hand-checked year of ``test_funder_report`` (with
the responses of ``test_funder_evaluation``) as a file: both charts are drawn, nothing is
asked of the network, no error is logged, and it prints to a PDF with no chart across a
page break. The sample in the docs (the demo's report) opens offline with its charts too;
with ``UPDATE_SCREENSHOTS=1`` its screenshot replaces ``docs/screenshots/funder-report.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from journey.services.funder_report_html import to_html
from journey.settings import Settings
from tests.services.test_funder_evaluation import _import as import_responses
from tests.services.test_funder_report import _report
from tests.services.test_funder_report import year as year  # the fixture: the hand-checked year

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
A4_CONTENT_MM = (210 - 15 - 15, 297 - 16 - 18)  # the page less the report's @page margins
PX_PER_MM = 96 / 25.4


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, or a skip saying why there is none."""
    if not CHROMIUM.exists():
        pytest.skip(
            "no browser at /usr/bin/chromium: apt-get install -y --no-install-recommends "
            "chromium chromium-driver"
        )
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
        except PlaywrightError as exc:
            pytest.skip(f"Playwright cannot launch {CHROMIUM}: {exc.message.splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def report_file(year: Settings, tmp_path: Path) -> Path:
    """The year's page, with evaluation responses, written where the browser opens it."""
    import_responses(tmp_path)
    path = tmp_path / "funder-report.html"
    path.write_text(to_html(_report(year)), encoding="utf-8")
    return path


def _open(browser: Browser, path: Path, width: int) -> tuple[Page, list[str], list[str]]:
    """The page at ``path``, with the requests it made and the errors it logged."""
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="en-GB")
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


def test_both_charts_are_drawn_offline(browser: Browser, report_file: Path, tmp_path: Path) -> None:
    page, requests, errors = _open(browser, report_file, 1100)
    try:
        assert requests == [report_file.as_uri()]  # the file, and nothing else
        assert errors == []
        for chart in ("#funnel-mk-2026", "#ratings-mk-2026-after-training"):
            box = page.locator(chart).bounding_box()
            assert box is not None, chart
            assert box["width"] > 300 and box["height"] > 100, (chart, box)
            # drawn: the chart's shapes have size too, not only its frame
            shapes = page.locator(f"{chart} path").count()
            assert shapes > 10, (chart, shapes)
        label = page.locator("#funnel-mk-2026").get_attribute("aria-labelledby")
        assert page.locator(f"#{label}").text_content() == (
            "From enrolment to graduation: enrolled 20, trained 17, mentored 3,"
            " in a learning set 14, presented 1, graduated 1"
        )
    finally:
        page.close()


def test_the_sample_in_the_docs_opens_offline_with_its_charts(
    browser: Browser, tmp_path: Path
) -> None:
    """docs/funder-report-sample.html is the demo's report (``journey demo``; with
    ``UPDATE_SCREENSHOTS=1`` tests/cli/test_demo.py copies it there). With the same setting this
    test takes the screenshot in docs/screenshots/funder-report.png."""
    sample = DOCS / "funder-report-sample.html"
    page, requests, errors = _open(browser, sample, 1100)
    try:
        assert (requests, errors) == ([sample.as_uri()], [])
        charts = page.locator("svg.chart")
        assert charts.count() >= 2  # the funnel and at least one before/after
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, box
        shots = DOCS / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
        page.screenshot(path=str(shots / "funder-report.png"), full_page=False)
    finally:
        page.close()


def test_it_prints_to_pdf_with_no_chart_across_a_page(
    browser: Browser, report_file: Path, tmp_path: Path
) -> None:
    width = round(A4_CONTENT_MM[0] * PX_PER_MM)
    page, _, errors = _open(browser, report_file, width)
    try:
        page.emulate_media(media="print")
        # a figure can be kept on one page only if it is shorter than one, and must ask to be
        page_height = A4_CONTENT_MM[1] * PX_PER_MM
        figures = page.locator("figure")
        assert figures.count() == 2
        for i in range(figures.count()):
            figure = figures.nth(i)
            box = figure.bounding_box()
            assert box is not None and 100 < box["height"] < page_height / 2, box
            style = figure.evaluate("f => getComputedStyle(f).breakInside")
            assert style == "avoid"
        pdf = page.pdf(format="A4", print_background=False, prefer_css_page_size=True)
        (tmp_path / "funder-report.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF-")
        pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
        assert 2 <= pages <= 8, pages  # a short report: a few A4 pages, not one squeezed
        assert errors == []
    finally:
        page.close()
