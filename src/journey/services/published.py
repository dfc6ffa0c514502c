"""Which cohorts' pictures changed since they were last published to a Prefect API.

A cohort's three artifacts (progress table, share done, summary) are published only when
its *picture* differs from what the same Prefect API was last shown: the table's rows, the
share (to one decimal, as published) and the summary's markdown without its "At …" line.
The moment is left out, so a day on which nothing changed for a cohort publishes nothing.

The last digest per cohort and API is a row of ``published_pictures`` in the journey's own
database: one query for every cohort of a sweep (about a millisecond), where asking Prefect
for the latest artifacts would fetch every table's data (docs/PERFORMANCE.md). The API is
named by :func:`journey.tasks.publish.prefect_api`; another API gets every cohort again.
No Prefect here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from journey.models import PublishedPicture
from journey.services.report import CohortReport

MOMENT_LINE = "At "  # the summary's second paragraph: "At <local time> (<zone>)."


def summary_without_moment(markdown: str) -> str:
    """The summary's markdown without its "At …" paragraph (the title is one line, so it
    is always the second); the whole text if it is not there, which can only publish more."""
    parts = markdown.split("\n\n")
    if len(parts) > 1 and parts[1].startswith(MOMENT_LINE):
        del parts[1]
    return "\n\n".join(parts)


def picture_digest(report: CohortReport) -> str:
    """SHA-256 (hex) of what the cohort's artifacts show, the moment left out."""
    picture = {
        "rows": report.rows,
        "share": round(report.share, 1),
        "summary": summary_without_moment(report.markdown),
    }
    text = json.dumps(picture, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def last_published(session: Session, api: str, cohort_ids: Iterable[str]) -> dict[str, str]:
    """Cohort id -> the digest last published to ``api``, for those published there."""
    wanted = list(cohort_ids)
    if not wanted:
        return {}
    query = select(PublishedPicture.cohort_id, PublishedPicture.digest).where(
        PublishedPicture.api == api, PublishedPicture.cohort_id.in_(wanted)
    )
    return {cohort_id: digest for cohort_id, digest in session.execute(query)}


def changed(session: Session, api: str, digests: Mapping[str, str]) -> list[str]:
    """The cohorts (of ``digests``, cohort id -> digest now) whose picture differs from
    what ``api`` was last shown, in the order given."""
    before = last_published(session, api, digests)
    return [cohort_id for cohort_id, digest in digests.items() if before.get(cohort_id) != digest]


def record_published(session: Session, api: str, digests: Mapping[str, str], at: datetime) -> None:
    """Remember that ``api`` now shows these digests (cohort id -> digest), as of ``at``."""
    if not digests:
        return
    session.execute(
        delete(PublishedPicture).where(
            PublishedPicture.api == api, PublishedPicture.cohort_id.in_(list(digests))
        )
    )
    session.execute(
        insert(PublishedPicture),
        [{"cohort_id": c, "api": api, "digest": d, "published_at": at} for c, d in digests.items()],
    )
