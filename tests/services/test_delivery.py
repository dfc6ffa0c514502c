"""Delivery: a real SMTP server on loopback receives, parses and checks what is sent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from icalendar import Calendar
from sqlalchemy import select, update

from journey.db import session_scope
from journey.mail.render import message_id_for, sender_domain
from journey.models import Enrolment, EnrolmentStatus, Notice, NoticeStatus, Person
from journey.services.compose import NEVER_INVITED, OPTED_OUT
from journey.services.delivery import claim_batch, deliver_all
from journey.services.record import record
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.conftest import utc
from tests.smtp_server import SmtpServer

LAUNCH = utc("2026-09-01T09:00")
AISHA = "aisha.rahman@example.org"


def launch_and_deliver(config: Settings, cohort_id: str) -> None:
    with session_scope(config.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    deliver_all(url=config.database_url, settings=config, now=LAUNCH)


def statuses(url: str) -> Counter[str]:
    with session_scope(url) as session:
        return Counter(n.status.value for n in session.scalars(select(Notice)))


def test_launch_notices_arrive_with_both_parts_and_a_calendar_invitation(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launch_and_deliver(use_smtp, cohort_id)
    assert len(smtp_server.messages) == 25
    welcome = next(r.message for r in smtp_server.messages if r.rcpt_tos == [AISHA])
    assert welcome["To"].addresses[0].display_name == "Aisha Rahman"
    assert welcome.get_body(("plain",)) is not None and welcome.get_body(("html",)) is not None
    assert "Aisha" in welcome.get_body(("plain",)).get_content()
    [ics] = [p for p in welcome.walk() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    uids = sorted(str(e["UID"]) for e in calendar.walk("VEVENT"))
    assert uids == [
        "mk-2026-training-0-1@leadership-journey",
        "mk-2026-training-0-2@leadership-journey",
    ]
    assert str(calendar["METHOD"]) == "REQUEST"
    with session_scope(use_smtp.database_url) as session:
        key = session.scalar(
            select(Notice.key)
            .join(Person, Person.id == Notice.person_id)
            .where(Notice.template == "welcome", Person.email == AISHA)
        )
    assert welcome["Message-ID"] == message_id_for(key, sender_domain(use_smtp.sender))
    assert statuses(use_smtp.database_url) == {"sent": 25}


def test_delivering_again_sends_nothing_twice(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launch_and_deliver(use_smtp, cohort_id)
    result = deliver_all(url=use_smtp.database_url, settings=use_smtp, now=LAUNCH)
    assert result.sent == 0 and len(smtp_server.messages) == 25


def test_the_send_time_gate_cancels_what_was_done_withdrawn_or_opted_out_meanwhile(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launch_and_deliver(use_smtp, cohort_id)
    at = utc("2026-10-31T09:00")  # listening -7d@09:00 (GMT)
    url = use_smtp.database_url
    with session_scope(url) as session:
        # 20 listening reminders, and 14 mentoring-1 booking notices from 3 Oct (still
        # useful: the booking window is open until 21 Nov); the training ones are stale.
        assert sweep(session=session, now=at).queued == 34
        record(
            session=session,
            cohort_id=cohort_id,
            emails=[AISHA],
            milestone="listening",
            on=None,
            now=at,
        )
        session.execute(
            update(Enrolment)
            .where(
                Enrolment.person_id
                == select(Person.id)
                .where(Person.email == "yusuf.patel@example.org")
                .scalar_subquery()
            )
            .values(status=EnrolmentStatus.WITHDRAWN)
        )
        session.execute(  # David (no follow-up: one listening reminder) opts out of email
            update(Person)
            .where(Person.email == "david.okonkwo@example.org")
            .values(opted_out_at=at)
        )
    result = deliver_all(url=url, settings=use_smtp, now=at)
    assert (result.sent, result.cancelled) == (30, 4)
    with session_scope(url) as session:
        reasons = sorted(
            n.last_error or ""
            for n in session.scalars(select(Notice).where(Notice.status == NoticeStatus.CANCELLED))
        )
    assert reasons == ["milestone done", OPTED_OUT, "trainee withdrew", "trainee withdrew"]


def test_a_refused_recipient_fails_alone_with_the_servers_reply(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_recipient(AISHA)
    launch_and_deliver(use_smtp, cohort_id)
    assert len(smtp_server.messages) == 24
    with session_scope(use_smtp.database_url) as session:
        failed = session.scalars(select(Notice).where(Notice.status == NoticeStatus.FAILED)).one()
    assert failed.last_error is not None and failed.last_error.startswith("550 5.1.1")


def test_temporary_replies_are_retried(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    smtp_server.fail_data(2)
    launch_and_deliver(use_smtp, cohort_id)
    assert len(smtp_server.messages) == 25
    assert statuses(use_smtp.database_url) == {"sent": 25}


def test_a_server_that_is_down_leaves_everything_pending_for_the_next_sweep(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    with session_scope(use_smtp.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    result = deliver_all(url=use_smtp.database_url, settings=use_smtp, now=LAUNCH)
    assert result.unavailable and str(smtp_server.port) in result.unavailable
    assert statuses(use_smtp.database_url) == {"pending": 25}
    smtp_server.start()
    result = deliver_all(url=use_smtp.database_url, settings=use_smtp, now=LAUNCH)
    assert result.sent == 25 and len(smtp_server.messages) == 25


def test_a_crashed_workers_claims_become_claimable_when_the_lease_lapses(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    with session_scope(url) as session:
        held = claim_batch(session, worker="crashed", now=LAUNCH, limit=100, lease_seconds=600)
    assert len(held) == 25
    with session_scope(url) as session:
        assert claim_batch(session, worker="other", now=LAUNCH, limit=100, lease_seconds=600) == []
    later = utc("2026-09-01T09:11")
    assert deliver_all(url=url, settings=settings, now=later).sent == 25


def test_without_an_smtp_host_notices_become_eml_files(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    launch_and_deliver(settings, cohort_id)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 25
    launch_and_deliver(settings, cohort_id)
    assert len(sorted((tmp_path / "outbox").glob("*.eml"))) == 25


def test_concurrent_claimers_on_sqlite_never_share_a_notice(
    settings: Settings, cohort_id: str
) -> None:
    """Four threads claim small batches at once until nothing is left: no id twice."""
    from concurrent.futures import ThreadPoolExecutor

    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)

    def drain(worker: str) -> list[int]:
        mine: list[int] = []
        while True:
            with session_scope(url) as session:
                got = claim_batch(session, worker=worker, now=LAUNCH, limit=3, lease_seconds=600)
            if not got:
                return mine
            mine += got

    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = list(pool.map(drain, ["a", "b", "c", "d"]))
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 25


def test_a_moved_session_cancels_old_reminders_and_sends_an_updated_invitation(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """Set A's first session moves from 3 to 10 Dec after its -14d invitation was queued."""
    from journey.services.changes import queue_changes
    from journey.services.cohorts import import_cohort
    from tests.conftest import example_with_set_a_moved

    url = use_smtp.database_url
    launch_and_deliver(use_smtp, cohort_id)
    at = utc("2026-11-19T09:00")  # the -14d@09:00 invitations for 3 Dec (Set A) go out
    with session_scope(url) as session:
        sweep(session=session, now=at)
    deliver_all(url=url, settings=use_smtp, now=at)
    later = utc("2026-11-20T09:00")
    spec = example_with_set_a_moved(tmp_path)
    with session_scope(url) as session:
        moved = import_cohort(session=session, spec=spec, now=later).moved_event_ids
        assert queue_changes(session=session, cohort_id=cohort_id, event_ids=moved, now=later) == 7
        sweep(session=session, now=later)  # nothing new for 10 Dec yet (its -14d was 26 Nov)
    before = len(smtp_server.messages)
    result = deliver_all(url=url, settings=use_smtp, now=later)
    sent = Counter(o.template for o in result.outcomes if o.status == "sent")
    assert sent == {"session-updated": 7} and result.cancelled == 0
    domain = sender_domain(use_smtp.sender)
    updated = {message_id_for(k, domain) for k in _keys(url, "session-updated")}
    updates = [
        r.message for r in smtp_server.messages[before:] if r.message["Message-ID"] in updated
    ]
    assert len(updates) == 7
    assert {u["Subject"] for u in updates} == {
        "Change of plan: Action Learning Set 1 (Set A), now Thursday 10 December"
    }
    [ics] = [p for p in updates[0].walk() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == utc("2026-12-10T17:30")


def test_a_cancelled_session_sends_a_cancelling_invitation(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    from journey.models import CohortEvent, EventKind
    from journey.services.changes import cancel_session

    url = use_smtp.database_url
    launch_and_deliver(use_smtp, cohort_id)
    invited = utc("2027-05-20T08:00")  # 09:00 BST, 28 days before: graduation invitations
    with session_scope(url) as session:
        sweep(session=session, now=invited)
    deliver_all(url=url, settings=use_smtp, now=invited)
    at = utc("2027-05-21T09:00")
    with session_scope(url) as session:
        graduation = session.scalars(
            select(CohortEvent).where(CohortEvent.kind == EventKind.GRADUATION)
        ).one()
        assert (
            cancel_session(session=session, cohort_id=cohort_id, event_id=graduation.id, now=at)
            == 14
        )  # the follow-up trainees
    before = len(smtp_server.messages)
    assert deliver_all(url=url, settings=use_smtp, now=at).sent == 14
    message = smtp_server.messages[before].message
    assert message["Subject"] == "Cancelled: Graduation, Thursday 17 June"
    [ics] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL"
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 1)
    assert str(event["UID"]) == graduation.uid


def test_a_change_to_a_session_is_news_only_to_those_invited_to_it(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """Set A's first session moves in the sweep that queued its first invitations: the
    trainees get one invitation, for the new date, and no "change of plan"."""
    from journey.services.changes import queue_changes
    from journey.services.cohorts import import_cohort
    from tests.conftest import example_with_set_a_moved

    url = use_smtp.database_url
    launch_and_deliver(use_smtp, cohort_id)
    at = utc("2026-11-19T09:00")
    with session_scope(url) as session:
        sweep(session=session, now=at)  # invitations for 3 Dec queued, not yet sent
        spec = example_with_set_a_moved(tmp_path)
        moved = import_cohort(session=session, spec=spec, now=at).moved_event_ids
        assert queue_changes(session=session, cohort_id=cohort_id, event_ids=moved, now=at) == 7
    result = deliver_all(url=url, settings=use_smtp, now=at)
    sent = {o.template for o in result.outcomes if o.status == "sent"}
    assert not sent & {"session-updated", "session-invitation"}
    with session_scope(url) as session:
        reasons = Counter(
            (n.template, n.last_error)
            for n in session.scalars(select(Notice).where(Notice.status == "cancelled"))
        )
    assert reasons == {
        ("session-updated", NEVER_INVITED): 7,
        ("session-invitation", "session moved"): 7,
    }
    later = utc("2026-11-26T09:00")  # 14 days before 10 Dec (Set A, new date); Set B's 8 Dec
    with session_scope(url) as session:
        sweep(session=session, now=later)
    deliver_all(url=url, settings=use_smtp, now=later)
    sent = [k for k in _keys(url, "session-invitation", "sent") if "/learning-set-1/" in k]
    assert Counter(k.rsplit("/", 1)[1] for k in sent) == {"2026-12-10": 7, "2026-12-08": 7}


def _keys(url: str, template: str, status: str | None = None) -> list[str]:
    query = select(Notice.key).where(Notice.template == template)
    if status is not None:
        query = query.where(Notice.status == status)
    with session_scope(url) as session:
        return list(session.scalars(query))
