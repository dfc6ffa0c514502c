"""The demo's evaluation forms: what trainees say after the Two-Day Training, after the
last learning set and at graduation.

Each is typed up as the CSV file an organiser would make from paper and online forms
(named forms first, then anonymous ones), written into the demo folder and imported
through the same service as ``journey evaluation import``. Who answers, and what, comes
from a seeded random, so the same seed gives the same files. The comments are made up.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from journey.cli.demo.data import BY
from journey.programme import Question, Questionnaire

# questionnaire -> (milestone, session) whose attendees are handed the form, and how many answer
HANDED_OUT = {
    "after-training": ("training", 2, 0.85),
    "after-last-set": ("learning-set-3", 1, 0.8),
    "at-graduation": ("graduation", 1, 0.9),
}
ANONYMOUS = 0.25  # the share who leave their email off the form
COMMENTING = 0.5  # the share who write something in the comments box
SKIPPING = 0.06  # the chance that a statement is left blank
SCORES = (6, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10)
BEFORE = (1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7)
GAIN = (0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5)

COMMENTS = {
    "after-training": (
        "The one-to-ones were the bit I'll remember. I've done three at church since.",
        "Power analysis finally explained why our residents' meetings never get anywhere.",
        "Two full days is a lot with young children, but it was worth it.",
        "I'd have liked more time on how to run a house meeting.",
        "Good to meet people from the gurdwara and the school. We live streets apart and "
        "had never spoken.",
        "Lovely lunch! The room was cold on the Saturday morning though.",
        "I came in sceptical. The story about winning back the bus route won me over.",
        "Felt a bit rushed after lunch on the second day.",
        "Clearer than I expected. I know what I'm doing in the next month.",
        "More on self-interest please, I'm still not sure I've got it.",
        "It made me see I've been organising for people, not with them.",
        "The role play was awkward but it worked.",
    ),
    "after-last-set": (
        "Keep going when the meeting with the council fell through.",
        "Plan our residents' survey and actually get it done.",
        "Hear how others handle setbacks. I felt less on my own.",
        "Work out who to talk to at the housing association.",
        "Stop trying to do everything myself.",
        "Practise the ask before we met the head teacher.",
        "Turn a moan about parking into an action with twenty neighbours.",
        "The evenings were hard to get to, but when I went it helped.",
    ),
    "at-graduation": (
        "Keep the parents' group meeting every month and bring in two new leaders.",
        "Run a listening campaign at the mosque in the autumn.",
        "Mentor someone on next year's training.",
        "Keep pushing for the crossing outside the school until it is built.",
        "Take what the food bank found to the council's scrutiny committee.",
        "Start one-to-ones with the tenants on the other side of the estate.",
        "Ask our church to join the alliance as a member.",
    ),
}


def responses_csv(questionnaire: Questionnaire, emails: Sequence[str], seed: int) -> str:
    """The forms of those among ``emails`` who answer ``questionnaire``, as a CSV file."""
    rng = random.Random(f"{seed}-{questionnaire.id}")
    answering = [e for e in emails if rng.random() < HANDED_OUT[questionnaire.id][2]]
    comments = list(COMMENTS.get(questionnaire.id, ()))
    rng.shuffle(comments)
    rows: list[tuple[bool, list[str]]] = []
    for email in answering:
        anonymous = rng.random() < ANONYMOUS
        cells = [cell for q in questionnaire.items for cell in _answer(q, rng, comments)]
        rows.append((anonymous, ["" if anonymous else email, *cells]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", *questionnaire.columns])
    writer.writerows(cells for anonymous, cells in sorted(rows, key=lambda r: r[0]))
    return out.getvalue()


def _answer(question: Question, rng: random.Random, comments: list[str]) -> list[str]:
    """One item's cells on one form."""
    if question.kind == "score":
        return [str(rng.choice(SCORES))]
    if question.kind == "comments":
        return [comments.pop() if comments and rng.random() < COMMENTING else ""]
    before, gain = rng.choice(BEFORE), rng.choice(GAIN)
    if rng.random() < SKIPPING:
        return ["", ""]
    return [str(before), str(min(10, before + gain))]


def collect(folder: Path, questionnaire_id: str, seed: int) -> Callable[[str, str, datetime], str]:
    """The organiser types up one questionnaire's forms and imports them."""

    def act(url: str, cohort_id: str, now: datetime) -> str:
        from sqlalchemy import select

        from journey.db import session_scope
        from journey.models import Completion, Enrolment, Person
        from journey.services.evaluation import import_responses
        from journey.services.loading import load_cohort

        milestone, session_no, _ = HANDED_OUT[questionnaire_id]
        path = folder / f"{questionnaire_id}.csv"
        with session_scope(url) as session:
            questionnaire = load_cohort(session, cohort_id).programme.questionnaire(
                questionnaire_id
            )
            came = session.scalars(
                select(Person.email)
                .join(Enrolment, Enrolment.person_id == Person.id)
                .join(Completion, Completion.enrolment_id == Enrolment.id)
                .where(
                    Enrolment.cohort_id == cohort_id,
                    Completion.milestone == milestone,
                    Completion.occurrence == session_no,
                    Person.email.is_not(None),
                )
                .order_by(Person.email)
            ).all()
            text = responses_csv(questionnaire, [e for e in came if e], seed)
            path.write_text(text, encoding="utf-8")
            done = import_responses(
                session=session,
                cohort_id=cohort_id,
                file=path.name,
                text=text,
                questionnaire_id=questionnaire_id,
                now=now,
                by=BY,
            )
        comments = f"{done.comments} comment{'' if done.comments == 1 else 's'}"
        return (
            f"{path.name}: {done.stored} of {len(came)} forms back for "
            f"'{questionnaire.title}' ({done.anonymous} anonymous, {comments})"
        )

    return act
