"""The deployments, defined once: served by ``journey serve``, or registered on a work pool
by ``journey deploy --pool`` (and kept current by the ``refresh-deployments`` flow).

- ``send-reminders/daily-<zone>``: one per time zone cohorts use (``daily-europe-london``),
  scheduled at each clock time the rules of that zone's programmes use, in that zone, and
  limited to that zone's cohorts (its ``timezone`` parameter). At most one run of each at
  a time; a run that comes due while one is running waits its turn (ENQUEUE), because a
  later sweep has its own notices to queue and cancelling it would leave them to the next
  day, late. A zone no cohort uses any more loses its deployment.
- ``launch-cohort``, ``record-completion``, ``withdraw-trainee``, ``trainee-journey``,
  ``deliver-notices`` and ``funder-report``, all ``/organiser``, to run from the UI. The
  record-completion form offers the milestone ids of the programmes stored for cohorts.
- On a work pool, ``refresh-deployments/refresh`` (every hour by default), which recomputes
  the zones, clock times and the form from the database; one run at a time, and one that
  comes due while another runs is cancelled (CANCEL_NEW: it would do the same work).

The parts: :mod:`~journey.deployments.naming` (names, no Prefect),
:mod:`~journey.deployments.schedule` (zones and clock times from the database),
:mod:`~journey.deployments.forms` (the record-completion form),
:mod:`~journey.deployments.define` (the definitions), :mod:`~journey.deployments.compare`
(what differs on the server), :mod:`~journey.deployments.register` (sync and serve) and
:mod:`~journey.deployments.pool` (``journey deploy``). Prefect is imported only inside
functions, so importing this package (``journey deploy``'s options do) stays cheap.
"""

from journey.deployments.compare import differences
from journey.deployments.define import ANCHOR, Definition, Target, definitions
from journey.deployments.forms import offer_milestones, offered_milestones, set_form
from journey.deployments.naming import (
    ON_DEMAND,
    REFRESH,
    REFRESH_FLOW,
    SECRET_BLOCK,
    SWEEP_FLOW,
    SWEEP_PREFIX,
    TAGS,
    is_sweep,
    sweep_name,
    zone_slug,
)
from journey.deployments.pool import (
    NEVER_PASSED,
    DeployReport,
    absolute_sqlite,
    deploy,
    ensure_pool,
    ensure_secret,
    env_text,
    job_env,
)
from journey.deployments.register import (
    Outcome,
    client,
    find,
    refresh,
    registered,
    remove_stale_sweeps,
    serve,
    sync,
)
from journey.deployments.schedule import describe, reminder_crons, rule_times, zone_crons

__all__ = [
    "ANCHOR",
    "NEVER_PASSED",
    "ON_DEMAND",
    "REFRESH",
    "REFRESH_FLOW",
    "SECRET_BLOCK",
    "SWEEP_FLOW",
    "SWEEP_PREFIX",
    "TAGS",
    "Definition",
    "DeployReport",
    "Outcome",
    "Target",
    "absolute_sqlite",
    "client",
    "definitions",
    "deploy",
    "describe",
    "differences",
    "ensure_pool",
    "ensure_secret",
    "env_text",
    "find",
    "is_sweep",
    "job_env",
    "offer_milestones",
    "offered_milestones",
    "refresh",
    "registered",
    "reminder_crons",
    "remove_stale_sweeps",
    "rule_times",
    "serve",
    "set_form",
    "sweep_name",
    "sync",
    "zone_crons",
    "zone_slug",
]
