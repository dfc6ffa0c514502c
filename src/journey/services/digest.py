"""One email a day for the organiser, each mentor and each facilitator, not one per trainee.

A notice about a trainee to anyone but the trainee (an overdue stage to the organiser, a
missed session, an unbooked mentoring meeting to the mentor, a withdrawal or a late join
to the mentor and facilitator) is queued ``held`` (:mod:`journey.services.outbox`). The
sweep then queues, for each person with held notices due, one ``digest`` notice keyed by
person, role and local date (:func:`journey.engine.keys.digest_key`): a notice like any
other, sent exactly once. When it is sent, the send-time gate checks each held notice
again, binds the ones still worth telling to the digest, and the digest lists them
grouped by milestone; when the digest is recorded as sent, so are they.

A held notice that comes due after today's digest went waits for tomorrow's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from journey.engine import local_date
from journey.engine.keys import digest_key
from journey.mail.render import DigestGroup, format_date
from journey.models import Cohort, Notice, NoticeStatus, RecipientRole
from journey.services.outbox import JOINED_NEWS, WITHDRAWN_NEWS, insert_new, notice_row

DIGEST = "digest"
NOTHING_LEFT = "nothing left to tell"
DIGEST_USEFUL = timedelta(days=7)

# What each held notice's template asks of its reader, as a digest heading's second half.
NEEDS = {
    "overdue-organiser": "overdue: a personal word may help, or record it if it is done",
    "missed-organiser": "not recorded as attending: record it if they came",
    "overdue-mentor": "meeting not yet recorded: please get in touch",
    WITHDRAWN_NEWS: "withdrew from the programme",
    JOINED_NEWS: "joined the programme",
}
_DEAD = (NoticeStatus.FAILED, NoticeStatus.SKIPPED, NoticeStatus.CANCELLED)


def queue_digests(*, session: Session, now: datetime) -> int:
    """Queue today's digest for each person with held notices due and not yet told.

    One query finds them; the digest's day is the local date, in the cohort's time zone, of
    the earliest such notice's cohort. Returns how many digests were queued (new, or
    reopened after one that day had nothing left to tell).
    """
    rows = session.execute(
        select(
            Notice.person_id,
            Notice.recipient_role,
            Notice.cohort_id,
            Notice.due_at,
            Cohort.timezone,
        )
        .join(Cohort, Cohort.id == Notice.cohort_id)
        .where(Notice.status == NoticeStatus.HELD, Notice.due_at <= now, _untold())
        .order_by(Notice.due_at, Notice.id)
    )
    first: dict[tuple[int, RecipientRole], tuple[str, str]] = {}
    for person_id, role, cohort_id, _due, tz in rows:
        first.setdefault((person_id, role), (cohort_id, tz))
    digests = [
        notice_row(
            key=digest_key(person_id, role, local_date(now, tz)),
            cohort_id=cohort_id,
            enrolment_id=None,
            person_id=person_id,
            role=role,
            template=DIGEST,
            due_at=now,
            useful_until=now + DIGEST_USEFUL,
            now=now,
        )
        for (person_id, role), (cohort_id, tz) in first.items()
    ]
    return insert_new(session, digests) + _reopen(session, [d.key for d in digests], now)


def _reopen(session: Session, keys: list[str], now: datetime) -> int:
    """Today's digests that went out with nothing to tell (what they held was done by then),
    pending again: they sent nothing, so a day still gets at most one email."""
    if not keys:
        return 0
    rows = session.scalars(
        update(Notice)
        .where(
            Notice.key.in_(keys),
            Notice.status == NoticeStatus.CANCELLED,
            Notice.last_error == NOTHING_LEFT,
        )
        .values(status=NoticeStatus.PENDING, last_error=None, due_at=now)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return len(rows.all())


def _untold(digest_id: int | None = None) -> ColumnElement[bool]:
    """Held notices no digest has told: never bound, bound to ``digest_id`` (a digest being
    sent again after a retry), or bound to one that did not go (failed, skipped, cancelled)."""
    dead = select(Notice.id).where(Notice.template == DIGEST, Notice.status.in_(_DEAD))
    options: list[ColumnElement[bool]] = [
        Notice.digest_id.is_(None),
        Notice.digest_id.in_(dead.scalar_subquery()),
    ]
    if digest_id is not None:
        options.append(Notice.digest_id == digest_id)
    return or_(*options)


def gather(session: Session, digests: Sequence[Notice], now: datetime) -> dict[int, list[Notice]]:
    """Each digest's held notices: to its person in its role, due by ``now``, untold."""
    found: dict[int, list[Notice]] = {}
    for digest in digests:
        found[digest.id] = list(
            session.scalars(
                select(Notice)
                .where(
                    Notice.status == NoticeStatus.HELD,
                    Notice.person_id == digest.person_id,
                    Notice.recipient_role == digest.recipient_role,
                    Notice.due_at <= now,
                    _untold(digest.id),
                )
                .order_by(Notice.due_at, Notice.id)
            )
        )
    return found


def mark_told(session: Session, digest_ids: Iterable[int], sent_at: datetime) -> int:
    """The held notices of digests just sent are sent too; returns how many."""
    ids = list(digest_ids)
    if not ids:
        return 0
    told = session.scalars(
        update(Notice)
        .where(Notice.digest_id.in_(ids), Notice.status == NoticeStatus.HELD)
        .values(status=NoticeStatus.SENT, sent_at=sent_at)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return len(told.all())


def group(
    items: Iterable[tuple[Notice, str, str, date | None]], several_cohorts: bool
) -> tuple[DigestGroup, ...]:
    """Items as headings and lines: ``(notice, trainee name, milestone title, due on)``.

    One heading per milestone and need (``Stage 1: Listening, due Friday 6 November 2026:
    overdue: …``), in the order they first came due; one line per trainee, with the cohort
    when the digest spans several.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for notice, name, title, due_on in items:
        need = NEEDS.get(notice.template, notice.template)
        when = f", due {format_date(due_on)}" if due_on else ""
        heading = f"{title}{when}: {need}" if title else need.capitalize()
        groups[heading].append(f"{name} ({notice.cohort_id})" if several_cohorts else name)
    return tuple(DigestGroup(h, tuple(lines)) for h, lines in groups.items())
