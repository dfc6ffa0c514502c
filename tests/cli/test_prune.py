"""``journey prune --older-than``: sent mail's files and error texts go after the period;
the notices stay, so the report counts the same."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from journey.db import session_scope
from journey.mail.outbox_folder import eml_filename
from journey.models import HistoryEntry, Notice, NoticeStatus
from journey.services.retention import CLEARED, cutoff
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import launch_sweep_deliver, ok
from tests.conftest import utc

NOW = "2026-10-01T12:00"  # 20 days back is 11 Sep: the welcomes (1 Sep) are older
REFUSED = "550 5.1.1 <aisha.rahman@example.org>: no such user"


def a_year_with_a_refusal(settings: Settings) -> tuple[set[str], set[str]]:
    """Welcomes and introductions sent on 1 Sep (a welcome refused for good: its file was
    never written), reminders on 20 Sep; the .eml files sent before 11 Sep, and the rest."""
    launch_sweep_deliver(settings)
    with session_scope(settings.database_url) as session:
        refused = session.scalars(
            select(Notice).where(Notice.template == "welcome").order_by(Notice.id)
        ).first()
        assert refused is not None and refused.message_id is not None
        (settings.outbox_dir / eml_filename(refused.message_id, refused.id)).unlink()
        refused.status, refused.last_error, refused.message_id = (
            NoticeStatus.FAILED,
            REFUSED,
            None,
        )
        sent = session.scalars(select(Notice).where(Notice.status == NoticeStatus.SENT))
        files = {(n.sent_at, eml_filename(n.message_id, n.id)) for n in sent if n.message_id}
    old = {name for at, name in files if at is not None and at < utc("2026-09-11T12:00")}
    assert old and old < outbox(settings)
    return old, outbox(settings) - old


def outbox(settings: Settings) -> set[str]:
    return {p.name for p in settings.outbox_dir.glob("*.eml")}


def test_a_dry_run_lists_and_changes_nothing(settings: Settings, cohort_id: str) -> None:
    old, _ = a_year_with_a_refusal(settings)
    before = outbox(settings)
    said = ok("prune", "--older-than", "20d", "--dry-run", "--now", NOW)
    assert said.startswith(
        f"Would remove {len(old)} .eml files of notices sent before 2026-09-11 from "
    )
    assert "would clear 1 error texts." in said
    assert outbox(settings) == before
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(Notice.last_error).where(Notice.last_error.is_not(None)))
        assert (
            session.scalars(select(HistoryEntry).where(HistoryEntry.action == "prune")).all() == []
        )


def test_old_files_and_error_texts_go_and_the_report_counts_the_same(
    settings: Settings, cohort_id: str
) -> None:
    old, recent = a_year_with_a_refusal(settings)
    report = ["report", "mk-2026", "--format", "json", "--now", NOW]
    before = json.loads(ok(*report))
    said = ok("prune", "--older-than", "20d", "--by", "dpo", "--now", NOW)
    assert said.endswith("Done.\n")
    assert outbox(settings) == recent  # the welcomes' files went, the reminders' stayed
    with session_scope(settings.database_url) as session:
        errors = session.scalars(select(Notice.last_error).where(Notice.last_error.is_not(None)))
        assert list(errors) == [CLEARED]
        [line] = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "prune"))
        assert (line.by, line.detail) == (
            "dpo",
            f"older than 20d (before 2026-09-11): {len(old)} .eml files, 1 error texts",
        )
    after = json.loads(ok(*report))
    assert after == before
    again = ok("prune", "--older-than", "20d", "--now", NOW)  # nothing left to do
    assert again.startswith("Removing 0 .eml files") and "clearing 0 error texts" in again


def test_queued_notices_keep_their_error_texts(settings: Settings, cohort_id: str) -> None:
    a_year_with_a_refusal(settings)
    with session_scope(settings.database_url) as session:
        session.execute(
            update(Notice)
            .where(Notice.template == "session-reminder")
            .values(status=NoticeStatus.PENDING, last_error="421 try again later")
        )
    ok("prune", "--older-than", "1d", "--now", "2027-01-01T12:00")
    with session_scope(settings.database_url) as session:
        kept = session.scalars(
            select(Notice.last_error).where(Notice.status == NoticeStatus.PENDING)
        ).all()
        assert kept and set(kept) == {"421 try again later"}


def test_a_period_that_cannot_be_read_is_one_line(settings: Settings, cohort_id: str) -> None:
    result = journey("prune", "--older-than", "soon")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: --older-than 'soon': give a number and a unit, e.g. 90d, 12w, 18m or 2y\n"
    )


def test_months_and_years_go_by_the_calendar() -> None:
    assert cutoff("2y", utc("2028-02-29T12:00")) == utc("2026-02-28T12:00")
    assert cutoff("1m", utc("2026-03-31T12:00")) == utc("2026-02-28T12:00")
    assert cutoff("18m", utc("2026-11-30T12:00")) == utc("2025-05-30T12:00")
    assert cutoff("2w", utc("2026-11-30T12:00")) == utc("2026-11-16T12:00")
