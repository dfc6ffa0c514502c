"""The funder's report as markdown: what an organiser can send a funder as it is.

It renders :func:`journey.services.funder_report_document.document` (the HTML report
renders the same document): headings, short tables and plain words, the same bytes for
the same figures. Every text goes through :func:`journey.services.report.md_escape`, so
people's text (titles, set and funder names, comments) renders as typed.
"""

from __future__ import annotations

from collections.abc import Iterator

from journey.services.funder_report import FunderReport
from journey.services.funder_report_document import (
    Block,
    Para,
    Quotes,
    Section,
    Table,
    document,
)
from journey.services.report import md_escape

__all__ = ["to_markdown"]


def _table(t: Table) -> str:
    rows = [[md_escape(c) for c in cells] for cells in (t.header, *t.rows)]
    lines = [rows[0], ["---"] * len(t.header), *rows[1:]]
    body = "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
    return f"{md_escape(t.caption)}\n\n{body}" if t.caption else body


def _quotes(q: Quotes) -> str:
    """Each comment a quote of its own, after the question they answer."""
    asked = [f"*{md_escape(q.asked)}*"] if q.asked else []
    more = [f"… and {q.more} more."] if q.more else []
    return "\n\n".join([*asked, *(f"> {md_escape(c)}" for c in q.items), *more])


def _block(block: Block) -> str | None:
    if isinstance(block, Para):
        return md_escape(block.text)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Quotes):
        return _quotes(block)
    return None  # a Funnel or Ratings: pictures, which the HTML report draws


def _section(s: Section, level: int) -> Iterator[str]:
    yield f"{'#' * level} {md_escape(s.heading)}"
    for block in s.blocks:
        text = _block(block)
        if text is not None:
            yield text
    for sub in s.sections:
        yield from _section(sub, level + 1)


def to_markdown(report: FunderReport) -> str:
    """The report to send a funder: what was made when, then each cohort, then totals."""
    doc = document(report)
    blocks = [f"# {md_escape(doc.title)}", md_escape(doc.made)]
    for s in doc.sections:
        blocks += _section(s, 2)
    return "\n\n".join(blocks) + "\n"
