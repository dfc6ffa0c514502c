"""Monitoring in the Prefect UI: a cohort's artifacts, and events that automations can use.

Artifacts (keys stable per cohort, so the UI keeps each one's history):
``<cohort>-progress-table`` (each trainee's milestones), ``<cohort>-progress`` (the share
of applicable milestones done) and ``<cohort>-summary`` (the organiser's markdown summary).

Events (see docs/EVENTS.md): ``journey.milestone.completed``, ``journey.notices.sent``
(one per cohort and delivery run) and ``journey.notice.failed``. They carry ids, never
names or email addresses.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from datetime import date, datetime
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.settings import PREFECT_API_URL, get_current_settings

from journey.db import session_scope
from journey.mail.redact import redact
from journey.services.delivery import NoticeOutcome
from journey.services.published import last_published, picture_digest, record_published
from journey.services.report import CohortReport, cohort_report, local_time, md_escape
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


API_NAME_LENGTH = 300  # published_pictures.api


def prefect_api() -> str:
    """The Prefect API this process publishes to, as ``published_pictures`` names it:
    ``PREFECT_API_URL``, or on the ephemeral API ``ephemeral <hash>`` of the database
    that API keeps its artifacts in (its address changes with every process; its
    database does not). The connection URL is hashed: it may hold a password."""
    url = (PREFECT_API_URL.value() or "").rstrip("/")
    if url and len(url) <= API_NAME_LENGTH:
        return url
    if url:
        return f"url {hashlib.sha256(url.encode()).hexdigest()}"
    secret = get_current_settings().server.database.connection_url
    where = secret.get_secret_value() if secret is not None else ""
    return f"ephemeral {hashlib.sha256(where.encode()).hexdigest()[:32]}"


def create_cohort_artifacts(cohort_id: str, report: CohortReport, now: datetime) -> dict[str, str]:
    """Create the cohort's three keyed artifacts from ``report``; returns their keys."""
    keys = artifact_keys(cohort_id)
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


def publish_changed(cohort_ids: Sequence[str], now: datetime) -> list[str]:
    """Publish the artifacts of each cohort whose picture changed since it was last
    published to this Prefect API (``journey.services.published``); returns those published.

    One read of the last digests for all the cohorts, one write for those published (also
    when publishing one of them raised, so what reached Prefect is remembered). A cohort's
    artifacts are created on a thread of their own while the next cohort's report is
    worked out: the Prefect server stores them (about 24 ms each, docs/PERFORMANCE.md) on
    another core meanwhile. The thread runs in a copy of this run's context, so the
    artifacts belong to this flow and task run.
    """
    for cohort_id in cohort_ids:
        artifact_keys(cohort_id)  # a bad id fails before anything is published
    api = prefect_api()
    url = settings().database_url
    digests: dict[str, str] = {}
    pending: list[tuple[str, Future[dict[str, str]]]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish") as pool:
        try:
            with session_scope(url) as session:
                before = last_published(session, api, cohort_ids)
                for cohort_id in cohort_ids:
                    report = cohort_report(session=session, cohort_id=cohort_id, now=now)
                    digest = picture_digest(report)
                    if before.get(cohort_id) != digest:
                        digests[cohort_id] = digest
                        run = copy_context().run
                        job = pool.submit(run, create_cohort_artifacts, cohort_id, report, now)
                        pending.append((cohort_id, job))
        finally:
            done, failure = _wait_for(pending)
            with session_scope(url) as session:
                record_published(session, api, {c: digests[c] for c in done}, now)
    if failure is not None:
        raise failure
    return done


def _wait_for(
    pending: Sequence[tuple[str, Future[dict[str, str]]]],
) -> tuple[list[str], BaseException | None]:
    """Wait for every cohort's artifacts: the cohorts published, and the first error."""
    done: list[str] = []
    failure: BaseException | None = None
    for cohort_id, job in pending:
        error = job.exception()
        if error is None:
            done.append(cohort_id)
        elif failure is None:
            failure = error
    return done, failure


@task(name="publish-cohorts", cache_policy=NO_CACHE)
def publish_cohorts(cohort_ids: Sequence[str], now: datetime) -> dict[str, Any]:
    """Publish the artifacts of every cohort here whose picture changed (one task run,
    however many cohorts: a task run costs Prefect 10-15 ms). Returns the cohorts
    published and how many were unchanged."""
    published = publish_changed(list(cohort_ids), now)
    return {"published": published, "unchanged": len(cohort_ids) - len(published)}


@task(name="publish-cohort", task_run_name="publish {cohort_id}", cache_policy=NO_CACHE)
def publish_cohort(cohort_id: str, now: datetime) -> dict[str, str]:
    """Publish the cohort's progress table, share done and summary as keyed artifacts,
    if its picture changed since it was last published to this Prefect API.

    Each publish adds a new version under the same keys (the UI shows the latest and keeps
    the history); never cached, since publishing is the point. Returns the three keys
    either way; the artifacts hold names, never emails.
    """
    publish_changed([cohort_id], now)
    return artifact_keys(cohort_id)


def _cohort(cohort_id: str) -> dict[str, str]:
    """The cohort as a related resource."""
    return {
        "prefect.resource.id": f"journey.cohort.{cohort_id}",
        "prefect.resource.role": "cohort",
        "prefect.resource.name": cohort_id,
    }


def _emit(
    event: str,
    resource: tuple[str, str],
    payload: dict[str, Any],
    *,
    cohort: str | None = None,
    **labels: str,
) -> int:
    """Emit one event in the shape every journey event has (docs/EVENTS.md): a resource
    (``resource`` is its id and name), labelled with the cohort (``journey.cohort``, and
    the cohort as a related resource) when there is one, then ``journey.<label>`` for each
    of ``labels``; and ``payload``. Returns 1 if emitted, else 0."""
    resource_id, name = resource
    fields = {"prefect.resource.id": resource_id, "prefect.resource.name": name}
    if cohort is not None:
        fields["journey.cohort"] = cohort
    fields.update({f"journey.{label}": value for label, value in labels.items()})
    emitted = emit_event(
        event=event,
        resource=fields,
        related=[_cohort(cohort)] if cohort is not None else None,
        payload=payload,
    )
    return int(emitted is not None)


def emit_completions(
    cohort_id: str, milestone: str, enrolment_ids: Sequence[int], on: date | None
) -> int:
    """One ``journey.milestone.completed`` event per enrolment; returns how many went out.

    ``on`` is the date given when recording (None: today, or the session's own dates).
    """
    return sum(
        _emit(
            MILESTONE_COMPLETED,
            (f"journey.trainee.{cohort_id}.{enrolment_id}", f"enrolment {enrolment_id}"),
            {
                "cohort": cohort_id,
                "enrolment_id": enrolment_id,
                "milestone": milestone,
                "on": on.isoformat() if on else None,
            },
            cohort=cohort_id,
            milestone=milestone,
        )
        for enrolment_id in enrolment_ids
    )


def event_detail(detail: str | None) -> str | None:
    """A server's reply without email addresses (they become ``<address>``), cut short."""
    if detail is None:
        return None
    return redact(detail)[:MAX_DETAIL]


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
    return sum(
        _emit(
            NOTICES_SENT,
            (f"journey.cohort.{cohort_id}.sent", f"{cohort_id} notices sent"),
            {
                "cohort": cohort_id,
                "count": len(done),
                "templates": dict(sorted(Counter(o.template for o in done).items())),
                "notice_ids": [o.notice_id for o in done],
            },
            cohort=cohort_id,
        )
        for cohort_id, done in sent.items()
    )


def _emit_failed(outcome: NoticeOutcome) -> int:
    return _emit(
        NOTICE_FAILED,
        (f"journey.notice.{outcome.notice_id}", f"notice {outcome.notice_id}"),
        {
            "notice_id": outcome.notice_id,
            "cohort": outcome.cohort_id,
            "template": outcome.template,
            "status": outcome.status,
            "detail": event_detail(outcome.detail),
        },
        cohort=outcome.cohort_id,
        template=outcome.template,
    )


DELIVERY_UNAVAILABLE = "journey.delivery.unavailable"


def emit_unavailable(reason: str, destination: str, pending: int) -> int:
    """One ``journey.delivery.unavailable`` when a delivery run stopped because the mail
    server or the outbox folder could not be used (``reason``, addresses redacted as in
    :func:`event_detail`); ``pending`` notices were left for a later run. Returns 1 if
    emitted. An automation made by ``journey alerts apply`` emails the organiser on it."""
    kind = "smtp" if destination.startswith("SMTP") else "outbox"
    return _emit(
        DELIVERY_UNAVAILABLE,
        (f"journey.delivery.{kind}", destination),
        {"reason": event_detail(reason), "destination": destination, "pending": pending},
    )
