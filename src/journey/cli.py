"""The ``journey`` command. Thin: it calls the services the flows call.

Everyday commands (record, status, upcoming, session cancel, --help) never import Prefect;
commands that run flows (launch, remind, demo) import it late and show a spinner meanwhile.
"""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this time (YYYY-MM-DD[THH:MM], local)."),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]


class SessionKind(StrEnum):
    training = "training"
    learning_set = "learning-set"
    graduation = "graduation"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _now(text: str | None) -> datetime:
    from journey.timeutil import parse_moment, wall_clock

    return parse_moment(text) if text else wall_clock()


def _url() -> str:
    from journey.db import require_schema
    from journey.settings import get_settings

    url = get_settings().database_url
    require_schema(url)
    return url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or upgrade it to the latest schema.

    Example: journey db upgrade  (JOURNEY_DATABASE_URL chooses the database)
    """
    from journey.db import upgrade
    from journey.settings import get_settings

    url = get_settings().database_url
    revision = upgrade(url)
    typer.echo(f"Database ready at schema {revision}.")


@cohort_app.command("import")
def cohort_import(
    cohort_file: Annotated[Path, typer.Argument(help="The cohort YAML file.")],
    roster: Annotated[Path | None, typer.Option(help="The roster CSV (name,email,…).")] = None,
    now: NowOption = None,
) -> None:
    """Validate and store a cohort, all or nothing; safe to run again.

    Example: journey cohort import examples/mk-2026/cohort.yaml --roster examples/mk-2026/roster.csv
    """
    from journey.cohort_file import places_report, read_cohort
    from journey.db import session_scope
    from journey.services.changes import queue_changes
    from journey.services.cohorts import import_cohort

    spec = read_cohort(cohort_file, roster)
    url = _url()
    at = _now(now)
    with session_scope(url) as session:
        result = import_cohort(session=session, spec=spec, now=at)
        updates = queue_changes(
            session=session, cohort_id=spec.id, event_ids=result.moved_event_ids, now=at
        )
    verb = "Imported" if result.created else "Updated"
    typer.echo(
        f"{verb} cohort {spec.id}: {result.trainees_added} trainees added, "
        f"{result.trainees_updated} updated."
    )
    for line in places_report(spec):
        typer.echo(f"  {line}")
    for moved in result.sessions_moved:
        typer.echo(f"  Session moved: {moved} (calendar sequence bumped)")
    if updates:
        typer.echo(f"  {updates} updated invitations queued; `journey remind` sends them.")
    if result.not_in_file:
        typer.echo(f"  Kept, though not in the file: {', '.join(result.not_in_file)}")


@session_app.command("cancel")
def session_cancel(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    kind: Annotated[SessionKind, typer.Argument(help="Which kind of session.")],
    number: Annotated[
        int | None,
        typer.Argument(
            help="Its number in the cohort file (1-based); not needed for graduation.", min=1
        ),
    ] = None,
    set_name: Annotated[
        str | None,
        typer.Option(
            "--set", help="The learning set, by its name in the cohort file, e.g. 'Set A'."
        ),
    ] = None,
    now: NowOption = None,
) -> None:
    """Cancel a session and queue a cancelling calendar invitation (METHOD:CANCEL) to each
    active trainee it concerns; `journey remind` sends them. There is no undo; running it
    again changes nothing.

    Example: journey session cancel mk-2026 learning-set 2 --set "Set A"
    """
    from zoneinfo import ZoneInfo

    from journey.db import session_scope
    from journey.models import Cohort, EventKind
    from journey.services.changes import cancel_session, find_session

    if set_name is not None and kind is not SessionKind.learning_set:
        raise JourneyError("--set is only for learning-set sessions")
    at = _now(now)
    with session_scope(_url()) as session:
        event, label = find_session(
            session=session,
            cohort_id=cohort,
            kind=EventKind(kind.value),
            number=number,
            set_name=set_name,
        )
        found = session.get(Cohort, cohort)
        assert found is not None  # find_session checked
        already, starts_at = event.cancelled, event.starts_at
        when = f"{label} ({starts_at.astimezone(ZoneInfo(found.timezone)):%a %d %b %Y %H:%M})"
        queued = cancel_session(session=session, cohort_id=cohort, event_id=event.id, now=at)
    if queued:
        told = f"{queued} cancellation notices queued; `journey remind` sends them."
    elif starts_at <= at:
        told = "it has passed, so nobody is told."
    elif found.launched_at is None:
        told = "the cohort is not launched yet, so nobody is told."
    else:
        told = "no new notices."
    typer.echo(f"{when} was already cancelled: {told}" if already else f"Cancelled {when}: {told}")


@app.command()
def launch(
    cohort: Annotated[str, typer.Argument(help="Cohort id, e.g. mk-2026.")],
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Run launch-cohort: welcome each trainee with the training invitation, tell mentors
    and set facilitators who is theirs, and send whatever is already due.

    Example: journey launch mk-2026 --now 2026-09-01T10:00
    """
    from journey.db import session_scope
    from journey.errors import UnknownCohort
    from journey.models import Cohort
    from journey.runner import run_launch

    with session_scope(_url()) as session:  # a one-line error before Prefect starts
        if session.get(Cohort, cohort) is None:
            raise UnknownCohort(cohort)
    run_launch(cohort, _now(now), dry_run)


@app.command()
def record(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    emails: Annotated[
        str,
        typer.Argument(
            help="Trainee email, several joined by commas, or @FILE.csv with an email column."
        ),
    ],
    milestone: Annotated[str, typer.Argument(help="Milestone id, e.g. listening, mentoring-2.")],
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="Date done (YYYY-MM-DD). Default: today; for sessions, the session's date."
        ),
    ] = None,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Record a completion or attendance for one trainee or a whole session's list.

    Example: journey record mk-2026 amina.hussain@example.org,tom.okafor@example.org learning-set-1
    """
    from journey.db import session_scope
    from journey.services.record import emails_from_csv, record
    from journey.timeutil import parse_day

    emails_list = _emails(emails, emails_from_csv)
    url = _url()
    with session_scope(url) as session:
        result = record(
            session=session,
            cohort_id=cohort,
            emails=emails_list,
            milestone=milestone,
            on=parse_day(on) if on else None,
            now=_now(now),
            dry_run=dry_run,
        )
    typer.echo(
        f"{milestone}: {len(result.recorded)} {'would be recorded' if dry_run else 'recorded'}"
        + (f", {len(result.already)} already recorded" if result.already else "")
        + "."
    )


def _emails(arg: str, from_csv: Any) -> list[str]:
    if not arg.startswith("@"):
        return [e for e in (p.strip() for p in arg.split(",")) if e]
    path = Path(arg[1:])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise JourneyError(f"cannot read {path}: {exc}") from None
    emails: list[str] = from_csv(str(path), text)
    return emails


@app.command()
def remind(now: NowOption = None, dry_run: DryRun = False) -> None:
    """Run send-reminders, the daily sweep: queue what is due, deliver what is queued
    (including anything left over from an outage).

    Example: journey remind --now 2026-11-06T09:00
    """
    from journey.runner import run_remind

    _url()
    run_remind(_now(now), dry_run)


@app.command()
def upcoming(
    days: Annotated[int, typer.Option(help="How many days ahead.", min=0, max=400)] = 7,
    cohort: Annotated[str | None, typer.Option(help="Only this cohort.")] = None,
    now: NowOption = None,
) -> None:
    """List what will be sent, without sending: queued notices, then the next N days.

    Example: journey upcoming --days 14 --cohort mk-2026
    """
    from journey.console import PLAIN_AFTER, console, upcoming_plain, upcoming_table
    from journey.db import session_scope
    from journey.services.upcoming import upcoming as list_upcoming

    with session_scope(_url()) as session:
        rows = list_upcoming(session=session, now=_now(now), days=days, cohort_id=cohort)
    if not rows:
        typer.echo(f"Nothing to send in the next {days} days.")
        return
    if len(rows) > PLAIN_AFTER:
        typer.echo(upcoming_plain(rows))
    else:
        console.print(upcoming_table(rows))
    typer.echo(f"{len(rows)} notices.")


@app.command()
def status(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    now: NowOption = None,
) -> None:
    """Show each trainee's position, what is done, due and overdue, and graduation.

    Example: journey status mk-2026 --format csv > progress.csv
    """
    from journey.db import session_scope
    from journey.services.status import cohort_status, to_csv, to_json

    with session_scope(_url()) as session:
        report = cohort_status(session=session, cohort_id=cohort, now=_now(now))
    if format is Format.csv:
        sys.stdout.write(to_csv(report))
    elif format is Format.json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        from journey.console import console, legend, status_table

        console.print(status_table(report))
        console.print(legend(report), style="dim")


@app.command()
def serve() -> None:
    """Serve the deployments from this process: send-reminders on its daily schedule in
    each cohort's time zone, and launch-cohort, record-completion, trainee-journey and
    deliver-notices to run from the Prefect UI. Needs a Prefect server (PREFECT_API_URL).

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api journey serve
    """
    from journey.runner import run_serve

    _url()
    run_serve()


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the demo's database and outbox go (emptied first).")
    ] = Path("journey-demo"),
    seed: Annotated[int, typer.Option(help="Seed for the sample cohort and its progress.")] = 7,
) -> None:
    """Build a sample cohort of 20 trainees, launch it and walk the clock through the nine
    months, recording plausible progress; every notice lands in the demo's outbox folder.

    Example: journey demo --dir /tmp/journey-demo
    """
    from journey.demo import run_demo

    run_demo(folder, seed)


def main() -> None:
    """Entry point: domain errors become one line and exit code 1, never a traceback."""
    from sqlalchemy.exc import OperationalError

    try:
        app()
    except JourneyError as exc:
        _fail(str(exc))
    except OperationalError as exc:  # an unreachable or locked database, say
        _fail(f"database: {str(exc.orig).splitlines()[0]}")


def _fail(message: str) -> None:
    from journey.console import errors

    errors.print(f"Error: {message}", markup=False, soft_wrap=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
