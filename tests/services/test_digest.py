"""The daily digest: one email a day for the organiser (and each mentor), not one per trainee."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from journey.db import session_scope
from journey.models import Notice
from journey.services.delivery import deliver_all
from journey.services.record import record
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.conftest import utc
from tests.smtp_server import SmtpServer

LAUNCH = utc("2026-09-01T09:00")
MISSED = utc("2026-09-29T08:00")  # 09:00 BST, three days after the training's last day
ORGANISER = "organiser@example.org"


def sweep_and_deliver(config: Settings, at: str) -> None:
    with session_scope(config.database_url) as session:
        sweep(session=session, now=utc(at))
    deliver_all(url=config.database_url, settings=config, now=utc(at))


def held_and_digests(url: str) -> tuple[Counter[tuple[str, str]], list[Notice]]:
    with session_scope(url) as session:
        rows = list(session.scalars(select(Notice).where(Notice.enrolment_id.is_not(None))))
        digests = list(session.scalars(select(Notice).where(Notice.template == "digest")))
    about = Counter(
        (n.template, n.status.value) for n in rows if n.recipient_role in ("organiser", "mentor")
    )
    return about, digests


def to(server: SmtpServer, address: str) -> list[str]:
    return [m.message["Subject"] for m in server.messages if address in m.rcpt_tos]


def test_the_organiser_gets_one_digest_a_day_listing_each_trainee_once(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    url = use_smtp.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
        everyone = [
            "margaret.oconnor@example.org",
            "ruth.pemberton@example.org",
            "samuel.mensah@example.org",
            "aisha.rahman@example.org",
            "yusuf.patel@example.org",
            "harpreet.gill@example.org",
        ]
        record(
            session=session,
            cohort_id=cohort_id,
            emails=everyone,
            milestone="training",
            on=None,
            now=utc("2026-09-27T09:00"),
        )
    sweep_and_deliver(use_smtp, "2026-09-29T08:00")
    subjects = to(smtp_server, ORGANISER)
    assert subjects == ["Follow-up digest, Tuesday 29 September 2026: 14 to note"]
    [message] = [m.message for m in smtp_server.messages if ORGANISER in m.rcpt_tos]
    lines = message.get_body(("plain",)).get_content().splitlines()
    assert (
        "Two-Day Training, due Friday 25 September 2026: "
        "not recorded as attending: record it if they came"
    ) in lines
    assert "- David Okonkwo" in lines and "- Aisha Rahman" not in lines
    about, digests = held_and_digests(url)
    assert about == {("missed-organiser", "sent"): 14}
    assert [(d.recipient_role, d.status.value) for d in digests] == [("organiser", "sent")]

    sweep_and_deliver(use_smtp, "2026-09-29T16:00")  # later the same day: nothing new
    assert len(to(smtp_server, ORGANISER)) == 1


def test_a_digest_leaves_out_what_was_done_before_it_went(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    url = use_smtp.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
        sweep(session=session, now=MISSED)
        record(  # recorded after the sweep queued, before anything was sent
            session=session,
            cohort_id=cohort_id,
            emails=["david.okonkwo@example.org"],
            milestone="training",
            on=None,
            now=MISSED,
        )
    deliver_all(url=url, settings=use_smtp, now=MISSED)
    [message] = [m.message for m in smtp_server.messages if ORGANISER in m.rcpt_tos]
    assert message["Subject"].endswith(": 19 to note")
    assert "David Okonkwo" not in message.get_body(("plain",)).get_content()
    about, _ = held_and_digests(url)
    assert about == {("missed-organiser", "sent"): 19, ("missed-organiser", "cancelled"): 1}


def test_mentors_hear_about_their_own_mentees_once_a_day(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    """Mentoring meeting 1 closes 8 weeks after training: +14 days, each mentor is told."""
    url = use_smtp.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    sweep_and_deliver(use_smtp, "2026-12-05T09:00")
    for mentor in ("tim@example.org", "amrit.sandhu@example.org", "grace.adeyemi@example.org"):
        subjects = [s for s in to(smtp_server, mentor) if s.startswith("Your mentees")]
        assert len(subjects) == 1, (mentor, subjects)
    [tim] = [m.message for m in smtp_server.messages if "tim@example.org" in m.rcpt_tos[:1]][-1:]
    text = tim.get_body(("plain",)).get_content()
    assert "Mentoring meeting 1, due" in text and "Margaret O'Connor" in text
    assert "Aisha Rahman" not in text  # Amrit's mentee, not Tim's


def test_an_opted_out_organisers_digest_and_what_it_held_are_cancelled_once(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    """Nothing waits for a digest that can never go: no new digest the next day."""
    from sqlalchemy import update

    from journey.models import Person
    from journey.services.compose import OPTED_OUT

    url = use_smtp.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
        session.execute(update(Person).where(Person.email == ORGANISER).values(opted_out_at=LAUNCH))
    sweep_and_deliver(use_smtp, "2026-09-29T08:00")
    about, digests = held_and_digests(url)
    assert about == {("missed-organiser", "cancelled"): 20}
    assert [(d.status.value, d.last_error) for d in digests] == [("cancelled", OPTED_OUT)]
    sweep_and_deliver(use_smtp, "2026-09-30T08:00")
    assert len(held_and_digests(url)[1]) == 1
    assert to(smtp_server, ORGANISER) == []
