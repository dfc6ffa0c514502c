"""Delivery never fails quietly: an outbox folder that cannot be written and a mail server
that cannot be reached leave every notice pending with the reason, and say so (exit 75);
notices refused for good exit 1. Also: a launch run again counts only what is new, and
the demo neither empties a folder that is not its own nor mails anyone.

The services are tested on SQLite and Postgres; the three ``journey`` runs that start a
flow use the test harness's Prefect API (as tests/cli/test_organiser.py does).
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.errors import DeliveryIncomplete
from journey.models import Notice
from journey.services.delivery import DeliveryResult, NoticeOutcome, deliver_all
from journey.services.outcomes import LaunchSummary, QueueSummary, SweepSummary
from journey.services.sweep import launch
from journey.settings import Settings, get_settings
from tests.cli.test_commands import journey
from tests.conftest import utc
from tests.smtp_server import SmtpServer, free_port

LAUNCH = utc("2026-09-01T09:00")
AISHA = "aisha.rahman@example.org"


def launched(config: Settings, cohort_id: str) -> None:
    """Launch through the service: 25 notices pending (20 welcomes, 5 assignments)."""
    with session_scope(config.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)


def notices(url: str) -> list[tuple[str, str | None, str | None]]:
    """Every notice's (status, last_error, claimed_by)."""
    with session_scope(url) as session:
        rows = session.scalars(select(Notice).order_by(Notice.id))
        return [(n.status.value, n.last_error, n.claimed_by) for n in rows]


def point_outbox_under_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An outbox path below a regular file: it cannot be made, even by root."""
    (tmp_path / "a-file").write_text("not a folder\n")
    outbox = tmp_path / "a-file" / "outbox"
    monkeypatch.setenv("JOURNEY_OUTBOX_DIR", str(outbox))
    get_settings.cache_clear()
    return outbox


def point_smtp_at_nothing(monkeypatch: pytest.MonkeyPatch) -> int:
    """SMTP on a loopback port nobody listens on (no waits between the tries)."""
    port = free_port()
    monkeypatch.setenv("JOURNEY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JOURNEY_SMTP_PORT", str(port))
    monkeypatch.setenv("JOURNEY_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    return port


# Services (SQLite, and Postgres with JOURNEY_TEST_DATABASE=postgres)


def test_an_outbox_under_a_file_releases_every_notice_with_the_reason(
    settings: Settings, cohort_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = point_outbox_under_a_file(tmp_path, monkeypatch)
    config = get_settings()
    launched(config, cohort_id)
    result = deliver_all(url=config.database_url, settings=config, now=LAUNCH)
    reason = f"cannot write to the outbox folder {outbox}: Not a directory (JOURNEY_OUTBOX_DIR)"
    assert result.unavailable == reason
    assert (result.sent, result.failed, result.retry, result.batches) == (0, 0, 25, 1)
    assert notices(config.database_url) == [("pending", reason, None)] * 25
    error = result.incomplete()
    assert error is not None and error.exit_code == 75
    assert str(error) == f"delivery stopped: {reason}; the notices stay pending"


def test_an_outbox_that_is_a_file_says_so(
    settings: Settings, cohort_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "outbox").write_text("a file where the folder should be\n")
    launched(settings, cohort_id)
    result = deliver_all(url=settings.database_url, settings=settings, now=LAUNCH)
    assert result.unavailable == (
        f"cannot write to the outbox folder {tmp_path / 'outbox'}: "
        "it is a file, not a folder (JOURNEY_OUTBOX_DIR)"
    )
    assert Counter(status for status, _, _ in notices(settings.database_url)) == {"pending": 25}


def test_a_disk_full_mid_batch_keeps_what_was_written_and_releases_the_rest(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk cannot be had here, so the third write raises ENOSPC."""
    from journey.mail import outbox_folder

    real, calls = outbox_folder._write_eml, []

    def fills_up(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(outbox_folder, "_write_eml", fills_up)
    launched(settings, cohort_id)
    result = deliver_all(url=settings.database_url, settings=settings, now=LAUNCH)
    reason = (
        f"cannot write to the outbox folder {settings.outbox_dir}: No space left on device "
        "(JOURNEY_OUTBOX_DIR)"
    )
    assert (result.sent, result.retry, result.unavailable) == (2, 23, reason)
    assert Counter(notices(settings.database_url)) == {
        ("sent", None, None): 2,
        ("pending", reason, None): 23,
    }
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 2
    assert list(settings.outbox_dir.glob(".*.tmp")) == []


def test_a_crash_while_sending_gives_the_claims_back_at_once(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error: what was sent is recorded, the rest is pending again (not
    claimed until its lease lapses), so the task's retry can take it."""
    from journey.services import delivery

    real = delivery.write_eml_batch

    def crashes(messages, outbox_dir, *, on_result):  # type: ignore[no-untyped-def]
        real(messages[:5], outbox_dir, on_result=on_result)
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(delivery, "write_eml_batch", crashes)
    launched(settings, cohort_id)
    with pytest.raises(RuntimeError, match="unforeseen"):
        deliver_all(url=settings.database_url, settings=settings, now=LAUNCH)
    assert Counter(notices(settings.database_url)) == {
        ("sent", None, None): 5,
        ("pending", "not sent: RuntimeError: something unforeseen", None): 20,
    }
    monkeypatch.setattr(delivery, "write_eml_batch", real)
    again = deliver_all(url=settings.database_url, settings=settings, now=LAUNCH)
    assert again.sent == 20


def test_an_unreachable_mail_server_releases_every_notice_with_the_reason(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = point_smtp_at_nothing(monkeypatch)
    config = get_settings()
    launched(config, cohort_id)
    result = deliver_all(url=config.database_url, settings=config, now=LAUNCH)
    assert result.unavailable is not None
    assert result.unavailable.startswith(
        f"could not reach the SMTP server at 127.0.0.1:{port} (3 tries): "
    )
    assert notices(config.database_url) == [("pending", result.unavailable, None)] * 25
    error = result.incomplete()
    assert error is not None and error.exit_code == 75
    assert str(error) == f"delivery stopped: {result.unavailable}; the notices stay pending"


def test_a_notice_refused_for_good_makes_the_run_incomplete_with_exit_1(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_recipient(AISHA)
    launched(use_smtp, cohort_id)
    result = deliver_all(url=use_smtp.database_url, settings=use_smtp, now=LAUNCH)
    assert (result.sent, result.failed) == (24, 1)
    [failure] = result.failures
    error = result.incomplete(result.summary())
    assert error is not None and error.exit_code == 1
    assert str(error) == f"1 notice failed for good: {failure}"
    assert failure.endswith(": 550 5.1.1 no such user")
    assert error.summary == result.summary()


def test_a_refusal_quoting_the_address_is_kept_and_reported_without_it(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    """The server's reply reaches last_error, the failures and the error without an address."""
    smtp_server.refuse_recipient(AISHA, f"550 5.1.1 <{AISHA}>: Recipient address rejected")
    launched(use_smtp, cohort_id)
    result = deliver_all(url=use_smtp.database_url, settings=use_smtp, now=LAUNCH)
    assert (result.sent, result.failed) == (24, 1)
    [outcome] = [o for o in result.outcomes if o.status == "failed"]
    reply = "550 5.1.1 <address>: Recipient address rejected"
    assert outcome.detail == reply
    assert result.failures == [f"notice {outcome.notice_id}: {reply}"]
    stored = [(status, error) for status, error, _ in notices(use_smtp.database_url)]
    assert Counter(stored) == {("sent", None): 24, ("failed", reply): 1}
    error = result.incomplete(result.summary())
    assert error is not None and "@" not in str(error) and "@" not in repr(result.summary())


def test_redact_takes_out_every_address_and_leaves_the_rest() -> None:
    from journey.mail.redact import redact

    assert redact("550 5.1.1 <a.b+c@example.org>: no such user") == (
        "550 5.1.1 <address>: no such user"
    )
    assert redact("x@y.org, 'z@w.co.uk'; \"q@r.net\"") == "<address>, '<address>'; \"<address>\""
    assert redact("451 4.3.0 try later (queue at 90%)") == "451 4.3.0 try later (queue at 90%)"
    result = DeliveryResult("smtp", failed=1)
    result.outcomes.append(NoticeOutcome(7, "mk-2026", "welcome", "failed", "550 <a@b.org> no"))
    assert result.summary().failures == ["notice 7: 550 <address> no"]


def test_what_makes_a_run_incomplete_and_its_exit_code() -> None:
    """Failed for good wins over try-again-later (a person must look); both are named."""
    done = DeliveryResult("outbox", sent=3, retry=1)  # a lost claim: another worker's now
    assert done.incomplete() is None
    deferred = DeliveryResult("smtp", sent=3, retry=2, deferred="451 4.3.0 try later")
    assert (str(deferred.incomplete()), deferred.incomplete().exit_code) == (  # type: ignore[union-attr]
        "2 notices deferred: 451 4.3.0 try later; they stay pending",
        75,
    )
    refused = NoticeOutcome(7, "mk-2026", "welcome", "failed", "550 no")
    both = DeliveryResult("smtp", failed=1, unavailable="server gone", outcomes=[refused])
    error = both.incomplete()
    assert error is not None and error.exit_code == 1
    assert str(error) == (
        "1 notice failed for good: notice 7: 550 no; "
        "also delivery stopped: server gone; the notices stay pending"
    )


def test_a_delivery_error_keeps_its_code_and_summary_through_pickling() -> None:
    """Prefect may store a failed run's exception; the CLI reads both back."""
    import pickle

    summary = SweepSummary(QueueSummary(2, 0, 0, 0, 0, ["mk-2026"]), DeliveryResult("x").summary())
    error = pickle.loads(pickle.dumps(DeliveryIncomplete("why", 75, summary)))
    assert (str(error), error.exit_code, error.summary) == ("why", 75, summary)


def test_a_launch_run_again_counts_only_what_it_queues_anew(
    settings: Settings, cohort_id: str
) -> None:
    with session_scope(settings.database_url) as session:
        first = launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    assert (first.first_launch, first.welcomes, first.assignments) == (True, 20, 5)
    later = utc("2026-09-02T09:00")
    for dry_run in (True, False):
        with session_scope(settings.database_url) as session:
            again = launch(session=session, cohort_id=cohort_id, now=later, dry_run=dry_run)
        assert (again.first_launch, again.welcomes, again.assignments) == (False, 0, 0)
        assert again.launched_at == LAUNCH


def test_a_first_launch_dry_run_counts_everything(settings: Settings, cohort_id: str) -> None:
    with session_scope(settings.database_url) as session:
        trial = launch(session=session, cohort_id=cohort_id, now=LAUNCH, dry_run=True)
    assert (trial.first_launch, trial.welcomes, trial.assignments) == (True, 20, 5)
    assert notices(settings.database_url) == []


def test_a_launch_run_again_says_so_and_counts_what_is_new() -> None:
    from journey.cli.runner import _launch_line

    due = QueueSummary(queued=0, skipped=0, superseded=0, known=25, digests=0, cohorts=[])
    summary = LaunchSummary(
        "mk-2026", LAUNCH, False, trainees=20, welcomes=0, assignments=0, due=due
    )
    assert _launch_line("mk-2026", summary, dry_run=False) == (
        "Already launched on 2026-09-01; queued 0 new welcomes, 0 new mentor/facilitator "
        "notices and 0 due notices for mk-2026 (20 trainees)."
    )
    first = replace(summary, first_launch=True, welcomes=20, assignments=5)
    assert _launch_line("mk-2026", first, dry_run=True) == (
        "Would queue 20 welcomes, 5 mentor/facilitator notices and 0 due notices for mk-2026 "
        "(20 trainees; launched 2026-09-01 09:00 UTC)."
    )


# The demo's folder and mail


def test_the_demo_refuses_a_folder_holding_other_files_and_deletes_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    (folder / "outbox").mkdir(parents=True)
    (folder / "outbox" / "kept.eml").write_text("x")
    (folder / "journey.db").write_text("x")
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "thesis.docx").write_text("years of work\n")
    result = journey("demo", "--dir", str(folder), probe_prefect=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: --dir {folder} is not a demo folder: it holds 'notes.txt' (and 1 more), which "
        "a demo does not leave; nothing was deleted. Choose a new or empty folder\nno prefect\n"
    )
    assert sorted(p.name for p in folder.rglob("*")) == [
        "journey.db",
        "kept.eml",
        "notes.txt",
        "outbox",
        "thesis.docx",
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda f: (f / "outbox").mkdir() or (f / "outbox" / "report.pdf").write_text("x"),
        lambda f: (f / "journey.db").mkdir(),
        lambda f: (f / "roster.csv").symlink_to("/etc/hostname"),
    ],
    ids=["a non-eml file in outbox", "journey.db a folder", "a symlink"],
)
def test_the_demo_refuses_what_only_looks_like_a_demo(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    from journey.cli.demo.run import _prepare
    from journey.errors import NotADemoFolder

    folder = tmp_path / "demo"
    folder.mkdir()
    make(folder)
    before = sorted(folder.rglob("*"))
    with pytest.raises(NotADemoFolder, match="is not a demo folder: it holds '"):
        _prepare(folder)
    assert sorted(folder.rglob("*")) == before


def test_the_demo_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("keep me\n")
    result = journey("demo", "--dir", str(tmp_path / "a-file"))
    assert (result.returncode, result.stderr) == (
        1,
        f"Error: --dir {tmp_path / 'a-file'} is a file, not a folder; nothing was deleted\n",
    )
    assert (tmp_path / "a-file").read_text() == "keep me\n"


def test_the_demo_empties_a_previous_demos_folder_and_never_mails_anyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    """A ``.env`` in the working folder naming a real SMTP server (here a loopback one)
    does not reach the demo: every notice lands in its outbox folder."""
    from journey.cli.demo.run import COHORT, LAUNCH_AT, _import, _prepare

    for key in ("DATABASE_URL", "OUTBOX_DIR", "SMTP_HOST", "SMTP_PASSWORD_BLOCK"):
        monkeypatch.setenv(f"JOURNEY_{key}", "restored after the test")
        monkeypatch.delenv(f"JOURNEY_{key}")
    (tmp_path / ".env").write_text(
        f"JOURNEY_SMTP_HOST=127.0.0.1\nJOURNEY_SMTP_PORT={smtp_server.port}\n"
        "JOURNEY_SMTP_STARTTLS=false\nJOURNEY_SMTP_PASSWORD_BLOCK=nothing-by-this-name\n"
    )
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    assert get_settings().smtp_host == "127.0.0.1"  # the .env is read
    folder = tmp_path / "demo"
    (folder / "outbox").mkdir(parents=True)
    for name in ("journey.db", "journey.db-wal", "cohort.yaml", "outbox/old.eml"):
        (folder / name).write_text("from an earlier demo")
    try:
        url = _prepare(folder)
        assert list(folder.iterdir()) == []
        config = get_settings()
        assert not config.smtp_host and not config.smtp_password_block
        _import(folder, url, seed=7)
        with session_scope(url) as session:
            launch(session=session, cohort_id=COHORT, now=LAUNCH_AT)
        result = deliver_all(url=url, settings=config, now=LAUNCH_AT)
    finally:
        get_settings.cache_clear()
    assert result.sent == len(list((folder / "outbox").glob("*.eml"))) > 20
    assert result.destination == f"outbox folder {(folder / 'outbox').resolve()}"
    assert smtp_server.messages == []


# The CLI: exit codes from real `journey` runs (each starts a flow)


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
class TestExitCodes:
    @staticmethod
    def remind() -> tuple[int, str]:
        from prefect.settings import PREFECT_API_URL

        env = {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "400"}
        result = journey("remind", "--now", "2026-09-01T11:00", env=env)
        assert "Traceback" not in result.stderr  # the summary says it all
        return result.returncode, result.stdout + result.stderr

    def test_an_outbox_that_cannot_be_written_exits_75_with_the_notices_pending(
        self,
        settings: Settings,
        cohort_id: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        outbox = point_outbox_under_a_file(tmp_path, monkeypatch)
        launched(settings, cohort_id)
        code, output = self.remind()
        assert code == 75, output
        reason = f"cannot write to the outbox folder {outbox}: Not a directory (JOURNEY_OUTBOX_DIR)"
        assert (
            f"Delivery stopped: {reason}. The notices stay pending, each with this reason; "
            "the next sweep sends them."
        ) in output
        assert notices(settings.database_url) == [("pending", reason, None)] * 25

    def test_an_unreachable_mail_server_exits_75(
        self, settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        port = point_smtp_at_nothing(monkeypatch)
        launched(settings, cohort_id)
        code, output = self.remind()
        assert code == 75, output
        assert f"Delivery stopped: could not reach the SMTP server at 127.0.0.1:{port}" in output
        statuses = Counter(status for status, _, _ in notices(settings.database_url))
        assert statuses == {"pending": 25}

    def test_a_notice_refused_for_good_exits_1(
        self, use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
    ) -> None:
        smtp_server.refuse_recipient(AISHA)
        launched(use_smtp, cohort_id)
        code, output = self.remind()
        assert code == 1, output
        assert "Delivered 24 to SMTP 127.0.0.1" in output
        assert ": 550 5.1.1 no such user" in output
        assert "Failed for good: 1 (refused by the mail server" in output
        assert len(smtp_server.messages) == 24
