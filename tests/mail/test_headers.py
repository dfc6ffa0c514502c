"""The headers that keep notices out of spam folders and away from auto-replies: a
Message-ID under the sender's own domain, ``Auto-Submitted`` (RFC 3834), and
``List-Unsubscribe`` on every notice to someone other than the organiser."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.mail.outbox_folder import eml_filename
from journey.mail.render import build_message, message_id_for, render_notice, sender_domain
from journey.models import Notice, NoticeStatus
from journey.services.delivery import deliver_all
from journey.services.sweep import launch
from journey.settings import Settings, get_settings
from tests.conftest import utc
from tests.mail.test_render import (
    SENT_AT,
    STAMP,
    make_context,
    make_message,
    programme_kinds,
    reparse,
)

KEY = make_context().key


@pytest.mark.parametrize(
    ("sender", "domain"),
    [
        ("Leadership Journey <journey@example.org>", "example.org"),
        ("Alliance <Notices@MK-Alliance.Org.UK>", "mk-alliance.org.uk"),
        ("Bücherei <post@Bücher.example>", "xn--bcher-kva.example"),
        ("journey@localhost", "localhost"),
        ("journey@example.org.", "example.org"),
    ],
)
def test_the_message_id_is_under_the_senders_domain(sender: str, domain: str) -> None:
    assert sender_domain(sender) == domain
    ctx = make_context()
    mail = build_message(ctx, render_notice(ctx, stamp=STAMP), sender=sender, date=SENT_AT)
    assert mail.message_id == message_id_for(KEY, domain)
    assert mail.message_id == f"<5dc490061ae8a5980221f067c555cc99@{domain}>"
    assert reparse(mail)["Message-ID"] == mail.message_id
    if not sender.isascii():  # the From header can only carry it IDNA-encoded too
        assert reparse(mail)["From"].addresses[0].domain == domain


def test_the_same_key_and_sender_give_the_same_message_id() -> None:
    """What recognises a copy sent again after a crash (docs/RELIABILITY.md)."""
    assert make_message().message_id == make_message().message_id
    assert make_message().message_id != make_message(key=KEY + "x").message_id
    assert message_id_for(KEY, "example.org") != message_id_for(KEY, "example.net")


@pytest.mark.parametrize("sender", ["journey", "journey@", "@example.org", "a@b..c"])
def test_a_sender_without_a_usable_domain_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="no usable domain"):
        sender_domain(sender)


@pytest.mark.parametrize("kind", [*programme_kinds(), "digest"])
def test_every_notice_is_marked_auto_generated(kind: str) -> None:
    message = reparse(make_message(template=kind))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is not None  # to a trainee: ask the organiser


def test_the_organisers_own_notices_have_no_list_unsubscribe() -> None:
    """The organiser is whom List-Unsubscribe would ask; they stop their own mail in
    journey itself. Every other recipient (trainee, mentor, facilitator) gets one."""
    for kind in ("digest", "overdue-organiser", "missed-organiser"):
        message = reparse(make_message(template=kind, to_email="organiser@example.org"))
        assert message["List-Unsubscribe"] is None
        assert message["Auto-Submitted"] == "auto-generated"
    for role in ("mentor", "facilitator"):
        message = reparse(make_message(recipient_role=role, to_email="tim@example.org"))
        assert message["List-Unsubscribe"] is not None


def test_outbox_files_are_named_by_the_stored_message_id(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forget, prune and export find an .eml by the Message-ID stored with the notice
    (``eml_filename``): it must be the one the message carries, under the sender's domain,
    an internationalised one too."""
    monkeypatch.setenv("JOURNEY_SENDER", "Alliance <notices@Bücher.example>")
    get_settings.cache_clear()
    config = get_settings()
    now = utc("2026-09-01T09:00")
    with session_scope(config.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=now)
    assert deliver_all(url=config.database_url, settings=config, now=now).sent > 0
    with session_scope(config.database_url) as session:
        sent = list(session.scalars(select(Notice).where(Notice.status == NoticeStatus.SENT)))
        stored = {eml_filename(n.message_id, n.id): n.message_id for n in sent if n.message_id}
    assert len(stored) == len(sent)
    assert {p.name for p in Path(config.outbox_dir).iterdir()} == set(stored)
    for name, message_id in stored.items():
        data = (Path(config.outbox_dir) / name).read_bytes()
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert message["Message-ID"] == message_id
        assert message_id.endswith("@xn--bcher-kva.example>")
