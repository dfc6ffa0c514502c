"""The Prefect flow runs that hold a person's email address, and deleting them.

Run names, logs, events and artifacts hold no addresses. A run's parameters may: the
forms of trainee-journey (``email``), record-completion (``emails``) and
withdraw-trainee (``email``) take addresses, and Prefect keeps each run's parameters.
``journey person forget`` finds those runs with :func:`runs_concerning` and deletes them
with :func:`delete_runs`, on the Prefect server ``PREFECT_API_URL`` points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

# The flows whose parameters take addresses, and which parameter.
ADDRESS_PARAMETERS = {
    "trainee-journey": "email",
    "record-completion": "emails",
    "withdraw-trainee": "email",
}
PAGE = 200  # flow runs read per request


def runs_concerning(email: str, cohort_ids: Sequence[str] | None = None) -> list[UUID]:
    """The ids of the flow runs whose parameters hold ``email`` (any case, any spaces
    around it), oldest first; only runs tagged ``cohort:<id>`` for ``cohort_ids`` if
    given. Runs of flows that take no address are not read."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    wanted = email.strip().lower()
    flows = FlowFilter(name=FlowFilterName(any_=sorted(ADDRESS_PARAMETERS)))
    tagged = None
    if cohort_ids:
        tagged = FlowRunFilter(tags=FlowRunFilterTags(any_=[f"cohort:{c}" for c in cohort_ids]))
    found: list[UUID] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            page = client.read_flow_runs(
                flow_filter=flows,
                flow_run_filter=tagged,
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                limit=PAGE,
                offset=offset,
            )
            found += [run.id for run in page if wanted in set(_strings(run.parameters))]
            if len(page) < PAGE:
                return found
            offset += PAGE


def delete_runs(ids: Iterable[UUID]) -> int:
    """Delete these flow runs (their task runs and states go with them); how many were
    there to delete. Runs deleted already are passed over."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deleted = 0
    with get_client(sync_client=True) as client:
        for run_id in ids:
            try:
                client.delete_flow_run(run_id)
            except ObjectNotFound:
                continue
            deleted += 1
    return deleted


def _strings(value: Any) -> Iterator[str]:
    """Every string in a run's parameters (nested lists and mappings too), normalised as
    stored addresses are: stripped and lower case."""
    if isinstance(value, str):
        yield value.strip().lower()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def artifacts_naming(texts: Sequence[str], cohort_ids: Sequence[str]) -> list[Any]:
    """The versions of the cohorts' artifacts (progress tables, summaries, funder's
    reports) whose data or description holds any of ``texts`` (a person's name or
    address, any case)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    needles = [t.casefold() for t in texts if t]
    patterns = [f"{c}-%" for c in cohort_ids] + ["funder-report-%"]
    found: dict[UUID, Any] = {}
    with get_client(sync_client=True) as client:
        for pattern in patterns:
            offset = 0
            while True:
                page = client.read_artifacts(
                    artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=pattern)),
                    limit=PAGE,
                    offset=offset,
                )
                found |= {a.id: a for a in page if _names((a.data, a.description), needles)}
                if len(page) < PAGE:
                    break
                offset += PAGE
    return list(found.values())


def scrub_artifacts(artifacts: Iterable[Any], texts: Sequence[str], token: str) -> int:
    """Rewrite these artifact versions with ``token`` wherever they hold any of ``texts``
    (any case): the history stays, the person is no longer in it. How many were
    rewritten (a version deleted meanwhile is passed over)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactUpdate
    from prefect.exceptions import ObjectNotFound

    pattern = re.compile("|".join(re.escape(t) for t in texts if t), re.IGNORECASE)
    done = 0
    with get_client(sync_client=True) as client:
        for artifact in artifacts:
            data = _replaced(artifact.data, pattern, token)
            description = _replaced(artifact.description, pattern, token)
            try:
                client.update_artifact(
                    artifact.id, ArtifactUpdate(data=data, description=description)
                )
            except ObjectNotFound:
                continue
            done += 1
    return done


def _replaced(value: Any, pattern: re.Pattern[str], token: str) -> Any:
    """``value`` (text, or a table's rows and cells) with every match of ``pattern``
    replaced by ``token``."""
    if isinstance(value, str):
        return pattern.sub(token, value)
    if isinstance(value, dict):
        return {k: _replaced(v, pattern, token) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replaced(v, pattern, token) for v in value]
    return value


def _names(data: Any, needles: Sequence[str]) -> bool:
    import json

    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    folded = text.casefold()
    return any(n in folded for n in needles)
