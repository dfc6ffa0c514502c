"""Constrained flow parameter types, checked before a run starts (also from the Prefect UI).

Prefect takes each parameter's description for the UI form from the flow docstring's
``Args:`` section, so descriptions live there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

CohortId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CohortIds = list[str] | None
Email = Annotated[str, Field(min_length=3, max_length=320)]
Emails = Annotated[list[str], Field(min_length=1)]
Milestone = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
On = date | None
Now = datetime | None
DryRun = bool
