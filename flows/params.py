"""Constrained flow parameter types, checked before a run starts (also from the Prefect UI).

Prefect takes each parameter's description for the UI form from the flow docstring's
``Args:`` section, so descriptions live there.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from journey.programme import load_programme


def _milestone_ids() -> type[enum.StrEnum]:
    """The default programme's milestone ids, as a drop-down in the Prefect UI form."""
    ids = load_programme("default").ids
    made: type[enum.StrEnum] = enum.StrEnum(  # type: ignore[misc]
        "MilestoneId", {i.replace("-", "_"): i for i in ids}
    )
    return made


CohortId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CohortIds = list[str] | None
Email = Annotated[str, Field(min_length=3, max_length=320)]
Emails = Annotated[list[str], Field(min_length=1)]
if TYPE_CHECKING:
    Milestone = str
else:
    Milestone = _milestone_ids()
On = date | None
Now = datetime | None
DryRun = bool
