"""Each trainee's position, from the database alone (no Prefect)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from journey.engine import Planner, State, evaluate
from journey.services.loading import load_cohort, load_trainees


@dataclass(frozen=True)
class TraineeStatus:
    name: str
    email: str
    institution: str
    place: str
    follow_up: bool
    position: str
    done: int
    applicable: int
    overdue: tuple[str, ...]
    eligible: bool | None
    milestones: dict[str, str]  # milestone id -> state


@dataclass(frozen=True)
class CohortStatus:
    cohort_id: str
    title: str
    launched: bool
    milestone_ids: tuple[str, ...]
    trainees: tuple[TraineeStatus, ...]


def cohort_status(*, session: Session, cohort_id: str, now: datetime) -> CohortStatus:
    """Where every trainee of the cohort stands at ``now``."""
    loaded = load_cohort(session, cohort_id)
    rows = []
    planner = Planner(loaded.programme, loaded.plan)
    for t in load_trainees(session, [cohort_id])[cohort_id]:
        view = evaluate(loaded.programme, loaded.plan, t.record, now, planner)
        states = {v.id: v.state for v in view.milestones}
        applicable = [s for s in states.values() if s is not State.NOT_APPLICABLE]
        person = t.enrolment.person
        rows.append(
            TraineeStatus(
                name=person.name,
                email=person.email or "(erased)",
                institution=t.enrolment.institution.name,
                place=t.enrolment.place.value,
                follow_up=t.enrolment.follow_up,
                position=view.position,
                done=sum(1 for s in applicable if s is State.DONE),
                applicable=len(applicable),
                overdue=tuple(mid for mid, s in states.items() if s is State.OVERDUE),
                eligible=view.eligible,
                milestones={k: v.value for k, v in states.items()},
            )
        )
    return CohortStatus(
        cohort_id,
        loaded.cohort.title,
        loaded.cohort.launched_at is not None,
        loaded.programme.ids,
        tuple(rows),
    )


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(status: CohortStatus) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "name",
            "email",
            "institution",
            "place",
            "follow_up",
            "position",
            "done",
            "applicable",
            "eligible",
            *status.milestone_ids,
        ]
    )
    for t in status.trainees:
        eligible = "" if t.eligible is None else ("yes" if t.eligible else "no")
        writer.writerow(
            [
                _cell(v)
                for v in (
                    t.name,
                    t.email,
                    t.institution,
                    t.place,
                    "yes" if t.follow_up else "no",
                    t.position,
                    t.done,
                    t.applicable,
                    eligible,
                    *(t.milestones[m] for m in status.milestone_ids),
                )
            ]
        )
    return out.getvalue()


def to_json(status: CohortStatus) -> str:
    return json.dumps(asdict(status), indent=2, ensure_ascii=False)
