"""Running flows from the CLI: Prefect is imported here, late, behind a spinner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from journey.cli.console import console, errors, working
from journey.errors import DeliveryIncomplete
from journey.prefect_env import apply as prefect_defaults
from journey.prefect_env import flows_here
from journey.services.outcomes import DeliverySummary, LaunchSummary, SweepSummary

S = TypeVar("S")


def _start(what: str) -> None:
    where = prefect_defaults()
    console.print(f"{what} with {where}.", style="dim")


def run_launch(cohort_id: str, now: datetime, dry_run: bool) -> int:
    """Run the launch-cohort flow and print what it did; returns the exit code (0, or
    the run's when delivery fell short: 75 try again later, 1 notices failed for good)."""
    _start("Launching")
    with working("Starting Prefect and launching… (the first flow run takes ~20 s)"), flows_here():
        from journey.flows.launch_cohort import launch_cohort

        summary, code = _outcome(
            lambda: launch_cohort(cohort_id, now=now, dry_run=dry_run), LaunchSummary
        )
    if summary is None:
        return code
    console.print(_launch_line(cohort_id, summary, dry_run))
    if summary.due.skipped:
        console.print(
            f"{summary.due.skipped} notices were already too late and are marked skipped."
        )
    _print_delivery(summary.delivery)
    return code


def _launch_line(cohort_id: str, summary: LaunchSummary, dry_run: bool) -> str:
    """What the launch queued; a launch run again counts only what is new."""
    new = "" if summary.first_launch else "new "
    queued = (
        f"{'would queue' if dry_run else 'queued'} {summary.welcomes} {new}welcomes, "
        f"{summary.assignments} {new}mentor/facilitator notices and "
        f"{summary.due.queued} due notices for {cohort_id} ({summary.trainees} trainees"
    )
    at = summary.launched_at
    if summary.first_launch:
        return f"{queued[0].upper()}{queued[1:]}; launched {at:%Y-%m-%d %H:%M} UTC)."
    return f"Already launched on {at:%Y-%m-%d}; {queued})."


def run_remind(now: datetime, dry_run: bool) -> int:
    """Run the send-reminders flow and print what it did; returns the exit code (see
    :func:`run_launch`)."""
    _start("Sweeping")
    with working("Starting Prefect and sweeping… (the first flow run takes ~20 s)"), flows_here():
        from journey.flows.send_reminders import send_reminders

        summary, code = _outcome(lambda: send_reminders(now=now, dry_run=dry_run), SweepSummary)
    if summary is None:
        return code
    queued = summary.queued
    verb = "Would queue" if dry_run else "Queued"
    console.print(
        f"{verb} {queued.queued} notices; {queued.skipped} came due too late "
        f"to be useful and are marked skipped; {queued.superseded} superseded by a later "
        "reminder of the same session or milestone."
    )
    if queued.skipped and not dry_run:
        _print_skipped(now)
    _print_delivery(summary.delivery)
    return code


def _outcome(run: Callable[[], S], kind: type[S]) -> tuple[S | None, int]:
    """A flow's summary (a ``kind``) and the exit code: 0, or, when its delivery fell short
    (the run ended Failed), what it did and the error's code. A run that failed with no
    summary says why here and gives None."""
    try:
        with _no_traceback_for(DeliveryIncomplete):
            return run(), 0
    except DeliveryIncomplete as stopped:
        if not isinstance(stopped.summary, kind):
            errors.print(f"Error: {stopped}", soft_wrap=True)
            return None, stopped.exit_code
        return stopped.summary, stopped.exit_code


@contextmanager
def _no_traceback_for(kind: type[BaseException]) -> Iterator[None]:
    """Keep the flow engine's log of an expected failure, with its traceback, off the
    terminal: the summary printed next says what happened. Only the console is spared;
    the run's logs on a Prefect server keep it (they go through another handler)."""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    def keep(record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], kind))

    consoles = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    for handler in consoles:
        handler.addFilter(keep)
    try:
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(keep)


def _print_skipped(now: datetime, most: int = 30) -> None:
    """List what an outage made too late, so the organiser can follow up by hand."""
    from journey.db import session_scope
    from journey.services.upcoming import skipped
    from journey.settings import get_settings

    with session_scope(get_settings().database_url) as session:
        rows = skipped(session=session, queued_at=now)
    console.print("Skipped (the moment had passed):")
    for r in rows[:most]:
        console.print(
            f"  {r.cohort_id}  {r.trainee}: {r.template} for {r.milestone} "
            f"(due {r.due_at:%Y-%m-%d %H:%M} UTC, to the {r.to})"
        )
    if len(rows) > most:
        console.print(f"  … and {len(rows) - most} more (journey status shows each trainee).")


def _print_delivery(delivery: DeliverySummary | None) -> None:
    if delivery is None:
        return
    console.print(
        f"Delivered {delivery.sent} to {delivery.destination}; "
        f"{delivery.failed} failed, {delivery.retry} left for a retry, "
        f"{delivery.cancelled} cancelled as stale, {delivery.skipped} skipped as late."
    )
    for failure in delivery.failures[:10]:
        console.print(f"  failed: {failure}", style="red")
    if delivery.failed:
        console.print(
            f"Failed for good: {delivery.failed} (refused by the mail server, or could not "
            "be built); `journey person show EMAIL` gives each one's reason.",
            style="red",
        )
    later = (
        f"Delivery stopped: {delivery.unavailable}."
        if delivery.unavailable
        else f"Deferred by the mail server: {delivery.deferred}."
        if delivery.deferred
        else None
    )
    if later:
        console.print(
            f"{later} The notices stay pending, each with this reason; the next sweep sends them.",
            style="yellow",
        )
    if delivery.held_back:  # pacing, not a fault: the exit code stays 0
        console.print(
            f"Held back {delivery.held_by}: {delivery.held_back}; the next sweep sends them.",
            style="yellow",
        )


def run_serve() -> None:
    """Check the Prefect API, say what will run when, then serve until interrupted: the
    deployments of :mod:`journey.deployments`, served from this process."""
    from journey.deployments import Target, definitions, serve
    from journey.prefect_env import require_server
    from journey.settings import get_settings

    settings = get_settings()
    with working("Checking the Prefect API…"):
        url = require_server("journey serve")
    made = definitions(settings, Target())
    for d in made:
        if d.schedules():
            console.print(f"{d.name}: {'; '.join(d.schedules())}")

    def announce(removed: list[Any]) -> None:
        for gone in removed:
            console.print(f"{gone.name}: removed (no cohort uses its time zone)")
        console.print(
            f"Serving {len(made)} deployments on {url}; stop with Ctrl+C. A cohort in a new "
            "time zone needs a restart.",
            style="dim",
        )

    serve(made, announce)
