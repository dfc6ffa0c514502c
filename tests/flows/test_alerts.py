"""``journey alerts apply`` against a real Prefect server: each condition is made to
happen and the alert email arrives at a real SMTP sink, sent by the Prefect server itself
through the JourneyEmail block (found through the ``prefect.collections`` entry point).

The send-reminders runs here run in this process against the session's Prefect server;
the alerts go to an SMTP sink of their own, apart from the trainees' mail."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from subprocess import CompletedProcess
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.events.schemas.automations import EventTrigger
from prefect.settings import PREFECT_API_URL, temporary_settings

from journey import alerts
from journey.alert_block import JourneyEmail
from journey.alerts import DEFAULT_LATE_AFTER, PREFIX, automations, in_words
from journey.db import session_scope
from journey.flows.send_reminders import send_reminders
from journey.services.sweep import launch
from journey.settings import Settings, get_settings
from journey.tasks import publish
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc
from tests.prefect_server import PrefectServer, events_to
from tests.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.prefect
LAUNCH = utc("2026-09-01T09:00")
ORGANISER = "organiser@example.org"
AISHA = "aisha.rahman@example.org"
DEADLINE = 120.0  # seconds to wait for an alert: the server's services poll every few seconds
with (EXAMPLES / "roster.csv").open() as _roster:
    TRAINEES = [row["email"] for row in csv.DictReader(_roster)]


@pytest.fixture
def alert_sink() -> Iterator[SmtpServer]:
    """The organiser's mail server: where the Prefect server sends the alerts."""
    sink = SmtpServer(host="127.0.0.1", port=free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@contextmanager
def client_of(server: PrefectServer) -> Iterator[SyncPrefectClient]:
    """A Prefect client of ``server``."""
    with (
        temporary_settings({PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        yield client


@pytest.fixture(scope="module", autouse=True)
def no_alerts_left(prefect_server: PrefectServer) -> Iterator[None]:
    """Delete this module's automations afterwards: the late one would fire for ever."""
    yield
    with client_of(prefect_server) as client:
        for automation in client.read_automations():
            if automation.name.startswith(PREFIX):
                client.delete_automation(automation.id)


def apply_alerts(
    server: PrefectServer, sink: SmtpServer, *args: str, to: str | None = ORGANISER
) -> CompletedProcess[str]:
    """``journey alerts apply`` in a fresh process, its SMTP settings the alert sink's."""
    env = {
        "PREFECT_API_URL": server.api_url,
        "JOURNEY_SMTP_HOST": sink.host,
        "JOURNEY_SMTP_PORT": str(sink.port),
        "JOURNEY_SMTP_STARTTLS": "false",
        "JOURNEY_SENDER": "Leadership Journey <journey@example.org>",
    }
    return journey("alerts", "apply", *(["--to", to] if to else []), *args, env=env)


def applied(server: PrefectServer, sink: SmtpServer, *args: str) -> str:
    result = apply_alerts(server, sink, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def on_server(server: PrefectServer) -> Iterator[None]:
    """Flow runs and events of this process go to ``server``."""
    with temporary_settings({PREFECT_API_URL: server.api_url}), events_to(server.api_url):
        yield


def ours(server: PrefectServer) -> list[str]:
    """The names of the ``journey: `` automations on the server, sorted."""
    with client_of(server) as client:
        return sorted(a.name for a in client.read_automations() if a.name.startswith(PREFIX))


def alert(sink: SmtpServer, subject: str) -> EmailMessage:
    """The alert whose subject holds ``subject``, once it arrives (or fail at the deadline)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        for received in list(sink.messages):
            if subject in str(received.message["Subject"]):
                assert received.rcpt_tos == [ORGANISER]
                return received.message
        time.sleep(0.5)
    seen = [str(r.message["Subject"]) for r in sink.messages]
    pytest.fail(f"no alert {subject!r} within {DEADLINE:.0f} s; the sink got {seen}")


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    text = content.replace("\r\n", "\n")
    print(text)
    assert not any(email in text for email in TRAINEES), text  # no trainee's address
    return text


def launched(settings: Settings, cohort_id: str) -> None:
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)


def test_durations_in_words() -> None:
    assert in_words(timedelta(hours=26)) == "26 hours"
    assert in_words(timedelta(minutes=90)) == "90 minutes"
    assert in_words(timedelta(seconds=12)) == "12 seconds"


def test_the_documented_late_trigger_is_the_one_applied() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "EVENTS.md").read_text()
    section = doc.split("## Alerts: `journey alerts apply`")[1].split("### Example")[0]
    [documented] = re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
    late = automations(UUID(int=0), DEFAULT_LATE_AFTER, "http://127.0.0.1:4200")[1]
    assert late.name == "journey: daily sweep late"
    assert EventTrigger.model_validate(json.loads(documented)).model_dump(
        exclude={"id"}
    ) == late.trigger.model_dump(exclude={"id"})
    for automation in automations(UUID(int=0), DEFAULT_LATE_AFTER, ""):
        assert f"| `{automation.name}` |" in section
    # journey.alerts names the events without importing the tasks; they must agree.
    assert (alerts.NOTICE_FAILED, alerts.DELIVERY_UNAVAILABLE) == (
        publish.NOTICE_FAILED,
        publish.DELIVERY_UNAVAILABLE,
    )


def test_applying_twice_leaves_one_of_each(
    prefect_server: PrefectServer, alert_sink: SmtpServer, settings: Settings
) -> None:
    first = applied(prefect_server, alert_sink)
    assert first.count("created") + first.count("updated") + first.count("unchanged") == 4
    assert f"4 alerts, by email to {ORGANISER}." in first
    again = applied(prefect_server, alert_sink)
    assert again.count("unchanged journey: ") == 4, again
    names = [
        "journey: daily sweep failed",
        "journey: daily sweep late",
        "journey: delivery unavailable",
        "journey: notice refused",
    ]
    assert ours(prefect_server) == names
    changed = applied(prefect_server, alert_sink, "--late-after", "20h")
    assert "updated   journey: daily sweep late" in changed
    assert changed.count("unchanged") == 3
    assert ours(prefect_server) == names
    listing = journey("alerts", "list", env={"PREFECT_API_URL": prefect_server.api_url})
    assert listing.returncode == 0, listing.stderr
    late = "on  journey: daily sweep late: No send-reminders flow run Completed within 20 hours."
    assert late in listing.stdout
    assert len(listing.stdout.splitlines()) == 4


def test_a_sweep_that_cannot_reach_the_mail_server_is_told_twice(
    prefect_server: PrefectServer,
    alert_sink: SmtpServer,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied(prefect_server, alert_sink)
    port = free_port()  # the trainees' mail server is down
    monkeypatch.setenv("JOURNEY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JOURNEY_SMTP_PORT", str(port))
    monkeypatch.setenv("JOURNEY_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    launched(settings, cohort_id)
    with on_server(prefect_server):
        state = send_reminders(now=LAUNCH, return_state=True)
    assert state.is_failed()
    run_id = state.state_details.flow_run_id

    failed = alert(alert_sink, "Leadership Journey: the daily sweep ended Failed")
    text = body(failed)
    assert "The daily sweep (send-reminders) run reminders " in text
    why = (
        f"DeliveryIncomplete: delivery stopped: could not reach the SMTP server at 127.0.0.1:{port}"
    )
    assert f"Why: Flow run encountered an exception: {why}" in text
    assert re.search(r" ended Failed at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.\n", text)
    assert f"{prefect_server.ui_url}/runs/flow-run/{run_id}" in text

    down = alert(alert_sink, f"Leadership Journey: mail cannot go out (SMTP 127.0.0.1:{port})")
    text = body(down)
    assert f"Delivery stopped: could not reach the SMTP server at 127.0.0.1:{port}" in text
    assert "25 notices stay pending" in text
    assert f"{prefect_server.ui_url}/runs/flow-run/{run_id}" in text
    assert down["From"] == "Leadership Journey <journey@example.org>"


def test_a_notice_refused_for_good_is_told(
    prefect_server: PrefectServer,
    alert_sink: SmtpServer,
    use_smtp: Settings,
    smtp_server: SmtpServer,
    cohort_id: str,
) -> None:
    applied(prefect_server, alert_sink)
    smtp_server.refuse_recipient(AISHA)
    launched(use_smtp, cohort_id)
    with on_server(prefect_server):
        state = send_reminders(now=LAUNCH, return_state=True)
    assert state.is_failed()
    assert len(smtp_server.messages) == 24

    refused = alert(alert_sink, "was refused (mk-2026)")
    text = body(refused)
    assert "for good:\n\n    550 5.1.1 no such user" in text
    assert "(welcome, cohort mk-2026) for good" in text
    assert f"/runs/flow-run/{state.state_details.flow_run_id}" in text
    alert(alert_sink, "the daily sweep ended Failed")  # the run failed too, and says so


def test_a_sweep_that_does_not_complete_in_time_is_told(
    prefect_server: PrefectServer, alert_sink: SmtpServer, settings: Settings
) -> None:
    # No send-reminders run completes here: after the window, the late alert goes out.
    out = applied(prefect_server, alert_sink, "--late-after", "12s")
    assert "journey: daily sweep late" in out
    late = alert(alert_sink, "the daily sweep has not completed in 12 seconds")
    assert "No send-reminders run has completed in the last 12 seconds." in body(late)
    assert f"{prefect_server.ui_url}/runs" in body(late)
    applied(prefect_server, alert_sink)  # back to 26 hours


def test_block_names_an_existing_notification_block(
    prefect_server: PrefectServer, alert_sink: SmtpServer, settings: Settings
) -> None:
    with temporary_settings({PREFECT_API_URL: prefect_server.api_url}):
        ops = JourneyEmail(
            host=alert_sink.host, port=alert_sink.port, starttls=False,
            sender="ops@example.org", to=["ops@example.org"],
        )  # fmt: skip
        block_id = ops.save("ops", overwrite=True)
    result = apply_alerts(prefect_server, alert_sink, "--block", "journey-email/ops", to=None)
    assert result.returncode == 0, result.stderr
    assert "4 alerts, through the block journey-email/ops." in result.stdout
    with client_of(prefect_server) as client:
        used = {
            UUID(str(action.model_dump()["block_document_id"]))
            for automation in client.read_automations()
            if automation.name.startswith(PREFIX)
            for action in automation.actions
        }
    assert used == {block_id}

    missing = apply_alerts(prefect_server, alert_sink, "--block", "slack-webhook/nope", to=None)
    assert missing.returncode == 1
    assert missing.stderr == (
        "Error: no block 'slack-webhook/nope' is saved on the Prefect server "
        "(see: prefect block ls)\n"
    )
    applied(prefect_server, alert_sink)  # back to email


def test_wrong_use_is_one_line(prefect_server: PrefectServer, alert_sink: SmtpServer) -> None:
    nobody = apply_alerts(prefect_server, alert_sink, to=None)
    assert nobody.returncode == 2 and "say who gets the alerts" in nobody.stderr
    bad = apply_alerts(prefect_server, alert_sink, "--late-after", "soon")
    assert bad.returncode == 2 and "'soon' is not a duration" in bad.stderr
    no_smtp = journey(
        "alerts", "apply", "--to", ORGANISER, env={"PREFECT_API_URL": prefect_server.api_url}
    )
    assert (no_smtp.returncode, no_smtp.stdout) == (1, "")
    assert no_smtp.stderr.startswith("Error: alerts go by email through JOURNEY_SMTP_HOST")


def test_no_prefect_server_exits_75(alert_sink: SmtpServer) -> None:
    down = PrefectServer("http://127.0.0.1:9/api", "http://127.0.0.1:9", None, None)  # type: ignore[arg-type]
    result = apply_alerts(down, alert_sink)
    assert (result.returncode, result.stdout) == (75, "")
    assert result.stderr == (
        "Error: cannot reach the Prefect API at http://127.0.0.1:9/api (ConnectError); "
        "try again later\n"
    )
    unset = journey("alerts", "list", env={"PREFECT_API_URL": ""})
    assert unset.returncode == 1
    assert unset.stderr.startswith("Error: journey alerts needs a Prefect server: run `journey")
