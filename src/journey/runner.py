"""Running flows from the CLI: Prefect is imported here, late, behind a spinner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from journey.console import console, working
from journey.prefect_env import apply as prefect_defaults
from journey.prefect_env import flows_here


def _start(what: str) -> None:
    where = prefect_defaults()
    console.print(f"{what} with {where}.", style="dim")


def run_launch(cohort_id: str, now: datetime, dry_run: bool) -> dict[str, Any]:
    """Run the launch-cohort flow and print what it did."""
    _start("Launching")
    with working("Starting Prefect and launching… (the first flow run takes ~20 s)"), flows_here():
        from journey.flows.launch_cohort import launch_cohort

        summary = launch_cohort(cohort_id, now=now, dry_run=dry_run)
    due = summary["due"]
    verb = "Would queue" if dry_run else "Queued"
    console.print(
        f"{verb} {summary['welcomes']} welcomes, {summary['assignments']} mentor/facilitator "
        f"notices and {due['queued']} due notices for {cohort_id} "
        f"({summary['trainees']} trainees; launched {summary['launched_at']:%Y-%m-%d %H:%M} UTC)."
    )
    if due["skipped"]:
        console.print(f"{due['skipped']} notices were already too late and are marked skipped.")
    _print_delivery(summary.get("delivery"))
    return summary


def run_remind(now: datetime, dry_run: bool) -> dict[str, Any]:
    """Run the send-reminders flow and print what it did."""
    _start("Sweeping")
    with working("Starting Prefect and sweeping… (the first flow run takes ~20 s)"), flows_here():
        from journey.flows.send_reminders import send_reminders

        summary = send_reminders(now=now, dry_run=dry_run)
    queued = summary["queued"]
    verb = "Would queue" if dry_run else "Queued"
    console.print(
        f"{verb} {queued['queued']} notices; {queued['skipped']} came due too late "
        f"to be useful and are marked skipped; {queued['superseded']} superseded by a later "
        "reminder of the same session or milestone."
    )
    if queued["skipped"] and not dry_run:
        _print_skipped(now)
    _print_delivery(summary.get("delivery"))
    return summary


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


def _print_delivery(delivery: dict[str, Any] | None) -> None:
    if delivery is None:
        return
    console.print(
        f"Delivered {delivery['sent']} to {delivery['destination']}; "
        f"{delivery['failed']} failed, {delivery['retry']} left for a retry, "
        f"{delivery['cancelled']} cancelled as stale, {delivery['skipped']} skipped as late."
    )
    for failure in delivery["failures"][:10]:
        console.print(f"  failed: {failure}", style="red")
    if delivery["unavailable"]:
        console.print(
            f"Mail server unavailable: {delivery['unavailable']}. "
            "Notices stay pending; the next sweep sends them.",
            style="yellow",
        )


def run_serve() -> None:
    """Check the Prefect API, say what will run when, then serve until interrupted."""
    from journey.serving import check_api, cohort_schedules, deployments
    from journey.settings import get_settings

    prefect_defaults()
    settings = get_settings()
    with working("Checking the Prefect API…"):
        url = check_api()
    for cron, zone in cohort_schedules(settings):
        console.print(f"send-reminders: cron {cron!r} in {zone}")
    console.print(f"Serving on {url}; stop with Ctrl+C.", style="dim")
    from prefect import serve

    serve(*deployments(settings), pause_on_shutdown=False)
