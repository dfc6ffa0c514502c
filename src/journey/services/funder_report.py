"""The funder's report in figures: what one or several cohorts under one grant achieved.

Plain Python over the database (no Prefect): participation and places, attendance,
progress, mentoring (counts only: a meeting's content is confidential and not stored),
learning sets, graduation, withdrawals and notices. Everything is counted from what is
recorded, at ``now``; nothing reads the wall clock, and every list is sorted, so the
same records and ``now`` give the same figures. :mod:`journey.services.funder_report_formats`
turns them into markdown, CSV and JSON.

Where a count has a denominator (a :class:`Share`), it is everyone enrolled to whom the
milestone applies, withdrawn trainees included: they were enrolled, and their
withdrawal is reported on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from journey.engine import State
from journey.errors import UnknownCohort
from journey.models import NoticeStatus, Place
from journey.services import _funder_facts as facts
from journey.services._funder_facts import Shape, Trainee
from journey.services.funder_evaluation import EvaluationFigures, evaluation_figures_each
from journey.services.loading import known_cohort_ids, load_cohorts


@dataclass(frozen=True)
class Share:
    """``count`` of ``of``; ``of`` may be 0 (then there is no percentage to give)."""

    count: int
    of: int


@dataclass(frozen=True)
class PlaceLine:
    """Places of one kind: a member's free place, fee-paying, or subsidised by a funder."""

    place: Place
    funder: str | None
    trainees: int
    fees_due: Decimal


@dataclass(frozen=True)
class Institutions:
    """Leaders and where they come from (institutions are linked through enrolments)."""

    leaders: int
    institutions: int
    members: int
    others: int


@dataclass(frozen=True)
class Participation:
    enrolled: Institutions
    trained: Institutions  # those who attended every training day
    training_title: str
    places: tuple[PlaceLine, ...]
    fees_due: Decimal


@dataclass(frozen=True)
class DayAttendance:
    day: int
    on: str | None  # the local date (ISO); None in totals over several cohorts
    attended: Share


@dataclass(frozen=True)
class Progress:
    milestone: str
    title: str
    done: Share


@dataclass(frozen=True)
class Mentoring:
    with_mentor: int
    trainees_met: int  # trainees with at least one meeting recorded
    meetings: int
    by_number: tuple[tuple[int, int], ...]  # (meeting number, meetings held)


@dataclass(frozen=True)
class LearningSetAttendance:
    name: str
    members: int
    sessions: tuple[Progress, ...]  # one per learning-set milestone (sessions, presentation)


@dataclass(frozen=True)
class Graduation:
    title: str
    applies: int  # trainees to whom graduation applies
    eligible: int
    graduated: int


@dataclass(frozen=True)
class Withdrawals:
    count: int
    by_month: tuple[tuple[str, int], ...]  # ("2026-10", withdrawals that month, local)


@dataclass(frozen=True)
class NoticeCount:
    kind: str  # the notice's template: welcome, session-reminder, digest, …
    sent: int
    failed: int


@dataclass(frozen=True)
class Notices:
    """Emails: a digest counts once; held notices it told are counted apart, not as emails."""

    kinds: tuple[NoticeCount, ...]
    sent: int
    failed: int
    told_in_digests: int


@dataclass(frozen=True)
class CohortFigures:
    """Every figure of one cohort, or the totals of several (``cohort_id`` ``"total"``)."""

    cohort_id: str
    title: str
    participation: Participation
    training: tuple[DayAttendance, ...]
    stages: tuple[Progress, ...]
    mentoring: Mentoring
    learning_sets: tuple[LearningSetAttendance, ...]
    learning_set_totals: tuple[Progress, ...]
    graduation: Graduation | None
    withdrawals: Withdrawals
    notices: Notices
    evaluation: EvaluationFigures


@dataclass(frozen=True)
class FunderReport:
    made_at: datetime
    timezone: str  # the first cohort's: the report's times are shown in it
    cohort_ids: tuple[str, ...]
    cohorts: tuple[CohortFigures, ...]
    total: CohortFigures | None  # with several cohorts


TOTAL = "total"


def funder_report(*, session: Session, cohort_ids: Sequence[str], now: datetime) -> FunderReport:
    """The report on ``cohort_ids`` (sorted, each once) as recorded at ``now``.

    Raises :class:`UnknownCohort` for the first id that is not a cohort.
    """
    ids = sorted(set(cohort_ids))
    loaded = load_cohorts(session, ids)
    found = {c.cohort.id for c in loaded}
    for cid in ids:
        if cid not in found:
            raise UnknownCohort(cid, known=known_cohort_ids(session))
    trainees = facts.trainees(session, loaded, now)
    notices = facts.notice_rows(session, ids)
    programmes = {c.cohort.id: c.programme for c in loaded}
    evaluation, together = evaluation_figures_each(
        session=session, cohort_ids=ids, programmes=programmes
    )
    figures = [
        _figures(
            [c.cohort.id],
            c.cohort.title,
            facts.shape(c),
            trainees[c.cohort.id],
            notices,
            evaluation[c.cohort.id],
        )
        for c in loaded
    ]
    total = None
    if len(loaded) > 1:
        total = _figures(
            ids,
            "All cohorts",
            facts.merged([facts.shape(c) for c in loaded]),
            [t for cid in ids for t in trainees[cid]],
            notices,
            together,
        )
    return FunderReport(now, loaded[0].cohort.timezone, tuple(ids), tuple(figures), total)


def _figures(
    cohort_ids: Sequence[str],
    title: str,
    shape: Shape,
    trainees: Sequence[Trainee],
    notices: Iterable[facts.NoticeRow],
    evaluation: EvaluationFigures,
) -> CohortFigures:
    """The figures of one cohort, or the totals of several (learning sets not set by set:
    each cohort names its own)."""
    several = len(cohort_ids) > 1
    return CohortFigures(
        cohort_id=TOTAL if several else cohort_ids[0],
        title=title,
        participation=_participation(shape, trainees),
        training=tuple(
            DayAttendance(n, on, _share(trainees, _attended(n))) for n, on in shape.days
        ),
        stages=tuple(_progress(trainees, mid, mt) for mid, mt in shape.stages),
        mentoring=_mentoring(trainees),
        learning_sets=tuple(
            LearningSetAttendance(
                name,
                sum(1 for t in trainees if t.set_name == name),
                tuple(
                    _progress([t for t in trainees if t.set_name == name], mid, mt)
                    for mid, mt in shape.set_milestones
                ),
            )
            for name in sorted({t.set_name for t in trainees if t.set_name and not several})
        ),
        learning_set_totals=tuple(_progress(trainees, mid, mt) for mid, mt in shape.set_milestones),
        graduation=_graduation(shape, trainees),
        withdrawals=_withdrawals(trainees),
        notices=_notices([r for r in notices if r.cohort_id in cohort_ids]),
        evaluation=evaluation,
    )


def _share(trainees: Iterable[Trainee], attended: Callable[[Trainee], bool | None]) -> Share:
    """How many did it, of those to whom it applies (``attended(t)``: True, False or None)."""
    answers = [attended(t) for t in trainees]
    return Share(sum(1 for a in answers if a is True), sum(1 for a in answers if a is not None))


def _attended(day: int) -> Callable[[Trainee], bool | None]:
    return lambda t: t.days.get(day)


def _progress(trainees: Iterable[Trainee], milestone: str, title: str) -> Progress:
    def state(t: Trainee) -> bool | None:
        s = t.states.get(milestone, State.NOT_APPLICABLE)
        return None if s is State.NOT_APPLICABLE else s is State.DONE

    return Progress(milestone, title, _share(trainees, state))


def _institutions(trainees: Sequence[Trainee]) -> Institutions:
    where = {t.institution_id: t.member for t in trainees}
    members = sum(1 for m in where.values() if m)
    return Institutions(len(trainees), len(where), members, len(where) - members)


def _participation(shape: Shape, trainees: Sequence[Trainee]) -> Participation:
    places: Counter[tuple[Place, str | None]] = Counter()
    fees: dict[tuple[Place, str | None], Decimal] = {}
    for t in trainees:
        key = (t.place, t.funder)
        places[key] += 1
        fees[key] = fees.get(key, Decimal(0)) + t.fee
    order = {p: i for i, p in enumerate(Place)}
    lines = tuple(
        PlaceLine(place, funder, places[place, funder], fees[place, funder])
        for place, funder in sorted(places, key=lambda k: (order[k[0]], k[1] or ""))
    )
    trained = [t for t in trainees if t.trained]
    return Participation(
        enrolled=_institutions(trainees),
        trained=_institutions(trained),
        training_title=shape.training_title,
        places=lines,
        fees_due=sum((line.fees_due for line in lines), Decimal(0)),
    )


def _mentoring(trainees: Sequence[Trainee]) -> Mentoring:
    numbers = Counter(n for t in trainees for n in t.meetings)
    return Mentoring(
        with_mentor=sum(1 for t in trainees if t.has_mentor),
        trainees_met=sum(1 for t in trainees if t.meetings),
        meetings=sum(numbers.values()),
        by_number=tuple(sorted(numbers.items())),
    )


def _graduation(shape: Shape, trainees: Sequence[Trainee]) -> Graduation | None:
    if shape.graduation is None:
        return None
    milestone, title = shape.graduation
    applies = [t for t in trainees if t.eligible is not None]
    return Graduation(
        title=title,
        applies=len(applies),
        eligible=sum(1 for t in applies if t.eligible),
        graduated=sum(1 for t in trainees if t.states.get(milestone) is State.DONE),
    )


def _withdrawals(trainees: Sequence[Trainee]) -> Withdrawals:
    months = Counter(t.withdrawn_month for t in trainees if t.withdrawn_month is not None)
    return Withdrawals(sum(months.values()), tuple(sorted(months.items())))


def _notices(rows: Sequence[facts.NoticeRow]) -> Notices:
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    told = 0
    for row in rows:
        if row.in_digest:
            told += row.notices if row.status is NoticeStatus.SENT else 0
        elif row.status is NoticeStatus.SENT:
            sent[row.kind] += row.notices
        else:
            failed[row.kind] += row.notices
    kinds = tuple(NoticeCount(k, sent[k], failed[k]) for k in sorted(set(sent) | set(failed)))
    return Notices(kinds, sum(sent.values()), sum(failed.values()), told)
