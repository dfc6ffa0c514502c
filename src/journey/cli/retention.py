"""Retention: personal data in sent mail kept no longer than needed (``journey prune``)."""

from __future__ import annotations

from typing import Annotated

import typer

from journey.cli._app import ByOption, DryRun, NowOption, app, database_url, now_from
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
