"""``journey record`` refuses what cannot be right, in one line, writing nothing for anyone.

Aisha (Set B, follow-up): Set B meets 8 Dec, 9 Feb, 6 Apr; Margaret is in Set A (3 Dec,
4 Feb, 1 Apr). The training is 25-26 Sep 2026, graduation 17 Jun 2027; the cohort was
imported on 1 Aug 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Completion, EventKind, HistoryEntry, MentoringMeeting
from journey.services.changes import cancel_session, find_session
from journey.services.record import record
from journey.settings import Settings
from tests.cli.bad_inputs_cases import yusuf_withdrawn
from tests.cli.test_corrections import ok, run
from tests.conftest import utc

AISHA = "aisha.rahman@example.org"  # Set B
YUSUF = "yusuf.patel@example.org"  # Set B
MARGARET = "margaret.oconnor@example.org"  # Set A
NOW = "2026-11-28T12:00"
AFTER_GRADUATION = "2027-06-18T12:00"


def state(url: str) -> tuple[list[Any], ...]:
    """Every completion, meeting and line of history, column by column."""
    with session_scope(url) as session:
        return tuple(
            [tuple(row) for row in session.execute(select(*table.__table__.c).order_by("id"))]
            for table in (Completion, MentoringMeeting, HistoryEntry)
        )


def _cancel(
    kind: EventKind, number: int | None = None, set_name: str | None = None
) -> Callable[[str], None]:
    def setup(url: str) -> None:
        with session_scope(url) as session:
            event, _ = find_session(
                session=session, cohort_id="mk-2026", kind=kind, number=number, set_name=set_name
            )
            cancel_session(session=session, cohort_id="mk-2026", event_id=event.id, now=utc(NOW))

    return setup


def _service(emails: list[str], milestone: str, on: date | None, now: str) -> Callable[[str], None]:
    def setup(url: str) -> None:
        with session_scope(url) as session:
            record(
                session=session,
                cohort_id="mk-2026",
                emails=emails,
                milestone=milestone,
                on=on,
                now=utc(now),
            )

    return setup


def _eligible_yusuf(url: str) -> None:
    """Yusuf did all graduation asks for: both training days, three mentoring meetings,
    two learning-set sessions and the presentation; Aisha did the training only."""
    steps: list[tuple[list[str], str, date | None]] = [
        ([AISHA, YUSUF], "training", None),
        ([YUSUF], "mentoring-1", date(2026, 10, 20)),
        ([YUSUF], "mentoring-2", date(2026, 12, 15)),
        ([YUSUF], "mentoring-3", date(2027, 2, 20)),
        ([YUSUF], "learning-set-1", None),
        ([YUSUF], "learning-set-2", None),
        ([YUSUF], "presentation", None),
    ]
    for emails, milestone, on in steps:
        _service(emails, milestone, on, "2027-05-01T12:00")(url)


NOT_YET = "has not happened yet: it starts"
CASES: list[tuple[str, Callable[[str], None] | None, list[str], str, str]] = [
    # (id, setup, args, now, the error after "Error: ")
    (
        "a date to come",
        None,
        [AISHA, "listening", "--on", "2099-01-01"],
        NOW,
        "listening date 2099-01-01 is in the future (today is 2026-11-28 in Europe/London)",
    ),
    (
        "tomorrow",
        None,
        [AISHA, "mentoring-1", "--on", "2026-11-29"],
        NOW,
        "mentoring-1 date 2026-11-29 is in the future (today is 2026-11-28 in Europe/London)",
    ),
    (
        "a date before the cohort was imported",
        None,
        [AISHA, "listening", "--on", "2026-07-31"],
        NOW,
        "listening date 2026-07-31 is before cohort 'mk-2026' was imported (2026-08-01)",
    ),
    (
        "a --now before the cohort was imported",
        None,
        [AISHA, "listening"],
        "2026-07-15T12:00",
        "listening date 2026-07-15 is before cohort 'mk-2026' was imported (2026-08-01)",
    ),
    (
        "a learning-set session to come",
        None,
        [AISHA, "learning-set-1"],
        NOW,
        f"learning-set-1 {NOT_YET} 2026-12-08 18:30 (Europe/London), after now "
        "(2026-11-28 12:00); record it once it has",
    ),
    (
        "a session to come, given a past date",
        None,
        [AISHA, "learning-set-1", "--on", "2026-11-20"],
        NOW,
        f"learning-set-1 {NOT_YET} 2026-12-08 18:30 (Europe/London), after now "
        "(2026-11-28 12:00); record it once it has",
    ),
    (
        "the second training day, during the first",
        None,
        [AISHA, "training"],
        "2026-09-25T12:00",
        f"training session 2 {NOT_YET} 2026-09-26 09:30 (Europe/London), after now "
        "(2026-09-25 12:00); record it once it has",
    ),
    (
        "graduation to come",
        None,
        [AISHA, "graduation", "--force"],
        NOW,
        f"graduation {NOT_YET} 2027-06-17 18:00 (Europe/London), after now "
        "(2026-11-28 12:00); record it once it has",
    ),
    (
        "one of the list's sets has not met yet",
        None,
        [f"{MARGARET},{AISHA}", "learning-set-1"],
        "2026-12-05T12:00",
        f"learning-set-1 {NOT_YET} 2026-12-08 18:30 (Europe/London), after now "
        "(2026-12-05 12:00); record it once it has",
    ),
    (
        "a learning-set session on a day far from it",
        None,
        [AISHA, "learning-set-1", "--on", "2027-01-05"],
        "2027-01-10T12:00",
        "learning-set-1 was held on 2026-12-08; attendance on another day must be within "
        "14 days of it, and 2027-01-05 is not",
    ),
    (
        "a learning-set session on a day to come",
        None,
        [AISHA, "learning-set-1", "--on", "2099-01-01"],
        "2027-01-10T12:00",
        "learning-set-1 date 2099-01-01 is in the future (today is 2027-01-10 in Europe/London)",
    ),
    (
        "a training day that is not one",
        None,
        [AISHA, "training", "--on", "2026-10-01"],
        NOW,
        "training has no session on 2026-10-01 (sessions: 2026-09-25, 2026-09-26)",
    ),
    (
        "a correction to a date to come",
        _service([AISHA], "listening", date(2026, 11, 2), NOW),
        [AISHA, "listening", "--on", "2099-01-01"],
        NOW,
        "listening date 2099-01-01 is in the future (today is 2026-11-28 in Europe/London)",
    ),
    (
        "a withdrawn trainee in the list",
        yusuf_withdrawn,
        [f"{AISHA},{YUSUF}", "listening"],
        NOW,
        f"{YUSUF} withdrew from mk-2026 on 2026-11-10; reinstate them first: "
        f"journey reinstate mk-2026 {YUSUF}",
    ),
    (
        "a cancelled learning-set session",
        _cancel(EventKind.LEARNING_SET, 1, "Set B"),
        [AISHA, "learning-set-1"],
        "2026-12-20T12:00",
        "learning-set-1 on 2026-12-08 was cancelled: there is no attendance to record",
    ),
    (
        "a cancelled training day",
        _cancel(EventKind.TRAINING, 2),
        [AISHA, "training", "--on", "2026-09-26"],
        NOW,
        "training on 2026-09-26 was cancelled: there is no attendance to record",
    ),
    (
        "a cancelled graduation, forced",
        _cancel(EventKind.GRADUATION),
        [AISHA, "graduation", "--force"],
        AFTER_GRADUATION,
        "graduation on 2027-06-17 was cancelled: there is no attendance to record",
    ),
    (
        "graduation for someone not eligible, in a list",
        _eligible_yusuf,
        [f"{YUSUF},{AISHA}", "graduation"],
        AFTER_GRADUATION,
        f"{AISHA} is not eligible to graduate (still needs: 3 of 4 mentoring milestones "
        "(0 so far), 2 of 3 learning-set milestones (0 so far), Final presentation (last "
        "learning set)); add --force to record it anyway",
    ),
]


@pytest.mark.parametrize(
    ("setup", "args", "now", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_what_cannot_be_right_is_refused_and_nothing_is_written(
    settings: Settings,
    cohort_id: str,
    setup: Callable[[str], None] | None,
    args: list[str],
    now: str,
    error: str,
) -> None:
    url = settings.database_url
    if setup is not None:
        setup(url)
    before = state(url)
    assert run(*args, now=now) == (1, "", f"Error: {error}\nno prefect\n")
    assert state(url) == before


def test_a_session_attended_on_a_nearby_day_once_it_has_happened_is_recorded(
    settings: Settings, cohort_id: str
) -> None:
    """Aisha went to Set A's session on 3 Dec instead of Set B's on 8 Dec: recorded after
    the 8th, within 14 days of it."""
    assert ok(AISHA, "learning-set-1", "--on", "2026-12-03", now="2026-12-09T12:00") == (
        "learning-set-1: 1 recorded.\n"
    )
    with session_scope(settings.database_url) as session:
        done = session.scalars(select(Completion)).one()
        assert (done.milestone, done.occurrence, done.completed_on) == (
            "learning-set-1",
            1,
            date(2026, 12, 3),
        )


def test_one_training_day_may_be_recorded_before_the_second(
    settings: Settings, cohort_id: str
) -> None:
    assert ok(AISHA, "training", "--on", "2026-09-25", now="2026-09-25T17:00") == (
        "training: 1 recorded.\n"
    )


def test_graduation_is_recorded_for_the_eligible_and_forced_for_the_others(
    settings: Settings, cohort_id: str
) -> None:
    _eligible_yusuf(settings.database_url)
    assert ok(YUSUF, "graduation", now=AFTER_GRADUATION) == "graduation: 1 recorded.\n"
    assert ok(AISHA, "graduation", "--force", now=AFTER_GRADUATION) == ("graduation: 1 recorded.\n")
    # Recorded already: another run changes nothing and asks for no --force.
    assert ok(f"{AISHA},{YUSUF}", "graduation", now=AFTER_GRADUATION) == (
        "graduation: 0 recorded, 2 already recorded.\n"
    )


def test_a_withdrawn_trainees_record_can_still_be_taken_back(
    settings: Settings, cohort_id: str
) -> None:
    """Undo is checked for nothing but a record to take back: a slip made before the
    withdrawal can be mended without reinstating them."""
    url = settings.database_url
    _service([YUSUF], "listening", date(2026, 11, 2), "2026-11-05T12:00")(url)
    yusuf_withdrawn(url)
    assert ok(YUSUF, "listening", "--undo") == "listening: 1 undone.\n"
    assert state(url)[0] == []


def test_a_record_of_a_session_cancelled_afterwards_can_be_taken_back(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    _service([AISHA], "learning-set-1", None, "2026-12-09T12:00")(url)
    _cancel(EventKind.LEARNING_SET, 1, "Set B")(url)
    assert ok(AISHA, "learning-set-1", "--undo", now="2026-12-10T12:00") == (
        "learning-set-1: 1 undone.\n"
    )
    assert state(url)[0] == []
