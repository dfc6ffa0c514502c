"""The funder's report as a document: its sections, sentences and tables, worded once.

:mod:`.funder_report_markdown` and :mod:`.funder_report_html` render the same
:class:`Document`, so the two say the same thing in the same words; only the HTML draws
the pictures (:class:`Funnel`, :class:`Ratings` mark where they go). Every text here is
plain: each renderer escapes it for its own format. Nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journey.services.funder_evaluation import QuestionnaireFigures
from journey.services.funder_report import (
    CohortFigures,
    FunderReport,
    Institutions,
    LearningSetAttendance,
    Share,
)
from journey.services.funder_report_formats import money, percent, place_label
from journey.services.report import local_time

__all__ = [
    "Block",
    "Document",
    "Funnel",
    "Para",
    "Quotes",
    "Ratings",
    "Section",
    "Table",
    "document",
    "funnel_steps",
]

PRESENTATION = "presentation"  # the final presentation's milestone id (default programme)
CURRENCY = "£"  # fees are in pounds (the cohort file's fee is GBP)

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# What each notice is, for a reader who does not know the template names.
NOTICE_LABELS = {
    "welcome": "welcomes",
    "mentor-assignment": "introductions to mentors",
    "facilitator-assignment": "introductions to set facilitators",
    "session-invitation": "session invitations",
    "session-reminder": "session reminders",
    "session-updated": "session changes",
    "session-cancelled": "session cancellations",
    "stage-due": "a stage is due",
    "stage-reminder": "stage reminders",
    "overdue": "overdue reminders to trainees",
    "overdue-mentor": "overdue notes to mentors",
    "overdue-organiser": "overdue notes to the organiser",
    "missed-organiser": "missed sessions, to the organiser",
    "mentoring-booking": "time to book a mentoring meeting",
    "mentoring-reminder": "mentoring reminders",
    "presentation-reminder": "presentation reminders",
    "graduation-invitation": "graduation invitations",
    "digest": "daily digests (mentors, facilitators, organiser)",
}

INCREASE_NOTE = (
    "Each person's increase is counted only where their 'before' was above 0; n says how many."
)
FUNNEL_NOTE = (
    "Each step counts those enrolled who did it, withdrawn trainees included: trained means"
    " every training day attended; mentored, at least one mentoring meeting recorded; in a"
    " learning set, placed in one; presented, the final presentation recorded."
)


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    """Cells as text; the first cell of a row names it."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Quotes:
    """Anonymous comments to one question (``asked``), and how many more were left out."""

    asked: str
    items: tuple[str, ...]
    more: int


@dataclass(frozen=True)
class Step:
    """One step of the funnel: how many reached it, as a share of those enrolled."""

    label: str
    share: Share


@dataclass(frozen=True)
class Funnel:
    """Where the funnel chart goes (drawn in HTML only; its table follows it)."""

    chart_id: str
    steps: tuple[Step, ...]
    enrolled: int


@dataclass(frozen=True)
class Ratings:
    """Where a questionnaire's before/after chart goes (drawn in HTML only)."""

    chart_id: str
    questionnaire: QuestionnaireFigures


Block = Para | Table | Quotes | Funnel | Ratings


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()
    cohort: bool = False  # a cohort's part of a report on several (or the totals)


@dataclass(frozen=True)
class Document:
    title: str
    made: str
    sections: tuple[Section, ...]


def plural(count: int, noun: str, plural: str | None = None) -> str:
    """``1 leader``, ``2 leaders``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def of(share: Share) -> str:
    """``5 of 7 (71%)``, or ``none to count``."""
    if share.of == 0:
        return "none to count"
    return f"{share.count} of {share.of} ({percent(share)})"


def who(w: Institutions) -> str:
    """``20 leaders from 10 institutions (6 member institutions and 4 external organisations)``."""
    parts = [plural(w.members, "member institution")] if w.members else []
    if w.others:
        parts.append(plural(w.others, "external organisation"))
    detail = f" ({' and '.join(parts)})" if parts else ""
    return f"{plural(w.leaders, 'leader')} from {plural(w.institutions, 'institution')}{detail}"


def _id(*parts: str) -> str:
    """An element id from record ids: letters, digits and ``-`` only."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in "-".join(parts))


def funnel_steps(f: CohortFigures, cohorts: Sequence[CohortFigures]) -> tuple[Step, ...]:
    """Enrolled → trained → mentored → in a learning set → presented → graduated.

    ``cohorts`` are the cohorts ``f`` counts (``[f]`` for one): the totals do not list
    learning sets, so members of a set are added up over the cohorts. A step the
    programme does not have (no learning sets, no graduation) is left out.
    """
    enrolled = f.participation.enrolled.leaders
    steps = [
        ("enrolled", enrolled),
        ("trained", f.participation.trained.leaders),
        ("mentored", f.mentoring.trainees_met),
    ]
    if f.learning_set_totals:
        steps.append(
            ("in a learning set", sum(s.members for c in cohorts for s in c.learning_sets))
        )
    presented = [p.done.count for p in f.learning_set_totals if p.milestone == PRESENTATION]
    if presented:
        steps.append(("presented", presented[0]))
    if f.graduation is not None:
        steps.append(("graduated", f.graduation.graduated))
    return tuple(Step(label, Share(count, enrolled)) for label, count in steps)


def _glance(f: CohortFigures, cohorts: Sequence[CohortFigures]) -> Section:
    """The funnel: a chart, what its steps mean, and a table (a row per cohort if several)."""
    steps = funnel_steps(f, cohorts)
    funnel = Funnel(_id("funnel", f.cohort_id), steps, f.participation.enrolled.leaders)
    if len(cohorts) == 1:
        rows = tuple((s.label, str(s.share.count), percent(s.share)) for s in steps)
        table = Table(("step", "trainees", "of those enrolled"), rows)
    else:
        labels = [s.label for s in steps]
        each = [(c.cohort_id, funnel_steps(c, [c])) for c in cohorts]
        table = Table(
            ("cohort", *labels),
            tuple(_funnel_row(name, s, labels) for name, s in [*each, ("all cohorts", steps)]),
            "Each cohort's funnel",
        )
    return Section("At a glance", (funnel, Para(FUNNEL_NOTE), table))


def _funnel_row(name: str, steps: Sequence[Step], labels: Sequence[str]) -> tuple[str, ...]:
    found = {s.label: s.share for s in steps}
    cells = (f"{found[x].count} ({percent(found[x])})" if x in found else "—" for x in labels)
    return (name, *cells)


def _participation(f: CohortFigures) -> Section:
    p = f.participation
    enrolled = f"{who(p.enrolled)} enrolled." if p.enrolled.leaders else "No one is enrolled."
    trained = (
        f"{who(p.trained)} completed the {p.training_title} (every day)."
        if p.trained.leaders
        else f"No one has completed the {p.training_title} yet."
    )
    rows = [(place_label(x), str(x.trainees), money(x.fees_due)) for x in p.places]
    rows.append(("all places", str(p.enrolled.leaders), money(p.fees_due)))
    table = Table(("place", "trainees", f"fees due ({CURRENCY})"), tuple(rows))
    return Section("Participation", (Para(f"{enrolled} {trained}"), table))


def _attendance(f: CohortFigures) -> Section:
    heading = f"Attendance at the {f.participation.training_title}"
    if not f.training:
        return Section(heading, (Para("No training days."),))
    dated = any(d.on for d in f.training)
    rows = tuple(
        (f"day {d.day}", *([d.on or ""] if dated else []), of(d.attended)) for d in f.training
    )
    return Section(heading, (Table(("day", *(["date"] if dated else []), "attended"), rows),))


def _stages(f: CohortFigures) -> Section:
    heading = "Progress through the stages"
    if not f.stages:
        return Section(heading, (Para("The programme has no stages."),))
    rows = tuple((s.title, of(s.done)) for s in f.stages)
    return Section(heading, (Table(("stage", "done"), rows),))


def _mentoring(f: CohortFigures) -> Section:
    m = f.mentoring
    verb = "has" if m.with_mentor == 1 else "have"
    held = (
        f"{plural(m.trainees_met, 'trainee')} met their mentor, in {plural(m.meetings, 'meeting')}"
        if m.meetings
        else "no meetings are recorded yet"
    )
    text = (
        f"{plural(m.with_mentor, 'trainee')} {verb} a mentor; {held}. Only that a meeting"
        " took place is recorded: what is said in it stays between mentor and trainee."
    )
    rows = tuple((f"meeting {n}", str(count)) for n, count in m.by_number)
    table = (Table(("meeting", "held"), rows),) if rows else ()
    return Section("Mentoring", (Para(text), *table))


def _learning_sets(f: CohortFigures) -> Section:
    heading = "Action learning sets"
    if not f.learning_set_totals:
        return Section(heading, (Para("The programme has no learning sets."),))
    titles = tuple(s.title for s in f.learning_set_totals)
    rows = [_set_row(x) for x in f.learning_sets]
    members = str(sum(x.members for x in f.learning_sets)) if f.learning_sets else ""
    rows.append(("all sets", members, *(of(s.done) for s in f.learning_set_totals)))
    return Section(heading, (Table(("set", "members", *titles), tuple(rows)),))


def _set_row(x: LearningSetAttendance) -> tuple[str, ...]:
    return (x.name, str(x.members), *(of(s.done) for s in x.sessions))


def _graduation(f: CohortFigures) -> Section:
    g = f.graduation
    if g is None:
        return Section("Graduation", (Para("The programme has no graduation."),))
    verb = "is" if g.eligible == 1 else "are"
    text = (
        f"{g.eligible} of the {plural(g.applies, 'trainee')} it is open to {verb} eligible"
        f" to graduate; {g.graduated} graduated."
    )
    return Section(g.title, (Para(text),))


def _withdrawals(f: CohortFigures) -> Section:
    """``1 trainee withdrew (November 2026).``, ``3 trainees withdrew: 2 in October 2026,
    1 in November 2026.``"""
    w = f.withdrawals
    if not w.count:
        return Section("Withdrawals", (Para("No one has withdrawn."),))
    names = [(f"{_MONTHS[int(m[5:7]) - 1]} {m[:4]}", n) for m, n in w.by_month]
    if len(names) == 1:
        when = f" ({names[0][0]})."
    else:
        when = ": " + ", ".join(f"{n} in {month}" for month, n in names) + "."
    return Section("Withdrawals", (Para(f"{plural(w.count, 'trainee')} withdrew{when}"),))


def _notices(f: CohortFigures) -> Section:
    n = f.notices
    if not (n.sent or n.failed):
        return Section("Notices", (Para("No emails sent yet."),))
    text = (
        f"{plural(n.sent, 'email')} sent and {n.failed} failed (a daily digest counts once);"
        " the digests gave mentors, facilitators and the organiser"
        f" {plural(n.told_in_digests, 'update')} about trainees."
    )
    rows = tuple((NOTICE_LABELS.get(k.kind, k.kind), str(k.sent), str(k.failed)) for k in n.kinds)
    return Section("Notices", (Para(text), Table(("emails", "sent", "failed"), rows)))


def _evaluation(f: CohortFigures, drawn: bool) -> Section:
    e = f.evaluation
    if not e.responses:
        return Section("Evaluation", (Para("No responses."),))
    return Section(
        "Evaluation",
        sections=tuple(_questionnaire(f.cohort_id, q, drawn) for q in e.questionnaires),
    )


def _questionnaire(cohort_id: str, q: QuestionnaireFigures, drawn: bool) -> Section:
    """One questionnaire: scores, before and after (with its chart), and the comments."""
    blocks: list[Block] = [
        Para(f"{plural(q.responses, 'response')} ({q.named} named, {q.anonymous} anonymous).")
    ]
    if q.scores:
        scores = tuple((s.text, str(s.n), s.mean, s.median) for s in q.scores)
        blocks.append(Table(("out of 10", "n", "mean", "median"), scores))
    if q.changes:
        if drawn:
            blocks.append(Ratings(_id("ratings", cohort_id, q.id), q))
        rows = tuple(
            (c.text, str(c.n), c.mean_before, c.mean_after, c.increase_of_means,
             f"{c.mean_of_increases} (n {c.increases_n})")
            for c in q.changes
        )  # fmt: skip
        header = ("self-rating out of 10", "n", "before", "after", "increase of the means",
                  "mean of each person's increase")  # fmt: skip
        blocks += [Table(header, rows), Para(INCREASE_NOTE)]
    if q.comments:
        blocks.append(Quotes(q.comments_asked, q.comments, q.more_comments))
    return Section(q.title, tuple(blocks))


def _sections(f: CohortFigures, drawn: bool) -> tuple[Section, ...]:
    parts = (
        _participation, _attendance, _stages, _mentoring, _learning_sets, _graduation,
        _withdrawals, _notices,
    )  # fmt: skip
    return (*(part(f) for part in parts), _evaluation(f, drawn))


def document(report: FunderReport) -> Document:
    """The report to send a funder: when and from what it was made, the funnel at a
    glance, then each cohort and the totals. Only the totals' charts are drawn when there
    are several cohorts: a hundred cohorts stay quick to make and to read."""
    ids = ", ".join(report.cohort_ids)
    which = "cohorts" if len(report.cohort_ids) > 1 else "cohort"
    made = (
        f"Made on {local_time(report.made_at, report.timezone)} ({report.timezone}), from what"
        f" was recorded for {which} {ids} by then."
    )
    if report.total is None:
        [f] = report.cohorts
        return Document(f"Funder's report: {f.title}", made, (_glance(f, [f]), *_sections(f, True)))
    parts = [
        Section(f"{c.title} ({c.cohort_id})", sections=_sections(c, False), cohort=True)
        for c in report.cohorts
    ]
    total = Section("All cohorts together", sections=_sections(report.total, True), cohort=True)
    return Document(
        f"Funder's report: {len(report.cohort_ids)} cohorts",
        made,
        (_glance(report.total, report.cohorts), *parts, total),
    )
