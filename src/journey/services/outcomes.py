"""What a run did, as plain typed data: a delivery run's counts, where the mail went, each
notice tried, and whether it fell short (:meth:`DeliveryResult.incomplete`); and the
summaries the flows return (:class:`LaunchSummary`, :class:`SweepSummary`,
:class:`JourneySummary`, :class:`RecordSummary`, :class:`DeliverySummary`), which the CLI
prints. No personal data: a server's reply is kept without the addresses it quotes (see
:mod:`journey.mail.redact`). Frozen dataclasses, so Prefect pickles them as it did dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True)
class DeliverySummary:
    """What a delivery run did, as a flow returns it: counts, destination and failures."""

    destination: str
    sent: int
    failed: int
    retry: int
    cancelled: int
    skipped: int
    batches: int
    unrecorded: int
    unavailable: str | None
    deferred: str | None
    failures: list[str]
    held_back: int = 0  # left pending on purpose: pacing, not a fault (exit 0)
    held_by: str | None = None  # why: the provider's limit, or the server asked to slow down


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
    held_back: int = 0  # due notices left pending to keep to the provider's pace
    held_by: str | None = None  # why they were held back (the first reason)
    outcomes: list[NoticeOutcome] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        """Count ``other`` (a later batch) in; the first reason to stop or defer is kept."""
        self.sent += other.sent
        self.failed += other.failed
        self.retry += other.retry
        self.cancelled += other.cancelled
        self.skipped += other.skipped
        self.batches += other.batches
        self.unrecorded += other.unrecorded
        self.outcomes += other.outcomes
        self.unavailable = self.unavailable or other.unavailable
        self.deferred = self.deferred or other.deferred
        self.held_back += other.held_back
        self.held_by = self.held_by or other.held_by

    def incomplete(self, summary: object = None) -> DeliveryIncomplete | None:
        """What went wrong, as the error a flow raises once it has recorded everything
        (``summary``: what the run did); None when every notice tried was settled.

        Notices failed for good come first (exit 1): trying again cannot mend them, a
        person must look. Otherwise an unavailable server or folder, or notices deferred
        by the server, mean try again later (exit 75); their notices stay pending.
        Notices held back (``held_back``) are pacing, not a fault: they never make a run
        incomplete.
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

    def summary(self) -> DeliverySummary:
        """Counts, destination and failures, without each notice (what a flow run returns)."""
        return DeliverySummary(
            destination=self.destination,
            sent=self.sent,
            failed=self.failed,
            retry=self.retry,
            cancelled=self.cancelled,
            skipped=self.skipped,
            batches=self.batches,
            unrecorded=self.unrecorded,
            unavailable=self.unavailable,
            deferred=self.deferred,
            failures=self.failures,
            held_back=self.held_back,
            held_by=self.held_by,
        )


@dataclass(frozen=True)
class QueueSummary:
    """What a queueing pass did (:class:`journey.services.queue.QueueResult` without the
    keys it skipped): new notices, late ones skipped, superseded reminders, keys already
    queued, digests queued, and the cohorts swept."""

    queued: int
    skipped: int
    superseded: int
    known: int
    digests: int
    cohorts: list[str]


@dataclass(frozen=True)
class LaunchSummary:
    """What launch-cohort did: the launch (see :class:`journey.services.sweep.LaunchResult`),
    then, unless a dry run, its delivery and the keys of the artifacts it published."""

    cohort_id: str
    launched_at: datetime
    first_launch: bool
    trainees: int
    welcomes: int
    assignments: int
    due: QueueSummary
    delivery: DeliverySummary | None = None
    artifacts: dict[str, str] | None = None


@dataclass(frozen=True)
class SweepSummary:
    """What send-reminders did: what it queued, then, unless a dry run, its delivery."""

    queued: QueueSummary
    delivery: DeliverySummary | None = None


@dataclass(frozen=True)
class TraineeState:
    """Where one trainee stands: position, eligibility, each milestone's state (ids only)."""

    enrolment_id: int
    position: str
    eligible: bool | None  # None when graduation does not apply
    milestones: dict[str, str]


@dataclass(frozen=True)
class JourneySummary:
    """What trainee-journey did: where the trainee stands (as :class:`TraineeState`), what
    was queued for them, then, unless a dry run, the delivery."""

    enrolment_id: int
    position: str
    eligible: bool | None
    milestones: dict[str, str]
    queued: QueueSummary
    delivery: DeliverySummary | None = None


@dataclass(frozen=True)
class RecordSummary:
    """What record-completion did: trainees newly recorded, and those already recorded."""

    recorded: int
    already: int


def _notices(count: int) -> str:
    return f"{count} notice{'' if count == 1 else 's'}"
