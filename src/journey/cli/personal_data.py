"""Personal data: what is held about one person, given to them on request."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from journey.cli._app import NowOption, database_url, now_from, person_app


@person_app.command("export")
def person_export(
    email: Annotated[str, typer.Argument(help="Their email (any case).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the JSON to this file (readable by you only)."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who makes the export, for the history. Default: the OS user."),
    ] = None,
    now: NowOption = None,
) -> None:
    """Everything held about one person, as JSON, for a subject access request: their
    enrolments (institution, place, fee, dates), what they did and when, mentoring
    meetings (dates only: nothing said in them is stored), evaluation responses linked to
    them, every notice to them (date, subject, status), the history of changes to their
    records, and the outbox's .eml files that concern them. Comments on questionnaires
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
        text = json.dumps(result.data, indent=2, ensure_ascii=False, default=plain) + "\n"
        if out is None:
            sys.stdout.write(text)
            return
        _write_private(out, text)  # in the transaction: no history line for a failed write
    typer.echo(f"Everything held about {result.email} written to {out}.")


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
