"""The funder's report as one HTML page that stands alone: to open, send or print to PDF.

The same sections and words as the markdown (:mod:`.funder_report_markdown`), with two
pictures from :mod:`.funder_charts` drawn in: the funnel from enrolment to graduation, and
the before/after self-ratings. Everything is inside the file (styles, charts as inline
SVG): it fetches nothing and runs no script. People's text (titles, institution, funder
and set names, comments) is escaped. With several cohorts the charts are the totals', and
each cohort's funnel is a row of a table: a hundred cohorts stay quick to make and to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from typing import TYPE_CHECKING

from journey.services import funder_charts as charts
from journey.services.funder_evaluation import QuestionnaireFigures
from journey.services.funder_report import CohortFigures, FunderReport
from journey.services.funder_report_formats import money, percent, place_label
from journey.services.funder_report_markdown import _MONTHS, _of, _plural, _who
from journey.services.report import local_time

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["to_html"]


_NUMBER = re.compile(r"^(-?\d+(\.\d+)?%?|—|)$")  # 12, 9.0, -5%, — (none), or empty


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> str:
    """A table of cells, text escaped; each row's first cell heads it, and a column of
    numbers (counts, means, percentages) is right-aligned, its heading too."""
    body = [[str(v) for v in r] for r in rows]
    numeric = {i for i in range(1, len(header)) if all(_NUMBER.match(r[i]) for r in body)}

    def cell(tag: str, i: int, value: str, scope: str = "") -> str:
        kind = ' class="num"' if i in numeric else ""
        return f"<{tag}{scope}{kind}>{escape(value)}</{tag}>"

    def row(r: Sequence[str]) -> str:
        cells = "".join(cell("td", i, v) for i, v in enumerate(r) if i)
        return "<tr>" + cell("th", 0, r[0], ' scope="row"') + cells + "</tr>"

    head = "".join(cell("th", i, h, ' scope="col"') for i, h in enumerate(header))
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    rows_html = "".join(row(r) for r in body)
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _section(h: int, heading: str, *blocks: str) -> str:
    return f"<section><h{h}>{escape(heading)}</h{h}>{''.join(blocks)}</section>"


def _participation(f: CohortFigures, h: int) -> str:
    p = f.participation
    enrolled = f"{_who(p.enrolled)} enrolled." if p.enrolled.leaders else "No one is enrolled."
    trained = (
        f"{_who(p.trained)} completed {p.training_title} (every day)."
        if p.trained.leaders
        else f"No one has completed {p.training_title} yet."
    )
    rows: list[list[object]] = [[place_label(x), x.trainees, money(x.fees_due)] for x in p.places]
    rows.append(["all places", p.enrolled.leaders, money(p.fees_due)])
    return _section(
        h,
        "Participation",
        _p(f"{enrolled} {trained}"),
        _table(["place", "trainees", "fees due"], rows),
    )


def _attendance(f: CohortFigures, h: int) -> str:
    heading = f"Attendance at {f.participation.training_title}"
    if not f.training:
        return _section(h, heading, _p("No training days."))
    dated = any(d.on for d in f.training)
    rows = [[f"day {d.day}", *([d.on or ""] if dated else []), _of(d.attended)] for d in f.training]
    return _section(h, heading, _table(["day", *(["date"] if dated else []), "attended"], rows))


def _stages(f: CohortFigures, h: int) -> str:
    heading = "Progress through the stages"
    if not f.stages:
        return _section(h, heading, _p("The programme has no stages."))
    return _section(
        h, heading, _table(["stage", "done"], [[s.title, _of(s.done)] for s in f.stages])
    )


def _mentoring(f: CohortFigures, h: int) -> str:
    m = f.mentoring
    verb = "has" if m.with_mentor == 1 else "have"
    held = (
        f"{_plural(m.trainees_met, 'trainee')} met their mentor,"
        f" in {_plural(m.meetings, 'meeting')}"
        if m.meetings
        else "no meetings are recorded yet"
    )
    text = _p(
        f"{_plural(m.with_mentor, 'trainee')} {verb} a mentor; {held}. Only that a meeting"
        " took place is recorded: what is said in it stays between mentor and trainee."
    )
    rows = [[f"meeting {n}", count] for n, count in m.by_number]
    return _section(h, "Mentoring", text, _table(["meeting", "held"], rows) if rows else "")


def _learning_sets(f: CohortFigures, h: int) -> str:
    heading = "Action learning sets"
    if not f.learning_set_totals:
        return _section(h, heading, _p("The programme has no learning sets."))
    titles = [s.title for s in f.learning_set_totals]
    rows: list[list[object]] = [
        [x.name, x.members, *(_of(s.done) for s in x.sessions)] for x in f.learning_sets
    ]
    members: object = sum(x.members for x in f.learning_sets) if f.learning_sets else ""
    rows.append(["all sets", members, *(_of(s.done) for s in f.learning_set_totals)])
    return _section(h, heading, _table(["set", "members", *titles], rows))


def _graduation(f: CohortFigures, h: int) -> str:
    g = f.graduation
    if g is None:
        return _section(h, "Graduation", _p("The programme has no graduation."))
    verb = "is" if g.eligible == 1 else "are"
    text = (
        f"{g.eligible} of the {_plural(g.applies, 'trainee')} it is open to {verb} eligible"
        f" to graduate; {g.graduated} graduated."
    )
    return _section(h, g.title, _p(text))


def _withdrawals(f: CohortFigures, h: int) -> str:
    w = f.withdrawals
    if not w.count:
        return _section(h, "Withdrawals", _p("No one has withdrawn."))
    months = [f"{n} in {_MONTHS[int(m[5:7]) - 1]} {m[:4]}" for m, n in w.by_month]
    return _section(
        h, "Withdrawals", _p(f"{_plural(w.count, 'trainee')} withdrew: {', '.join(months)}.")
    )


def _notices(f: CohortFigures, h: int) -> str:
    n = f.notices
    if not (n.sent or n.failed):
        return _section(h, "Notices", _p("No emails sent yet."))
    text = (
        f"{_plural(n.sent, 'email')} sent and {n.failed} failed (a daily digest counts once);"
        f" the digests told mentors, facilitators and the organiser"
        f" {_plural(n.told_in_digests, 'thing')} about trainees."
    )
    rows = [[k.kind, k.sent, k.failed] for k in n.kinds]
    return _section(h, "Notices", _p(text), _table(["kind", "sent", "failed"], rows))


def _evaluation(f: CohortFigures, h: int, *, drawn: bool) -> str:
    e = f.evaluation
    if not e.responses:
        return _section(h, "Evaluation", _p("No responses."))
    return _section(
        h,
        "Evaluation",
        *(_questionnaire(f.cohort_id, q, h + 1, drawn=drawn) for q in e.questionnaires),
    )


def _questionnaire(cohort: str, q: QuestionnaireFigures, h: int, *, drawn: bool) -> str:
    """One questionnaire: scores, before and after (with its chart), and the comments."""
    who = f"{q.named} named, {q.anonymous} anonymous"
    blocks = [_p(f"{_plural(q.responses, 'response')} ({who}).")]
    if q.scores:
        rows = [[s.text, s.n, s.mean, s.median] for s in q.scores]
        blocks.append(_table(["out of 10", "n", "mean", "median"], rows))
    if q.changes:
        rows = [
            [c.text, c.n, c.mean_before, c.mean_after, c.increase_of_means,
             f"{c.mean_of_increases} (n {c.increases_n})"]
            for c in q.changes
        ]  # fmt: skip
        header = ["self-rating out of 10", "n", "before", "after", "increase of the means",
                  "mean of each person's increase"]  # fmt: skip
        if drawn:
            blocks.append(_ratings(cohort, q))
        blocks.append(_table(header, rows))
        blocks.append(_p(_INCREASE_NOTE))
    if q.comments:
        quotes = "".join(f"<blockquote>{escape(c)}</blockquote>" for c in q.comments)
        more = _p(f"… and {q.more_comments} more.") if q.more_comments else ""
        blocks.append(f'<div class="comments">{quotes}{more}</div>')
    return _section(h, q.title, *blocks)


_INCREASE_NOTE = (
    "Each person's increase is counted only where their 'before' was above 0; n says how many."
)


def _ratings(cohort: str, q: QuestionnaireFigures) -> str:
    """The before/after chart, or a line saying why there is none."""
    title = f"Self-ratings before and after: {q.title}"
    svg = charts.before_after_svg(q, chart_id=_id("ratings", cohort, q.id), title=title)
    if svg is None:
        return _p("No one answered the before/after statements: no chart.")
    caption = "Mean self-rating before (grey) and after (blue), out of 10; n answered both."
    return _figure(svg, caption, "before-after")


def _id(*parts: str) -> str:
    """An element id from record ids: letters, digits and ``-`` only."""
    text = "-".join(parts)
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text)


def _figure(svg: str, caption: str, kind: str) -> str:
    return f'<figure class="{kind}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


_FUNNEL_NOTE = (
    "Each step counts those enrolled who did it, withdrawn trainees included: trained means"
    " every training day attended; mentored, at least one mentoring meeting recorded; in a"
    " learning set, placed in one; presented, the final presentation recorded."
)


def _glance(f: CohortFigures, cohorts: Sequence[CohortFigures], h: int) -> str:
    """The funnel as a chart, and as a table (one row per cohort with several)."""
    steps = charts.funnel_steps(f, cohorts)
    title = "From enrolment to graduation: " + ", ".join(
        f"{s.label} {s.share.count}" for s in steps
    )
    svg = charts.funnel_svg(steps, chart_id=_id("funnel", f.cohort_id), title=title)
    caption = f"How many of the {f.participation.enrolled.leaders} enrolled reached each step."
    blocks = [_figure(svg, caption, "funnel"), _p(_FUNNEL_NOTE)]
    rows: list[list[object]]
    if len(cohorts) == 1:
        rows = [[s.label, s.share.count, percent(s.share)] for s in steps]
        blocks.append(_table(["step", "trainees", "of those enrolled"], rows))
    else:
        labels = [s.label for s in steps]
        rows = [_funnel_row(c.cohort_id, charts.funnel_steps(c, [c]), labels) for c in cohorts]
        rows.append(_funnel_row("all cohorts", steps, labels))
        blocks.append(_table(["cohort", *labels], rows, "Each cohort's funnel"))
    return _section(h, "At a glance", *blocks)


def _funnel_row(name: str, steps: Sequence[charts.Step], labels: Sequence[str]) -> list[object]:
    found = {s.label: s.share for s in steps}
    return [
        name,
        *(f"{found[x].count} ({percent(found[x])})" if x in found else "—" for x in labels),
    ]


def _sections(f: CohortFigures, h: int, *, drawn: bool) -> str:
    parts = [
        section(f, h)
        for section in (
            _participation, _attendance, _stages, _mentoring, _learning_sets, _graduation,
            _withdrawals, _notices,
        )
    ]  # fmt: skip
    return "".join([*parts, _evaluation(f, h, drawn=drawn)])


def to_html(report: FunderReport) -> str:
    """The report to send a funder: when and from what it was made, then each cohort, then
    the totals; the same figures give the same bytes."""
    ids = ", ".join(report.cohort_ids)
    made = (
        f"Made at {local_time(report.made_at, report.timezone)} ({report.timezone})"
        f" from {'cohorts' if len(report.cohort_ids) > 1 else 'cohort'} {ids}, from what was"
        " recorded by then."
    )
    if report.total is None:
        [f] = report.cohorts
        title = f"Funder's report: {f.title} ({f.cohort_id})"
        body = _glance(f, [f], 2) + _sections(f, 2, drawn=True)
    else:
        title = f"Funder's report: {len(report.cohort_ids)} cohorts"
        body = _glance(report.total, report.cohorts, 2)
        for c in report.cohorts:
            heading = f"<h2>{escape(f'{c.title} ({c.cohort_id})')}</h2>"
            body += f'<article class="cohort">{heading}{_sections(c, 3, drawn=False)}</article>'
        everyone = f"<h2>All cohorts together</h2>{_sections(report.total, 3, drawn=True)}"
        body += f'<article class="cohort">{everyone}</article>'
    from markupsafe import Markup

    # escaped here (html.escape, as every other text of the page), not twice by Jinja
    parts = {"title": escape(title), "made": escape(made), "body": body}
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
