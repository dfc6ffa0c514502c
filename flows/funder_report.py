"""funder-report: the funder's report on one or several cohorts, published as an artifact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from journey.db import session_scope
from journey.flows.naming import add_tags, funder_report_name
from journey.flows.params import CohortId, Now
from journey.services.funder_report import funder_report as make_report
from journey.services.funder_report_markdown import to_markdown
from journey.services.report import local_time, md_escape
from journey.tasks.common import resolve_now, settings

CohortList = Annotated[list[CohortId], Field(min_length=1, max_length=50)]
ArtifactKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,199}$")] | None


@dataclass(frozen=True)
class PublishedReport:
    """The report as published: its artifact's key, and its markdown."""

    key: str
    markdown: str


def report_key(cohort_ids: list[str]) -> str:
    """The artifact key for a report on ``cohort_ids``: ``funder-report-mk-2025-mk-2026``
    (ids sorted, each once), so each grant's report keeps its own history in the UI."""
    return "funder-report-" + "-".join(sorted(set(cohort_ids)))


def _task_name() -> str:
    from prefect.runtime import task_run

    return f"report on {', '.join(sorted(set(task_run.parameters['cohort_ids'])))}"


@task(name="funder-report", task_run_name=_task_name, cache_policy=NO_CACHE)
def publish_report(cohort_ids: list[str], now: datetime, key: str) -> PublishedReport:
    """Make the report as ``journey report --format md`` does and publish it under ``key``.

    Never cached: each run adds a version under the key, and the UI keeps the history.
    An unknown cohort fails the task, and the run, before anything is published.
    """
    with session_scope(settings().database_url) as session:
        report = make_report(session=session, cohort_ids=cohort_ids, now=now)
    markdown = to_markdown(report)
    about = ", ".join(report.cohort_ids)
    if report.total is None:
        about = f"{md_escape(report.cohorts[0].title)} ({about})"
    create_markdown_artifact(
        markdown=markdown,
        key=key,
        description=f"Funder's report: {about} at {local_time(now, report.timezone)}",
    )
    return PublishedReport(key, markdown)


@flow(name="funder-report", flow_run_name=funder_report_name)
def funder_report(
    cohort_ids: CohortList, now: Now = None, artifact_key: ArtifactKey = None
) -> PublishedReport:
    """Make the funder's report, as ``journey report --format md`` does, and publish it as a
    markdown artifact to read, copy or download from the UI. It changes nothing.

    Args:
        cohort_ids: The cohorts' ids: one, or several under one grant (then each, and totals).
        now: When to report as of (UTC unless an offset is given). Default: the current time.
        artifact_key: The artifact's key (a-z, 0-9 and dashes). Default: funder-report-
            and the cohort ids, e.g. funder-report-mk-2026.
    """
    add_tags(*(f"cohort:{c}" for c in sorted(set(cohort_ids))))
    key = artifact_key or report_key(cohort_ids)
    return publish_report(cohort_ids, resolve_now(now), key)
