"""``journey session cancel``: the organiser names a session; its trainees are told once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import CohortEvent, Enrolment, EventKind, LearningSet, Notice
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc

NOW = "2026-10-01T09:00"  # after launch, before every set session and the graduation
IT_HAS = "It has: training 1-2, learning-set 1-3 of Set A, learning-set 1-3 of Set B, graduation"


@pytest.fixture
def launched(settings: Settings, cohort_id: str) -> str:
    """The example cohort, launched on 1 Sep 2026 (through the service: no Prefect)."""
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    return cohort_id


def set_a_second_session(url: str) -> tuple[CohortEvent, list[Notice], set[int]]:
    """Set A's second session, the change notices about it, and Set A's enrolments."""
    with session_scope(url) as session:
        set_a = session.scalars(select(LearningSet.id).where(LearningSet.name == "Set A")).one()
        event = session.scalars(
            select(CohortEvent).where(
                CohortEvent.kind == EventKind.LEARNING_SET,
                CohortEvent.learning_set_id == set_a,
                CohortEvent.number == 2,
            )
        ).one()
        notices = list(session.scalars(select(Notice).where(Notice.event_id == event.id)))
        members = set(
            session.scalars(select(Enrolment.id).where(Enrolment.learning_set_id == set_a))
        )
    return event, notices, members


def test_cancelling_a_set_session_queues_a_cancellation_to_each_of_its_trainees_once(
    settings: Settings, launched: str
) -> None:
    args = ("session", "cancel", launched, "learning-set", "2", "--set", "Set A", "--now", NOW)
    first = journey(*args, probe_prefect=True)
    assert (first.returncode, first.stderr) == (0, "no prefect\n")
    assert first.stdout == (
        "Cancelled Set A, session 2 (Thu 04 Feb 2027 17:30): 7 cancellation notices queued; "
        "`journey remind` sends them.\n"
    )
    event, notices, members = set_a_second_session(settings.database_url)
    assert (event.cancelled, event.sequence) == (True, 1)
    assert {(n.template, n.status.value, n.attach_ics) for n in notices} == {
        ("session-cancelled", "pending", True)
    }
    assert len(notices) == 7 and {n.enrolment_id for n in notices} == members
    again = journey(*args)
    assert (again.returncode, again.stdout) == (
        0,
        "Set A, session 2 (Thu 04 Feb 2027 17:30) was already cancelled: no new notices.\n",
    )
    event_after, notices_after, _ = set_a_second_session(settings.database_url)
    assert event_after.sequence == 1
    assert sorted(n.id for n in notices_after) == sorted(n.id for n in notices)


def test_graduation_needs_no_number(settings: Settings, launched: str) -> None:
    result = journey("session", "cancel", launched, "graduation", "--now", NOW)
    assert result.stdout == (
        "Cancelled graduation (Thu 17 Jun 2027 18:00): 14 cancellation notices queued; "
        "`journey remind` sends them.\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["nope", "graduation"], "unknown cohort 'nope'; known cohorts: mk-2026"),
        (["mk-2026", "training", "3"], f"cohort 'mk-2026' has no training 3. {IT_HAS}"),
        (["mk-2026", "training"], f"cohort 'mk-2026' has 2 training sessions; which one? {IT_HAS}"),
        (
            ["mk-2026", "learning-set", "1"],
            "cohort 'mk-2026' has several learning sets; which one? It has: Set A, Set B",
        ),
        (
            ["mk-2026", "learning-set", "1", "--set", "Set C"],
            "cohort 'mk-2026' has no learning set 'Set C'. It has: Set A, Set B",
        ),
        (["mk-2026", "graduation", "--set", "Set A"], "--set is only for learning-set sessions"),
    ],
    ids=["cohort", "number", "ambiguous", "no set", "unknown set", "set on graduation"],
)
def test_a_session_that_cannot_be_named_is_one_line_exit_code_1_and_changes_nothing(
    settings: Settings, launched: str, args: list[str], error: str
) -> None:
    result = journey("session", "cancel", *args, "--now", NOW)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"Error: {error}\n")
    with session_scope(settings.database_url) as session:
        assert not session.scalars(select(CohortEvent).where(CohortEvent.cancelled)).all()
        assert not session.scalars(select(Notice).where(Notice.event_id.is_not(None))).all()


def test_before_launch_a_cancelled_session_is_marked_and_nobody_is_told(
    settings: Settings, cohort_id: str
) -> None:
    result = journey("session", "cancel", cohort_id, "graduation", "--now", "2026-08-02")
    assert result.stdout == (
        "Cancelled graduation (Thu 17 Jun 2027 18:00): "
        "the cohort is not launched yet, so nobody is told.\n"
    )
    with session_scope(settings.database_url) as session:
        assert session.scalars(
            select(CohortEvent.cancelled).where(CohortEvent.kind == EventKind.GRADUATION)
        ).one()
        assert not session.scalars(select(Notice)).all()
