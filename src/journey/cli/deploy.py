"""``journey deploy --pool``: every deployment on a Prefect work pool, for process workers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from journey.cli._app import app, database_url
from journey.deployments import SECRET_BLOCK  # no Prefect import: only its own names


def period(text: str) -> timedelta:
    """How often refresh-deployments runs: ``30m``, ``1h``, ``1d``; 5 minutes to 1 day."""
    from journey.timeutil import parse_duration

    try:
        return parse_duration(text, timedelta(minutes=5), timedelta(days=1))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def deploy(
    pool: Annotated[
        str,
        typer.Option(
            "--pool", help="The Prefect work pool; a process pool of that name is made if none."
        ),
    ],
    refresh_every: Annotated[
        str,
        typer.Option(help="How often refresh-deployments re-reads the cohorts' time zones."),
    ] = "1h",
    secret_block: Annotated[
        str,
        typer.Option(help="The Prefect Secret block the SMTP password is saved in, if one is set."),
    ] = SECRET_BLOCK,
) -> None:
    """Register every deployment on a Prefect work pool, for process workers where the
    project is installed: send-reminders once per cohort time zone (at the clock times
    its programmes use, one run at a time), the six organiser forms, and
    refresh-deployments, which keeps the zones current. The JOURNEY_* settings set here
    go to the workers as job variables, never the SMTP password: it is saved in a Prefect
    Secret block, and the workers get the block's name. Running it again updates only what
    changed. Needs a Prefect server (PREFECT_API_URL).

    \b
    Example: journey deploy --pool journey
    """
    every = period(refresh_every)
    database_url()
    from journey.cli.console import console, working
    from journey.prefect_env import require_server

    with working("Checking the Prefect API…"):
        url = require_server("journey deploy")
    with working(f"Registering the deployments on {pool}…"):
        from journey.deployments import deploy as register
        from journey.settings import get_settings

        report = register(get_settings(), pool, every, secret_block)
    for line in report.lines():
        console.print(line, soft_wrap=True, markup=False)
    console.print(f"On {url}.", style="dim")
