"""``journey alerts``: the Prefect automations that tell the organiser when mail stops
(see :mod:`journey.alerts`). Both commands need a Prefect server (PREFECT_API_URL); with
none answering they exit 75, try again later."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from journey.cli._app import alerts_app


def _late_after(text: str) -> timedelta:
    from journey.alerts import MIN_LATE_AFTER
    from journey.timeutil import parse_duration

    try:
        return parse_duration(text, MIN_LATE_AFTER)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _addresses(to: list[str]) -> list[str]:
    from journey.alerts import check_addresses

    try:
        return check_addresses(to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None


@alerts_app.command("apply")
def apply_alerts(
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="ADDRESS",
            help="Who gets the alerts by email (repeat for more), sent through the "
            "JOURNEY_SMTP_* settings. Required without --block.",
        ),
    ] = None,
    block: Annotated[
        str | None,
        typer.Option(
            "--block",
            metavar="SLUG/NAME",
            help="Notify through this Prefect notification block instead, as SLUG/NAME "
            "(see: prefect block ls), e.g. slack-webhook/ops.",
        ),
    ] = None,
    late_after: Annotated[
        str,
        typer.Option(
            "--late-after",
            metavar="DURATION",
            help="Alert when no send-reminders run has completed for this long: 26h, 90m, "
            "1d2h (at least 10s).",
        ),
    ] = "26h",
) -> None:
    """Create the alert automations on the Prefect server, or bring them up to date
    (running it again leaves one of each): the daily sweep (send-reminders) ended Failed
    or Crashed; it has not completed for --late-after; a notice was refused for good; the
    mail server or outbox folder could not be used. Each notifies by email to --to, or
    through --block.

    \b
    Example: journey alerts apply --to organiser@example.org --late-after 26h
    """
    from journey.alerts import apply
    from journey.settings import get_settings

    window = _late_after(late_after)
    if not to and not block:
        raise typer.BadParameter("say who gets the alerts", param_hint="--to or --block")
    addresses = _addresses(to or []) if not block else []
    done = apply(settings=get_settings(), to=addresses, block=block, late_after=window)
    for item in done:
        typer.echo(f"{item.outcome:<10}{item.name}")
    how = f"through the block {block}" if block else f"by email to {', '.join(addresses)}"
    typer.echo(f"{len(done)} alerts, {how}.")


@alerts_app.command("list")
def list_alerts() -> None:
    """List the alert automations on the Prefect server (names starting "journey: ").

    \b
    Example: journey alerts list
    """
    from journey.alerts import listed

    found = listed()
    if not found:
        typer.echo("No alerts yet: journey alerts apply --to ADDRESS")
        return
    for item in found:
        state = "on " if item.enabled else "off"
        typer.echo(f"{state} {item.name}: {item.description}")
