"""Setting up: the database, cohorts and their sessions, and the launch."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import (
    ByOption,
    DryRun,
    NowOption,
    app,
    cohort_app,
    database_url,
    db_app,
    now_from,
    session_app,
)
from journey.errors import JourneyError

if TYPE_CHECKING:
    from journey.services.identity import Renamed

RenameOption = Annotated[
    bool,
    typer.Option(
        "--rename",
        help="Let the file rename people already known by their address, everywhere.",
    ),
]
JOINED_LATE = (
    "{n} late joiners welcomed, naming only the sessions still to come; their mentors and "
    "facilitators are told in their daily digest. `journey remind` sends them."
)


def renamed_lines(renamed: Sequence[Renamed]) -> list[str]:
    """``Renamed 'Tim Norwood' to 'Timothy Norwood' (tim@example.org)``, one per person."""
    return [f"Renamed {r.old!r} to {r.new!r} ({r.email})" for r in renamed]


class SessionKind(StrEnum):
    training = "training"
    learning_set = "learning-set"
    graduation = "graduation"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or upgrade it to the latest schema.

    \b
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
    rename: RenameOption = False,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Validate and store a cohort, all or nothing; safe to run again. An address already
    known under another name is refused unless --rename.

    \b
    Example: journey cohort import examples/mk-2026/cohort.yaml --roster examples/mk-2026/roster.csv
    """
    from journey.cohort.file import read_cohort
    from journey.cohort.places import places_report
    from journey.db import session_scope
    from journey.services.changes import queue_changes
    from journey.services.cohorts import import_cohort
    from journey.services.joining import welcome_joiners
    from journey.services.loading import stored_cohort

    spec = read_cohort(cohort_file, roster)
    url = database_url()
    at = now_from(now, spec.timezone)
    with session_scope(url) as session:
        result = import_cohort(session=session, spec=spec, now=at, rename=rename, by=by)
        updates = queue_changes(
            session=session, cohort_id=spec.id, event_ids=result.moved_event_ids, now=at
        )
        welcomed, _ = welcome_joiners(
            session=session,
            cohort=stored_cohort(session, spec.id),  # just stored
            enrolment_ids=result.added_ids,
            joined_at=at,
            now=at,
        )
    verb = "Imported" if result.created else "Updated"
    typer.echo(
        f"{verb} cohort {spec.id}: {result.trainees_added} trainees added, "
        f"{result.trainees_updated} updated."
    )
    if spec.timezone_defaulted:
        typer.echo(f"  Time zone: {spec.timezone} (the default; set timezone: to change it)")
    for line in places_report(spec):
        typer.echo(f"  {line}")
    for line in renamed_lines(result.renamed):
        typer.echo(f"  {line}")
    for moved in result.sessions_moved:
        typer.echo(f"  Session moved: {moved} (calendar sequence bumped)")
    if welcomed:
        typer.echo(f"  {JOINED_LATE.format(n=welcomed)}")
    if updates:
        typer.echo(f"  {updates} updated invitations queued; `journey remind` sends them.")
    if result.not_in_file:
        typer.echo(
            f"  Not in the roster, still enrolled: {', '.join(result.not_in_file)}. "
            f"To withdraw one: journey withdraw {spec.id} EMAIL"
        )


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
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Cancel a session and queue a cancelling calendar invitation (METHOD:CANCEL) to each
    active trainee it concerns; `journey remind` sends them. There is no undo; running it
    again changes nothing.

    \b
    Example: journey session cancel mk-2026 learning-set 2 --set "Set A"
    """
    from zoneinfo import ZoneInfo

    from journey.db import session_scope
    from journey.models import EventKind
    from journey.services.changes import cancel_session, find_session
    from journey.services.loading import stored_cohort

    if set_name is not None and kind is not SessionKind.learning_set:
        raise JourneyError("--set is only for learning-set sessions")
    with session_scope(database_url()) as session:
        found = stored_cohort(session, cohort)
        at = now_from(now, found.timezone)
        event, label = find_session(
            session=session,
            cohort_id=cohort,
            kind=EventKind(kind.value),
            number=number,
            set_name=set_name,
        )
        already, starts_at = event.cancelled, event.starts_at
        when = f"{label} ({starts_at.astimezone(ZoneInfo(found.timezone)):%a %d %b %Y %H:%M})"
        queued = cancel_session(session=session, cohort_id=cohort, event_id=event.id, now=at, by=by)
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
    and set facilitators who is theirs, and send whatever is already due. Safe to run
    again: it queues only what is new. Exits 75 when the mail server or outbox folder is
    unavailable (the notices stay pending for `journey remind`), 1 when notices failed
    for good.

    \b
    Example: journey launch mk-2026 --now 2026-09-01T10:00
    """
    from journey.cli.runner import run_launch
    from journey.db import session_scope
    from journey.services.loading import stored_cohort

    with session_scope(database_url()) as session:  # a one-line error before Prefect starts
        at = now_from(now, stored_cohort(session, cohort).timezone)
    code = run_launch(cohort, at, dry_run)
    if code:
        raise typer.Exit(code)
