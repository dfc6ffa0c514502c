"""What the evaluation questionnaires say, for the funder's report.

For each questionnaire with responses: each score's mean, median and n; each before/after
statement's mean before, mean after, the increase of the means, and the mean of each
person's own increase (the two differ, and alliances have reported either, so both are
given, labelled, each with its n); and the comments. A person whose 'before' is 0 has no
percentage increase: they are left out of the mean of increases (its n says so), never
divided by. Figures are text with fixed rounding (one decimal, whole percentages, half up),
so the same answers always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from sqlalchemy.orm import Session

from journey.programme import Programme
from journey.services.evaluation import ItemResults, QuestionnaireResults, evaluation_results

NONE = "—"
MOST_COMMENTS = 12  # a short list in the report; the rest are counted


@dataclass(frozen=True)
class ScoreFigures:
    item: str
    text: str
    n: int
    mean: str
    median: str


@dataclass(frozen=True)
class ChangeFigures:
    """One before/after statement."""

    item: str
    text: str
    n: int
    mean_before: str
    mean_after: str
    increase_of_means: str  # (mean after - mean before) / mean before
    mean_of_increases: str  # the mean of each person's (after - before) / before
    increases_n: int  # those with a 'before' above 0


@dataclass(frozen=True)
class QuestionnaireFigures:
    id: str
    title: str
    responses: int
    named: int
    anonymous: int
    scores: tuple[ScoreFigures, ...]
    changes: tuple[ChangeFigures, ...]
    comments: tuple[str, ...]  # sorted; at most MOST_COMMENTS
    more_comments: int
    comments_asked: str  # the question the comments answer ("" if several: each is shown alone)


@dataclass(frozen=True)
class EvaluationFigures:
    """Every questionnaire that has responses (none: the report says "no responses")."""

    responses: int
    questionnaires: tuple[QuestionnaireFigures, ...] = ()


def _one_decimal(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def _mean(values: Sequence[int]) -> Decimal:
    return Decimal(sum(values)) / Decimal(len(values))


def _score(item: ItemResults) -> ScoreFigures:
    values = item.scores
    if not values:
        return ScoreFigures(item.question.id, item.question.text, 0, NONE, NONE)
    middle = Decimal(str(median(values)))
    return ScoreFigures(
        item.question.id, item.question.text, len(values), _one_decimal(_mean(values)),
        _one_decimal(middle),
    )  # fmt: skip


def _change(item: ItemResults) -> ChangeFigures:
    pairs = item.pairs
    q = item.question
    if not pairs:
        return ChangeFigures(q.id, q.text, 0, NONE, NONE, NONE, NONE, 0)
    before = _mean([b for b, _ in pairs])
    after = _mean([a for _, a in pairs])
    of_means = _percent((after - before) / before * 100) if before else NONE
    increases = [Decimal(a - b) / Decimal(b) * 100 for b, a in pairs if b > 0]
    mean_increase = _percent(sum(increases, Decimal(0)) / len(increases)) if increases else NONE
    return ChangeFigures(
        q.id, q.text, len(pairs), _one_decimal(before), _one_decimal(after), of_means,
        mean_increase, len(increases),
    )  # fmt: skip


def _merged(results: Iterable[QuestionnaireResults]) -> list[QuestionnaireResults]:
    """One result per questionnaire id across cohorts (for the totals), items matched by id,
    in the order first seen."""
    merged: dict[str, QuestionnaireResults] = {}
    for r in results:
        found = merged.get(r.questionnaire.id)
        if found is None:
            merged[r.questionnaire.id] = r
            continue
        theirs = {i.question.id: i for i in r.items}
        items = tuple(
            ItemResults(
                i.question,
                i.scores + theirs[i.question.id].scores,
                i.pairs + theirs[i.question.id].pairs,
                i.comments + theirs[i.question.id].comments,
            )
            if i.question.id in theirs
            else i
            for i in found.items
        )
        merged[r.questionnaire.id] = QuestionnaireResults(
            found.cohort_id,
            found.questionnaire,
            found.named + r.named,
            found.anonymous + r.anonymous,
            items,
        )
    return list(merged.values())


def _figures(r: QuestionnaireResults) -> QuestionnaireFigures:
    comments = sorted(c for i in r.items for c in i.comments)
    asked = [i.question.text for i in r.items if i.question.kind == "comments"]
    return QuestionnaireFigures(
        id=r.questionnaire.id,
        title=r.questionnaire.title,
        responses=r.responses,
        named=r.named,
        anonymous=r.anonymous,
        scores=tuple(_score(i) for i in r.items if i.question.kind == "score"),
        changes=tuple(_change(i) for i in r.items if i.question.kind == "before-after"),
        comments=tuple(comments[:MOST_COMMENTS]),
        more_comments=max(0, len(comments) - MOST_COMMENTS),
        comments_asked=asked[0] if len(asked) == 1 else "",
    )


def _together(results: Iterable[QuestionnaireResults]) -> EvaluationFigures:
    answered = [_figures(r) for r in _merged(results) if r.responses]
    return EvaluationFigures(sum(q.responses for q in answered), tuple(answered))


def evaluation_figures_each(
    *,
    session: Session,
    cohort_ids: Sequence[str],
    programmes: Mapping[str, Programme] | None = None,
) -> tuple[dict[str, EvaluationFigures], EvaluationFigures]:
    """Each cohort's evaluation figures, and all of theirs together, from one reading of
    the answers: the same few queries for one cohort or a hundred (``programmes``: each
    cohort's, as the caller loaded them; else they are loaded)."""
    found = evaluation_results(session=session, cohort_ids=cohort_ids, programmes=programmes)
    each = {cid: _together(found[cid]) for cid in found}
    return each, _together(r for cid in sorted(found) for r in found[cid])
