"""Constrained flow parameter types, checked before a run starts (also from the Prefect UI).

Prefect takes each parameter's description for the UI form from the flow docstring's
``Args:`` section, so descriptions live there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from journey.programme import load_programme


def milestone_choices(ids: Sequence[str]) -> dict[str, Any]:
    """The form's milestone drop-down: a JSON schema offering ``ids``."""
    return {"type": "string", "enum": list(ids)}


CohortId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CohortIds = list[str] | None
TimeZone = Annotated[str, Field(min_length=1, max_length=64)] | None  # Cohort.timezone's length
Email = Annotated[str, Field(min_length=3, max_length=320)]
Emails = Annotated[list[str], Field(min_length=1)]
# A milestone id. The form's drop-down offers the default programme's ids, and the
# deployments (`journey serve`, `journey deploy`) those of the programmes stored for
# cohorts (journey.deployments sets the form through Prefect's client). A run
# accepts any id: the record service checks it against the cohort's own programme and
# writes nothing if it is not there. (A served run re-imports this module in a process of
# its own, so an enum built here could not hold the stored programmes' ids.)
Milestone = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64),
    WithJsonSchema(milestone_choices(load_programme("default").ids)),
]
On = date | None
Reason = Annotated[str, Field(max_length=500)] | None  # Enrolment.withdrawal_reason's length
By = Annotated[str, Field(max_length=100)] | None  # HistoryEntry.by's length
Now = datetime | None
DryRun = bool
