"""``journey server start|stop|status``: a Prefect server of one's own, in the background.

The logic is in :mod:`journey.local_server`; nothing here imports Prefect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from journey.cli._app import server_app


def _since(started: str) -> str:
    """The recorded start time, readably (as recorded if it cannot be read)."""
    try:
        return f"{datetime.fromisoformat(started):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return started


@server_app.command("start")
def server_start(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 4200,
) -> None:
    """Start `prefect server start` in the background (on its own SQLite, with its own
    PREFECT_HOME under $JOURNEY_STATE_DIR, default ~/.local/state/journey; analytics off),
    wait until it answers, and remember it, so later flow commands report to it. Says so
    if it is already running. Its output goes to server.log in the same folder.

    \b
    Example: journey server start --port 4200
    """
    from journey import local_server
    from journey.cli.console import console, working

    with working("Starting the Prefect server… (about 20 s)"):
        server, already = local_server.start(host, port)
    if already:
        console.print(
            f"A Prefect server is already running: {server.ui_url} "
            f"(pid {server.pid}, since {_since(server.started)})."
        )
        return
    console.print(f"Prefect server running: {server.ui_url}")
    console.print(
        f"API {server.api_url}, pid {server.pid}, log {server.log}. "
        "journey launch, remind and serve now record their runs there; "
        "stop it with: journey server stop",
        style="dim",
    )


@server_app.command("status")
def server_status() -> None:
    """Say whether the server started by `journey server start` is running (exit 0) or
    not (exit 1; a record left by a server that is gone is removed).

    \b
    Example: journey server status
    """
    from journey import local_server

    server, how = local_server.running()
    if server is not None and how == "running":
        typer.echo(
            f"Running: {server.ui_url} (API {server.api_url}, pid {server.pid}, "
            f"since {_since(server.started)}; log {server.log})."
        )
        return
    if server is not None and how == "silent":
        typer.echo(
            f"Not answering: the Prefect server (pid {server.pid}) runs but {server.api_url} "
            f"does not answer; its log: {server.log}. End it with: journey server stop"
        )
    elif how == "stale":
        pid = f" (pid {server.pid})" if server is not None else ""
        typer.echo(
            f"Not running: the server recorded{pid} is gone; its record was removed. "
            "Start one with: journey server start"
        )
    else:
        typer.echo("Not running. Start one with: journey server start")
    raise typer.Exit(1)


@server_app.command("stop")
def server_stop() -> None:
    """Stop the server started by `journey server start` (SIGTERM to its process group,
    SIGKILL after 20 s) and forget it. Only that process is ever signalled, and only while
    it still is a Prefect server.

    \b
    Example: journey server stop
    """
    from journey import local_server

    server = local_server.stop()
    if server is None:
        typer.echo("No Prefect server started by journey server start is running.")
        return
    typer.echo(f"Stopped the Prefect server at {server.ui_url} (pid {server.pid}).")
