"""What a delivery run did: counts, where the mail went, each notice tried, and whether
it fell short (:meth:`DeliveryResult.incomplete`). Plain data, returned by the delivery
service and the ``deliver-batch`` task (no personal data: a server's reply is kept without
the addresses it quotes, see :mod:`journey.mail.redact`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journey.errors import DeliveryIncomplete
from journey.mail.redact import redact


@dataclass(frozen=True)
class NoticeOutcome:
    """What became of one notice that was tried: ``sent`` or ``failed`` (no personal data)."""

    notice_id: int
    cohort_id: str
    template: str
    status: str
    detail: str | None = None


@dataclass
class DeliveryResult:
    """Counts of one delivery run, where the mail went, and each notice tried."""

    destination: str
    sent: int = 0
    failed: int = 0
    retry: int = 0
    cancelled: int = 0
    skipped: int = 0
    batches: int = 0
    unrecorded: int = 0  # sent after the claim lapsed to another worker: a possible copy
    unavailable: str | None = None  # why the server or outbox folder could not be used
    deferred: str | None = None  # why notices were left for a retry (the first reason)
    outcomes: list[NoticeOutcome] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        for name in ("sent", "failed", "retry", "cancelled", "skipped", "batches", "unrecorded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes += other.outcomes
        self.unavailable = self.unavailable or other.unavailable
        self.deferred = self.deferred or other.deferred

    def incomplete(self, summary: dict[str, Any] | None = None) -> DeliveryIncomplete | None:
        """What went wrong, as the error a flow raises once it has recorded everything
        (``summary``: what the run did); None when every notice tried was settled.

        Notices failed for good come first (exit 1): trying again cannot mend them, a
        person must look. Otherwise an unavailable server or folder, or notices deferred
        by the server, mean try again later (exit 75); their notices stay pending.
        """
        later = None
        if self.unavailable:
            later = f"delivery stopped: {self.unavailable}; the notices stay pending"
        elif self.deferred:
            later = f"{_notices(self.retry)} deferred: {self.deferred}; they stay pending"
        if self.failed:
            shown = "; ".join(self.failures[:3]) + ("; …" if self.failed > 3 else "")
            message = f"{_notices(self.failed)} failed for good: {shown}"
            message += f"; also {later}" if later else ""
            return DeliveryIncomplete(message, DeliveryIncomplete.FAILED_FOR_GOOD, summary)
        if later:
            return DeliveryIncomplete(later, DeliveryIncomplete.TRY_LATER, summary)
        return None

    @property
    def failures(self) -> list[str]:
        """One line per failed notice, with the server's reply (without addresses)."""
        return [
            redact(f"notice {o.notice_id}: {o.detail}")
            for o in self.outcomes
            if o.status == "failed"
        ]

    def summary(self) -> dict[str, Any]:
        """Counts, destination and failures, as plain data (what a flow run returns)."""
        names = (
            "destination",
            "sent",
            "failed",
            "retry",
            "cancelled",
            "skipped",
            "batches",
            "unrecorded",
        )
        return {
            **{n: getattr(self, n) for n in names},
            "unavailable": self.unavailable,
            "deferred": self.deferred,
            "failures": self.failures,
        }


def _notices(count: int) -> str:
    return f"{count} notice{'' if count == 1 else 's'}"
