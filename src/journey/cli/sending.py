"""Sending: the daily sweep, what is coming, serving deployments, and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from journey.cli._app import DryRun, NowOption, app, cohort_now, database_url, now_from


@app.command()
def remind(now: NowOption = None, dry_run: DryRun = False) -> None:
    """Run send-reminders, the daily sweep: queue what is due, deliver what is queued
    (including anything left over from an outage). Exits 75 when the mail server or
    outbox folder is unavailable (try again later; the notices stay pending), 1 when
    notices failed for good.

    \b
    Example: journey remind --now 2026-11-06T09:00
    """
    from journey.cli.runner import run_remind

    database_url()
    code = run_remind(now_from(now), dry_run)
    if code:
        raise typer.Exit(code)


@app.command()
def upcoming(
    days: Annotated[int, typer.Option(help="How many days ahead.", min=0, max=400)] = 7,
    cohort: Annotated[str | None, typer.Option(help="Only this cohort.")] = None,
    now: NowOption = None,
) -> None:
    """List what will be sent, without sending: queued notices, then the next N days.

    \b
    Example: journey upcoming --days 14 --cohort mk-2026
    """
    from journey.cli.console import PLAIN_AFTER, console, upcoming_plain, upcoming_table
    from journey.db import session_scope
    from journey.services.upcoming import upcoming as list_upcoming

    with session_scope(database_url()) as session:
        at = cohort_now(session, cohort, now) if cohort else now_from(now)
        rows = list_upcoming(session=session, now=at, days=days, cohort_id=cohort)
    if not rows:
        typer.echo(f"Nothing to send in the next {days} days.")
        return
    if len(rows) > PLAIN_AFTER:
        typer.echo(upcoming_plain(rows))
    else:
        console.print(upcoming_table(rows))
    typer.echo(f"{len(rows)} notices.")


@app.command()
def serve() -> None:
    """Serve the deployments from this process: send-reminders once per cohort time zone
    (daily-europe-london, ...) at the clock times its programmes use, one run at a time,
    and launch-cohort, record-completion, withdraw-trainee, trainee-journey,
    deliver-notices and funder-report to run from the Prefect UI. The zones and the
    record form's milestones are read at start: restart it after importing a cohort in a
    new time zone or on a programme of its own (journey deploy --pool keeps them current
    by itself). Needs a Prefect server: PREFECT_API_URL, or the one `journey server start`
    runs.

    \b
    Example: journey server start && journey serve
    Example: PREFECT_API_URL=http://127.0.0.1:4200/api journey serve
    """
    from journey.cli.runner import run_serve

    database_url()
    run_serve()


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the demo's database and outbox go (emptied first).")
    ] = Path("journey-demo"),
    seed: Annotated[int, typer.Option(help="Seed for the sample cohort and its progress.")] = 7,
) -> None:
    """Build a sample cohort of 20 trainees, launch it and walk the clock through the nine
    months, recording plausible progress; every notice lands in the demo's outbox folder,
    whatever SMTP settings the environment or .env holds. Evaluation forms are collected
    along the way, and the funder's report is written to report.md and report.html in the
    folder. The folder is emptied first, so it must be new, empty, or a previous demo's.

    \b
    Example: journey demo --dir /tmp/journey-demo
    """
    from journey.cli.demo.run import run_demo

    run_demo(folder, seed)
