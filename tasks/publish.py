"""Monitoring in the Prefect UI: a cohort's artifacts, and events that automations can use.

Artifacts (keys stable per cohort, so the UI keeps each one's history):
``<cohort>-progress-table`` (each trainee's milestones), ``<cohort>-progress`` (the share
of applicable milestones done) and ``<cohort>-summary`` (the organiser's markdown summary).

Events (see docs/EVENTS.md): ``journey.milestone.completed``, ``journey.notices.sent``
(one per cohort and delivery run) and ``journey.notice.failed``. They carry ids, never
names or email addresses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from journey.db import session_scope
from journey.mail.redact import redact
from journey.services.delivery import NoticeOutcome
from journey.services.report import cohort_report, local_time, md_escape
from journey.tasks.common import settings

MILESTONE_COMPLETED = "journey.milestone.completed"
NOTICES_SENT = "journey.notices.sent"
NOTICE_FAILED = "journey.notice.failed"

_KEY = re.compile(r"^[a-z0-9-]+$")
MAX_DETAIL = 1000  # characters of a server's reply kept in an event


def artifact_keys(cohort_id: str) -> dict[str, str]:
    """The cohort's artifact keys (lowercase letters, digits and dashes, as Prefect requires)."""
    if not _KEY.match(cohort_id):
        raise ValueError(f"cohort id {cohort_id!r} cannot name an artifact (use a-z, 0-9, -)")
    return {
        "table": f"{cohort_id}-progress-table",
        "progress": f"{cohort_id}-progress",
        "summary": f"{cohort_id}-summary",
    }


@task(name="publish-cohort", task_run_name="publish {cohort_id}", cache_policy=NO_CACHE)
def publish_cohort(cohort_id: str, now: datetime) -> dict[str, str]:
    """Publish the cohort's progress table, share done and summary as keyed artifacts.

    Each call adds a new version under the same keys (the UI shows the latest and keeps
    the history); never cached, since publishing is the point. Returns the three keys;
    the artifacts hold names, never emails.
    """
    keys = artifact_keys(cohort_id)
    with session_scope(settings().database_url) as session:
        report = cohort_report(session=session, cohort_id=cohort_id, now=now)
    about = f"{md_escape(report.status.title)} ({cohort_id}) at {local_time(now, report.timezone)}"
    create_table_artifact(
        table=report.rows,
        key=keys["table"],
        description=f"Each trainee's milestones: {about}",
    )
    create_progress_artifact(
        progress=round(report.share, 1),
        key=keys["progress"],
        description=f"Share of applicable milestones done by active trainees: {about}",
    )
    create_markdown_artifact(
        markdown=report.markdown,
        key=keys["summary"],
        description=f"Summary for the organiser: {about}",
    )
    return keys


def _cohort(cohort_id: str) -> dict[str, str]:
    """The cohort as a related resource."""
    return {
        "prefect.resource.id": f"journey.cohort.{cohort_id}",
        "prefect.resource.role": "cohort",
        "prefect.resource.name": cohort_id,
    }


def emit_completions(
    cohort_id: str, milestone: str, enrolment_ids: Sequence[int], on: date | None
) -> int:
    """One ``journey.milestone.completed`` event per enrolment; returns how many went out.

    ``on`` is the date given when recording (None: today, or the session's own dates).
    """
    emitted = 0
    for enrolment_id in enrolment_ids:
        event = emit_event(
            event=MILESTONE_COMPLETED,
            resource={
                "prefect.resource.id": f"journey.trainee.{cohort_id}.{enrolment_id}",
                "prefect.resource.name": f"enrolment {enrolment_id}",
                "journey.cohort": cohort_id,
                "journey.milestone": milestone,
            },
            related=[_cohort(cohort_id)],
            payload={
                "cohort": cohort_id,
                "enrolment_id": enrolment_id,
                "milestone": milestone,
                "on": on.isoformat() if on else None,
            },
        )
        emitted += event is not None
    return emitted


def event_detail(detail: str | None) -> str | None:
    """A server's reply without email addresses (they become ``<address>``), cut short."""
    if detail is None:
        return None
    return redact(detail)[:MAX_DETAIL]


def emit_deliveries(outcomes: Sequence[NoticeOutcome]) -> int:
    """Every event for a set of delivery outcomes: :func:`emit_failures`, then
    :func:`emit_sent`; returns how many were emitted."""
    return emit_failures(outcomes) + emit_sent(outcomes)


def emit_failures(outcomes: Sequence[NoticeOutcome]) -> int:
    """One ``journey.notice.failed`` per notice refused for good (each is worth an alert);
    other outcomes are passed over. Delivery emits these as each batch ends."""
    return sum(_emit_failed(o) for o in outcomes if o.status == "failed")


def emit_sent(outcomes: Sequence[NoticeOutcome]) -> int:
    """One ``journey.notices.sent`` per cohort with notices sent: their ids, and a count per
    template. Delivery emits these once per run (``deliver_until_done``), not per batch or
    per notice: the Prefect server stores every event, and one per notice cost it several
    milliseconds of CPU a message, more than sending it (docs/PERFORMANCE.md)."""
    sent: dict[str, list[NoticeOutcome]] = {}
    for outcome in outcomes:
        if outcome.status == "sent":
            sent.setdefault(outcome.cohort_id, []).append(outcome)
    emitted = 0
    for cohort_id, done in sent.items():
        event = emit_event(
            event=NOTICES_SENT,
            resource={
                "prefect.resource.id": f"journey.cohort.{cohort_id}.sent",
                "prefect.resource.name": f"{cohort_id} notices sent",
                "journey.cohort": cohort_id,
            },
            related=[_cohort(cohort_id)],
            payload={
                "cohort": cohort_id,
                "count": len(done),
                "templates": dict(sorted(Counter(o.template for o in done).items())),
                "notice_ids": [o.notice_id for o in done],
            },
        )
        emitted += event is not None
    return emitted


def _emit_failed(outcome: NoticeOutcome) -> bool:
    event = emit_event(
        event=NOTICE_FAILED,
        resource={
            "prefect.resource.id": f"journey.notice.{outcome.notice_id}",
            "prefect.resource.name": f"notice {outcome.notice_id}",
            "journey.cohort": outcome.cohort_id,
            "journey.template": outcome.template,
        },
        related=[_cohort(outcome.cohort_id)],
        payload={
            "notice_id": outcome.notice_id,
            "cohort": outcome.cohort_id,
            "template": outcome.template,
            "status": outcome.status,
            "detail": event_detail(outcome.detail),
        },
    )
    return event is not None
