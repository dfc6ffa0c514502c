"""A line of history for each change an organiser makes (what, when, by whom)."""

from __future__ import annotations

import getpass
from datetime import datetime

from sqlalchemy.orm import Session

from journey.models import HistoryEntry


def default_actor() -> str:
    """Who is acting when no ``--by`` is given: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a bare container)
        return "unknown"


def note(
    *,
    session: Session,
    at: datetime,
    by: str | None,
    action: str,
    detail: str = "",
    cohort_id: str | None = None,
    enrolment_id: int | None = None,
    person_id: int | None = None,
) -> HistoryEntry:
    """Add one line of history in the caller's transaction (written with the change)."""
    entry = HistoryEntry(
        at=at,
        by=(by or default_actor())[:100],
        action=action,
        detail=detail,
        cohort_id=cohort_id,
        enrolment_id=enrolment_id,
        person_id=person_id,
    )
    session.add(entry)
    return entry
