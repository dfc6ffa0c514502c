"""``journey cohort list`` and ``journey person show``: finding one's way, without Prefect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from journey.cli import app
from journey.db import session_scope
from journey.models import Notice, NoticeStatus
from journey.services.delivery import deliver_all
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc
from tests.smtp_server import SmtpServer

LAUNCHED = "2026-09-01T09:00"  # UTC: 10:00 in London
SWEPT = "2026-09-20T09:00"  # the training's reminders are due by then
AISHA = "aisha.rahman@example.org"


def row(stdout: str, first_cell: str) -> list[str]:
    """The cells of the one table row whose first cell is ``first_cell``."""
    found = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in stdout.splitlines()
        if line.startswith("│") and line.strip("│").split("│")[0].strip() == first_cell
    ]
    assert len(found) == 1, stdout
    return found[0]


def ok(*args: str) -> str:
    """Run the CLI; it must succeed without importing Prefect. Returns its output."""
    result = journey(*args, probe_prefect=True)
    assert (result.returncode, result.stderr) == (0, "no prefect\n"), result.stderr
    return result.stdout


def launch_sweep_deliver(settings: Settings) -> None:
    """Launch the example cohort, deliver the welcomes, sweep and deliver the reminders."""
    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc(LAUNCHED))
    deliver_all(url=url, settings=settings, now=utc(LAUNCHED))
    with session_scope(url) as session:
        sweep(session=session, now=utc(SWEPT))
    deliver_all(url=url, settings=settings, now=utc(SWEPT))


@pytest.mark.parametrize("command", [["cohort", "list"], ["person", "show"]], ids=" ".join)
def test_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: journey" in result.output


def test_with_no_cohorts_the_list_says_how_to_import_one(settings: Settings) -> None:
    assert ok("cohort", "list") == (
        "No cohorts yet. Import one: journey cohort import COHORT.yaml --roster ROSTER.csv\n"
    )
    assert json.loads(ok("cohort", "list", "--format", "json")) == []


def test_the_list_shows_dates_trainees_launch_and_next_session(
    settings: Settings, cohort_id: str
) -> None:
    before = ok("cohort", "list", "--now", "2026-08-02T09:00")
    assert row(before, "mk-2026") == [
        "mk-2026",
        "Two-Day Training 2026",
        "25–26 Sep 2026",
        "20",
        "0",
        "not yet",
        "training day 1 · Fri 25 Sep 2026 09:30",
    ]
    launch_sweep_deliver(settings)
    ok("withdraw", cohort_id, "david.okonkwo@example.org", "--now", "2026-10-01T09:00")
    after = ok("cohort", "list", "--now", "2026-10-01T12:00")
    assert row(after, "mk-2026")[3:] == [
        "19",
        "1",
        "1 Sep 2026",
        "Set A, session 1 · Thu 03 Dec 2026 17:30",
    ]
    [listed] = json.loads(ok("cohort", "list", "--now", "2026-10-01T12:00", "--format", "json"))
    assert listed["launched_at"].startswith("2026-09-01T09:00")
    assert listed["training_days"] == ["2026-09-25", "2026-09-26"]
    assert listed["next_session"]["label"] == "Set A, session 1"


def test_an_unknown_cohort_names_the_known_ones(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    text = (EXAMPLES / "cohort.yaml").read_text().replace("id: mk-2026", "id: mk-2027")
    (tmp_path / "cohort.yaml").write_text(text)
    ok("cohort", "import", str(tmp_path / "cohort.yaml"), "--now", "2026-08-02T09:00")
    result = journey("status", "nope", probe_prefect=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: unknown cohort 'nope'; known cohorts: mk-2026, mk-2027\nno prefect\n"
    )


def test_an_unknown_cohort_in_an_empty_database_says_how_to_import(settings: Settings) -> None:
    result = journey("status", "nope", probe_prefect=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: unknown cohort 'nope'; there are no cohorts yet: "
        "journey cohort import COHORT.yaml\nno prefect\n"
    )


def test_a_trainee_shows_what_they_were_sent_and_what_comes_next(
    use_smtp: Settings, smtp_server: SmtpServer, cohort_id: str
) -> None:
    launch_sweep_deliver(use_smtp)
    out = ok("person", "show", "Aisha.Rahman@Example.org", "--now", "2026-09-20T12:00")
    assert out.splitlines()[:2] == [f"Aisha Rahman <{AISHA}>", "Email: yes"]
    assert row(out, "mk-2026 (Two-Day Training 2026)") == [
        "mk-2026 (Two-Day Training 2026)",
        "active",
        "MK Central Mosque",
        "member",
        "yes",
        "Amrit Kaur Sandhu",
        "Set B",
    ]
    assert row(out, "Tue 01 Sep 2026 10:00") == [
        "Tue 01 Sep 2026 10:00",
        "mk-2026",
        "Welcome to Two-Day Training 2026",
        "sent",
    ]
    received = [m.message["Subject"] for m in smtp_server.messages if m.rcpt_tos == [AISHA]]
    view = json.loads(ok("person", "show", AISHA, "--now", "2026-09-20T12:00", "--format", "json"))
    sent = [n for n in view["notices"] if n["status"] == "sent"]
    assert sorted(n["subject"] for n in sent) == sorted(received)  # as the inbox has them
    assert [n["template"] for n in sent] == ["welcome", "session-reminder"]
    planned = [(n["template"], n["milestone"], n["status"]) for n in view["upcoming"]]
    assert ("mentoring-booking", "mentoring-1", "planned") in planned
    assert row(out, "Sat 03 Oct 2026 09:00")[2:] == ["Time to book Mentoring meeting 1", "planned"]


def test_a_mentor_shows_their_assignment_notice(
    use_smtp: Settings, smtp_server: SmtpServer, cohort_id: str
) -> None:
    launch_sweep_deliver(use_smtp)
    out = ok("person", "show", "tim@example.org", "--now", "2026-09-20T12:00")
    assert out.splitlines()[:3] == [
        "Tim Norwood <tim@example.org>",
        "Email: yes",
        "Roles: mentor in mk-2026",
    ]
    assert row(out, "Tue 01 Sep 2026 10:00") == [
        "Tue 01 Sep 2026 10:00",
        "mk-2026",
        "Your mentees for Two-Day Training 2026",
        "sent",
    ]
    [received] = [m for m in smtp_server.messages if m.rcpt_tos == ["tim@example.org"]]
    assert received.message["Subject"] == "Your mentees for Two-Day Training 2026"
    assert "Enrolments" not in out


def test_a_withdrawn_trainee_shows_when_and_why(settings: Settings, cohort_id: str) -> None:
    launch_sweep_deliver(settings)
    ok("withdraw", cohort_id, "david.okonkwo@example.org", "--reason", "moved away",
       "--now", "2026-10-01T09:00")  # fmt: skip
    out = ok("person", "show", "david.okonkwo@example.org", "--now", "2026-10-02T09:00")
    assert row(out, "mk-2026 (Two-Day Training 2026)")[1] == "withdrawn 1 Oct 2026: moved away"
    assert out.rstrip().endswith("Next: nothing queued or planned to 1 Dec 2026.")


def test_an_opted_out_person_is_shown_so(settings: Settings, cohort_id: str) -> None:
    ok("person", "opt-out", AISHA, "--now", "2026-09-10T09:00")
    line = ok("person", "show", AISHA, "--now", "2026-09-11T09:00").splitlines()[1]
    assert line == "Email: opted out on 10 Sep 2026; tell them by other means"


def outbox(url: str) -> list[tuple[object, ...]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(Notice.id, Notice.status, Notice.digest_id, Notice.last_error).order_by(
                Notice.id
            )
        )
        return [tuple(r) for r in rows]


def test_an_organiser_sees_held_notices_and_the_digest_and_nothing_changes(
    settings: Settings, cohort_id: str
) -> None:
    """Wording a digest at send time binds its held notices; showing one must not."""
    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc(LAUNCHED))
        sweep(session=session, now=utc("2026-09-29T08:05"))  # the attendance checks are due
    before = outbox(url)
    held = sum(1 for _, status, _, _ in before if status is NoticeStatus.HELD)
    out = ok("person", "show", "organiser@example.org", "--now", "2026-09-29T10:00")
    assert out.splitlines()[:3] == [
        "Sam Rivers <organiser@example.org>",
        "Email: yes",
        "Roles: organiser of mk-2026",
    ]
    assert row(out, "Tue 29 Sep 2026 09:05")[2:] == ["(digest)", "pending"]
    checks = [line for line in out.splitlines() if "│ Attendance check: " in line]
    assert held == 20 and len(checks) == held
    assert all(line.endswith("│ held    │") for line in checks)
    assert outbox(url) == before


def test_a_sent_digest_and_what_it_told_are_shown_with_their_words(
    settings: Settings, cohort_id: str
) -> None:
    """After the digest went: its subject, its items "in digest"; and a trainee's reminder
    about a milestone done since keeps its own subject."""
    url = settings.database_url
    at = utc("2026-09-29T08:05")
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc(LAUNCHED))
        sweep(session=session, now=at)
    deliver_all(url=url, settings=settings, now=at)
    out = ok("person", "show", "organiser@example.org", "--now", "2026-09-29T10:00")
    [digest] = [line for line in out.splitlines() if "Follow-up digest" in line]
    assert "Follow-up digest, Tuesday 29 September 2026: 20 to note" in digest
    checks = [line for line in out.splitlines() if "│ Attendance check: " in line]
    assert len(checks) == 20 and all(line.endswith("│ in digest │") for line in checks)
    ok("record", cohort_id, AISHA, "training", "--now", "2026-09-29T10:00")
    mine = ok("person", "show", AISHA, "--now", "2026-09-29T10:00")
    assert "Reminder: Two-Day Training, Friday 25 September" in mine


def test_an_unknown_email_is_one_line_and_exit_code_1(settings: Settings, cohort_id: str) -> None:
    result = journey("person", "show", "nobody@example.org", probe_prefect=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == "Error: no one with the email 'nobody@example.org' is known\nno prefect\n"
    )
