"""Printing for the CLI: tables and summaries with rich, nothing else.

People's text (names, institutions, titles, subjects, reasons) is printed as written: both
consoles read no markup and no emoji codes, so ``Sam Lee [she/her]`` or ``[/b]Bob`` print
as they are; styles come only from ``style=`` and :class:`~rich.text.Text` built here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from journey.engine import zone

if TYPE_CHECKING:
    from journey.services.status import CohortStatus
    from journey.services.upcoming import UpcomingNotice

console = Console(
    highlight=False,
    markup=False,
    emoji=False,
    soft_wrap=True,
    width=None if sys.stdout.isatty() else 140,
)
errors = Console(stderr=True, highlight=False, markup=False, emoji=False)

_STATE_STYLE = {"done": "green", "due": "yellow", "overdue": "red", "upcoming": "dim", "n/a": "dim"}
_STATE_MARK = {"done": "✓", "due": "•", "overdue": "!", "upcoming": "·", "n/a": " "}


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner while something slow (Prefect's start-up) runs."""
    with console.status(Text(message), spinner="dots"):
        yield


def status_table(status: CohortStatus) -> Table:
    table = Table(title=Text(f"{status.title} ({status.cohort_id})"), title_justify="left")
    table.add_column("Trainee", no_wrap=True)
    table.add_column("Institution", max_width=24, no_wrap=True, overflow="ellipsis")
    for column in ("Place", "Next / position", "Done", "Graduate"):
        table.add_column(column, no_wrap=True)
    table.add_column("Journey", no_wrap=True)
    for t in status.trainees:
        eligible = "—" if t.eligible is None else ("yes" if t.eligible else "not yet")
        marks = Text.assemble(*((_STATE_MARK[s], _STATE_STYLE[s]) for s in t.milestones.values()))
        cells = (t.name, t.institution, t.place, t.position, f"{t.done}/{t.applicable}", eligible)
        table.add_row(*map(Text, cells), marks)
    return table


def legend(status: CohortStatus) -> str:
    order = ", ".join(status.milestone_ids)
    return (
        f"Journey, in order: {order}.\n✓ done  • due  ! overdue  · upcoming  (blank) not applicable"
    )


UPCOMING_COLUMNS = ("Due (local)", "Cohort", "To", "About", "Notice", "Milestone", "State")
PLAIN_AFTER = 500  # rows; a rich table this long takes seconds to lay out (4,000: 4.5 s)


def _upcoming_cells(rows: Sequence[UpcomingNotice]) -> Iterator[tuple[str, ...]]:
    """Each row's cells, its time in its own cohort's zone (a list may span cohorts)."""
    for r in rows:
        yield (
            r.due_at.astimezone(zone(r.timezone)).strftime("%a %d %b %Y %H:%M"),
            r.cohort_id,
            r.to,
            r.trainee,
            r.template,
            r.milestone,
            _state(r),
        )


def _state(row: UpcomingNotice) -> str:
    """Queued or planned; or, for someone who opted out of email, a call to make."""
    if row.tell_by_other_means:
        return "tell by other means"
    if row.note:
        return f"queued; {row.note}"
    return "queued" if row.queued else "planned"


def upcoming_table(rows: Sequence[UpcomingNotice]) -> Table:
    table = Table(title_justify="left")
    for column in UPCOMING_COLUMNS:
        table.add_column(column)
    for cells in _upcoming_cells(rows):
        table.add_row(*map(Text, cells))
    return table


def upcoming_plain(rows: Sequence[UpcomingNotice]) -> str:
    """The same columns as plain aligned text, for lists too long for a rich table."""
    cells = [UPCOMING_COLUMNS, *_upcoming_cells(rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(UPCOMING_COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
