"""The record-completion form: the milestone ids it offers, read from the database, and
how the form reaches the server.

Prefect builds a form from the flow's signature when a deployment is applied, and that
form can only offer the default programme's ids (:mod:`journey.flows.params`). The form
is then replaced through the client's public ``update_deployment``, with the ids of the
programmes stored for cohorts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from journey.settings import Settings

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.client.orchestration import SyncPrefectClient


def offered_milestones(settings: Settings) -> list[str]:
    """The milestone ids of the programmes stored for cohorts, each programme's in its own
    order, cohorts by id; the default programme's when there are no cohorts. One query."""
    from sqlalchemy import select

    from journey.db import session_scope
    from journey.models import Cohort
    from journey.programme import load_programme

    with session_scope(settings.database_url) as session:
        texts = session.scalars(select(Cohort.programme).order_by(Cohort.id)).all()
    ids: dict[str, None] = {}  # insertion-ordered set
    for text in dict.fromkeys(texts) or ["default"]:
        ids.update(dict.fromkeys(load_programme(text).ids))
    return list(ids)


def offer_milestones(form: dict[str, Any], milestone_ids: Sequence[str]) -> None:
    """Make the form's milestone field a drop-down of ``milestone_ids`` (in place)."""
    from journey.flows.params import milestone_choices

    form["properties"]["milestone"].update(milestone_choices(milestone_ids))


def set_form(api: SyncPrefectClient, deployment_id: UUID, form: dict[str, Any]) -> None:
    """Give the deployment this form (its parameters' JSON schema), through the public
    update call: Prefect applies the flow signature's form, which cannot know the stored
    programmes' milestone ids."""
    from prefect.client.schemas.actions import DeploymentUpdate

    api.update_deployment(deployment_id, DeploymentUpdate(parameter_openapi_schema=form))
