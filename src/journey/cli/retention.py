"""Retention: sent mail (``journey prune``) and people whose cohorts are over (``journey
person prune``), kept no longer than needed."""

from __future__ import annotations

from typing import Annotated

import typer

from journey.cli._app import ByOption, DryRun, NowOption, app, database_url, now_from, person_app
from journey.errors import JourneyError

MAX_LISTED = 20  # file names listed; the rest are counted


@app.command()
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="The retention period: 90d, 12w, 18m or 2y.", show_default=False
        ),
    ],
    by: ByOption = None,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Remove the .eml files of notices sent before the retention period, and clear the
    error texts (server replies, which may quote an address) of notices settled before it.
    The notices themselves stay, with their date, kind and status, so the funder's report
    counts the same. It lists what goes, then removes it; with --dry-run it only lists.

    \b
    Example: journey prune --older-than 2y --dry-run
    """
    from journey.db import session_scope
    from journey.services.retention import prune as prune_outbox
    from journey.services.retention import remove_files
    from journey.settings import get_settings

    outbox = get_settings().outbox_dir
    with session_scope(database_url()) as session:
        result = prune_outbox(
            session=session,
            older_than=older_than,
            now=now_from(now),
            outbox_dir=outbox,
            by=by,
            dry_run=dry_run,
        )
    day = result.before.date().isoformat()
    verb = "Would remove" if dry_run else "Removing"
    typer.echo(
        f"{verb} {len(result.files)} .eml files of notices sent before {day} from {outbox},"
        f" and {'would clear' if dry_run else 'clearing'} {result.errors} error texts."
    )
    for name in result.files[:MAX_LISTED]:
        typer.echo(f"  {name}")
    if len(result.files) > MAX_LISTED:
        typer.echo(f"  … and {len(result.files) - MAX_LISTED} more")
    if dry_run:
        return
    failed = remove_files(outbox, result.files)
    if failed:
        raise JourneyError(
            f"{len(failed)} files could not be removed (the error texts are cleared): "
            + "; ".join(failed[:3])
        )
    typer.echo("Done.")


@person_app.command("prune")
def person_prune(
    ended_before: Annotated[
        str,
        typer.Option(
            "--ended-before",
            help="Forget everyone whose last cohort ended before this day (YYYY-MM-DD).",
            show_default=False,
        ),
    ],
    by: ByOption = None,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Forget everyone whose last cohort, in any role (trainee, mentor, facilitator,
    organiser), ended before a day: each as `journey person forget` does, so the funder's
    report of those cohorts counts the same after. It lists them first, then forgets them;
    with --dry-run it only lists.

    \b
    Example: journey person prune --ended-before 2025-01-01 --dry-run
    """
    from journey.cli.personal_data import COMPACT_LATER, forget_one
    from journey.db import get_engine, session_scope
    from journey.services.forget import compact
    from journey.services.retention import people_ended_before
    from journey.timeutil import parse_day

    day = parse_day(ended_before)
    url, at = database_url(), now_from(now)
    with session_scope(url) as session:
        people = people_ended_before(session=session, day=day)
    verb = "Would forget" if dry_run else "Forgetting"
    typer.echo(f"{verb} {len(people)} people whose last cohort ended before {day}:")
    for p in people:
        typer.echo(f"  {p.email} ({p.last_cohort}, ended {p.ended_on})")
    if dry_run or not people:
        return
    for p in people:
        forget_one(url, p.email, at, by, dry_run=False)
    if not compact(get_engine(url)):
        typer.echo(COMPACT_LATER)
    typer.echo(f"Done: {len(people)} people forgotten.")
