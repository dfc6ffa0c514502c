"""Recording what trainees did, and where each stands."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journey.cli._app import ByOption, DryRun, NowOption, app, cohort_now, database_url
from journey.errors import InputProblem, InvalidInput

if TYPE_CHECKING:
    from journey.services.record import RecordResult


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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
    undo: Annotated[
        bool,
        typer.Option(
            "--undo",
            help="Take the record back (for the training: --on DAY that day only, else every day).",
        ),
    ] = False,
    by: ByOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Record graduation even for a trainee who is not eligible for it."
        ),
    ] = False,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Record a completion or attendance for one trainee or a whole session's list.

    Recording again with another --on corrects the date (for the training, another day is
    another session); --undo takes a record back. Each change is kept in the history.
    Refused, for the whole list: a withdrawn trainee, a session not yet started or
    cancelled, a date to come or before the cohort, a session attended more than 14 days
    from its date, and graduation for anyone not eligible (unless --force).

    \b
    Example: journey record mk-2026 amina.hussain@example.org,tom.okafor@example.org learning-set-1
    Example: journey record mk-2026 aisha.rahman@example.org listening --undo
    """
    from journey.db import session_scope
    from journey.services.record import emails_from_csv, record
    from journey.timeutil import parse_day

    emails_list = _emails(emails, emails_from_csv)
    url = database_url()
    with session_scope(url) as session:
        result = record(
            session=session,
            cohort_id=cohort,
            emails=emails_list,
            milestone=milestone,
            on=parse_day(on) if on else None,
            now=cohort_now(session, cohort, now),
            dry_run=dry_run,
            undo=undo,
            by=by,
            force=force,
        )
    typer.echo(_undone(result, dry_run) if undo else _recorded(result, dry_run))


def _undone(result: RecordResult, dry_run: bool) -> str:
    return f"{result.milestone}: {len(result.undone)} {'would be undone' if dry_run else 'undone'}."


def _recorded(result: RecordResult, dry_run: bool) -> str:
    """``listening: 0 recorded, 1 date corrected (a@x.org: 2026-11-02 -> 2026-11-05).``"""
    parts = [f"{len(result.recorded)} {'would be recorded' if dry_run else 'recorded'}"]
    if result.corrected:
        count = len(result.corrected)
        changes = "; ".join(f"{c.email}: {c.old} -> {c.new}" for c in result.corrected)
        verb = "would be corrected" if dry_run else "corrected"
        parts.append(f"{count} date{'s' if count != 1 else ''} {verb} ({changes})")
    if result.already:
        parts.append(f"{len(result.already)} already recorded")
    return f"{result.milestone}: {', '.join(parts)}."


def _emails(arg: str, from_csv: Any) -> list[str]:
    if not arg.startswith("@"):
        return [e for e in (p.strip() for p in arg.split(",")) if e]
    from journey.cohort.reading import read_text

    path = Path(arg[1:])
    problems: list[InputProblem] = []
    text = read_text(path, problems)  # as a roster is read: missing, unreadable, not UTF-8
    if text is None:
        raise InvalidInput(problems)
    emails: list[str] = from_csv(str(path), text)
    return emails


@app.command()
def status(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    now: NowOption = None,
) -> None:
    """Show each trainee's position, what is done, due and overdue, and graduation.

    \b
    Example: journey status mk-2026 --format csv > progress.csv
    """
    from journey.db import session_scope
    from journey.services.status import cohort_status, to_csv, to_json

    with session_scope(database_url()) as session:
        at = cohort_now(session, cohort, now)
        report = cohort_status(session=session, cohort_id=cohort, now=at)
    if format is Format.csv:
        sys.stdout.write(to_csv(report))
    elif format is Format.json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        from journey.cli.console import console, legend, status_table

        console.print(status_table(report))
        console.print(legend(report), style="dim")
