"""What happens to the demo cohort during its year, beyond the plan: the organiser's life.

A trainee opts out of email (they stay on the programme), another withdraws, a latecomer
joins after the training, and a completion recorded with the wrong date is corrected. The
evaluation forms handed out after the training, after the last learning set and at
graduation are imported. Each goes through the same service as its command (``journey
person opt-out``, ``journey withdraw``, ``journey cohort add``, ``journey record --on``,
``journey evaluation import``) at its moment in the walk. At the end, the organiser makes
the funder's report (``journey report``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from journey.cli.console import console
from journey.cli.demo.data import BY
from journey.cli.demo.evaluation import collect

NEWCOMER = "zara.begum@example.org"
NEWCOMER_ROW = f"Zara Begum,{NEWCOMER},Greenleys Residents,fee,yes,{{mentor}},Set A\n"
HEADER = "name,email,institution,place,follow_up,mentor,learning_set\n"


@dataclass(frozen=True)
class Happening:
    """Something the organiser does on a given day, and who it concerns."""

    at: datetime
    what: str
    act: Callable[[str, str, datetime], str]  # (url, cohort id, now) -> a line to print


def _opt_out(email: str) -> Callable[[str, str, datetime], str]:
    def act(url: str, cohort_id: str, now: datetime) -> str:
        from journey.db import session_scope
        from journey.services.membership import opt_out

        with session_scope(url) as session:
            opt_out(session=session, email=email, by=BY, now=now)
        return f"{email} opts out of email: still on the programme, told by other means"

    return act


def _withdraw(email: str) -> Callable[[str, str, datetime], str]:
    def act(url: str, cohort_id: str, now: datetime) -> str:
        from journey.db import session_scope
        from journey.services.membership import withdraw

        with session_scope(url) as session:
            done = withdraw(
                session=session,
                cohort_id=cohort_id,
                email=email,
                on=None,
                reason="moved away for work",
                by=BY,
                now=now,
            )
        return f"{email} withdraws: {done.cancelled} queued notices cancelled"

    return act


def _late_joiner(folder: Path) -> Callable[[str, str, datetime], str]:
    def act(url: str, cohort_id: str, now: datetime) -> str:
        from journey.db import session_scope
        from journey.models import Mentor, Person
        from journey.services.joining import add_trainees, read_additions

        with session_scope(url) as session:
            mentor = session.scalars(
                select(Person.email).join(Mentor, Mentor.person_id == Person.id).limit(1)
            ).one()
            path = folder / "newcomers.csv"
            path.write_text(HEADER + NEWCOMER_ROW.format(mentor=mentor), encoding="utf-8")
            trainees = read_additions(session=session, cohort_id=cohort_id, path=path)
            joined = add_trainees(
                session=session, cohort_id=cohort_id, trainees=trainees, joined_at=now, now=now
            )
        return f"{NEWCOMER} joins late: {joined.welcomes} welcome naming the sessions to come"

    return act


def _correct(email: str, milestone: str, wrong: date, right: date) -> Callable[..., str]:
    def act(url: str, cohort_id: str, now: datetime) -> str:
        from journey.db import session_scope
        from journey.services.record import record

        for on in (wrong, right):
            with session_scope(url) as session:
                record(
                    session=session,
                    cohort_id=cohort_id,
                    emails=[email],
                    milestone=milestone,
                    on=on,
                    now=now,
                    by=BY,
                )
        return f"{email}: {milestone} recorded as {wrong}, then corrected to {right}"

    return act


def happenings(emails: list[str], folder: Path, seed: int) -> list[Happening]:
    """The year's events for the demo's trainees (in roster order), by date."""
    year = [
        Happening(datetime(2026, 10, 12, 9, 0, tzinfo=UTC), "opt-out", _opt_out(emails[3])),
        Happening(
            datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
            "correction",
            _correct(emails[0], "listening", date(2026, 10, 2), date(2026, 11, 2)),
        ),
        Happening(datetime(2026, 11, 10, 10, 0, tzinfo=UTC), "withdrawal", _withdraw(emails[5])),
        Happening(datetime(2026, 11, 16, 10, 0, tzinfo=UTC), "late joiner", _late_joiner(folder)),
        *(
            Happening(at, "evaluation", collect(folder, questionnaire, seed))
            for at, questionnaire in (
                (datetime(2026, 10, 5, 9, 0, tzinfo=UTC), "after-training"),
                (datetime(2027, 4, 19, 9, 0, tzinfo=UTC), "after-last-set"),
                (datetime(2027, 6, 24, 9, 0, tzinfo=UTC), "at-graduation"),
            )
        ),
    ]
    return sorted(year, key=lambda h: h.at)


def write_funder_report(url: str, cohort_id: str, folder: Path, now: datetime) -> list[Path]:
    """The funder's report as at ``now``, as ``journey report`` makes it: ``report.md`` and
    ``report.html`` in ``folder``."""
    from journey.db import session_scope
    from journey.services.funder_report import funder_report
    from journey.services.funder_report_html import to_html
    from journey.services.funder_report_markdown import to_markdown

    with session_scope(url) as session:
        report = funder_report(session=session, cohort_ids=[cohort_id], now=now)
    written = []
    for name, render in (("report.md", to_markdown), ("report.html", to_html)):
        path = folder / name
        path.write_text(render(report), encoding="utf-8", newline="")
        written.append(path)
    return written


def emails_by_role(url: str) -> dict[str, tuple[int, int]]:
    """Emails each role received (a digest is one email, however many it lists), and the
    most one person of that role received on one day."""
    from journey.db import session_scope
    from journey.models import Notice, NoticeStatus

    with session_scope(url) as session:
        rows = session.execute(
            select(Notice.recipient_role, Notice.person_id, Notice.sent_at).where(
                Notice.status == NoticeStatus.SENT, Notice.digest_id.is_(None)
            )
        ).all()
        total = Counter(role for role, _, _ in rows)
        per_day = Counter((role, person, sent.date()) for role, person, sent in rows if sent)
    most: dict[str, int] = {}
    for (role, _, _), n in per_day.items():
        most[role] = max(most.get(role, 0), n)
    return {role: (total[role], most.get(role, 0)) for role in total}


def print_emails_by_role(url: str) -> None:
    counts = emails_by_role(url)
    order = ("trainee", "organiser", "mentor", "facilitator")
    parts = [
        f"{role} {counts[role][0]} (at most {counts[role][1]} to one person in a day)"
        for role in order
        if role in counts
    ]
    console.print("Emails by role: " + "; ".join(parts) + ".")
