"""Personal data: what is held about one person, given on request; forgetting them on
request; and the audit trail of who changed what."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import (
    ByOption,
    DryRun,
    NowOption,
    app,
    database_url,
    now_from,
    person_app,
)
from journey.cli.directory import NONE, FormatOption, Output, plain_row, plain_table

if TYPE_CHECKING:
    from rich.table import Table

    from journey.services.audit import AuditLine
    from journey.services.forget import Forgotten, Who


@person_app.command("export")
def person_export(
    email: Annotated[str, typer.Argument(help="Their email (any case).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the JSON to this file (readable by you only)."),
    ] = None,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Everything held about one person, as JSON, for a subject access request: their
    enrolments (institution, place, fee, dates), what they did and when, mentoring
    meetings (dates only: nothing said in them is stored), evaluation responses linked to
    them, every notice to them (date, subject, status), the history of changes to their
    records, the outbox's .eml files that concern them, and (with a Prefect server
    configured) the flow runs whose parameters hold their address. Comments on questionnaires
    are stored apart from names, so none can be given as theirs. The export is itself
    written to the history.

    \b
    Example: journey person export aisha.rahman@example.org --out aisha.json
    """
    from journey.db import session_scope
    from journey.services.person_export import export_person, plain
    from journey.settings import get_settings

    with session_scope(database_url()) as session:
        result = export_person(
            session=session,
            email_address=email,
            now=now_from(now),
            outbox_dir=get_settings().outbox_dir,
            by=by,
        )
        result.data["prefect_runs"] = _runs_holding(result.email)
        text = json.dumps(result.data, indent=2, ensure_ascii=False, default=plain) + "\n"
        if out is None:
            sys.stdout.write(text)
            return
        _write_private(out, text)  # in the transaction: no history line for a failed write
    typer.echo(f"Everything held about {result.email} written to {out}.")


def _runs_holding(email: str) -> list[str] | str:
    """The ids of the Prefect flow runs whose parameters hold ``email``, with a server
    configured (``PREFECT_API_URL``); else a line saying none was asked."""
    from journey.prefect_env import apply

    apply()  # a server started by `journey server start` counts as configured
    if not os.environ.get("PREFECT_API_URL"):
        return "not looked up: no Prefect server configured (PREFECT_API_URL)"
    from journey.prefect_runs import runs_concerning

    with _prefect_answering("try again when it answers"):
        return [str(run_id) for run_id in runs_concerning(email)]


@contextmanager
def _prefect_answering(then: str) -> Iterator[None]:
    """A Prefect server that does not answer, or refuses (a 4xx or 5xx), as one line:
    :class:`PrefectUnavailable` (exit 75), ending with ``then``."""
    import httpx

    from journey.errors import PrefectUnavailable

    try:
        yield
    except (httpx.HTTPError, OSError) as exc:
        raise PrefectUnavailable(
            f"the Prefect server at {os.environ.get('PREFECT_API_URL')} cannot be used"
            f" ({type(exc).__name__}); {then}"
        ) from None


@person_app.command("forget")
def person_forget(
    email: Annotated[str, typer.Argument(help="Their email (any case).")],
    dry_run: DryRun = False,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Forget one person, on request (the right to erasure). Their name and address are
    replaced by an anonymous token; notices queued to them or about them are cancelled;
    the outbox's .eml files that concern them are removed; error texts, history lines,
    withdrawal reasons and comments that name them are rewritten. What counts in the
    funder's report stays (place, institution, completions, meeting dates, scores), so
    every figure is the same after. Only a salted hash of the address is kept: a roster
    that lists it again is refused. The database file is compacted afterwards, so no
    deleted text stays in it. The audit line names the token, not the address.

    \b
    Example: journey person forget aisha.rahman@example.org --dry-run
    Example: journey person forget aisha.rahman@example.org --by dpo
    """
    from journey.db import get_engine
    from journey.services.forget import compact

    url = database_url()
    result = forget_one(url, email, now_from(now), by, dry_run)
    if dry_run:
        typer.echo("Dry run: nothing was changed.")
        return
    compacted = compact(get_engine(url))
    typer.echo(f"Done: {result.email} is forgotten; they are now {result.token}.")
    if not compacted:
        typer.echo(COMPACT_LATER)


COMPACT_LATER = (
    "The database file is still in use by another process: run this again later "
    "to compact it (the deleted text may stay in its WAL until then)."
)


def forget_one(url: str, email: str, now: datetime, by: str | None, dry_run: bool) -> Forgotten:
    """Forget one person (a dry run: say what would go), in Prefect first when a server
    is configured, and print the plan. The caller compacts the database after."""
    from journey.db import session_scope
    from journey.services.forget import forget_person, new_token, who
    from journey.settings import get_settings

    token = new_token()
    with session_scope(url) as session:
        target = who(session, email)  # an unknown person stops here, before Prefect
    in_prefect = _forget_in_prefect(target, token, dry_run)
    with session_scope(url) as session:
        result = forget_person(
            session=session,
            email=email,
            now=now,
            outbox_dir=get_settings().outbox_dir,
            by=by,
            dry_run=dry_run,
            token=token,
        )
    typer.echo(_forget_plan(result) + in_prefect)
    return result


def _forget_in_prefect(target: Who, token: str, dry_run: bool) -> str:
    """With a Prefect server configured (``PREFECT_API_URL``), the flow runs whose
    parameters hold the address are deleted and the artifact versions that name the
    person rewritten with ``token`` (a dry run only counts them); the plan's lines about
    it. Done before the database changes: a server that does not answer stops the
    command with nothing forgotten (exit 75)."""
    from journey.prefect_env import apply

    apply()  # a server started by `journey server start` counts as configured
    if not os.environ.get("PREFECT_API_URL"):
        return "\n  Prefect: no server configured (PREFECT_API_URL), nothing held there"
    from journey.prefect_runs import (
        artifacts_naming,
        delete_runs,
        runs_concerning,
        scrub_artifacts,
    )

    texts = [target.email, target.name]
    with _prefect_answering("nothing was forgotten: try again when it answers"):
        runs = runs_concerning(target.email)
        versions = artifacts_naming(texts, target.cohort_ids)
        if not dry_run:
            delete_runs(runs)
            scrub_artifacts(versions, texts, token)
    would = "would be " if dry_run else ""
    return (
        f"\n  Prefect: {len(runs)} flow run{_s(len(runs))} holding the address {would}deleted;"
        f" {len(versions)} artifact version{_s(len(versions))} naming them {would}rewritten"
        " with the token"
    )


def _forget_plan(result: Forgotten) -> str:
    """What forgetting does, one line each, the files named."""
    verb = "Would forget" if result.dry_run else "Forgetting"
    files = len(result.files)
    lines = [
        f"{verb} {result.email}:",
        "  name and address replaced by an anonymous token; a salted hash of the address kept",
        f"  {result.notices_cancelled} queued notice{_s(result.notices_cancelled)} cancelled",
        f"  {result.errors_cleared} error text{_s(result.errors_cleared)} cleared",
        f"  {result.texts_rewritten} history line{_s(result.texts_rewritten)}, withdrawal"
        " reasons or comments rewritten",
        f"  {files} outbox file{_s(files)} removed" + (":" if files else ""),
        *(f"    {name}" for name in result.files),
    ]
    return "\n".join(lines)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, or say in one line why not."""
    from journey.errors import ReportNotWritten

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    except OSError as exc:
        raise ReportNotWritten(str(path), exc.strerror or str(exc), "the export") from None


@app.command()
def audit(
    cohort: Annotated[str | None, typer.Argument(help="Only this cohort's lines.")] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Only the lines about this person (email).")
    ] = None,
    format: FormatOption = Output.table,
) -> None:
    """The audit trail: who imported, launched, recorded, corrected, withdrew, exported…,
    when, and what; oldest first, times in the cohort's zone. Everyone who changes
    anything is named: their login, or --by.

    \b
    Example: journey audit mk-2026
    Example: journey audit --person aisha.rahman@example.org --format json
    """
    from journey.db import session_scope
    from journey.services.audit import audit_trail
    from journey.services.person_export import plain

    with session_scope(database_url()) as session:
        lines = audit_trail(session=session, cohort_id=cohort, email=person)
    if format is Output.json:
        rows = [{k: v for k, v in asdict(line).items() if k != "timezone"} for line in lines]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=plain))
        return
    if not lines:
        typer.echo("Nothing in the audit trail yet.")
        return
    from journey.cli.console import console

    console.print(_audit_table(lines))


def _audit_table(lines: Sequence[AuditLine]) -> Table:
    from journey.engine import zone

    table = plain_table(None, "When", "By", "Action", "Cohort", "Person", "What")
    for line in lines:
        when = f"{line.at.astimezone(zone(line.timezone)):%a %d %b %Y %H:%M}"
        cells = (line.by, line.action, line.cohort_id or NONE, line.person or NONE, line.detail)
        plain_row(table, when, *cells)
    return table
