"""Recording completions and attendance."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.errors import (
    InvalidInput,
    JourneyError,
    NotApplicable,
    UnknownCohort,
    UnknownMilestone,
    UnknownTrainee,
)
from journey.models import Completion, MentoringMeeting
from journey.services.record import Correction, emails_from_csv, record
from journey.settings import Settings
from tests.conftest import utc

AISHA = "aisha.rahman@example.org"
DAVID = "david.okonkwo@example.org"  # no follow-up


def do_record(
    url: str, emails: list[str], milestone: str, on: date | None = None, cohort: str = "mk-2026"
):  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        return record(
            session=session,
            cohort_id=cohort,
            emails=emails,
            milestone=milestone,
            on=on,
            now=utc("2026-11-28T12:00"),
        )


def completions(url: str) -> list[tuple[str, int, date]]:
    with session_scope(url) as session:
        return [
            (c.milestone, c.occurrence, c.completed_on)
            for c in session.scalars(select(Completion).order_by(Completion.id))
        ]


def test_recording_twice_is_harmless(settings: Settings, cohort_id: str) -> None:
    """The same date, or no date at all, changes nothing (another date corrects it)."""
    first = do_record(settings.database_url, [AISHA], "listening", date(2026, 11, 5))
    again = do_record(settings.database_url, [AISHA], "listening", date(2026, 11, 5))
    undated = do_record(settings.database_url, [AISHA], "listening")
    assert (first.recorded, again.already, undated.already) == ([AISHA], [AISHA], [AISHA])
    assert (again.corrected, undated.corrected) == ([], [])
    assert completions(settings.database_url) == [("listening", 1, date(2026, 11, 5))]


def test_another_date_corrects_the_record(settings: Settings, cohort_id: str) -> None:
    do_record(settings.database_url, [AISHA], "listening", date(2026, 11, 2))
    moved = do_record(settings.database_url, [AISHA], "listening", date(2026, 11, 5))
    assert (moved.recorded, moved.already) == ([], [])
    assert moved.corrected == [Correction(AISHA, date(2026, 11, 2), date(2026, 11, 5))]
    assert completions(settings.database_url) == [("listening", 1, date(2026, 11, 5))]


def test_another_training_day_is_another_session_not_a_correction(
    settings: Settings, cohort_id: str
) -> None:
    do_record(settings.database_url, [AISHA], "training", date(2026, 9, 25))
    second = do_record(settings.database_url, [AISHA], "training", date(2026, 9, 26))
    again = do_record(settings.database_url, [AISHA], "training", date(2026, 9, 25))
    assert (second.recorded, second.corrected, again.already) == ([AISHA], [], [AISHA])
    assert completions(settings.database_url) == [
        ("training", 1, date(2026, 9, 25)),
        ("training", 2, date(2026, 9, 26)),
    ]


def test_training_without_a_date_records_both_days(settings: Settings, cohort_id: str) -> None:
    do_record(settings.database_url, [AISHA, DAVID], "training")
    assert sorted(completions(settings.database_url)) == [
        ("training", 1, date(2026, 9, 25)),
        ("training", 1, date(2026, 9, 25)),
        ("training", 2, date(2026, 9, 26)),
        ("training", 2, date(2026, 9, 26)),
    ]


def test_a_date_picks_the_training_day(settings: Settings, cohort_id: str) -> None:
    do_record(settings.database_url, [AISHA], "training", date(2026, 9, 26))
    assert completions(settings.database_url) == [("training", 2, date(2026, 9, 26))]
    with pytest.raises(
        JourneyError,
        match=r"^training has no session on 2026-10-01 "
        r"\(sessions: 2026-09-25, 2026-09-26\)$",
    ):
        do_record(settings.database_url, [AISHA], "training", date(2026, 10, 1))


def test_mentoring_is_recorded_as_a_meeting_with_a_date_only(
    settings: Settings, cohort_id: str
) -> None:
    do_record(settings.database_url, [AISHA], "mentoring-2", date(2026, 11, 20))
    with session_scope(settings.database_url) as session:
        meeting = session.scalars(select(MentoringMeeting)).one()
        assert (meeting.number, meeting.met_on) == (2, date(2026, 11, 20))
    assert completions(settings.database_url) == []


def test_bad_input_is_one_clear_error_and_writes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    with pytest.raises(UnknownCohort, match=r"^unknown cohort 'nope'"):
        do_record(url, [AISHA], "listening", cohort="nope")
    with pytest.raises(UnknownTrainee, match=r"^'ghost@example.org' is not a trainee"):
        do_record(url, [AISHA, "ghost@example.org"], "listening")
    with pytest.raises(
        UnknownMilestone,
        match=r"^unknown milestone 'lisening'; the programme "
        r"has: training, listening, ",
    ):
        do_record(url, [AISHA], "lisening")
    with pytest.raises(NotApplicable, match=r"^mentoring-1 does not apply to david"):
        do_record(url, [DAVID], "mentoring-1")
    assert completions(url) == []


def test_attendance_csv_gives_the_email_column() -> None:
    assert emails_from_csv("a.csv", "name,Email\nA,a@x.org\nB, b@x.org \n") == [
        "a@x.org",
        "b@x.org",
    ]
    with pytest.raises(InvalidInput, match=r"a.csv:1: email: no 'email' column"):
        emails_from_csv("a.csv", "name\nA\n")
    with pytest.raises(InvalidInput, match=r"a.csv:3: email: empty"):
        emails_from_csv("a.csv", 'email\na@x.org\n""\n')


def test_a_failure_half_way_through_recording_a_list_writes_none_of_it(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import journey.services.record as record_module

    real = record_module._write
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(record_module, "_write", failing)
    with pytest.raises(RuntimeError):
        do_record(settings.database_url, [AISHA, "yusuf.patel@example.org"], "listening")
    assert completions(settings.database_url) == []
