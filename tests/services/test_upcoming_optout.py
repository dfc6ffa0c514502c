"""``journey upcoming`` lists what an opted-out person would have been sent, to tell them
by other means (the send-time gate cancels it)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Person
from journey.services.sweep import launch
from journey.services.upcoming import UpcomingNotice, upcoming
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc

AISHA = "aisha.rahman@example.org"


@pytest.fixture
def launched(settings: Settings, cohort_id: str) -> str:
    """The example cohort, launched on 1 Sep 2026: welcomes and assignments queued."""
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    return cohort_id


def opt_out(url: str, email: str) -> str:
    """Mark a person as opted out of email (as ``journey person opt-out`` does); their name."""
    with session_scope(url) as session:
        person = session.scalars(select(Person).where(Person.email == email)).one()
        person.opted_out_at = utc("2026-09-05T12:00")
        return person.name


def listed(url: str, now: str, days: int) -> list[UpcomingNotice]:
    with session_scope(url) as session:
        return upcoming(session=session, now=utc(now), days=days)


def test_an_opted_out_trainees_queued_and_planned_notices_are_to_tell_by_other_means(
    settings: Settings, launched: str
) -> None:
    name = opt_out(settings.database_url, AISHA)
    rows = listed(settings.database_url, "2026-09-12T09:00", 7)
    marked = [(r.template, r.queued) for r in rows if r.tell_by_other_means]
    assert sorted(marked) == [("session-reminder", False), ("welcome", True)]
    assert {r.trainee for r in rows if r.tell_by_other_means} == {name}
    assert Counter(r.queued for r in rows) == {True: 25, False: 20}  # still all listed


def test_an_opted_out_mentors_notices_are_marked_and_the_organisers_are_not(
    settings: Settings, launched: str
) -> None:
    """Tim Norwood opted out: his assignment (queued) and his overdue-mentoring notices
    (planned) are marked; the organiser's about the same trainees are not."""
    opt_out(settings.database_url, "tim@example.org")
    rows = listed(settings.database_url, "2026-12-01T09:00", 7)
    marked = Counter((r.template, r.queued) for r in rows if r.tell_by_other_means)
    overdue = Counter((r.template, r.queued) for r in rows if r.template == "overdue-mentor")
    assert marked[("mentor-assignment", True)] == 1
    assert 0 < marked[("overdue-mentor", False)] < overdue[("overdue-mentor", False)]
    assert set(marked) == {("mentor-assignment", True), ("overdue-mentor", False)}


def test_journey_upcoming_shows_tell_by_other_means_in_the_state_column(
    settings: Settings, launched: str
) -> None:
    name = opt_out(settings.database_url, AISHA)
    result = journey("upcoming", "--days", "14", "--now", "2026-09-12T09:00")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[-1] == "65 notices."  # 25 queued, 2 x 20 training reminders planned
    told = [[cell.strip() for cell in line.split("│")] for line in lines if name in line]
    assert [(row[1], row[5], row[7]) for row in told] == [
        ("Tue 01 Sep 2026 10:00", "welcome", "tell by other means"),
        ("Fri 18 Sep 2026 09:00", "session-reminder", "tell by other means"),
        ("Thu 24 Sep 2026 09:00", "session-reminder", "tell by other means"),
    ]
    assert sum("tell by other means" in line for line in lines) == 3
