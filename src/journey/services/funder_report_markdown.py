"""The funder's report as markdown: what an organiser can send a funder as it is.

Headings, short tables and plain words, from :class:`FunderReport` alone: the same figures
give the same bytes. People's text (titles, set and funder names, notice kinds) goes
through :func:`journey.services.report.md_escape`, so it renders as typed.
"""

from __future__ import annotations

from journey.services.funder_evaluation import QuestionnaireFigures
from journey.services.funder_report import CohortFigures, FunderReport, Institutions, Share
from journey.services.funder_report_formats import money, percent, place_label
from journey.services.report import local_time, md_escape

__all__ = ["to_markdown"]


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    """``1 leader``, ``2 leaders``."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _of(share: Share) -> str:
    """``5 of 7 (71%)``, or ``none to count``."""
    if share.of == 0:
        return "none to count"
    return f"{share.count} of {share.of} ({percent(share)})"


def _who(who: Institutions) -> str:
    """``20 leaders from 10 institutions (6 member institutions and 4 external organisations)``."""
    parts = [_plural(who.members, "member institution")] if who.members else []
    if who.others:
        parts.append(_plural(who.others, "external organisation"))
    detail = f" ({' and '.join(parts)})" if parts else ""
    return (
        f"{_plural(who.leaders, 'leader')} from {_plural(who.institutions, 'institution')}{detail}"
    )


def _participation(f: CohortFigures, h: str) -> list[str]:
    p = f.participation
    training = md_escape(p.training_title)
    enrolled = f"{_who(p.enrolled)} enrolled." if p.enrolled.leaders else "No one is enrolled."
    trained = (
        f"{_who(p.trained)} completed {training} (every day)."
        if p.trained.leaders
        else f"No one has completed {training} yet."
    )
    rows = [[md_escape(place_label(x)), str(x.trainees), money(x.fees_due)] for x in p.places]
    rows.append(["all places", str(p.enrolled.leaders), money(p.fees_due)])
    places = _table(["place", "trainees", "fees due"], rows)
    return [f"{h} Participation", f"{enrolled} {trained}", places]


def _attendance(f: CohortFigures, h: str) -> list[str]:
    heading = f"{h} Attendance at {md_escape(f.participation.training_title)}"
    if not f.training:
        return [heading, "No training days."]
    rows = [[str(d.day), d.on or "", _of(d.attended)] for d in f.training]
    header = (
        ["day", "date", "attended"] if any(d.on for d in f.training) else ["day", "", "attended"]
    )
    return [heading, _table(header, rows)]


def _stages(f: CohortFigures, h: str) -> list[str]:
    if not f.stages:
        return [f"{h} Progress through the stages", "The programme has no stages."]
    rows = [[md_escape(s.title), _of(s.done)] for s in f.stages]
    return [f"{h} Progress through the stages", _table(["stage", "done"], rows)]


def _mentoring(f: CohortFigures, h: str) -> list[str]:
    m = f.mentoring
    verb = "has" if m.with_mentor == 1 else "have"
    held = (
        f"{_plural(m.trainees_met, 'trainee')} met their mentor, in"
        f" {_plural(m.meetings, 'meeting')}"
        if m.meetings
        else "no meetings are recorded yet"
    )
    text = (
        f"{_plural(m.with_mentor, 'trainee')} {verb} a mentor; {held}. Only that a meeting"
        " took place is recorded: what is said in it stays between mentor and trainee."
    )
    blocks = [f"{h} Mentoring", text]
    if m.by_number:
        rows = [[str(n), str(count)] for n, count in m.by_number]
        blocks.append(_table(["meeting", "held"], rows))
    return blocks


def _learning_sets(f: CohortFigures, h: str) -> list[str]:
    heading = f"{h} Action learning sets"
    if not f.learning_set_totals:
        return [heading, "The programme has no learning sets."]
    titles = [md_escape(s.title) for s in f.learning_set_totals]
    rows = [
        [md_escape(x.name), str(x.members), *(_of(s.done) for s in x.sessions)]
        for x in f.learning_sets
    ]
    members = sum(x.members for x in f.learning_sets)
    rows.append(
        [
            "all sets",
            str(members) if f.learning_sets else "",
            *(_of(s.done) for s in f.learning_set_totals),
        ]
    )
    return [heading, _table(["set", "members", *titles], rows)]


def _graduation(f: CohortFigures, h: str) -> list[str]:
    g = f.graduation
    if g is None:
        return [f"{h} Graduation", "The programme has no graduation."]
    eligible = f"{g.eligible} of the {_plural(g.applies, 'trainee')} it is open to"
    verb = "is" if g.eligible == 1 else "are"
    text = f"{eligible} {verb} eligible to graduate; {g.graduated} graduated."
    return [f"{h} {md_escape(g.title)}", text]


def _withdrawals(f: CohortFigures, h: str) -> list[str]:
    w = f.withdrawals
    if not w.count:
        return [f"{h} Withdrawals", "No one has withdrawn."]
    months = [f"{n} in {_MONTHS[int(m[5:7]) - 1]} {m[:4]}" for m, n in w.by_month]
    return [f"{h} Withdrawals", f"{_plural(w.count, 'trainee')} withdrew: {', '.join(months)}."]


def _notices(f: CohortFigures, h: str) -> list[str]:
    n = f.notices
    if not (n.sent or n.failed):
        return [f"{h} Notices", "No emails sent yet."]
    text = (
        f"{_plural(n.sent, 'email')} sent and {n.failed} failed (a daily digest counts once);"
        f" the digests told mentors, facilitators and the organiser"
        f" {_plural(n.told_in_digests, 'thing')} about trainees."
    )
    rows = [[md_escape(k.kind), str(k.sent), str(k.failed)] for k in n.kinds]
    return [f"{h} Notices", text, _table(["kind", "sent", "failed"], rows)]


def _evaluation(f: CohortFigures, h: str) -> list[str]:
    e = f.evaluation
    out = [f"{h} Evaluation"]
    if not e.responses:
        return [*out, "No responses."]
    for q in e.questionnaires:
        out += _questionnaire(q, h)
    return out


def _questionnaire(q: QuestionnaireFigures, h: str) -> list[str]:
    """One questionnaire: scores, before and after, and the comments (anonymous)."""
    who = f"{q.named} named, {q.anonymous} anonymous"
    out = [f"{h}# {md_escape(q.title)}", f"{_plural(q.responses, 'response')} ({who})."]
    if q.scores:
        rows = [[md_escape(s.text), str(s.n), s.mean, s.median] for s in q.scores]
        out.append(_table(["out of 10", "n", "mean", "median"], rows))
    if q.changes:
        rows = [
            [md_escape(c.text), str(c.n), c.mean_before, c.mean_after, c.increase_of_means,
             f"{c.mean_of_increases} (n {c.increases_n})"]
            for c in q.changes
        ]  # fmt: skip
        header = ["self-rating out of 10", "n", "before", "after", "increase of the means",
                  "mean of each person's increase"]  # fmt: skip
        out.append(_table(header, rows))
        out.append(
            "Each person's increase is counted only where their 'before' was above 0; n says "
            "how many."
        )
    if q.comments:
        more = f"\n\n… and {q.more_comments} more." if q.more_comments else ""
        out.append("\n".join(f"> {md_escape(c)}" for c in q.comments) + more)
    return out


_SECTIONS = (
    _participation, _attendance, _stages, _mentoring, _learning_sets, _graduation,
    _withdrawals, _notices, _evaluation,
)  # fmt: skip


def _sections(f: CohortFigures, h: str) -> list[str]:
    return [block for section in _SECTIONS for block in section(f, h)]


def to_markdown(report: FunderReport) -> str:
    """The report to send a funder: what was made when, then each cohort, then totals."""
    ids = [md_escape(c) for c in report.cohort_ids]
    made = (
        f"Made at {local_time(report.made_at, report.timezone)} ({md_escape(report.timezone)})"
        f" from {'cohorts' if len(ids) > 1 else 'cohort'} {', '.join(ids)}, from what was"
        " recorded by then."
    )
    if report.total is None:
        [f] = report.cohorts
        title = f"# Funder's report: {md_escape(f.title)} ({ids[0]})"
        return "\n\n".join([title, made, *_sections(f, "##")]) + "\n"
    blocks = [f"# Funder's report: {len(ids)} cohorts", made]
    for f in report.cohorts:
        blocks += [f"## {md_escape(f.title)} ({md_escape(f.cohort_id)})", *_sections(f, "###")]
    blocks += ["## All cohorts together", *_sections(report.total, "###")]
    return "\n\n".join(blocks) + "\n"
