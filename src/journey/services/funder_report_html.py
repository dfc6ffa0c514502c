"""The funder's report as one HTML page that stands alone: to open, send or print to PDF.

It renders :func:`journey.services.funder_report_document.document`, as the markdown
does, and draws its two pictures from :mod:`.funder_charts`: the funnel from enrolment to
graduation, and the before/after self-ratings. Everything is inside the file (styles,
charts as inline SVG): it fetches nothing and runs no script. Every text is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from typing import TYPE_CHECKING

from journey.services import funder_charts as charts
from journey.services.funder_report import FunderReport
from journey.services.funder_report_document import (
    Block,
    Funnel,
    Para,
    Quotes,
    Ratings,
    Section,
    Table,
    document,
)

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["to_html"]


_NUMBER = re.compile(r"^(-?\d+(\.\d+)?%?|—|)$")  # 12, 9.0, -5%, — (none), or empty


def _table(t: Table) -> str:
    """A table, text escaped; each row's first cell heads it, and a column of numbers
    (counts, means, percentages) is right-aligned, its heading too."""
    numeric = {i for i in range(1, len(t.header)) if all(_NUMBER.match(r[i]) for r in t.rows)}

    def cell(tag: str, i: int, value: str, scope: str = "") -> str:
        kind = ' class="num"' if i in numeric else ""
        return f"<{tag}{scope}{kind}>{escape(value)}</{tag}>"

    def row(r: Sequence[str]) -> str:
        cells = "".join(cell("td", i, v) for i, v in enumerate(r) if i)
        return "<tr>" + cell("th", 0, r[0], ' scope="row"') + cells + "</tr>"

    head = "".join(cell("th", i, h, ' scope="col"') for i, h in enumerate(t.header))
    cap = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    rows = "".join(row(r) for r in t.rows)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _quotes(q: Quotes) -> str:
    asked = f'<p class="asked">{escape(q.asked)}</p>' if q.asked else ""
    quotes = "".join(f"<blockquote>{escape(c)}</blockquote>" for c in q.items)
    more = _p(f"… and {q.more} more.") if q.more else ""
    return f'<div class="comments">{asked}{quotes}{more}</div>'


def _figure(svg: str, caption: str, kind: str) -> str:
    return f'<figure class="{kind}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _funnel(f: Funnel) -> str:
    title = "From enrolment to graduation: " + ", ".join(
        f"{s.label} {s.share.count}" for s in f.steps
    )
    svg = charts.funnel_svg(f.steps, chart_id=f.chart_id, title=title)
    return _figure(svg, f"How many of the {f.enrolled} enrolled reached each step.", "funnel")


def _ratings(r: Ratings) -> str:
    """The before/after chart, or a line saying why there is none."""
    q = r.questionnaire
    title = f"Self-ratings before and after: {q.title}"
    svg = charts.before_after_svg(q, chart_id=r.chart_id, title=title)
    if svg is None:
        return _p("No one answered the before/after statements: no chart.")
    caption = "Mean self-rating before (grey) and after (blue), out of 10; n answered both."
    return _figure(svg, caption, "before-after")


def _block(block: Block) -> str:
    if isinstance(block, Para):
        return _p(block.text)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Quotes):
        return _quotes(block)
    if isinstance(block, Funnel):
        return _funnel(block)
    return _ratings(block)


def _section(s: Section, level: int) -> str:
    heading = f"<h{level}>{escape(s.heading)}</h{level}>"
    inner = "".join(_block(b) for b in s.blocks) + _sections(s.sections, level + 1)
    if s.cohort:
        return f'<article class="cohort">{heading}{inner}</article>'
    return f"<section>{heading}{inner}</section>"


def _sections(sections: Iterable[Section], level: int) -> str:
    return "".join(_section(s, level) for s in sections)


def to_html(report: FunderReport) -> str:
    """The report to send a funder: when and from what it was made, then each cohort, then
    the totals; the same figures give the same bytes."""
    from markupsafe import Markup

    doc = document(report)
    # escaped here (html.escape, as every other text of the page), not twice by Jinja
    parts = {
        "title": escape(doc.title),
        "made": escape(doc.made),
        "body": _sections(doc.sections, 2),
    }
    return _page().render({k: Markup(v) for k, v in parts.items()})  # noqa: S704


@cache
def _page() -> Template:
    """The page around the sections (``templates/report/funder-report.html``)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("journey", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return env.get_template("report/funder-report.html")
