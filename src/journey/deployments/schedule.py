"""When send-reminders runs, read from the database: the time zones cohorts use and the
clock times their programmes' rules use; and a schedule in words.

``send-reminders`` runs once per cohort time zone (a deployment each), at every clock time
the programmes of that zone's cohorts use (so a ``-7d@09:00`` rule goes out at 09:00, not
a day late), or at ``JOURNEY_REMINDER_CRON``. Prefect evaluates a cron in its time zone,
so 08:00 stays 08:00 on both sides of the clock change. Database and Prefect imports are
made late: ``journey deploy --help`` imports this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import TYPE_CHECKING

from journey.settings import Settings

if TYPE_CHECKING:
    from prefect.client.schemas.actions import DeploymentScheduleCreate, DeploymentScheduleUpdate
    from prefect.client.schemas.objects import DeploymentSchedule

    from journey.programme import Programme

    Schedule = DeploymentScheduleCreate | DeploymentScheduleUpdate | DeploymentSchedule


def rule_times(programmes: Iterable[Programme]) -> list[time]:
    """Every clock time the programmes' notice rules use, sorted."""
    return sorted({rule.clock for p in programmes for m in p.milestones for rule in m.notices})


def reminder_crons(times: Iterable[time], override: str | None) -> list[str]:
    """One daily cron per clock time (``0 8 * * *``), or the configured cron alone."""
    if override:
        return [override]
    return [f"{t.minute} {t.hour} * * *" for t in times] or ["0 8 * * *"]


def zone_crons(settings: Settings) -> dict[str, list[str]]:
    """The crons of send-reminders for each time zone cohorts use, zones sorted; the
    default zone and programme when there are no cohorts yet. One query."""
    from sqlalchemy import select

    from journey.db import session_scope
    from journey.engine import DEFAULT_TIMEZONE
    from journey.models import Cohort
    from journey.programme import load_programme

    with session_scope(settings.database_url) as session:
        rows = session.execute(select(Cohort.timezone, Cohort.programme).distinct()).all()
    texts: dict[str, dict[str, None]] = {}  # zone -> programme texts, as an ordered set
    for zone, text in rows:
        texts.setdefault(zone, {})[text] = None
    if not texts:
        texts[DEFAULT_TIMEZONE] = {"default": None}
    return {
        zone: reminder_crons(
            rule_times(load_programme(text) for text in texts[zone]), settings.reminder_cron
        )
        for zone in sorted(texts)
    }


def describe(schedule: Schedule) -> str:
    """A schedule in words, for what deploy and serve print: ``0 8 * * * in
    Europe/London``, ``every 1:00:00``."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    inner = schedule.schedule
    if isinstance(inner, CronSchedule):
        return f"{inner.cron} in {inner.timezone}"
    if isinstance(inner, IntervalSchedule):
        return f"every {inner.interval}"
    return str(inner)
