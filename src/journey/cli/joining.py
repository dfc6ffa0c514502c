"""Late joiners: ``journey cohort add``."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated

import typer

from journey.cli._app import ByOption, NowOption, cohort_app, database_url, now_from
from journey.cli.cohorts import RenameOption, renamed_lines


@cohort_app.command("add")
def cohort_add(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    roster: Annotated[
        Path,
        typer.Option(help="Roster rows for the newcomers (the roster's columns: name,email,…)."),
    ],
    on: Annotated[
        str | None,
        typer.Option("--on", help="The day they joined (YYYY-MM-DD). Default: now."),
    ] = None,
    rename: RenameOption = False,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Add trainees to a cohort, checked against it as stored; all or nothing. In a launched
    cohort each gets a welcome that names only the sessions still to come, with an invitation
    to those, and their mentor and facilitator are told; nothing is sent for milestones already
    past when they joined. An address already known under another name is refused unless
    --rename.

    \b
    Example: journey cohort add mk-2026 --roster newcomers.csv --on 2026-11-16
    """
    from journey.db import session_scope
    from journey.engine import local_moment
    from journey.services.joining import add_trainees, read_additions
    from journey.services.loading import stored_cohort
    from journey.timeutil import parse_day

    with session_scope(database_url()) as session:
        found = stored_cohort(session, cohort)
        at = now_from(now, found.timezone)
        trainees = read_additions(session=session, cohort_id=cohort, path=roster, rename=rename)
        joined_at = local_moment(parse_day(on), time(0), found.timezone) if on else at
        result = add_trainees(
            session=session,
            cohort_id=cohort,
            trainees=trainees,
            joined_at=joined_at,
            now=at,
            rename=rename,
            by=by,
        )
    typer.echo(f"Added {len(result.emails)} trainees to {cohort}: {', '.join(result.emails)}.")
    for line in renamed_lines(result.renamed):
        typer.echo(f"  {line}")
    if result.launched:
        typer.echo(
            f"  {result.welcomes} welcomes queued, naming only the sessions still to come; "
            f"{result.told} notices to their mentors and facilitators, for their daily digest. "
            "`journey remind` sends them."
        )
    else:
        typer.echo(
            "  The cohort is not launched yet: `journey launch` welcomes them with the rest."
        )
