"""The journey engine: plain Python, no Prefect, no I/O, no wall clock.

Given a programme, a cohort's dates, one trainee's records and a moment ``now``, it says
where the trainee is, what is done, due or overdue, whether they may graduate, and which
notices are due, each with its deterministic key. Every flow, task, CLI command and
report asks this package; nothing else decides due dates.

- :mod:`.timeline`: when each milestone falls for a trainee (local time, occurrences);
- :mod:`.notices`: the notices planned and due, with their keys and usefulness
  (:class:`Planner` for a whole cohort at once);
- :mod:`.view`: states, position and graduation eligibility;
- :mod:`.keys`: every notice key format.
"""

from journey.engine.keys import notice_key
from journey.engine.notices import PlannedNotice, Planner, effective_from
from journey.engine.timeline import (
    DEFAULT_TIMEZONE,
    CohortPlan,
    Occurrence,
    Slot,
    TraineeRecord,
    applies,
    is_done,
    local_date,
    local_moment,
    occurrence,
    occurrences,
    zone,
)
from journey.engine.view import JourneyView, MilestoneView, State, eligibility, evaluate

__all__ = [
    "DEFAULT_TIMEZONE",
    "CohortPlan",
    "JourneyView",
    "MilestoneView",
    "Occurrence",
    "PlannedNotice",
    "Planner",
    "Slot",
    "State",
    "TraineeRecord",
    "applies",
    "effective_from",
    "eligibility",
    "evaluate",
    "is_done",
    "local_date",
    "local_moment",
    "notice_key",
    "occurrence",
    "occurrences",
    "zone",
]
