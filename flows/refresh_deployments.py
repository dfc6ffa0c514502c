"""refresh-deployments: keep the send-reminders deployments in step with the cohorts."""

from __future__ import annotations

from prefect import flow, get_run_logger

from journey.settings import get_settings


@flow(name="refresh-deployments")
def refresh_deployments() -> dict[str, list[str]]:
    """Recompute the time zones and clock times of send-reminders (a deployment per zone)
    and the record-completion form's milestone ids from the database, then create, update
    or remove deployments to match: what `journey deploy` does, on the same work pool and
    with the same job variables. Deployments already right are left alone.
    """
    from journey.deployments import refresh

    logger = get_run_logger()
    done: dict[str, list[str]] = {}
    for outcome in refresh(get_settings()):
        done.setdefault(outcome.change.split(" ")[0], []).append(outcome.name)
        if outcome.changed:
            logger.info("%s: %s", outcome.name, outcome.change)
    if not any(kind != "unchanged" for kind in done):
        logger.info(
            "nothing changed: %d deployments already as defined", len(done.get("unchanged", []))
        )
    return done
