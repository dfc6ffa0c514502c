"""Deliver messages into an outbox folder, one ``.eml`` file each (when no SMTP host is
set): files written whole or not at all, named after the Message-ID."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from journey.mail.outgoing import OnResult, Outgoing, SendResult, build_or_fail
from journey.mail.render import Mail

__all__ = ["OutboxUnavailable", "eml_filename", "write_eml_batch"]


class OutboxUnavailable(Exception):
    """The outbox folder cannot be written (a file stands in its way, no permission, a full
    disk); the messages from the one that failed on were not written."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def eml_filename(message_id: str, notice_id: int) -> str:
    """The outbox file name for a message: its Message-ID made safe, else the notice id."""
    stem = _UNSAFE.sub("_", message_id.strip().strip("<>")).lstrip(".") or f"notice-{notice_id}"
    return f"{stem[:200]}.eml"


def write_eml_batch(
    messages: Sequence[Outgoing], outbox_dir: Path, *, on_result: OnResult | None = None
) -> list[SendResult]:
    """Write each message to ``outbox_dir`` as an .eml file (used when no SMTP host is set).

    Each file is written whole or not at all (a temporary file, then a rename), named
    after the Message-ID, so writing the same message again replaces the same file. If
    the folder cannot be made or written, raises :class:`OutboxUnavailable` at the first
    message that cannot be written (the ones before it were written, and reported).
    """
    try:
        outbox_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner only
    except OSError as exc:
        raise OutboxUnavailable(_unwritable(outbox_dir, exc)) from None
    results: list[SendResult] = []
    for item in messages:
        mail = build_or_fail(item)
        try:
            result = mail if isinstance(mail, SendResult) else _write_eml(mail, item, outbox_dir)
        except OSError as exc:
            raise OutboxUnavailable(_unwritable(outbox_dir, exc)) from None
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _unwritable(outbox_dir: Path, exc: OSError) -> str:
    """Why the outbox folder cannot be written, in words: a file in its place, or the
    system's reason (e.g. "Not a directory" when a file stands higher up its path)."""
    why = exc.strerror or str(exc)
    if outbox_dir.exists() and not outbox_dir.is_dir():
        why = "it is a file, not a folder"
    return f"cannot write to the outbox folder {outbox_dir.absolute()}: {why}"


def _write_eml(mail: Mail, item: Outgoing, outbox_dir: Path) -> SendResult:
    target = outbox_dir / eml_filename(mail.message_id, item.notice_id)
    handle, temp_name = tempfile.mkstemp(dir=outbox_dir, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(mail.data)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return SendResult(item.notice_id, "sent", None, 1)
