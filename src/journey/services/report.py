"""What a cohort's monitoring artifacts show: a progress table, a share done, a summary.

Plain Python over the status and upcoming services; no Prefect here (``tasks/publish.py``
turns a :class:`CohortReport` into artifacts). Milestone cells hold the engine's state
values exactly: ``done``, ``due``, ``overdue``, ``upcoming`` and ``n/a`` (not applicable).

Personal data is kept to what the organiser needs to act on in the Prefect UI: trainees'
names and where they stand, never email addresses, institutions or places (the CLI shows
those in the organiser's own terminal). People's text is data: everything that reaches
markdown goes through :func:`md_escape`, so a name can neither format nor inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from journey.engine import zone
from journey.services.loading import load_cohort
from journey.services.status import CohortStatus, TraineeStatus, cohort_status
from journey.services.upcoming import UpcomingNotice, upcoming

WITHDRAWN = "withdrawn"
UPCOMING_DAYS = 7
TIME_FORMAT = "%a %d %b %Y %H:%M"  # as in ``journey upcoming``
MAX_ROWS = 50  # per markdown list or table; the rest are counted ("and N more")

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that shape markup wherever they stand (emphasis, code, links, tables,
# headings' closing marks, strikethrough, the escape itself), and web addresses that
# GitHub-flavoured renderers link by themselves.
_MARKUP = re.compile(r"([\\`*_\[\]|~#]|(?<=[A-Za-z]):(?=//)|(?<=\bwww)\.)", re.IGNORECASE)
# What shapes markup only at the start of a line, where a one-line text may yet be put:
# a quote, a list item, a setext underline, a numbered item.
_LEADING = re.compile(r"^([>+=-]|\d{1,9}(?=[.)](?:\s|$)))")


@dataclass(frozen=True)
class CohortReport:
    """Everything the monitoring artifacts of one cohort show, at one moment."""

    status: CohortStatus
    rows: list[dict[str, str]]
    share: float
    markdown: str
    timezone: str  # the cohort's, for showing moments in local time


def md_escape(text: str) -> str:
    """``text`` as inert markdown that still reads as typed: one line, HTML as entities,
    and a backslash only before what would shape markup.

    ``*bold* | <b>`` becomes ``\\*bold\\* \\| &lt;b&gt;`` and ``1. First`` becomes
    ``1\\. First``, while ``Two-Day Training`` and ``Stage 1: Listening`` stay as they are.
    It renders as typed in a paragraph, a list item, a quote or a table cell.
    """
    one_line = " ".join(text.split())
    html_safe = "".join(_HTML.get(ch, ch) for ch in one_line)
    marked = _MARKUP.sub(r"\\\1", html_safe)
    lead = _LEADING.match(marked)
    if lead is None:
        return marked
    if lead[1][0].isdigit():  # escape the mark after the number, not the number
        return f"{lead[1]}\\{marked[lead.end() :]}"
    return f"\\{marked}"


def local_time(moment: datetime, timezone: str) -> str:
    """``moment`` as the cohort's wall clock shows it, e.g. ``Sat 28 Nov 2026 12:00``."""
    return moment.astimezone(zone(timezone)).strftime(TIME_FORMAT)


def active(status: CohortStatus) -> list[TraineeStatus]:
    """The trainees still on the journey (withdrawn ones are shown, not counted)."""
    return [t for t in status.trainees if t.position != WITHDRAWN]


def progress_rows(status: CohortStatus) -> list[dict[str, str]]:
    """One row per trainee: their name, position, then each milestone's state in order."""
    return [
        {
            "trainee": t.name,
            "position": t.position,
            **{m: t.milestones[m] for m in status.milestone_ids},
        }
        for t in status.trainees
    ]


def share_done(status: CohortStatus) -> float:
    """Percent (0-100) of applicable milestones done, over active trainees; 0.0 if none."""
    trainees = active(status)
    applicable = sum(t.applicable for t in trainees)
    if applicable == 0:
        return 0.0
    return 100.0 * sum(t.done for t in trainees) / applicable


def _capped(lines: list[str]) -> list[str]:
    """The first :data:`MAX_ROWS` lines, then (after a blank line) how many were left out."""
    if len(lines) <= MAX_ROWS:
        return lines
    return [*lines[:MAX_ROWS], "", f"and {len(lines) - MAX_ROWS} more"]


def _headline(status: CohortStatus) -> list[str]:
    trainees = active(status)
    done = sum(t.done for t in trainees)
    applicable = sum(t.applicable for t in trainees)
    overdue = sum(len(t.overdue) for t in trainees)
    eligible = sum(1 for t in trainees if t.eligible)
    return [
        "| measure | value |",
        "| --- | --- |",
        f"| trainees | {len(status.trainees)} |",
        f"| active | {len(trainees)} |",
        f"| milestones done | {done} of {applicable} applicable |",
        f"| share done | {share_done(status):.1f}% |",
        f"| overdue milestones | {overdue} |",
        f"| eligible to graduate | {eligible} |",
    ]


def _overdue(status: CohortStatus) -> list[str]:
    late = [t for t in active(status) if t.overdue]
    if not late:
        return ["Nothing is overdue."]
    lines = [f"- {md_escape(t.name)}: {md_escape(', '.join(t.overdue))}" for t in late]
    return _capped(lines)


def _next_days(notices: Sequence[UpcomingNotice], timezone: str) -> list[str]:
    if not notices:
        return [f"Nothing to send in the next {UPCOMING_DAYS} days."]
    rows = []
    for n in notices:
        when = local_time(n.due_at, timezone)
        cells = " | ".join(md_escape(c) for c in (n.to, n.trainee, n.template, n.milestone))
        rows.append(f"| {when} | {cells} | {'queued' if n.queued else 'planned'} |")
    return [
        "| when (local) | to | about | notice | milestone | state |",
        "| --- | --- | --- | --- | --- | --- |",
        *_capped(rows),
    ]


def summary_markdown(
    status: CohortStatus, upcoming: Sequence[UpcomingNotice], now: datetime, timezone: str
) -> str:
    """The organiser's summary: headline counts, who is overdue, what goes out next."""
    at = local_time(now, timezone)
    parts = [
        f"# {md_escape(status.title)} ({md_escape(status.cohort_id)})",
        f"At {at} ({md_escape(timezone)})." + ("" if status.launched else " Not launched yet."),
        "\n".join(_headline(status)),
        f"## Overdue ({sum(1 for t in active(status) if t.overdue)} trainees)",
        "\n".join(_overdue(status)),
        f"## Next {UPCOMING_DAYS} days ({len(upcoming)} notices)",
        "\n".join(_next_days(upcoming, timezone)),
    ]
    return "\n\n".join(parts) + "\n"


def cohort_report(*, session: Session, cohort_id: str, now: datetime) -> CohortReport:
    """Build the cohort's report at ``now`` from the status and upcoming services."""
    timezone = load_cohort(session, cohort_id).cohort.timezone
    status = cohort_status(session=session, cohort_id=cohort_id, now=now)
    notices = upcoming(session=session, now=now, days=UPCOMING_DAYS, cohort_id=cohort_id)
    return CohortReport(
        status=status,
        rows=progress_rows(status),
        share=share_done(status),
        markdown=summary_markdown(status, notices, now, timezone),
        timezone=timezone,
    )
