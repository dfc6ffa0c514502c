"""Every notice key format, in one place (invariant 2: a notice's key is deterministic).

A key names what a notice is about, never when it was queued, so queueing the same notice
again finds it already there. The formats below are stored in outboxes already: change
one and notices queued before the change could be sent a second time.
"""

from __future__ import annotations

from datetime import date, datetime


def trainee_prefix(cohort_id: str, ref: str) -> str:
    """The start every key about one trainee (``ref``: the enrolment id) shares."""
    return f"{cohort_id}/{ref}/"


def rule_suffix(milestone: str, rule: str, occurrence: str) -> str:
    """A programme rule's part of the key: milestone, rule, occurrence (its local date)."""
    return f"{milestone}/{rule}/{occurrence}"


def notice_key(cohort_id: str, ref: str, milestone: str, rule: str, occurrence: str) -> str:
    """A milestone rule's notice: ``mk-2026/17/listening/-7d@09:00/2026-11-06``."""
    return trainee_prefix(cohort_id, ref) + rule_suffix(milestone, rule, occurrence)


def launch_key(cohort_id: str, ref: str, template: str, to: str) -> str:
    """A launch notice (a welcome, an assignment). ``ref``: the enrolment id, ``m<mentor>``,
    ``s<set>`` or ``organiser``. A late joiner's welcome has the same key as at launch."""
    return notice_key(cohort_id, ref, "launch", f"{template}>{to}", "launch")


def change_key(
    cohort_id: str, enrolment_id: int, milestone: str, template: str, sequence: int, on: date
) -> str:
    """A moved or cancelled session's notice, one per calendar SEQUENCE of the session."""
    rule = f"{template}-{sequence}>trainee"
    return notice_key(cohort_id, str(enrolment_id), milestone, rule, on.isoformat())


def about_trainee_key(
    cohort_id: str, enrolment_id: int, what: str, template: str, to: str, at: datetime
) -> str:
    """A notice to someone else about a trainee joining or withdrawing (``what``), once per
    moment it happened: a trainee who withdraws, returns and withdraws again is told twice."""
    return notice_key(cohort_id, str(enrolment_id), what, f"{template}>{to}", f"{at:%Y%m%dT%H%M%S}")


def digest_key(person_id: int, role: str, day: date) -> str:
    """One person's daily digest in one role: ``digest/3/organiser/2026-11-06``."""
    return f"digest/{person_id}/{role}/{day.isoformat()}"
