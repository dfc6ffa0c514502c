"""Generated cohorts: their shape, their skeleton as a spec, their trainees, their files.

A cohort follows the default programme in Europe/London: two training days, sets that
meet 10, 19 and 27 weeks later (set k two days after set k-1, in a three-night cycle),
graduation 38 weeks later, one mentor per 8 follow-up trainees, one set per 10.
Everything is derived from the shape and a seeded random generator.
"""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from journey.cohort.specs import (
    CohortSpec,
    InstitutionSpec,
    LearningSetSpec,
    PersonSpec,
    SlotSpec,
)
from journey.engine import local_moment, zone
from journey.models import Place

TZ = "Europe/London"
SET_WEEKS = (10, 19, 27)
GRADUATION_DAYS = 266  # 38 weeks after the training
INSTITUTION_POOL = 40
INSTITUTIONS_PER_COHORT = 10
FOLLOW_UP = 0.75
FUNDER = "Community Foundation"
FEE = Decimal(60)


@dataclass(frozen=True)
class CohortShape:
    """One generated cohort: its id, its size, its place in the pool, its training date."""

    cohort_id: str
    trainees: int
    training_on: date  # first training day (local)
    index: int = 0  # picks its institutions from the shared pool
    follow_up: float = FOLLOW_UP

    @property
    def mentors(self) -> int:
        return max(1, math.ceil(self.trainees * self.follow_up / 8))

    @property
    def sets(self) -> int:
        return max(1, math.ceil(self.trainees * self.follow_up / 10))

    @property
    def launched_at(self) -> datetime:
        """Three weeks before the training, 10:00 local."""
        return local_moment(self.training_on - timedelta(days=21), time(10, 0), TZ)

    @property
    def institutions(self) -> list[InstitutionSpec]:
        """Ten institutions from a shared pool (names are unique across cohorts)."""
        picks = [(self.index * 7 + k) % INSTITUTION_POOL for k in range(INSTITUTIONS_PER_COHORT)]
        return [InstitutionSpec(f"Institution {i:02d}", member=i % 2 == 0) for i in picks]


def slot(day: date, start: time, end: time) -> SlotSpec:
    """A session on ``day`` from ``start`` to ``end``, local time."""
    return SlotSpec(
        datetime.combine(day, start, tzinfo=zone(TZ)), datetime.combine(day, end, tzinfo=zone(TZ))
    )


def set_sessions(shape: CohortShape, number: int) -> tuple[SlotSpec, ...]:
    shift = timedelta(days=2 * (number % 3))
    return tuple(
        slot(shape.training_on + timedelta(weeks=w) + shift, time(17, 30), time(19, 30))
        for w in SET_WEEKS
    )


def cohort_spec(shape: CohortShape) -> CohortSpec:
    """The cohort without its trainees: organiser, institutions, mentors, sets, sessions."""
    cid, day1 = shape.cohort_id, shape.training_on
    return CohortSpec(
        id=cid,
        title=f"Two-Day Training {cid}",
        timezone=TZ,
        organiser=PersonSpec(f"Organiser {cid}", f"organiser.{cid}@example.org"),
        funder=FUNDER,
        fee=FEE,
        training_venue="Quaker Centre",
        training_days=(
            slot(day1, time(9, 30), time(16, 30)),
            slot(day1 + timedelta(days=1), time(9, 30), time(16, 30)),
        ),
        institutions=tuple(shape.institutions),
        mentors=tuple(
            PersonSpec(f"Mentor {cid} {k}", f"mentor.{cid}.{k}@example.org")
            for k in range(shape.mentors)
        ),
        learning_sets=tuple(
            LearningSetSpec(
                name=f"Set {k + 1}",
                venue=f"Venue {k % 5}",
                sessions=set_sessions(shape, k),
                facilitator=PersonSpec(f"Facilitator {cid} {k}", f"fac.{cid}.{k}@example.org"),
            )
            for k in range(shape.sets)
        ),
        graduation_venue="Quaker Centre",
        graduation=slot(day1 + timedelta(days=GRADUATION_DAYS), time(18, 0), time(20, 0)),
        programme="default",
        programme_name="default",
    )


@dataclass(frozen=True)
class TraineeRow:
    """One roster row, with mentor and set as positions in the cohort's lists."""

    name: str
    email: str
    institution: InstitutionSpec
    place: Place
    follow_up: bool
    mentor: int | None
    learning_set: int | None


def trainees(shape: CohortShape, rng: random.Random) -> list[TraineeRow]:
    """The roster: members' first trainee takes the free place; 75 % in follow-up."""
    institutions = shape.institutions
    rows = []
    for j in range(shape.trainees):
        inst = institutions[j % len(institutions)]
        if inst.member and j < len(institutions):
            place = Place.MEMBER
        else:
            place = Place.FEE if j % 3 else Place.SUBSIDISED
        follow_up = rng.random() < shape.follow_up
        rows.append(
            TraineeRow(
                name=f"Trainee {shape.cohort_id} {j}",
                email=f"t{j}.{shape.cohort_id}@example.org",
                institution=inst,
                place=place,
                follow_up=follow_up,
                mentor=j % shape.mentors if follow_up else None,
                learning_set=j % shape.sets if follow_up else None,
            )
        )
    return rows


def _session(s: SlotSpec) -> str:
    return f"{s.starts_at:%Y-%m-%dT%H:%M}/{s.ends_at:%H:%M}"


def _person(p: PersonSpec) -> str:
    return f"{{name: {p.name}, email: {p.email}}}"


def write_files(shape: CohortShape, folder: Path, rng: random.Random) -> tuple[Path, Path]:
    """The cohort file and roster an organiser would import, for ``read_cohort``."""
    spec = cohort_spec(shape)
    lines = [
        f"id: {spec.id}",
        f"title: {spec.title}",
        f"timezone: {spec.timezone}",
        f"organiser: {_person(spec.organiser)}",
        f"funder: {spec.funder}",
        f"fee: {spec.fee}",
        "training:",
        f"  venue: {spec.training_venue}",
        "  days: [" + ", ".join(f'"{_session(d)}"' for d in spec.training_days) + "]",
        "institutions:",
        *(f"  - {{name: {i.name}, member: {str(i.member).lower()}}}" for i in spec.institutions),
        "mentors:",
        *(f"  - {_person(m)}" for m in spec.mentors),
        "learning_sets:",
    ]
    for ls in spec.learning_sets:
        assert ls.facilitator is not None
        lines += [
            f"  - name: {ls.name}",
            f"    venue: {ls.venue}",
            f"    facilitator: {_person(ls.facilitator)}",
            "    sessions: [" + ", ".join(f'"{_session(s)}"' for s in ls.sessions) + "]",
        ]
    assert spec.graduation is not None
    lines += [
        f'graduation: {{venue: {spec.graduation_venue}, at: "{_session(spec.graduation)}"}}',
        "programme: default",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    cohort_file, roster_file = folder / "cohort.yaml", folder / "roster.csv"
    cohort_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    roster_file.write_text(roster_csv(spec, trainees(shape, rng)), encoding="utf-8")
    return cohort_file, roster_file


def roster_csv(spec: CohortSpec, rows: list[TraineeRow]) -> str:
    """The roster CSV (``name,email,institution,place,follow_up,mentor,learning_set``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["name", "email", "institution", "place", "follow_up", "mentor", "learning_set"]
    )
    for r in rows:
        mentor = spec.mentors[r.mentor].email if r.mentor is not None else ""
        lset = spec.learning_sets[r.learning_set].name if r.learning_set is not None else ""
        follow_up = "yes" if r.follow_up else "no"
        writer.writerow(
            [r.name, r.email, r.institution.name, r.place.value, follow_up, mentor, lset]
        )
    return out.getvalue()
