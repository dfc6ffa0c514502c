"""The funder's report: what one or several cohorts under one grant achieved."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from journey.cli._app import NowOption, app, cohort_now, database_url, now_from


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    csv = "csv"
    json = "json"


@app.command()
def report(
    cohorts: Annotated[
        list[str],
        typer.Argument(help="Cohort ids: one, or several under one grant."),
    ],
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="md (to send), html (one page with charts, to send or print to PDF),"
            " csv (one row per figure), json.",
        ),
    ] = ReportFormat.md,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to this file, not the screen.")
    ] = None,
    now: NowOption = None,
) -> None:
    """Make the funder's report from what is recorded: participation and places, attendance,
    progress, mentoring meetings held (counts only), learning sets, graduation,
    withdrawals and notices; with several cohorts, each one and then the totals.

    html is one page that stands alone (no links out, no script), with a funnel from
    enrolment to graduation and the before/after self-ratings drawn as charts.
    The same records and --now give the same bytes, so a report can be made again.

    \b
    Example: journey report mk-2026 --format md --out report.md
    Example: journey report mk-2026 --format html --out report.html
    Example: journey report mk-2025 mk-2026 --format csv > grant.csv
    """
    from journey.db import session_scope
    from journey.services.funder_report import funder_report
    from journey.services.funder_report_formats import to_csv, to_json
    from journey.services.funder_report_html import to_html
    from journey.services.funder_report_markdown import to_markdown

    with session_scope(database_url()) as session:
        # one cohort: --now in its zone; several (perhaps in several zones): the default
        at = cohort_now(session, cohorts[0], now) if len(cohorts) == 1 else now_from(now)
        figures = funder_report(session=session, cohort_ids=cohorts, now=at)
    render = {
        ReportFormat.md: to_markdown,
        ReportFormat.html: to_html,
        ReportFormat.csv: to_csv,
        ReportFormat.json: to_json,
    }
    text = render[format](figures)
    if out is None:
        sys.stdout.write(text)
        return
    _write(out, text)
    typer.echo(f"Report written to {out}.")


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, or say in one line why it cannot be written."""
    from journey.errors import ReportNotWritten

    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise ReportNotWritten(str(path), exc.strerror or str(exc)) from None
