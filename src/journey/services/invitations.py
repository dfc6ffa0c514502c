"""Who was invited to what: a change to a session is news only to those who were.

A trainee has been invited to a session when a calendar entry for it reached them: a
notice with an .ics about the same milestone (an invitation or reminder, whatever the
date it carried), an earlier change to it, or, for the training days, the welcome (for a
late joiner, the welcome invites them to every session still to come). A trainee who was
never invited gets nothing when the session moves or is cancelled: the first invitation
they get carries the session as it is by then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.models import Notice, NoticeStatus, RecipientRole

LAUNCH = "launch"  # stands for the milestone of a welcome in :func:`calendar_entries`


def calendar_entries(session: Session, notices: Sequence[Notice]) -> set[tuple[int, str]]:
    """(enrolment id, milestone) for each calendar entry sent to the trainees of the change
    notices among ``notices`` (those with an ``event_id``); the welcome counts as ``launch``."""
    enrolments = {n.enrolment_id for n in notices if n.event_id is not None and n.enrolment_id}
    if not enrolments:
        return set()
    rows = session.execute(
        select(Notice.enrolment_id, Notice.milestone).where(
            Notice.enrolment_id.in_(enrolments),
            Notice.status == NoticeStatus.SENT,
            Notice.attach_ics.is_(True),
            Notice.recipient_role == RecipientRole.TRAINEE,
        )
    )
    return {(e, m or LAUNCH) for e, m in rows if e is not None}


def was_invited(
    entries: Iterable[tuple[int, str]] | set[tuple[int, str]],
    enrolment_id: int,
    milestone: str,
    session_kind: str,
    joined_late: bool,
) -> bool:
    """Whether a calendar entry for this milestone's session has reached the trainee."""
    found = entries if isinstance(entries, set) else set(entries)
    if (enrolment_id, milestone) in found:
        return True
    welcomed = (enrolment_id, LAUNCH) in found
    return welcomed and (session_kind == "training" or joined_late)
