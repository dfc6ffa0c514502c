"""Late joiners: ``journey cohort add`` and importing the roster again, after the launch."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Enrolment, Notice, NoticeStatus, Person
from journey.services.delivery import deliver_all
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc
from tests.smtp_server import SmtpServer

NEWCOMER = "zainab.ali@example.org"
ROW = f"Zainab Ali,{NEWCOMER},MK Central Mosque,fee,yes,tim@example.org,Set A\n"
HEADER = "name,email,institution,place,follow_up,mentor,learning_set\n"
JOIN = "2026-11-16T10:00"  # after the training and Set 1's invitation, before Set 1


@pytest.fixture
def launched(settings: Settings, cohort_id: str) -> str:
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    return cohort_id


def newcomer_notices(url: str) -> list[Notice]:
    with session_scope(url) as session:
        person = select(Person.id).where(Person.email == NEWCOMER).scalar_subquery()
        enrolment = select(Enrolment.id).where(Enrolment.person_id == person).scalar_subquery()
        return list(
            session.scalars(
                select(Notice).where(Notice.enrolment_id == enrolment).order_by(Notice.id)
            )
        )


def test_a_late_joiner_is_welcomed_to_what_is_still_to_come_and_their_mentor_is_told(
    use_smtp: Settings, launched: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    (tmp_path / "new.csv").write_text(HEADER + ROW)
    added = journey(
        "cohort", "add", launched, "--roster", str(tmp_path / "new.csv"), "--now", JOIN,
        probe_prefect=True,
    )  # fmt: skip
    assert (added.returncode, added.stderr) == (0, "no prefect\n")
    assert added.stdout == (
        f"Added 1 trainees to mk-2026: {NEWCOMER}.\n"
        "  1 welcomes queued, naming only the sessions still to come; 2 notices to their "
        "mentors and facilitators, for their daily digest. `journey remind` sends them.\n"
    )
    url = use_smtp.database_url
    with session_scope(url) as session:
        queued = sweep(session=session, now=utc(JOIN))
    assert queued.digests == 2  # Tim (mentor) and Helen (Set A's facilitator)
    deliver_all(url=url, settings=use_smtp, now=utc(JOIN))
    [welcome] = [m.message for m in smtp_server.messages if NEWCOMER in m.rcpt_tos]
    assert welcome["Subject"] == "Welcome to Two-Day Training 2026"
    text = welcome.get_body(("plain",)).get_content()
    assert "You join us after the Two-Day Training" in text
    assert "Set A, session 1" in text and "Graduation" in text and ": day 1" not in text
    [ics] = [p for p in welcome.walk() if p.get_content_type() == "text/calendar"]
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(ics.get_content()).walk("VEVENT")]
    assert summaries == ["Set A, session 1", "Set A, session 2", "Set A, session 3", "Graduation"]
    for address in ("tim@example.org", "helen.okafor@example.org"):
        [digest] = [m.message for m in smtp_server.messages if address in m.rcpt_tos]
        body = digest.get_body(("plain",)).get_content()
        assert "Joined the programme" in body and "Zainab Ali" in body
    # Nothing for milestones already past when they joined: only the welcome went to them.
    assert [
        (n.template, n.status) for n in newcomer_notices(url) if n.recipient_role == "trainee"
    ] == [("welcome", NoticeStatus.SENT)]


def test_their_own_reminders_start_from_their_join(
    use_smtp: Settings, launched: str, tmp_path: Path
) -> None:
    (tmp_path / "new.csv").write_text(HEADER + ROW)
    late = "2026-11-20T10:00"  # after Set A's invitation (19 Nov, 14 days before 3 Dec)
    journey("cohort", "add", launched, "--roster", str(tmp_path / "new.csv"), "--now", late)
    with session_scope(use_smtp.database_url) as session:
        sweep(session=session, now=utc("2026-12-02T09:00"))  # the day before Set A's first session
    rows = {(n.milestone, n.rule) for n in newcomer_notices(use_smtp.database_url) if n.milestone}
    assert ("learning-set-1", "-1d@09:00>trainee") in rows
    assert ("learning-set-1", "-14d@09:00>trainee") not in rows  # due before they joined
    assert not any(m == "training" for m, _ in rows)


def test_importing_the_roster_again_with_a_new_row_welcomes_the_newcomer(
    settings: Settings, launched: str, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text((EXAMPLES / "roster.csv").read_text() + ROW)
    result = journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(tmp_path / "roster.csv"),
        "--now", JOIN,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 trainees added" in result.stdout
    assert "  1 late joiners welcomed, naming only the sessions still to come" in result.stdout
    with session_scope(settings.database_url) as session:
        enrolment = session.scalars(
            select(Enrolment).join(Person).where(Person.email == NEWCOMER)
        ).one()
        assert enrolment.active_from == utc("2026-11-16T10:00")
    assert {n.template for n in newcomer_notices(settings.database_url)} == {
        "welcome",
        "trainee-joined",
    }


def test_a_join_date_before_the_cohort_was_imported_writes_nothing(
    settings: Settings, launched: str, tmp_path: Path
) -> None:
    (tmp_path / "new.csv").write_text(HEADER + ROW)
    result = journey(
        "cohort", "add", launched, "--roster", str(tmp_path / "new.csv"), "--on", "2026-07-01",
        "--now", JOIN,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: join date 2026-07-01 is before cohort 'mk-2026' was imported (2026-08-01)\n"
    )
    assert newcomer_notices(settings.database_url) == []
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(Person).where(Person.email == NEWCOMER)) is None


def test_bad_rows_name_the_file_row_and_field(
    settings: Settings, launched: str, tmp_path: Path
) -> None:
    path = tmp_path / "new.csv"
    path.write_text(
        HEADER
        + ROW.replace("tim@example.org", "nobody@example.org")
        + "Aisha Rahman,aisha.rahman@example.org,MK Central Mosque,member,yes,"
        + "tim@example.org,Set A\n"
    )
    result = journey("cohort", "add", launched, "--roster", str(path), "--now", JOIN)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: 2 problems found; nothing was written\n"
        f"{path}:2: mentor: unknown mentor 'nobody@example.org'\n"
        f"{path}:3: email: 'aisha.rahman@example.org' is already in cohort 'mk-2026'\n"
    )
