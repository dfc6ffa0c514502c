"""Importing a cohort: all or nothing, and safe to run again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from journey.cohort.file import read_cohort
from journey.db import session_scope
from journey.errors import InvalidInput
from journey.models import CohortEvent, Enrolment, EventKind, Institution, Person
from journey.services.cohorts import import_cohort
from journey.settings import Settings
from tests.conftest import EXAMPLES, example_with_set_a_moved, utc


def counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(Enrolment)) or 0,
            session.scalar(select(func.count()).select_from(Institution)) or 0,
        )


def test_the_example_cohort_imports_with_its_places(settings: Settings, cohort_id: str) -> None:
    people, enrolments, institutions = counts(settings.database_url)
    assert (enrolments, institutions) == (20, 10)
    assert people == 20 + 3 + 2 + 1  # trainees, mentors, facilitators, organiser
    with session_scope(settings.database_url) as session:
        subsidised = session.scalars(select(Enrolment).where(Enrolment.place == "subsidised"))
        assert {e.funder for e in subsidised} == {"MK Community Foundation"}
        fees = session.scalars(select(Enrolment.fee).where(Enrolment.place == "fee"))
        assert set(fees) == {60}


def test_importing_twice_changes_nothing(settings: Settings, cohort_id: str) -> None:
    before = counts(settings.database_url)
    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(settings.database_url) as session:
        result = import_cohort(session=session, spec=spec, now=utc("2026-08-02T09:00"))
    assert not result.created and result.trainees_added == 0 and result.sessions_moved == []
    assert counts(settings.database_url) == before


def test_a_moved_session_keeps_its_uid_and_bumps_its_sequence(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    spec = example_with_set_a_moved(tmp_path)
    with session_scope(settings.database_url) as session:
        before = {e.uid for e in session.scalars(select(CohortEvent))}
        result = import_cohort(session=session, spec=spec, now=utc("2026-08-02T09:00"))
    assert result.sessions_moved == ["learning-set 1"]
    with session_scope(settings.database_url) as session:
        moved = session.scalars(
            select(CohortEvent).where(
                CohortEvent.kind == EventKind.LEARNING_SET, CohortEvent.sequence == 1
            )
        ).one()
        assert moved.starts_at == utc("2026-12-10T17:30")
        assert {e.uid for e in session.scalars(select(CohortEvent))} == before


def test_a_bad_roster_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    roster = (
        (EXAMPLES / "roster.csv").read_text().replace("david.okonkwo@example.org", "not-an-email")
    )
    (tmp_path / "roster.csv").write_text(roster)
    with pytest.raises(InvalidInput, match=r"roster.csv:3: email: "):
        read_cohort(EXAMPLES / "cohort.yaml", tmp_path / "roster.csv")
    assert counts(settings.database_url) == (0, 0, 0)


def test_a_failure_half_way_through_an_import_leaves_the_database_as_it_was(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: an error on the 11th trainee rolls back the first ten."""
    import journey.services.cohorts as cohorts

    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    real = cohorts.enrol
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 11:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(cohorts, "enrol", failing)
    with pytest.raises(RuntimeError), session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    assert counts(settings.database_url) == (0, 0, 0)
