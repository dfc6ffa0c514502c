"""Launch and the daily sweep: what is due is queued once; late notices are skipped."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Notice, NoticeStatus, RuleAdoption
from journey.services.queue import SUPERSEDED
from journey.services.sweep import launch, sweep
from journey.settings import Settings
from tests.conftest import utc


def notices(url: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.scalars(select(Notice).order_by(Notice.key)))


def do_launch(url: str, cohort_id: str, at: str) -> None:
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc(at))


def do_sweep(url: str, at: str) -> int:
    with session_scope(url) as session:
        return sweep(session=session, now=utc(at)).queued


def test_launch_welcomes_every_trainee_and_tells_mentors_and_facilitators(
    settings: Settings, cohort_id: str
) -> None:
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    kinds = Counter(n.template for n in notices(settings.database_url))
    assert kinds == {"welcome": 20, "mentor-assignment": 3, "facilitator-assignment": 2}


def test_launching_twice_queues_nothing_more_and_keeps_the_launch_time(
    settings: Settings, cohort_id: str
) -> None:
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    first = [n.key for n in notices(settings.database_url)]
    do_launch(settings.database_url, cohort_id, "2026-09-02T09:00")
    assert [n.key for n in notices(settings.database_url)] == first
    with session_scope(settings.database_url) as session:
        adopted = {a.first_seen_at for a in session.scalars(select(RuleAdoption))}
    assert adopted == {utc("2026-09-01T09:00")}


def test_a_dry_run_launch_writes_nothing(settings: Settings, cohort_id: str) -> None:
    with session_scope(settings.database_url) as session:
        result = launch(
            session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"), dry_run=True
        )
    assert result.welcomes == 20
    assert notices(settings.database_url) == []


def test_the_sweep_queues_each_notice_once(settings: Settings, cohort_id: str) -> None:
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    assert do_sweep(settings.database_url, "2026-09-18T08:00") == 20  # training -7d, 09:00 BST
    assert do_sweep(settings.database_url, "2026-09-18T08:00") == 0
    assert do_sweep(settings.database_url, "2026-09-18T12:00") == 0


def test_after_an_outage_useful_notices_go_late_and_stale_ones_are_skipped(
    settings: Settings, cohort_id: str
) -> None:
    """Nothing swept from 17 to 25 Sep: the -1d reminder of the 24th is still worth sending
    on the 25th before 09:30; the -7d reminder of the 18th is too (it is about the same
    training). After the training has started, both are skipped and listed."""
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    with session_scope(settings.database_url) as session:
        result = sweep(session=session, now=utc("2026-09-25T09:00"))  # 10:00 BST, started
    assert result.queued == 0 and result.skipped == 40
    statuses = Counter(n.status for n in notices(settings.database_url) if n.milestone)
    assert statuses == {NoticeStatus.SKIPPED: 40}
    from journey.services.upcoming import skipped

    with session_scope(settings.database_url) as session:
        listed = skipped(session=session, queued_at=utc("2026-09-25T09:00"))
    assert len(listed) == 40 and {r.milestone for r in listed} == {"training"}
    assert "Aisha Rahman" in {r.trainee for r in listed}


def test_notices_due_before_the_training_starts_still_go_after_a_short_outage(
    settings: Settings, cohort_id: str
) -> None:
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    # 08:00 BST, before 09:30: the day-before reminder still goes; the 7-days-before one,
    # due in the same sweep, is superseded by it (catch-up sends only the latest).
    with session_scope(settings.database_url) as session:
        result = sweep(session=session, now=utc("2026-09-25T07:00"))
    assert (result.queued, result.superseded) == (20, 20)
    rows = [n for n in notices(settings.database_url) if n.milestone == "training"]
    assert Counter((n.rule, n.status.value) for n in rows) == {
        ("-1d@09:00>trainee", "pending"): 20,
        ("-7d@09:00>trainee", "skipped"): 20,
    }
    assert {n.last_error for n in rows if n.status is NoticeStatus.SKIPPED} == {SUPERSEDED}


def test_upcoming_lists_the_queued_and_what_comes_due_without_sending(
    settings: Settings, cohort_id: str
) -> None:
    from journey.services.upcoming import upcoming

    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    with session_scope(settings.database_url) as session:
        rows = upcoming(session=session, now=utc("2026-09-12T09:00"), days=7)
    queued = [r for r in rows if r.queued]
    planned = [r for r in rows if not r.queued]
    assert len(queued) == 25 and {r.template for r in queued if r.to == "trainee"} == {"welcome"}
    assert {(r.template, r.milestone) for r in planned} == {("session-reminder", "training")}
    assert len(planned) == 20
    assert len(notices(settings.database_url)) == 25  # nothing new was queued


def test_a_failure_half_way_through_a_launch_leaves_the_database_as_it_was(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Welcomes are written, then queueing what is due fails: nothing stays, not even the
    launch time, so running it again starts clean."""
    import journey.services.sweep as sweep_module
    from journey.models import Cohort

    real = sweep_module.queue_for_cohort

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("connection lost")

    monkeypatch.setattr(sweep_module, "queue_for_cohort", failing)
    with pytest.raises(RuntimeError):
        do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    assert notices(settings.database_url) == []
    with session_scope(settings.database_url) as session:
        assert session.get(Cohort, cohort_id).launched_at is None  # type: ignore[union-attr]
        assert list(session.scalars(select(RuleAdoption))) == []
    monkeypatch.setattr(sweep_module, "queue_for_cohort", real)
    do_launch(settings.database_url, cohort_id, "2026-09-01T09:00")
    assert len(notices(settings.database_url)) == 25


def test_a_rule_added_late_never_reaches_back(settings: Settings, cohort_id: str) -> None:
    """A -30d stage rule added on 28 Nov: moments already past send nothing (not even a
    skipped row); the first moment after it, research's on 17 Dec, goes as usual."""
    from journey.models import Cohort
    from journey.programme import default_programme_text

    url = settings.database_url
    do_launch(url, cohort_id, "2026-09-01T09:00")
    stage_rule = '      - {at: "-7d@09:00", to: trainee, template: stage-reminder}'
    text = default_programme_text().replace(
        stage_rule,
        stage_rule + '\n      - {at: "-30d@09:00", to: trainee, template: stage-reminder}',
    )
    with session_scope(url) as session:
        session.get(Cohort, cohort_id).programme = text  # type: ignore[union-attr]
    with session_scope(url) as session:
        sweep(session=session, now=utc("2026-11-28T09:00"))
    assert [n.key for n in notices(url) if "-30d@" in n.key] == []
    with session_scope(url) as session:
        assert sweep(session=session, now=utc("2026-12-17T09:00")).queued >= 20
    added = Counter(n.key.split("/")[2] for n in notices(url) if "-30d@" in n.key)
    assert added == {"research": 20}


def _statements_of_a_dry_sweep(url: str, cohort_ids: list[str], at: str) -> int:
    """How many SQL statements a dry-run sweep of ``cohort_ids`` sends."""
    from sqlalchemy import event

    from journey.db import get_engine

    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append("statement")

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(url) as session:
            sweep(session=session, now=utc(at), cohort_ids=cohort_ids, dry_run=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_a_sweep_sends_as_many_statements_for_two_cohorts_as_for_one(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    """The notice keys already known are read for many cohorts at once, so the statements
    of a sweep do not grow with its cohorts (nor with their trainees)."""
    from tests.services.test_funder_report import _second_cohort

    _second_cohort(settings, tmp_path)
    url = settings.database_url
    do_launch(url, cohort_id, "2026-09-01T09:00")
    do_launch(url, "mk-2027", "2026-09-01T09:00")
    one = _statements_of_a_dry_sweep(url, [cohort_id], "2026-10-02T09:00")
    both = _statements_of_a_dry_sweep(url, [cohort_id, "mk-2027"], "2026-10-02T09:00")
    assert one > 0
    assert both == one
