"""The ``journey`` app, its command groups and the options every command shares.

Command modules (``cohorts``, ``progress``, ``sending``, ...) add their commands to these
apps; ``journey.cli`` imports them all. Nothing here imports Prefect.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from journey.errors import JourneyError

app = typer.Typer(
    help="Leadership Journey: run an alliance's nine-month leadership programme.\n\n"
    "Example: journey demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The database.\n\nExample: journey db upgrade", no_args_is_help=True)
cohort_app = typer.Typer(
    help="Cohorts.\n\nExample: journey cohort import cohort.yaml", no_args_is_help=True
)
session_app = typer.Typer(
    help="A cohort's sessions: training days, learning-set sessions, graduation. To move "
    "one, change its date in the cohort file and run `journey cohort import` again.\n\n"
    "Example: journey session cancel mk-2026 graduation",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(cohort_app, name="cohort")
app.add_typer(session_app, name="session")
person_app = typer.Typer(
    help="One person, by email: what they were sent, and whether they get email.\n\n"
    "Example: journey person show aisha.rahman@example.org",
    no_args_is_help=True,
)
app.add_typer(person_app, name="person")

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this time (YYYY-MM-DD[THH:MM], local)."),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who is making the change, for the history. Default: the OS user."),
]


def now_from(text: str | None) -> datetime:
    from journey.timeutil import parse_moment, wall_clock

    return parse_moment(text) if text else wall_clock()


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
