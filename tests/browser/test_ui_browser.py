"""The Prefect UI in a real browser: what an organiser sees after a cohort's flows ran.

Headless Chromium from Debian (``/usr/bin/chromium``), driven by Playwright, opens the
UI of the real server from ``tests/prefect_server.py``: the cohort's artifacts, its runs
(one per trainee, tagged ``cohort:<id>``) and the record-completion form, which it fills
in and submits. Every request goes to 127.0.0.1; anything else is aborted.

Screenshots go to the test's temporary folder; with ``UPDATE_SCREENSHOTS=1`` they
replace the ones in ``docs/screenshots/`` that ``docs/UI.md`` shows.
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from playwright.sync_api import (
    BrowserContext,
    Locator,
    Page,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact, FlowRun
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import select

from journey.db import session_scope
from journey.flows.launch_cohort import launch_cohort
from journey.flows.record_completion import record_completion
from journey.flows.send_reminders import send_reminders
from journey.flows.trainee_journey import trainee_journey
from journey.models import Completion
from journey.settings import Settings
from tests.cli.test_serve import SERVED, wait_for_deployments
from tests.conftest import EXAMPLES, utc
from tests.prefect_server import PrefectServer

pytestmark = pytest.mark.prefect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 30_000  # for a page's data to arrive; the run started from the form gets longer
TRAINEE = "aisha.rahman@example.org"
TRAINEE_NAME = "Aisha Rahman"  # run names name the trainee, never their address


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a skip (checked before the Prefect server starts)."""
    if not CHROMIUM.exists():
        pytest.skip(
            "no browser at /usr/bin/chromium: apt-get install -y --no-install-recommends "
            "chromium chromium-driver"
        )
    return CHROMIUM


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1, else tmp_path."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


@pytest.fixture
def browser(chromium: Path, tmp_path: Path) -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile; skips if Playwright cannot launch it."""
    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                tmp_path / "chromium-profile",
                executable_path=str(chromium),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,
                locale="en-GB",
                timezone_id="Europe/London",
            )
        except PlaywrightError as exc:
            pytest.skip(f"Playwright cannot launch {chromium}: {exc.message.splitlines()[0]}")
        try:
            yield context
        finally:
            context.close()


def keep_local(context: BrowserContext) -> None:
    """Abort every request that would leave 127.0.0.1 (the tests run offline)."""

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.fallback()
        else:
            route.abort()  # e.g. the UI's analytics library asking amplitude.com for config

    context.route("**/*", local_only)


def visible(locator: Locator, timeout: float = WAIT_MS) -> None:
    expect(locator).to_be_visible(timeout=timeout)


def screenshot(page: Page, path: Path, **options: Any) -> None:
    """A screenshot once the page has settled: no loading placeholder left."""
    expect(page.locator(".animate-pulse")).to_have_count(0, timeout=WAIT_MS)
    page.screenshot(path=path, **options)


def roster_emails() -> list[str]:
    with (EXAMPLES / "roster.csv").open(newline="") as f:
        return [row["email"] for row in csv.DictReader(f)]


def run_the_cohort(cohort_id: str) -> None:
    """Launch, two sweeps, training attendance for all but three, one trainee's journey."""
    everyone = roster_emails()
    launch_cohort(cohort_id, now=utc("2026-09-01T09:00"))
    send_reminders(now=utc("2026-09-18T08:00"), cohort_ids=[cohort_id])
    record_completion(cohort_id, everyone[:-3], "training", now=utc("2026-09-26T17:00"))
    send_reminders(now=utc("2026-10-10T08:00"), cohort_ids=[cohort_id])
    trainee_journey(cohort_id, TRAINEE, now=utc("2026-10-10T08:05"))


def newest(key: str) -> Artifact:
    """The newest version of an artifact, as the API has it."""
    with get_client(sync_client=True) as client:
        versions = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert versions, f"no artifact {key!r} on the server"
    return versions[0]


def open_newest(page: Page, ui: str, key: str) -> Artifact:
    """Artifacts page, the key's card, then the top of its timeline: the newest version."""
    artifact = newest(key)
    page.goto(f"{ui}/v2/artifacts")
    page.get_by_text(key, exact=True).click()
    expect(page).to_have_url(re.compile(f"/v2/artifacts/key/{key}$"), timeout=WAIT_MS)
    version = page.locator("main a[href*='/artifacts/artifact/']").first
    visible(version)
    # The timeline may still be filling in on a loaded machine: wait until its top entry
    # is the newest version before following it.
    expect(version).to_have_attribute("href", re.compile(str(artifact.id)), timeout=WAIT_MS)
    version.click()
    expect(page).to_have_url(re.compile(f"/v2/artifacts/artifact/{artifact.id}([?]|$)"))
    visible(page.get_by_role("navigation", name="breadcrumb").get_by_text(str(artifact.id)))
    visible(page.get_by_role("complementary").locator("a[href*='/runs/flow-run/']"))
    return artifact


def check_artifacts(page: Page, ui: str, cohort_id: str, shots: Path) -> None:
    progress = open_newest(page, ui, f"{cohort_id}-progress")
    assert progress.description and f"({cohort_id})" in progress.description
    as_shown = re.sub(r"\\(.)", r"\1", progress.description)  # the UI renders markdown
    visible(page.get_by_text(as_shown, exact=True))
    shown = page.get_by_text(re.compile(r"^Progress: [\d.]+%$"))
    visible(shown)
    percent = float(shown.inner_text().removeprefix("Progress: ").rstrip("%"))
    assert percent == pytest.approx(progress.data)
    assert 0 < percent < 100
    screenshot(page, shots / "progress-artifact.png")

    open_newest(page, ui, f"{cohort_id}-progress-table")
    table = page.get_by_role("table")
    visible(table.get_by_role("columnheader", name="trainee"))
    visible(table.get_by_role("columnheader", name="training"))
    visible(table.get_by_role("cell", name="Aisha Rahman", exact=True))
    screenshot(page, shots / "progress-table.png")

    open_newest(page, ui, f"{cohort_id}-summary")
    visible(page.get_by_role("heading", name=re.compile(r"^Overdue \(\d+ trainees?\)$")))
    visible(page.get_by_role("cell", name="share done"))
    screenshot(page, shots / "summary-artifact.png")


def check_runs(page: Page, ui: str, cohort_id: str, shots: Path) -> None:
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1200})  # the list, in full
    page.goto(f"{ui}/v2/runs?tags=cohort:{cohort_id}")
    journey_run = page.get_by_role("link", name=f"journey {cohort_id} / {TRAINEE_NAME}", exact=True)
    visible(journey_run)
    visible(page.get_by_role("link", name=f"launch {cohort_id}", exact=True))
    visible(page.get_by_role("link", name=f"record {cohort_id} training", exact=True))
    expect(page.get_by_text(re.compile(r"^reminders 2026-"))).to_have_count(2)
    screenshot(page, shots / "flow-runs.png")
    page.set_viewport_size(VIEWPORT)

    page.get_by_placeholder("Search by flow run name").fill(
        TRAINEE_NAME
    )  # one trainee's runs, by name
    expect(page.get_by_role("link", name=f"launch {cohort_id}", exact=True)).to_be_hidden()
    visible(journey_run)

    journey_run.click()
    expect(page).to_have_url(re.compile(r"/v2/runs/flow-run/[0-9a-f-]{36}([?]|$)"), timeout=WAIT_MS)
    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    visible(breadcrumb.get_by_text(f"journey {cohort_id} / {TRAINEE_NAME}", exact=True))
    visible(breadcrumb.get_by_text(f"cohort:{cohort_id}", exact=True))
    visible(page.get_by_text("Completed", exact=True))
    page.get_by_role("tab", name="Task Runs").click()
    for task in ("evaluate-trainee", "queue-due-notices", "deliver-batch"):
        visible(page.get_by_role("link", name=re.compile(f"^{task}-")))
    screenshot(page, shots / "trainee-run.png")


def check_record_form(page: Page, ui: str, cohort_id: str, shots: Path) -> None:
    """Run → Custom run on record-completion/organiser: fill it in, then submit it."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("record-completion/organiser")
    page.goto(f"{ui}/v2/deployments/deployment/{deployment.id}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    expect(page).to_have_url(re.compile(r"/run(\?|$)"), timeout=WAIT_MS)

    for field in ("cohort_id", "emails", "milestone", "on (Optional)", "dry_run (Optional)"):
        visible(page.get_by_text(field, exact=True))
    visible(page.get_by_text("The cohort's id, e.g. mk-2026."))
    page.get_by_role("textbox", name="cohort_id").fill(cohort_id)

    page.get_by_role("button", name="Add item").click()
    emails = page.get_by_role("group").filter(has=page.get_by_role("button", name="Add item"))
    emails.get_by_role("textbox").fill(TRAINEE)

    page.get_by_role("button", name="Select milestone").click()
    options = page.get_by_role("option")
    expect(options.first).to_have_text("training")
    assert {"listening", "mentoring-2", "learning-set-3", "graduation"} <= set(
        options.all_inner_texts()
    )
    page.get_by_role("option", name="listening", exact=True).click()

    page.get_by_role("tab", name="date", exact=True).click()
    page.get_by_role("button", name="Pick a date").click()
    page.get_by_role("textbox", name="Date (yyyy-MM-dd)").fill("2026-11-02")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    visible(page.get_by_role("button", name="November 2nd, 2026", exact=True))
    visible(page.get_by_role("button", name="Select milestone").filter(has_text="listening"))
    screenshot(page, shots / "record-form.png")

    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(f"/v2/deployments/deployment/{deployment.id}[?]tab=Runs"))
    href = page.get_by_role("link", name="View run").get_attribute("href")  # in the toast
    assert href and href.startswith("/v2/runs/flow-run/"), href
    run = wait_until_final(UUID(href.rsplit("/", 1)[1]))
    assert run.state and run.state.is_completed(), run.state

    page.goto(f"{ui}{href}")
    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    visible(breadcrumb.get_by_text(f"record {cohort_id} listening", exact=True))
    visible(breadcrumb.get_by_text("milestone:listening", exact=True))
    visible(page.get_by_text("Completed", exact=True))


def wait_until_final(flow_run_id: UUID, timeout: float = 60) -> FlowRun:
    """The flow run once it has finished (or as it is when ``timeout`` runs out)."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(flow_run_id)
            if (run.state and run.state.is_final()) or time.monotonic() > deadline:
                return run
            time.sleep(0.5)


def test_the_organiser_finds_the_cohort_in_the_prefect_ui(
    chromium: Path,
    served: PrefectServer,
    settings: Settings,
    cohort_id: str,
    browser: BrowserContext,
    shots: Path,
) -> None:
    """Artifacts, per-trainee runs and the record form are there, and the form records."""
    assert "record-completion/organiser" in wait_for_deployments(SERVED)
    run_the_cohort(cohort_id)

    keep_local(browser)
    page = browser.new_page()
    check_artifacts(page, served.ui_url, cohort_id, shots)
    check_runs(page, served.ui_url, cohort_id, shots)
    check_record_form(page, served.ui_url, cohort_id, shots)

    with session_scope(settings.database_url) as session:
        on = session.scalars(
            select(Completion.completed_on).where(Completion.milestone == "listening")
        )
        assert [d.isoformat() for d in on] == ["2026-11-02"]
