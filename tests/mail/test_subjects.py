"""Subject lines of session notices, rendered from the contexts delivery really builds."""

from __future__ import annotations

from collections import defaultdict

from journey.db import session_scope
from journey.engine import Planner
from journey.mail.render import render_notice
from journey.models import Notice, RecipientRole
from journey.services.compose import judge
from journey.services.loading import load_cohort, load_trainees
from journey.services.outbox import notice_row
from journey.settings import Settings
from tests.conftest import utc

NOW = utc("2026-08-01T09:00")  # before every session: every notice still useful
SESSION_KINDS = ("session-reminder", "session-invitation")
ONE_PER_SET = ("margaret.oconnor@example.org", "samuel.mensah@example.org")  # Set A, Set B


def session_subjects(url: str, cohort_id: str) -> dict[tuple[str, str], set[str]]:
    """Each session notice a Set A and a Set B trainee are planned, judged and rendered
    as delivery would: its subjects, by (kind, the session's milestone and date)."""
    with session_scope(url) as session:
        loaded = load_cohort(session, cohort_id)
        planner = Planner(loaded.programme, loaded.plan)
        notices = [
            Notice(**notice_row(
                key=n.key, cohort_id=cohort_id, enrolment_id=t.enrolment.id,
                person_id=t.enrolment.person_id, role=RecipientRole(n.to), template=n.template,
                due_at=n.due_at, useful_until=n.useful_until, now=NOW, milestone=n.milestone,
                rule=n.rule, occurrence=n.occurrence, attach_ics=n.attach_ics,
            ).as_insert())
            for t in load_trainees(session, [cohort_id])[cohort_id]
            if t.enrolment.person.email in ONE_PER_SET
            for n in planner.planned(t.record)
            if n.template in SESSION_KINDS
        ]  # fmt: skip
        subjects: dict[tuple[str, str], set[str]] = defaultdict(set)
        for verdict in judge(session, notices, NOW):
            assert verdict.context is not None, (verdict.notice.key, verdict.cancel)
            n = verdict.notice
            subject = render_notice(verdict.context, stamp=NOW).subject
            subjects[(n.template, f"{n.milestone} {n.occurrence}")].add(subject)
    return subjects


def test_no_two_sessions_share_a_subject_line(settings: Settings, cohort_id: str) -> None:
    """Both reminders of one session share a subject; two sessions never do."""
    subjects = session_subjects(settings.database_url, cohort_id)
    assert all(len(found) == 1 for found in subjects.values()), subjects
    every = [subject for found in subjects.values() for subject in found]
    assert len(set(every)) == len(every)
    assert sorted(every) == [
        "Invitation: Action Learning Set 1 (Set A), Thursday 3 December",
        "Invitation: Action Learning Set 1 (Set B), Tuesday 8 December",
        "Invitation: Action Learning Set 2 (Set A), Thursday 4 February",
        "Invitation: Action Learning Set 2 (Set B), Tuesday 9 February",
        "Invitation: Action Learning Set 3 (Set A), Thursday 1 April",
        "Invitation: Action Learning Set 3 (Set B), Tuesday 6 April",
        "Reminder: Action Learning Set 1 (Set A), Thursday 3 December",
        "Reminder: Action Learning Set 1 (Set B), Tuesday 8 December",
        "Reminder: Action Learning Set 2 (Set A), Thursday 4 February",
        "Reminder: Action Learning Set 2 (Set B), Tuesday 9 February",
        "Reminder: Action Learning Set 3 (Set A), Thursday 1 April",
        "Reminder: Action Learning Set 3 (Set B), Tuesday 6 April",
        "Reminder: Graduation, Thursday 17 June",
        "Reminder: Two-Day Training, Friday 25 September",
    ]
