"""The funder's report as CSV and JSON (markdown: :mod:`.funder_report_markdown`), byte for
byte the same for the same figures.

No clock, no locale, no float printed by chance: percentages are whole numbers rounded
half up from integers (``—`` where there is nobody to count), money is a Decimal shown as
``420`` or ``60.50``. People's text (titles, set and funder names) goes into CSV behind
a quote where a spreadsheet would run it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from journey.models import Place
from journey.services.funder_report import (
    CohortFigures,
    FunderReport,
    PlaceLine,
    Share,
)

__all__ = ["money", "percent", "place_label", "to_csv", "to_json"]

Row = tuple[str, str, str, str, str]  # section, measure, count, of, percent


def percent(share: Share) -> str:
    """``85%``, rounded half up from integers; ``—`` when there is nobody to count."""
    if share.of == 0:
        return "—"
    return f"{(200 * share.count + share.of) // (2 * share.of)}%"


def money(amount: Decimal) -> str:
    """``420`` for whole amounts, ``60.50`` otherwise."""
    if amount == amount.to_integral_value():
        return f"{amount:.0f}"
    return f"{amount:.2f}"


def place_label(line: PlaceLine) -> str:
    """``member institution's free place``, ``fee-paying``, ``subsidised by <funder>``."""
    if line.place is Place.MEMBER:
        return "member institution's free place"
    if line.place is Place.FEE:
        return "fee-paying"
    return f"subsidised by {line.funder}" if line.funder else "subsidised"


def _share(section: str, measure: str, share: Share) -> Row:
    return (section, measure, str(share.count), str(share.of), percent(share))


def _count(section: str, measure: str, value: int | str) -> Row:
    return (section, measure, str(value), "", "")


def _rows(f: CohortFigures) -> Iterator[Row]:
    """Every figure of one cohort (or the totals) as a row of the long CSV."""
    p = f.participation
    for label, who in (("enrolled", p.enrolled), ("trained", p.trained)):
        yield _count("participation", f"{label}: leaders", who.leaders)
        yield _count("participation", f"{label}: institutions", who.institutions)
        yield _count("participation", f"{label}: member institutions", who.members)
        yield _count("participation", f"{label}: other organisations", who.others)
    for line in p.places:
        yield _count("places", place_label(line), line.trainees)
        yield _count("fees due", place_label(line), money(line.fees_due))
    yield _count("fees due", "all places", money(p.fees_due))
    for day in f.training:
        yield _share(
            "attendance", f"day {day.day}" + (f" ({day.on})" if day.on else ""), day.attended
        )
    for stage in f.stages:
        yield _share("stages", stage.title, stage.done)
    m = f.mentoring
    yield _count("mentoring", "trainees with a mentor", m.with_mentor)
    yield _count("mentoring", "trainees who met their mentor", m.trainees_met)
    yield _count("mentoring", "meetings held", m.meetings)
    for number, held in m.by_number:
        yield _count("mentoring", f"meeting {number} held", held)
    for lset in f.learning_sets:
        yield _count("learning sets", f"{lset.name}: members", lset.members)
        for s in lset.sessions:
            yield _share("learning sets", f"{lset.name}: {s.title}", s.done)
    for s in f.learning_set_totals:
        yield _share("learning sets", f"all sets: {s.title}", s.done)
    if f.graduation is not None:
        g = f.graduation
        yield _count("graduation", "graduation applies", g.applies)
        yield _count("graduation", "eligible", g.eligible)
        yield _count("graduation", "graduated", g.graduated)
    yield _count("withdrawals", "withdrawn", f.withdrawals.count)
    for month, count in f.withdrawals.by_month:
        yield _count("withdrawals", f"withdrawn in {month}", count)
    n = f.notices
    yield _count("notices", "emails sent", n.sent)
    yield _count("notices", "emails failed", n.failed)
    yield _count("notices", "told in a digest", n.told_in_digests)
    for kind in n.kinds:
        yield _count("notices", f"{kind.kind}: sent", kind.sent)
        yield _count("notices", f"{kind.kind}: failed", kind.failed)
    yield _count("evaluation", "responses", f.evaluation.responses)
    for q in f.evaluation.questionnaires:
        yield _count("evaluation", f"{q.id}: responses", q.responses)
        for sc in q.scores:
            yield _count("evaluation", f"{q.id}: {sc.item} n", sc.n)
            yield _count("evaluation", f"{q.id}: {sc.item} mean", sc.mean)
            yield _count("evaluation", f"{q.id}: {sc.item} median", sc.median)
        for c in q.changes:
            yield _count("evaluation", f"{q.id}: {c.item} n", c.n)
            yield _count("evaluation", f"{q.id}: {c.item} mean before", c.mean_before)
            yield _count("evaluation", f"{q.id}: {c.item} mean after", c.mean_after)
            yield _count(
                "evaluation", f"{q.id}: {c.item} increase of the means", c.increase_of_means
            )
            yield _count("evaluation", f"{q.id}: {c.item} mean of increases", c.mean_of_increases)
            yield _count("evaluation", f"{q.id}: {c.item} increases n", c.increases_n)


def _cell(text: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(report: FunderReport) -> str:
    """One row per figure: ``cohort,section,measure,count,of,percent``; totals as ``total``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cohort", "section", "measure", "count", "of", "percent"])
    writer.writerow(["", "report", "made at", report.made_at.isoformat(), "", ""])
    writer.writerow(["", "report", "cohorts", " ".join(report.cohort_ids), "", ""])
    every = [*report.cohorts, *([report.total] if report.total else [])]
    for figures in every:
        for row in _rows(figures):
            writer.writerow([_cell(c) for c in (figures.cohort_id, *row)])
    return out.getvalue()


def _plain(value: Any) -> Any:
    """JSON for what ``json`` cannot write itself: money as text, times in ISO, enums."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON: {value!r}")


def _with_percent(value: Any) -> Any:
    """``value`` (from :func:`asdict`) with ``percent`` beside each share's count and of."""
    if isinstance(value, dict):
        out = {k: _with_percent(v) for k, v in value.items()}
        if out.keys() == {"count", "of"}:
            out["percent"] = None if out["of"] == 0 else percent(Share(out["count"], out["of"]))
        return out
    if isinstance(value, list | tuple):
        return [_with_percent(v) for v in value]
    return value


def to_json(report: FunderReport) -> str:
    """The figures as they are, with each share's percentage beside it (or null)."""
    data = _with_percent(asdict(report))
    return json.dumps(data, indent=2, ensure_ascii=False, default=_plain) + "\n"
