"""A message on its way, and what became of it: shared by SMTP delivery
(:mod:`journey.mail.transport`) and the outbox folder (:mod:`journey.mail.outbox_folder`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from journey.mail.redact import redact
from journey.mail.render import Mail

__all__ = ["LOST_CLAIM", "OnResult", "Outgoing", "SendResult", "build_or_fail"]

OnResult = Callable[["SendResult"], None]


@dataclass(frozen=True)
class Outgoing:
    """A message to deliver, built when its turn comes, and the outbox row it belongs to.

    ``build`` makes the message; if it raises, the notice fails with "could not render"
    and the rest of the batch goes on.
    """

    notice_id: int
    build: Callable[[], Mail]


@dataclass(frozen=True)
class SendResult:
    """What became of one message; ``detail`` holds the server's reply when not sent (or a
    recipient was refused), without addresses. ``held``: not sent because the server asked
    to slow down; it stays pending, and no attempt is counted."""

    notice_id: int
    outcome: Literal["sent", "failed", "retry", "held"]
    detail: str | None
    attempts: int


LOST_CLAIM = "not sent: another worker holds its claim now"


def build_or_fail(item: Outgoing) -> Mail | SendResult:
    """The item's message, or its outcome (failed) when it cannot be built."""
    try:
        return item.build()
    except Exception as exc:  # a broken template must not hold up the rest of the batch
        return SendResult(item.notice_id, "failed", redact(f"could not render: {exc}"), 0)
