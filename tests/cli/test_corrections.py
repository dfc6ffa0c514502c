"""``journey record`` corrects a date and takes a record back (``--undo``), keeping history."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import (
    Completion,
    Enrolment,
    HistoryEntry,
    MentoringMeeting,
    Notice,
    NoticeStatus,
    Person,
)
from journey.services.delivery import deliver_all
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc

AISHA = "aisha.rahman@example.org"  # follow-up, Set B (its first session: 8 Dec 2026)
YUSUF = "yusuf.patel@example.org"
NOW = "2026-11-28T12:00"


def run(*args: str, now: str = NOW) -> tuple[int, str, str]:
    """``journey record ARGS --now NOW``: exit code, output, and whether Prefect was imported."""
    result = journey("record", "mk-2026", *args, "--now", now, probe_prefect=True)
    return result.returncode, result.stdout, result.stderr


def ok(*args: str, now: str = NOW) -> str:
    code, out, err = run(*args, now=now)
    assert (code, err) == (0, "no prefect\n"), err
    return out


def records(url: str) -> list[tuple[str, str, int, date]]:
    """Every completion and meeting: (email, milestone, session number, date)."""
    with session_scope(url) as session:
        done = session.execute(
            select(
                Person.email, Completion.milestone, Completion.occurrence, Completion.completed_on
            )
            .join(Enrolment, Enrolment.id == Completion.enrolment_id)
            .join(Person, Person.id == Enrolment.person_id)
        )
        met = session.execute(
            select(Person.email, MentoringMeeting.number, MentoringMeeting.met_on)
            .join(Enrolment, Enrolment.id == MentoringMeeting.enrolment_id)
            .join(Person, Person.id == Enrolment.person_id)
        )
        rows = [(e or "", m, n, d) for e, m, n, d in done]
        rows += [(e or "", f"mentoring-{n}", 1, d) for e, n, d in met]
    return sorted(rows)


def history(url: str) -> list[tuple[str, str, str, str | None, str]]:
    """Every line of history: (action, by, detail, cohort, whose email via the enrolment)."""
    with session_scope(url) as session:
        rows = session.execute(
            select(
                HistoryEntry.action,
                HistoryEntry.by,
                HistoryEntry.detail,
                HistoryEntry.cohort_id,
                Person.email,
            )
            .join(Person, Person.id == HistoryEntry.person_id)
            .order_by(HistoryEntry.id)
        )
        return [(a, b, d, c, e or "") for a, b, d, c, e in rows]


def state(url: str) -> tuple[Any, ...]:
    return records(url), history(url)


def test_a_completion_is_undone_and_the_history_says_who_did_what(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    assert ok(AISHA, "listening", "--on", "2026-11-02", "--by", "Sam Rivers") == (
        "listening: 1 recorded.\n"
    )
    assert ok(AISHA, "listening", "--undo", "--by", "Sam Rivers") == "listening: 1 undone.\n"
    assert records(url) == []
    assert history(url) == [
        ("record", "Sam Rivers", "listening (2026-11-02) recorded", cohort_id, AISHA),
        ("record-undo", "Sam Rivers", "listening (2026-11-02) undone", cohort_id, AISHA),
    ]


def test_undo_without_by_names_the_os_user(settings: Settings, cohort_id: str) -> None:
    from journey.services.history import default_actor

    ok(AISHA, "listening")
    ok(AISHA, "listening", "--undo")
    assert {by for _, by, *_ in history(settings.database_url)} == {default_actor()}


def test_undo_for_several_trainees_counts_them(settings: Settings, cohort_id: str) -> None:
    ok(f"{AISHA},{YUSUF}", "listening")
    assert ok(f"{AISHA},{YUSUF}", "listening", "--undo") == "listening: 2 undone.\n"
    assert records(settings.database_url) == []


def test_undo_of_one_training_day_keeps_the_other(settings: Settings, cohort_id: str) -> None:
    url = settings.database_url
    ok(AISHA, "training", "--by", "sam")
    assert ok(AISHA, "training", "--on", "2026-09-26", "--undo", "--by", "sam") == (
        "training: 1 undone.\n"
    )
    assert records(url) == [(AISHA, "training", 1, date(2026, 9, 25))]
    ok(AISHA, "training", "--by", "sam")  # day 2 again
    assert ok(AISHA, "training", "--undo", "--by", "sam") == "training: 1 undone.\n"
    assert records(url) == []
    both = "training session 1 (2026-09-25), training session 2 (2026-09-26)"
    assert [(a, d) for a, _, d, _, _ in history(url)] == [
        ("record", f"{both} recorded"),
        ("record-undo", "training session 2 (2026-09-26) undone"),
        ("record", "training session 2 (2026-09-26) recorded"),
        ("record-undo", f"{both} undone"),
    ]


def test_a_mentoring_meeting_is_undone_and_only_its_number_and_date_are_kept(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    ok(AISHA, "mentoring-2", "--on", "2026-11-02", "--by", "sam")
    assert ok(AISHA, "mentoring-2", "--on", "2026-11-05", "--by", "sam") == (
        f"mentoring-2: 0 recorded, 1 date corrected ({AISHA}: 2026-11-02 -> 2026-11-05).\n"
    )
    assert records(url) == [(AISHA, "mentoring-2", 1, date(2026, 11, 5))]
    assert ok(AISHA, "mentoring-2", "--undo", "--by", "sam") == "mentoring-2: 1 undone.\n"
    assert records(url) == []
    assert [(a, d) for a, _, d, _, _ in history(url)] == [
        ("record", "mentoring-2 (2026-11-02) recorded"),
        ("record-correct", "mentoring-2: 2026-11-02 -> 2026-11-05"),
        ("record-undo", "mentoring-2 (2026-11-05) undone"),
    ]


def test_another_date_corrects_the_record_and_the_same_date_changes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    ok(AISHA, "listening", "--on", "2026-11-02", "--by", "Sam Rivers")
    assert ok(AISHA, "listening", "--on", "2026-11-05", "--by", "Sam Rivers") == (
        f"listening: 0 recorded, 1 date corrected ({AISHA}: 2026-11-02 -> 2026-11-05).\n"
    )
    assert records(url) == [(AISHA, "listening", 1, date(2026, 11, 5))]
    unchanged = "listening: 0 recorded, 1 already recorded.\n"
    assert ok(AISHA, "listening", "--on", "2026-11-05") == unchanged
    assert ok(AISHA, "listening") == unchanged
    assert history(url)[1:] == [
        ("record-correct", "Sam Rivers", "listening: 2026-11-02 -> 2026-11-05", cohort_id, AISHA)
    ]
    assert records(url) == [(AISHA, "listening", 1, date(2026, 11, 5))]


def test_a_single_session_attended_on_a_rearranged_date_can_be_corrected(
    settings: Settings, cohort_id: str
) -> None:
    """Set B's first session is on 8 Dec; attended on the 10th, then put back to the 8th
    (recorded once the session has happened: on the 11th)."""
    url, now = settings.database_url, "2026-12-11T12:00"
    ok(AISHA, "learning-set-1", "--on", "2026-12-10", now=now)
    assert ok(AISHA, "learning-set-1", now=now) == (
        "learning-set-1: 0 recorded, 1 already recorded.\n"
    )
    assert ok(AISHA, "learning-set-1", "--on", "2026-12-08", now=now) == (
        f"learning-set-1: 0 recorded, 1 date corrected ({AISHA}: 2026-12-10 -> 2026-12-08).\n"
    )
    assert records(url) == [(AISHA, "learning-set-1", 1, date(2026, 12, 8))]


def test_another_training_day_is_recorded_as_that_day_not_as_a_correction(
    settings: Settings, cohort_id: str
) -> None:
    ok(AISHA, "training", "--on", "2026-09-25")
    assert ok(AISHA, "training", "--on", "2026-09-26") == "training: 1 recorded.\n"
    assert records(settings.database_url) == [
        (AISHA, "training", 1, date(2026, 9, 25)),
        (AISHA, "training", 2, date(2026, 9, 26)),
    ]


def test_a_dry_run_reports_undo_and_correction_and_writes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    ok(AISHA, "listening", "--on", "2026-11-02")
    before = state(url)
    assert ok(AISHA, "listening", "--undo", "--dry-run") == "listening: 1 would be undone.\n"
    assert ok(AISHA, "listening", "--on", "2026-11-05", "--dry-run") == (
        f"listening: 0 would be recorded, 1 date would be corrected "
        f"({AISHA}: 2026-11-02 -> 2026-11-05).\n"
    )
    assert state(url) == before


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            [AISHA, "issues", "--undo"],
            f"Error: nothing to undo: {AISHA} has no record of issues\n",
        ),
        (
            [f"{AISHA},{YUSUF}", "listening", "--undo"],
            f"Error: nothing to undo: {YUSUF} has no record of listening\n",
        ),
        (
            [f"{AISHA},{YUSUF}", "issues", "--undo"],
            f"Error: nothing to undo: {AISHA}, {YUSUF} have no record of issues\n",
        ),
        (
            [AISHA, "listening", "--on", "2026-11-03", "--undo"],
            f"Error: nothing to undo: {AISHA} has no record of listening on 2026-11-03\n",
        ),
        (
            [AISHA, "training", "--on", "2026-09-26", "--undo"],
            f"Error: nothing to undo: {AISHA} has no record of training on 2026-09-26\n",
        ),
        (
            [AISHA, "mentoring-1", "--undo", "--dry-run"],
            f"Error: nothing to undo: {AISHA} has no record of mentoring-1\n",
        ),
        (
            [AISHA, "training", "--on", "2026-10-01", "--undo"],
            "Error: training has no session on 2026-10-01 (sessions: 2026-09-25, 2026-09-26)\n",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_undoing_what_was_never_recorded_is_one_error_and_writes_nothing(
    settings: Settings, cohort_id: str, args: list[str], error: str
) -> None:
    """Aisha has listening (2 Nov) and training day 1; a list fails whole if anyone lacks it."""
    url = settings.database_url
    ok(AISHA, "listening", "--on", "2026-11-02")
    ok(AISHA, "training", "--on", "2026-09-25")
    before = state(url)
    code, out, err = run(*args)
    assert (code, out, err) == (1, "", error + "no prefect\n")
    assert state(url) == before


def aisha_status(now: str) -> dict[str, Any]:
    result = journey("status", "mk-2026", "--format", "json", "--now", now)
    [row] = [t for t in json.loads(result.stdout)["trainees"] if t["email"] == AISHA]
    return dict(row)


def overdue_notices(url: str) -> list[tuple[str, str]]:
    """Aisha's listening overdue notices: (template, status)."""
    with session_scope(url) as session:
        rows = session.execute(
            select(Notice.template, Notice.status)
            .join(Enrolment, Enrolment.id == Notice.enrolment_id)
            .join(Person, Person.id == Enrolment.person_id)
            .where(
                Person.email == AISHA,
                Notice.milestone == "listening",
                Notice.template.startswith("overdue"),
            )
            .order_by(Notice.template)
        )
        return [(t, s.value if isinstance(s, NoticeStatus) else str(s)) for t, s in rows]


@pytest.fixture
def launched(settings: Settings, cohort_id: str) -> str:
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    return cohort_id


def test_after_an_undo_status_and_the_next_sweep_follow_the_record(
    settings: Settings, launched: str
) -> None:
    """Listening was due 7 Nov; overdue nudges go from 21 Nov 09:00, useful for a week."""
    url = settings.database_url
    ok(AISHA, "listening", "--on", "2026-11-05")
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-22T09:00"))
    assert overdue_notices(url) == []  # done: nothing to nudge about
    assert aisha_status("2026-11-22T10:00")["milestones"]["listening"] == "done"
    ok(AISHA, "listening", "--undo")
    status = aisha_status("2026-11-22T10:00")
    assert (status["milestones"]["listening"], "listening" in status["overdue"]) == (
        "overdue",
        True,
    )
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-22T10:00"))
    assert overdue_notices(url) == [("overdue", "pending"), ("overdue-organiser", "held")]


def test_an_undo_reopens_what_the_record_had_cancelled_and_sends_it_once(
    settings: Settings, launched: str
) -> None:
    """The overdue nudge cancelled at send time because listening was recorded goes out
    after the record is taken back: the same row under the same key, once."""
    url = settings.database_url
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-21T09:00"))
    assert overdue_notices(url) == [("overdue", "pending"), ("overdue-organiser", "held")]
    ok(AISHA, "listening", "--on", "2026-11-20")
    deliver_all(url=url, settings=settings, now=utc("2026-11-21T09:30"))
    assert overdue_notices(url) == [("overdue", "cancelled"), ("overdue-organiser", "cancelled")]
    undo = journey("record", "mk-2026", AISHA, "listening", "--undo", "--now", "2026-11-21T09:45")
    assert undo.stdout == "listening: 1 undone.\n"
    assert overdue_notices(url) == [("overdue", "pending"), ("overdue-organiser", "held")]
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-21T10:00"))
    deliver_all(url=url, settings=settings, now=utc("2026-11-21T10:00"))
    # The organiser had today's digest already (about the others): Aisha waits for tomorrow's.
    assert overdue_notices(url) == [("overdue", "sent"), ("overdue-organiser", "held")]
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-22T09:00"))
    deliver_all(url=url, settings=settings, now=utc("2026-11-22T09:00"))
    assert overdue_notices(url) == [("overdue", "sent"), ("overdue-organiser", "sent")]
    assert aisha_status("2026-11-21T10:00")["milestones"]["listening"] == "overdue"
