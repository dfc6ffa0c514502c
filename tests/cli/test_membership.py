"""``journey withdraw``/``reinstate`` and ``journey person opt-out``/``opt-in``: a trainee who
leaves hears nothing more, those who lead them are told once; one who wants no email gets
none and stays on the programme."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from journey.cli import app
from journey.db import session_scope
from journey.models import Enrolment, EnrolmentStatus, HistoryEntry, Notice, NoticeStatus, Person
from journey.services.compose import OPTED_OUT
from journey.services.delivery import deliver_all
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc
from tests.smtp_server import SmtpServer

AISHA = "aisha.rahman@example.org"  # mentor Amrit Kaur Sandhu, Set B (Imran Chaudhry)
DAVID = "david.okonkwo@example.org"  # no follow-up: no mentor, no set
NOW = "2026-09-18T09:30"  # local (BST): after the -7d training reminders were queued
TRAINING_EVE = utc("2026-09-24T08:00")  # the -1d@09:00 training reminders fall due


@pytest.fixture
def launched(settings: Settings, cohort_id: str) -> str:
    """The example cohort launched on 1 Sep, with the -7d training reminders queued on the
    18th (through the services: no Prefect)."""
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    with session_scope(settings.database_url) as session:
        sweep(session=session, now=utc("2026-09-18T08:00"))
    return cohort_id


def enrolment_of(url: str, email: str) -> Enrolment:
    with session_scope(url) as session:
        return session.scalars(select(Enrolment).join(Person).where(Person.email == email)).one()


def person_id(url: str, email: str) -> int:
    with session_scope(url) as session:
        return session.scalars(select(Person.id).where(Person.email == email)).one()


def notices_about(url: str, enrolment_id: int) -> list[Notice]:
    with session_scope(url) as session:
        return list(
            session.scalars(
                select(Notice).where(Notice.enrolment_id == enrolment_id).order_by(Notice.id)
            )
        )


def history(url: str) -> list[tuple[str, str, str | None, int | None, int | None, str]]:
    """The lines about trainees (not the cohort's import and launch)."""
    with session_scope(url) as session:
        about = select(HistoryEntry).where(HistoryEntry.person_id.is_not(None))
        return [
            (h.action, h.by, h.cohort_id, h.enrolment_id, h.person_id, h.detail)
            for h in session.scalars(about.order_by(HistoryEntry.id))
        ]


def sweep_and_deliver(config: Settings, at: datetime) -> None:
    """Queue what is due at ``at`` and deliver it, as `journey remind` would."""
    with session_scope(config.database_url) as session:
        sweep(session=session, now=at)
    deliver_all(url=config.database_url, settings=config, now=at)


def received(smtp_server: SmtpServer) -> set[str]:
    return {to for message in smtp_server.messages for to in message.rcpt_tos}


def trainee_emails(url: str) -> set[str]:
    with session_scope(url) as session:
        emails = session.scalars(select(Person.email).join(Enrolment)).all()
    return {e for e in emails if e}


def position(email: str, now: str) -> str:
    result = journey("status", "mk-2026", "--format", "json", "--now", now)
    assert result.returncode == 0, result.stderr
    [trainee] = [t for t in json.loads(result.stdout)["trainees"] if t["email"] == email]
    found: str = trainee["position"]
    return found


def snapshot(url: str) -> tuple[Any, ...]:
    """Everything these commands could change."""
    with session_scope(url) as session:
        return (
            sorted(
                (e.id, e.status, e.withdrawn_at, e.withdrawal_reason, e.active_from)
                for e in session.scalars(select(Enrolment))
            ),
            sorted((n.id, n.key, n.status, n.last_error) for n in session.scalars(select(Notice))),
            sorted((p.id, p.opted_out_at) for p in session.scalars(select(Person))),
            session.scalar(select(func.count()).select_from(HistoryEntry)),
        )


@pytest.mark.parametrize(
    "command", [["withdraw"], ["reinstate"], ["person", "opt-out"], ["person", "opt-in"]]
)
def test_every_membership_command_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: journey" in result.output


def test_a_withdrawn_trainee_gets_nothing_more_and_their_mentor_and_facilitator_are_told(
    use_smtp: Settings, launched: str, smtp_server: SmtpServer
) -> None:
    url = use_smtp.database_url
    args = ("--on", "2026-09-17", "--reason", "moved to Leeds", "--by", "Sam Rivers")
    result = journey("withdraw", launched, AISHA.upper(), *args, "--now", NOW, probe_prefect=True)
    assert (result.returncode, result.stderr) == (0, "no prefect\n")
    assert result.stdout == (
        f"Withdrew {AISHA} from mk-2026 on 2026-09-17: 2 queued notices cancelled; "
        "their mentor and facilitator will be told in their daily digest.\n"
    )
    aisha = enrolment_of(url, AISHA)
    assert (aisha.status, aisha.withdrawn_at, aisha.withdrawal_reason) == (
        EnrolmentStatus.WITHDRAWN,
        utc("2026-09-16T23:00"),  # midnight in London (BST)
        "moved to Leeds",
    )
    theirs = notices_about(url, aisha.id)
    to_her = {(n.key, n.status, n.last_error) for n in theirs if n.recipient_role == "trainee"}
    assert to_her == {
        (f"mk-2026/{aisha.id}/{key}", NoticeStatus.CANCELLED, "trainee withdrew")
        for key in ("launch/welcome>trainee/launch", "training/-7d@09:00>trainee/2026-09-25")
    }
    told = {
        (n.recipient_role, n.person_id, n.template, n.status, n.key)
        for n in theirs
        if n.recipient_role != "trainee"
    }
    assert told == {
        (
            role,
            person_id(url, email),
            "trainee-withdrawn",
            NoticeStatus.HELD,
            f"mk-2026/{aisha.id}/withdrawn/trainee-withdrawn>{role}/20260916T230000",
        )
        for role, email in (
            ("mentor", "amrit.sandhu@example.org"),
            ("facilitator", "imran.chaudhry@example.org"),
        )
    }
    assert history(url) == [
        ("withdraw", "Sam Rivers", "mk-2026", aisha.id, aisha.person_id,
         "withdrawn on 2026-09-17: moved to Leeds"),
    ]  # fmt: skip
    sweep_and_deliver(use_smtp, TRAINING_EVE)
    got = received(smtp_server)
    assert AISHA not in got
    assert trainee_emails(url) - got == {AISHA}  # everyone else had their reminders
    after = notices_about(url, aisha.id)
    assert {n.status for n in after if n.recipient_role == "trainee"} == {NoticeStatus.CANCELLED}
    news = {n.status for n in after if n.recipient_role != "trainee"}
    assert news <= {NoticeStatus.HELD, NoticeStatus.SENT}  # the digest's to tell, not cancel
    assert position(AISHA, "2026-09-24T10:00") == "withdrawn"


def test_withdrawing_again_says_so_and_changes_nothing(settings: Settings, launched: str) -> None:
    journey("withdraw", launched, AISHA, "--on", "2026-09-17", "--now", NOW)
    before = snapshot(settings.database_url)
    again = journey("withdraw", launched, AISHA, "--now", "2026-09-20", probe_prefect=True)
    assert (again.returncode, again.stderr) == (0, "no prefect\n")
    assert (
        again.stdout == f"{AISHA} already withdrew from mk-2026 on 2026-09-17; nothing changed.\n"
    )
    assert snapshot(settings.database_url) == before


def test_who_is_told_depends_on_who_leads_them_and_on_the_launch(
    settings: Settings, cohort_id: str
) -> None:
    before_launch = journey("withdraw", cohort_id, AISHA, "--now", "2026-08-20")
    assert before_launch.stdout == (
        f"Withdrew {AISHA} from mk-2026 on 2026-08-20: 0 queued notices cancelled; "
        "the cohort is not launched yet, so nobody else is told.\n"
    )
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
        assert session.scalar(select(func.count()).select_from(Notice).where(
            Notice.template == "trainee-withdrawn")) == 0  # fmt: skip
    nobody = journey("withdraw", cohort_id, DAVID, "--now", "2026-09-02")
    assert nobody.stdout == (
        f"Withdrew {DAVID} from mk-2026 on 2026-09-02: 1 queued notice cancelled; "
        "they have no mentor or facilitator to tell.\n"
    )


def test_reinstating_makes_notices_count_from_now(settings: Settings, launched: str) -> None:
    url = settings.database_url
    journey("withdraw", launched, AISHA, "--now", "2026-09-20T10:00")
    assert enrolment_of(url, AISHA).withdrawn_at == utc("2026-09-20T09:00")  # default: now
    result = journey(
        "reinstate", launched, AISHA, "--by", "Sam", "--now", "2026-10-01T09:00", probe_prefect=True
    )
    assert (result.returncode, result.stderr) == (0, "no prefect\n")
    assert result.stdout == (
        f"Reinstated {AISHA} in mk-2026 (withdrawn on 2026-09-20): their notices count from "
        "now; nothing that came due while they were away is sent.\n"
    )
    aisha = enrolment_of(url, AISHA)
    assert (aisha.status, aisha.withdrawn_at, aisha.withdrawal_reason, aisha.active_from) == (
        EnrolmentStatus.ACTIVE,
        None,
        None,
        utc("2026-10-01T08:00"),
    )
    assert history(url)[-1] == (
        "reinstate", "Sam", "mk-2026", aisha.id, aisha.person_id,
        "back after withdrawing on 2026-09-20",
    )  # fmt: skip
    assert position(AISHA, "2026-10-02") != "withdrawn"
    before = snapshot(url)
    again = journey("reinstate", launched, AISHA, "--now", "2026-10-02")
    assert (again.returncode, again.stdout) == (
        0,
        f"{AISHA} is active in mk-2026; nothing changed.\n",
    )
    assert snapshot(url) == before


def test_an_opted_out_trainee_gets_no_email_yet_stays_on_the_programme(
    use_smtp: Settings, launched: str, smtp_server: SmtpServer
) -> None:
    url = use_smtp.database_url
    result = journey(
        "person", "opt-out", f"  {AISHA.title()} ", "--by", "Sam", "--now", NOW, probe_prefect=True
    )
    assert (result.returncode, result.stderr) == (0, "no prefect\n")
    assert result.stdout == (
        f"{AISHA} will get no more email; `journey upcoming` lists what they would have been "
        "sent, to tell them by other means.\n"
    )
    with session_scope(url) as session:
        aisha = session.scalars(select(Person).where(Person.email == AISHA)).one()
    assert aisha.opted_out_at == utc("2026-09-18T08:30")
    assert history(url) == [("opt-out", "Sam", None, None, aisha.id, "no more email")]
    sweep_and_deliver(use_smtp, TRAINING_EVE)
    got = received(smtp_server)
    assert trainee_emails(url) - got == {AISHA}
    enrolment = enrolment_of(url, AISHA)
    assert enrolment.status is EnrolmentStatus.ACTIVE
    assert {(n.status, n.last_error) for n in notices_about(url, enrolment.id)} == {
        (NoticeStatus.CANCELLED, OPTED_OUT)
    }
    assert position(AISHA, "2026-09-24T10:00") != "withdrawn"
    again = journey("person", "opt-out", AISHA, "--now", "2026-09-25")
    assert again.stdout == f"{AISHA} has already opted out of email; nothing changed.\n"
    back = journey("person", "opt-in", AISHA, "--now", "2026-09-26", probe_prefect=True)
    assert (back.returncode, back.stderr) == (0, "no prefect\n")
    assert back.stdout == f"{AISHA} will get email again, from the next delivery on.\n"
    with session_scope(url) as session:
        assert session.get(Person, aisha.id).opted_out_at is None  # type: ignore[union-attr]
    assert [h[0] for h in history(url)] == ["opt-out", "opt-in"]
    twice = journey("person", "opt-in", AISHA, "--now", "2026-09-27")
    assert twice.stdout == f"{AISHA} already gets email; nothing changed.\n"
    assert len(history(url)) == 2


FUTURE = "withdrawal date 2026-09-19 is in the future (today is 2026-09-18 in Europe/London)"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["withdraw", "nope", AISHA], "unknown cohort 'nope'; known cohorts: mk-2026"),
        (["withdraw", "mk-2026", "ghost@example.org"],
         "'ghost@example.org' is not a trainee of cohort 'mk-2026'"),
        (["withdraw", "mk-2026", "tim@example.org"],
         "'tim@example.org' is not a trainee of cohort 'mk-2026'"),
        (["withdraw", "mk-2026", AISHA, "--on", "2026-07-31"],
         "withdrawal date 2026-07-31 is before cohort 'mk-2026' was imported (2026-08-01)"),
        (["withdraw", "mk-2026", AISHA, "--on", "2026-09-19"], FUTURE),
        (["withdraw", "mk-2026", AISHA, "--on", "2026-09-31"],
         "cannot read '2026-09-31' as a date; use YYYY-MM-DD"),
        (["withdraw", "mk-2026", AISHA, "--on", "17/09/2026"],
         "cannot read '17/09/2026' as a date; use YYYY-MM-DD"),
        (["withdraw", "mk-2026", AISHA, "--reason", "x" * 501],
         "the reason has 501 characters; keep it to 500"),
        (["reinstate", "nope", AISHA], "unknown cohort 'nope'; known cohorts: mk-2026"),
        (["reinstate", "mk-2026", "ghost@example.org"],
         "'ghost@example.org' is not a trainee of cohort 'mk-2026'"),
        (["person", "opt-out", "ghost@example.org"],
         "no one with the email 'ghost@example.org' is known"),
        (["person", "opt-in", "ghost@example.org"],
         "no one with the email 'ghost@example.org' is known"),
    ],
    ids=[
        "cohort", "stranger", "mentor", "before import", "future", "no such day",
        "not iso", "long reason", "reinstate cohort", "reinstate stranger", "opt-out", "opt-in",
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_code_1_and_writes_nothing(
    settings: Settings, launched: str, args: list[str], error: str
) -> None:
    before = snapshot(settings.database_url)
    result = journey(*args, "--now", NOW)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"Error: {error}\n")
    assert snapshot(settings.database_url) == before


def test_import_lists_who_is_no_longer_in_the_roster_and_how_to_withdraw_them(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    lines = (EXAMPLES / "roster.csv").read_text().splitlines(keepends=True)
    roster = tmp_path / "roster.csv"
    sharon = "sharon.pike@example.org"  # a fee-paying place, like David's
    roster.write_text("".join(line for line in lines if DAVID not in line and sharon not in line))
    journey("withdraw", cohort_id, DAVID, "--now", "2026-08-20")
    result = journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(roster),
        "--now", "2026-08-21",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"  Not in the roster, still enrolled: {sharon}. "
        "To withdraw one: journey withdraw mk-2026 EMAIL"
    )
