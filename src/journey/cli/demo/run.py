"""``journey demo``: a sample cohort walked through nine months into a local outbox.

The clock jumps from one day with something due to the next (it does not tick through
every day); on each, the trainees' plausible progress so far is recorded through the
same service as ``journey record`` and one ``send-reminders`` flow run sweeps and delivers.
The evaluation forms are collected along the way (``journey.cli.demo.evaluation``), and the
funder's report, as at the end, is written next to the outbox.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from journey.cli.console import console, legend, status_table, working
from journey.cli.demo.year import Happening, happenings, print_emails_by_role, write_funder_report
from journey.engine import Occurrence, Planner, local_date, local_moment, occurrences

LAUNCH_AT = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
END_AT = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)
COHORT = "demo-2026"
DEMO_OUTBOX = "outbox"
DEMO_FILES = frozenset(
    {"journey.db", "journey.db-wal", "journey.db-shm", "cohort.yaml", "roster.csv", "newcomers.csv"}
    | {"after-training.csv", "after-last-set.csv", "at-graduation.csv"}  # evaluation forms
    | {"report.md", "report.html"}  # the funder's report
)


@dataclass(frozen=True)
class Done:
    """A simulated completion: who did what, and when it gets recorded."""

    at: datetime
    email: str
    milestone: str
    on: date


def _prepare(folder: Path) -> str:
    """Empty the demo folder (only a new, empty or previous demo's one) and point this
    process's settings at it: its SQLite file, and its outbox folder whatever SMTP settings
    the environment or a ``.env`` file hold. The environment beats ``.env``, so an empty
    ``JOURNEY_SMTP_HOST`` here means no SMTP: the demo never mails anyone.
    """
    for leftover in _demo_leftovers(folder):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(folder / 'journey.db').resolve()}"
    os.environ["JOURNEY_DATABASE_URL"] = url
    os.environ["JOURNEY_OUTBOX_DIR"] = str((folder / DEMO_OUTBOX).resolve())
    os.environ["JOURNEY_SMTP_HOST"] = ""
    os.environ["JOURNEY_SMTP_PASSWORD_BLOCK"] = ""  # no Prefect Secret to look up either
    from journey.settings import get_settings

    get_settings.cache_clear()
    return url


def _demo_leftovers(folder: Path) -> list[Path]:
    """What a previous demo left in ``folder`` (nothing if it is new or empty); raises
    :class:`NotADemoFolder` if it holds anything a demo does not leave, before anything
    is deleted, since the demo empties its folder and ``--dir`` may name any folder."""
    from journey.errors import NotADemoFolder

    if not folder.exists():
        return []
    if not folder.is_dir():
        raise NotADemoFolder(f"--dir {folder} is a file, not a folder; nothing was deleted")
    entries = sorted(folder.iterdir())
    strangers = [e.name for e in entries if not _left_by_a_demo(e)]
    if strangers:
        more = f" (and {len(strangers) - 1} more)" if len(strangers) > 1 else ""
        raise NotADemoFolder(
            f"--dir {folder} is not a demo folder: it holds {strangers[0]!r}{more}, which a "
            "demo does not leave; nothing was deleted. Choose a new or empty folder"
        )
    return entries


def _left_by_a_demo(entry: Path) -> bool:
    """Whether ``entry`` is one of the files a demo writes, or its outbox of .eml files."""
    if entry.is_symlink():
        return False
    if entry.name == DEMO_OUTBOX:
        return entry.is_dir() and all(
            f.is_file() and not f.is_symlink() and f.name.endswith((".eml", ".tmp"))
            for f in entry.iterdir()
        )
    return entry.name in DEMO_FILES and entry.is_file()


def _import(folder: Path, url: str, seed: int) -> None:
    from journey.cli.demo.data import cohort_yaml, roster_csv
    from journey.cohort.file import read_cohort
    from journey.db import session_scope, upgrade
    from journey.services.cohorts import import_cohort

    (folder / "cohort.yaml").write_text(cohort_yaml(), encoding="utf-8")
    (folder / "roster.csv").write_text(roster_csv(seed), encoding="utf-8")
    upgrade(url)
    spec = read_cohort(folder / "cohort.yaml", folder / "roster.csv")
    with session_scope(url) as session:
        import_cohort(session=session, spec=spec, now=LAUNCH_AT)
    console.print(
        f"Imported {len(spec.trainees)} trainees from {len(spec.institutions)} "
        f"institutions ({folder / 'cohort.yaml'}, {folder / 'roster.csv'})."
    )


def _progress_for(occ: Occurrence, tz: str, rng: random.Random, trail: set[str]) -> list[date]:
    """Plausible completion dates for one milestone (empty if never done). ``trail`` holds
    what the trainee did so far, in programme order: a trainee who misses a stage stalls
    there, and only those at the last learning set give their presentation."""
    group = occ.milestone.group
    if group == "presentation" and f"set {occ.milestone.session}" not in trail:
        return []
    if occ.slots:
        chance = {"training": 0.96, "learning-set": 0.85, "presentation": 0.95}.get(group, 0.9)
        days = [local_date(s.starts_at, tz) for s in occ.slots if rng.random() < chance]
        if days and group == "learning-set":
            trail.add(f"set {occ.milestone.session}")
        return days
    if occ.opens_on is not None:  # mentoring window
        if rng.random() > 0.82:
            return []
        span = (occ.on - occ.opens_on).days + 20
        return [occ.opens_on + timedelta(days=rng.randrange(span))]
    if "stalled" in trail or rng.random() > 0.95:
        trail.add("stalled")
        return []
    return [occ.on + timedelta(days=rng.randint(-12, 24))]


def _simulate(
    url: str, seed: int, after: datetime = LAUNCH_AT, email: str | None = None
) -> tuple[list[Done], list[datetime]]:
    """Everyone's completions (or one trainee's, from ``after``), and the days (last due
    moment of each) the clock visits."""
    from journey.db import session_scope
    from journey.services.loading import load_cohort, load_trainees

    rng = random.Random(seed)
    done: list[Done] = []
    moments: dict[date, datetime] = {}
    with session_scope(url) as session:
        loaded = load_cohort(session, COHORT)
        plan = replace(loaded.plan, launched_at=LAUNCH_AT)
        tz = loaded.cohort.timezone
        for t in load_trainees(session, [COHORT])[COHORT]:
            who = t.enrolment.person.email or ""
            if email is not None and who != email:
                continue
            trail: set[str] = set()
            for occ in occurrences(loaded.programme, plan, t.record):
                if occ.milestone.id == "graduation":
                    continue  # decided at the time, from eligibility
                for day in _progress_for(occ, tz, rng, trail):
                    at = local_moment(day, time(20, 0), tz)
                    if at > after:
                        done.append(Done(at, who, occ.milestone.id, day))
            for n in Planner(loaded.programme, plan).planned(t.record):
                day = local_date(n.due_at, tz)
                moments[day] = max(moments.get(day, n.due_at), n.due_at)
    done.sort(key=lambda d: (d.at, d.milestone, d.email))
    return done, sorted(m for m in moments.values() if LAUNCH_AT < m <= END_AT)


def _record_until(url: str, pending: list[Done], until: datetime) -> int:
    """Record every simulated completion up to ``until``, a session's list at a time."""
    from journey.db import session_scope
    from journey.services.record import record

    groups: dict[tuple[str, date], list[str]] = defaultdict(list)
    while pending and pending[0].at <= until:
        item = pending.pop(0)
        groups[(item.milestone, item.on)].append(item.email)
    with session_scope(url) as session:
        for (milestone, on), emails in groups.items():
            record(
                session=session,
                cohort_id=COHORT,
                emails=emails,
                milestone=milestone,
                on=on,
                now=until,
            )
    return sum(len(v) for v in groups.values())


def _graduate(url: str, seed: int) -> None:
    """On graduation day, most eligible trainees come."""
    from journey.db import session_scope
    from journey.engine import evaluate
    from journey.services.loading import load_cohort, load_trainees
    from journey.services.record import record

    rng = random.Random(seed + 1)
    with session_scope(url) as session:
        loaded = load_cohort(session, COHORT)
        if loaded.plan.graduation is None:
            return
        at = loaded.plan.graduation.ends_at
        came = [
            t.enrolment.person.email or ""
            for t in load_trainees(session, [COHORT])[COHORT]
            if evaluate(loaded.programme, loaded.plan, t.record, at).eligible and rng.random() < 0.9
        ]
        if came:
            record(
                session=session,
                cohort_id=COHORT,
                emails=came,
                milestone="graduation",
                on=None,
                now=at,
            )


def run_demo(folder: Path, seed: int) -> None:
    """Build, launch and walk the sample cohort; print progress and where the mail went."""
    from journey.prefect_env import apply, flows_here

    url = _prepare(folder)  # first: a folder it may not empty stops it before anything runs
    where = apply()
    _import(folder, url, seed)
    pending, days = _simulate(url, seed)
    console.print(
        f"Walking the clock over {len(days)} days with something due, "
        f"{LAUNCH_AT:%d %b %Y} to {END_AT:%d %b %Y}; flows run on {where}."
    )
    with flows_here():
        _walk(url, pending, days, seed)
        _journeys(url)
    _report(url, folder)


def _walk(url: str, pending: list[Done], days: list[datetime], seed: int) -> None:
    """Launch, then sweep on each day with something due, recording completions between."""
    with working("Starting Prefect (the first flow run takes ~20 s)…"):
        from journey.flows.launch_cohort import launch_cohort
        from journey.flows.send_reminders import send_reminders

        launch_cohort(COHORT, now=LAUNCH_AT)
    graduation: datetime | None = datetime(2027, 6, 17, 20, 0, tzinfo=UTC)
    emails = sorted({d.email for d in pending})
    year = happenings(emails, Path(os.environ["JOURNEY_OUTBOX_DIR"]).parent, seed)
    for i, day in enumerate(days, 1):
        if graduation is not None and day > graduation:
            _graduate(url, seed)
            graduation = None
        while year and year[0].at <= day:
            _happen(url, year.pop(0), pending, seed)
        recorded = _record_until(url, pending, day)
        delivery = send_reminders(now=day).delivery
        sent = delivery.sent if delivery else 0
        console.print(
            f"  {day:%a %d %b %Y %H:%M} UTC  sweep {i:>2}/{len(days)}: "
            f"{recorded:>2} completions recorded, {sent:>2} notices sent"
        )
    if graduation is not None:
        _graduate(url, seed)
    for event in year:  # after the last day with something due
        _happen(url, event, pending, seed)
    _record_until(url, pending, END_AT)


def _happen(url: str, event: Happening, pending: list[Done], seed: int) -> None:
    """One of the year's happenings; a withdrawn trainee records nothing more, a newcomer
    makes progress from their join on; forms are handed to those who came, so what was
    done by then is recorded first."""
    if event.what == "evaluation":
        _record_until(url, pending, event.at)
    line = event.act(url, COHORT, event.at)
    console.print(f"  {event.at:%a %d %b %Y %H:%M} UTC  {event.what}: {line}")
    who = line.split(" ", 1)[0]
    if event.what == "withdrawal":
        pending[:] = [d for d in pending if d.email != who]
    elif event.what == "late joiner":
        theirs, _ = _simulate(url, seed, after=event.at, email=who)
        pending[:] = sorted([*pending, *theirs], key=lambda d: (d.at, d.milestone, d.email))


def _journeys(url: str) -> None:
    """One trainee-journey run per trainee at the end, so the UI shows where each stands.

    Four at a time: a flow run spends much of its time waiting on the API, so they
    overlap. Each runs in a copy of this thread's context, which holds its Prefect
    settings (pool threads start with an empty one).
    """
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from journey.db import session_scope
    from journey.flows.trainee_journey import trainee_journey
    from journey.services.loading import load_trainees

    with session_scope(url) as session:
        emails = [t.enrolment.person.email or "" for t in load_trainees(session, [COHORT])[COHORT]]
    here = contextvars.copy_context()
    with (
        working(f"Running trainee-journey for each of the {len(emails)} trainees…"),
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        list(
            pool.map(
                lambda email: here.copy().run(trainee_journey, COHORT, email, now=END_AT),
                emails,
            )
        )
    console.print(f"Ran trainee-journey for {len(emails)} trainees (one flow run each).")


def _report(url: str, folder: Path) -> None:
    from journey.db import session_scope
    from journey.models import Notice, NoticeStatus
    from journey.services.status import cohort_status

    with session_scope(url) as session:
        report = cohort_status(session=session, cohort_id=COHORT, now=END_AT)
        emails = Notice.digest_id.is_(None)  # a held notice told in a digest is no email
        counts = Counter(
            dict(
                session.execute(
                    select(Notice.status, func.count()).where(emails).group_by(Notice.status)
                ).all()
            )
        )
        told = session.scalar(select(func.count()).where(Notice.digest_id.is_not(None)))
        kinds = session.execute(
            select(Notice.template, func.count())
            .where(Notice.status == NoticeStatus.SENT, emails)
            .group_by(Notice.template)
            .order_by(func.count().desc())
        ).all()
    console.print(status_table(report))
    console.print(legend(report), style="dim")
    outbox = (folder / "outbox").resolve()
    files = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    sent, cancelled = counts.get(NoticeStatus.SENT, 0), counts.get(NoticeStatus.CANCELLED, 0)
    console.print(
        f"\n{sent} emails sent ({told} notices to organiser, mentors and facilitators told in "
        f"their daily digests), {cancelled} cancelled at send time (done, withdrawn or opted "
        f"out by then), {counts.get(NoticeStatus.SKIPPED, 0)} skipped (late, or superseded)."
    )
    console.print("By kind: " + ", ".join(f"{k} {n}" for k, n in kinds))
    print_emails_by_role(url)
    console.print(
        f"The emails are in {outbox} ({files} .eml files; open one with any mail "
        f"client). The database is {folder.resolve() / 'journey.db'}."
    )
    md, html = write_funder_report(url, COHORT, folder.resolve(), END_AT)
    console.print(f"The funder's report is {md} (and {html.name}, to open in a browser).")
