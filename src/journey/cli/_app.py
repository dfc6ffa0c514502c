"""The ``journey`` app, its command groups and the options every command shares.

Command modules (``cohorts``, ``progress``, ``sending``, ...) add their commands to these
apps; ``journey.cli`` imports them all. Nothing here imports Prefect.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from journey.errors import JourneyError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    help="Leadership Journey: run an alliance's nine-month leadership programme.\n\n"
    "\b\nExample: journey demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The database.\n\n\b\nExample: journey db upgrade", no_args_is_help=True)
cohort_app = typer.Typer(
    help="Cohorts.\n\n\b\nExample: journey cohort import cohort.yaml",
    no_args_is_help=True,
)
session_app = typer.Typer(
    help="A cohort's sessions: training days, learning-set sessions, graduation. To move "
    "one, change its date in the cohort file and run `journey cohort import` again.\n\n"
    "\b\nExample: journey session cancel mk-2026 graduation",
    no_args_is_help=True,
)
person_app = typer.Typer(
    help="One person, by email: what they were sent, and whether they get email.\n\n"
    "\b\nExample: journey person show aisha.rahman@example.org",
    no_args_is_help=True,
)
alerts_app = typer.Typer(
    help="Alerts to the organiser, as Prefect automations: the daily sweep failed or is "
    "late, a notice was refused, mail cannot go out.\n\n"
    "\b\nExample: journey alerts apply --to organiser@example.org",
    no_args_is_help=True,
)
evaluation_app = typer.Typer(
    help="Evaluation: answers to the programme's questionnaires (after the training, after "
    "the last learning set, at graduation).\n\n"
    "\b\nExample: journey evaluation import mk-2026 after-training.csv\n"
    "Example: journey evaluation record mk-2026 aisha.rahman@example.org score=9",
    no_args_is_help=True,
)
server_app = typer.Typer(
    help="A Prefect server of your own on this machine, in the background. While it runs, "
    "launch, remind, serve and person export/forget record their runs there (browsable in "
    "its UI) instead of starting Prefect's ephemeral API each time. An explicit "
    "PREFECT_API_URL always wins.\n\n"
    "\b\nExample: journey server start",
    no_args_is_help=True,
)
mail_app = typer.Typer(
    help="Mail: check the JOURNEY_SMTP_* settings (or the outbox folder) before the first "
    "launch.\n\n"
    "\b\nExample: journey mail test organiser@example.org",
    no_args_is_help=True,
)

# Each group is registered here, in the order `journey --help` lists them; the command
# modules add their commands to it.
app.add_typer(db_app, name="db")
app.add_typer(cohort_app, name="cohort")
app.add_typer(session_app, name="session")
app.add_typer(person_app, name="person")
app.add_typer(alerts_app, name="alerts")
app.add_typer(evaluation_app, name="evaluation")
app.add_typer(server_app, name="server")
app.add_typer(mail_app, name="mail")

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Act as if it were this time (YYYY-MM-DD[THH:MM], or with an offset: +01:00). "
        "A time without an offset is read in the cohort's time zone (a command over every "
        "cohort: the default zone, that of a cohort file naming none).",
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is making the change, for the history. Default: the OS user."),
]


def now_from(text: str | None, timezone: str | None = None) -> datetime:
    """``--now`` as UTC, or the wall clock without it. A time without an offset is read in
    ``timezone``: the cohort's, for a command about one cohort; else the default zone."""
    from journey.engine import DEFAULT_TIMEZONE
    from journey.timeutil import parse_moment, wall_clock

    return parse_moment(text, timezone or DEFAULT_TIMEZONE) if text else wall_clock()


def cohort_now(session: Session, cohort_id: str, text: str | None) -> datetime:
    """``--now`` for a command about one cohort, read in that cohort's zone. An id no cohort
    has gets the default zone: the command itself then says the cohort is unknown."""
    if not text:
        return now_from(None)
    from journey.services.loading import cohort_timezone

    return now_from(text, cohort_timezone(session, cohort_id))


def database_url() -> str:
    from journey.db import require_schema
    from journey.settings import get_settings

    url = get_settings().database_url
    require_schema(url)
    return url


def main() -> None:
    """Entry point: domain errors become ``Error: …`` and exit code 1 (or the error's own
    ``exit_code``: 75, try again later), never a traceback. The settings are read and
    checked first, so a bad one is reported whatever the command (as git does)."""
    from sqlalchemy.exc import OperationalError

    from journey.settings import get_settings

    try:
        get_settings()
        app()
    except JourneyError as exc:
        _fail(str(exc), getattr(exc, "exit_code", 1))
    except OperationalError as exc:  # the database went away or stayed locked mid-command
        from journey.db import driver_message, is_transient

        if is_transient(exc):
            _fail(f"database not available: {driver_message(exc)}; try again later", 75)
        _fail(f"database: {driver_message(exc)}")


def _fail(message: str, code: int = 1) -> None:
    from journey.cli.console import errors

    errors.print(f"Error: {message}", markup=False, soft_wrap=True)
    sys.exit(code)
