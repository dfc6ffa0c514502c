"""Finding one's way: `journey cohort list` and `journey person show`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import NowOption, cohort_app, database_url, now_from, person_app

if TYPE_CHECKING:
    from rich.table import Table

    from journey.services.directory import CohortSummary
    from journey.services.person import NoticeLine, PersonView

NONE = "—"
EXAMPLE_IMPORT = "journey cohort import COHORT.yaml --roster ROSTER.csv"


class Output(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[Output, typer.Option("--format", help="Output format.")]


@cohort_app.command("list")
def cohort_list(now: NowOption = None, format: FormatOption = Output.table) -> None:
    """List the cohorts: training dates, active and withdrawn trainees, whether launched,
    and the next session.

    \b
    Example: journey cohort list --now 2026-10-01
    """
    from journey.db import session_scope
    from journey.services.directory import cohort_summaries

    with session_scope(database_url()) as session:
        cohorts = cohort_summaries(session=session, now=now_from(now))
    if format is Output.json:
        typer.echo(_json([asdict(c) for c in cohorts]))
    elif not cohorts:
        typer.echo(f"No cohorts yet. Import one: {EXAMPLE_IMPORT}")
    else:
        from journey.cli.console import console

        console.print(_cohort_table(cohorts))


@person_app.command("show")
def person_show(
    email: Annotated[str, typer.Argument(help="Their email (any case).")],
    now: NowOption = None,
    format: FormatOption = Output.table,
) -> None:
    """Show one person: their cohorts, what they did, every notice sent (or not) to them,
    and what is planned for them in the next 60 days.

    \b
    Example: journey person show aisha.rahman@example.org
    """
    from journey.db import session_scope
    from journey.services.person import person_view

    with session_scope(database_url()) as session:
        view = person_view(session=session, email=email, now=now_from(now))
    if format is Output.json:
        typer.echo(_json(asdict(view)))
    else:
        _print_person(view)


def _json(value: object) -> str:
    def moment(v: object) -> str:
        if isinstance(v, date | datetime):
            return v.isoformat()
        raise TypeError(f"not JSON: {v!r}")

    return json.dumps(value, indent=2, ensure_ascii=False, default=moment)


def _day(value: date) -> str:
    """``1 Sep 2026``."""
    return f"{value.day} {value:%b %Y}"


def _local(at: datetime, timezone: str) -> str:
    """``Thu 03 Dec 2026 17:30``, in the cohort's time zone."""
    from journey.engine import zone

    return f"{at.astimezone(zone(timezone)):%a %d %b %Y %H:%M}"


def _local_day(at: datetime, timezone: str) -> str:
    from journey.engine import zone

    return _day(at.astimezone(zone(timezone)).date())


def days_span(days: Sequence[date]) -> str:
    """First to last day, as briefly as reads well: ``25-26 Sep 2026``, ``30 Sep - 1 Oct
    2026``, ``30 Dec 2026 - 2 Jan 2027`` (with en dashes)."""
    if not days:
        return NONE
    first, last = min(days), max(days)
    if first == last:
        return _day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day(last)}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {_day(last)}"
    return f"{_day(first)} – {_day(last)}"


WRAP = ("Title", "Subject", "Status", "What")  # long text wraps; the rest stays on one line


def plain_table(title: str | None, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column not in WRAP)
    return table


def plain_row(table: Table, *cells: str) -> None:
    """Cells as plain text: people's names and reasons are data, never rich markup."""
    from rich.text import Text

    table.add_row(*(Text(cell) for cell in cells))


def _cohort_table(cohorts: Sequence[CohortSummary]) -> Table:
    table = plain_table(
        None, "Cohort", "Title", "Training", "Active", "Withdrawn", "Launched", "Next session"
    )
    for c in cohorts:
        upcoming = c.next_session
        plain_row(
            table,
            c.cohort_id,
            c.title,
            days_span(c.training_days),
            str(c.active),
            str(c.withdrawn),
            _local_day(c.launched_at, c.timezone) if c.launched_at else "not yet",
            f"{upcoming.label} · {_local(upcoming.starts_at, c.timezone)}" if upcoming else NONE,
        )
    return table


def _print_person(view: PersonView) -> None:
    from journey.cli.console import console

    console.print(f"{view.name} <{view.email}>", style="bold", markup=False)
    if view.opted_out_at is None:
        console.print("Email: yes")
    else:
        opted = _local_day(view.opted_out_at, view.timezone)
        console.print(f"Email: opted out on {opted}; tell them by other means")
    if view.roles:
        roles = [
            f"{r.role} of {r.learning_set} in {r.cohort_id}"
            if r.learning_set
            else f"{r.role} {'in' if r.role == 'mentor' else 'of'} {r.cohort_id}"
            for r in view.roles
        ]
        console.print(f"Roles: {'; '.join(roles)}", markup=False)
    for part in _person_tables(view):
        console.print()
        console.print(part, markup=False)


def _person_tables(view: PersonView) -> list[Table | str]:
    """Enrolments, what each shows done, the notices so far, and what comes next."""
    out: list[Table | str] = [_enrolments(view)] if view.enrolments else []
    for e in view.enrolments:
        if not e.done:
            out.append(f"Done in {e.cohort_id}: nothing recorded yet.")
            continue
        done = plain_table(f"Done in {e.cohort_id}", "What", "On")
        for d in e.done:
            plain_row(done, d.what, _day(d.on))
        out.append(done)
    out.append(_notice_table("Notices", "When (local)", view.notices, "Notices: none yet."))
    until = _local_day(view.planned_until, view.timezone)
    empty = f"Next: nothing queued or planned to {until}."
    out.append(_notice_table(f"Next, to {until}", "Due (local)", view.upcoming, empty))
    return out


def _enrolments(view: PersonView) -> Table:
    table = plain_table(
        "Enrolments", "Cohort", "Status", "Institution", "Place", "Follow-up", "Mentor",
        "Learning set",
    )  # fmt: skip
    for e in view.enrolments:
        status = e.status
        if e.withdrawn_at is not None:
            status += f" {_local_day(e.withdrawn_at, e.timezone)}"
        if e.withdrawal_reason:
            status += f": {e.withdrawal_reason}"
        plain_row(
            table, f"{e.cohort_id} ({e.cohort_title})", status, e.institution, e.place,
            "yes" if e.follow_up else "no", e.mentor or NONE, e.learning_set or NONE,
        )  # fmt: skip
    return table


def _notice_table(title: str, when: str, lines: Sequence[NoticeLine], empty: str) -> Table | str:
    if not lines:
        return empty
    table = plain_table(title, when, "Cohort", "Subject", "Status")
    for n in lines:
        status = f"{n.status}: {n.note}" if n.note else n.status
        plain_row(table, _local(n.at, n.timezone), n.cohort_id, n.subject, status)
    return table
