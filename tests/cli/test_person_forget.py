"""``journey person forget``: a person erased, the report's figures kept."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import String, Text, func, or_, select
from sqlalchemy.engine import make_url

from journey.db import session_scope
from journey.models import Base, Enrolment, Notice, NoticeStatus, Person
from journey.services.record import record
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import AISHA, launch_sweep_deliver, ok
from tests.cli.test_person_export import aisha_year
from tests.conftest import BACKEND, EXAMPLES, utc

NAME = "Aisha Rahman"
REPORT_AT = "2026-10-25T12:00"
FORGET_AT = "2026-10-20T12:00"
NEEDLES = (AISHA.encode(), NAME.encode(), NAME.lower().encode())


def year(settings: Settings, tmp_path: Path) -> None:
    """Launched, welcomed and reminded; Aisha recorded listening, answered a questionnaire,
    was named in someone's comment and in a notice's error, withdrew with a reason and
    asked for an export."""
    aisha_year(settings, f"{AISHA},9,4,8,5,9,6,9,Loved it\n,7,3,6,,,,,Role play with {NAME}\n")
    with session_scope(settings.database_url) as session:
        other = session.scalars(
            select(Notice).join(Person, Person.id == Notice.person_id).where(Person.email != AISHA)
        ).first()
        assert other is not None
        other.last_error = f"421 busy; retry (about {AISHA})"
    reason = f"moving away, says {NAME}"
    ok("withdraw", "mk-2026", AISHA, "--reason", reason, "--now", "2026-10-03T12:00")
    ok("person", "export", AISHA, "--out", str(tmp_path / "a.json"), "--now", "2026-10-05T12:00")


def report(settings: Settings) -> str:
    return ok("report", "mk-2026", "--format", "json", "--now", REPORT_AT)


def database_rows(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in order: a snapshot of the database."""
    with session_scope(settings.database_url) as session:
        return {
            t.name: [tuple(r) for r in session.execute(select(t).order_by(*t.primary_key))]
            for t in Base.metadata.sorted_tables
        }


def text_hits(settings: Settings) -> list[str]:
    """Every table.column whose text holds her address or her name, in any case."""
    hits = []
    with session_scope(settings.database_url) as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text):
                    continue
                lowered = func.lower(column)
                found = session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(or_(lowered.contains(AISHA), lowered.contains(NAME.lower())))
                )
                if found:
                    hits.append(f"{table.name}.{column.name}")
    return hits


def raw_hits(settings: Settings) -> list[str]:
    """The SQLite file, its WAL and shared memory that hold her address or name."""
    path = Path(make_url(settings.database_url).database or "")
    files = [Path(f"{path}{end}") for end in ("", "-wal", "-shm")]
    return [f.name for f in files if f.exists() and any(n in f.read_bytes() for n in NEEDLES)]


def outbox(settings: Settings) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(settings.outbox_dir.iterdir())
    }


def mentioning(settings: Settings) -> list[str]:
    found = []
    for p in sorted(settings.outbox_dir.iterdir()):
        data = p.read_bytes().lower()
        if any(n.lower() in data for n in NEEDLES):
            found.append(p.name)
    return found


def test_forgetting_keeps_every_figure_and_leaves_no_trace(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    year(settings, tmp_path)
    before = report(settings)
    assert set(text_hits(settings)) >= {"people.name", "people.email", "history.detail"}
    assert mentioning(settings)
    files_before = set(outbox(settings))

    said = ok("person", "forget", AISHA.upper(), "--by", "dpo", "--now", FORGET_AT)
    *plan, done = said.splitlines()
    assert plan[0] == f"Forgetting {AISHA}:"
    assert plan[2:5] == [
        "  2 queued notices cancelled",
        "  1 error text cleared",
        "  3 history lines, withdrawal reasons or comments rewritten",
    ]
    assert done.startswith(f"Done: {AISHA} is forgotten; they are now erased-")
    token = done.rsplit(" ", 1)[1].rstrip(".")
    assert len(token) == len("erased-") + 8

    # every figure the same: only the comment that named her now names the token
    assert report(settings) == before.replace(NAME, token)
    assert token in report(settings)
    # no trace: in the tables, the raw file and WAL, the outbox
    assert text_hits(settings) == []
    if BACKEND == "sqlite":
        assert raw_hits(settings) == []
    assert mentioning(settings) == []
    removed = files_before - set(outbox(settings))
    assert removed and {f"    {name}" for name in removed} <= set(plan)
    # the anonymous facts stay; what was queued about her is cancelled
    with session_scope(settings.database_url) as session:
        person = session.scalars(select(Person).where(Person.name == token)).one()
        assert (person.email, person.erased_at) == (
            None,
            utc("2026-10-20T11:00"),
        )  # 12:00 in London
        enrolment = session.scalars(select(Enrolment).where(Enrolment.person_id == person.id)).one()
        assert (enrolment.status.value, enrolment.withdrawal_reason) == ("withdrawn", None)
        queued = select(func.count()).where(
            or_(Notice.person_id == person.id, Notice.enrolment_id == enrolment.id),
            Notice.status.in_([NoticeStatus.PENDING, NoticeStatus.HELD]),
        )
        assert session.scalar(queued) == 0
    # she is unknown now; the audit names the token
    shown = journey("person", "show", AISHA)
    assert (shown.returncode, shown.stderr) == (
        1,
        f"Error: no one with the email {AISHA!r} is known\n",
    )
    lines = json.loads(ok("audit", "--format", "json"))
    last = lines[-1]
    assert (last["action"], last["by"], last["person"]) == ("person-forget", "dpo", token)
    assert last["detail"].startswith(f"forgotten as {token}: ")
    withdrawn = [x for x in lines if x["action"] == "withdraw"]
    assert [(x["person"], x["detail"]) for x in withdrawn] == [(token, "withdrawn on 2026-10-03")]
    assert AISHA not in json.dumps(lines) and NAME not in json.dumps(lines)


def test_a_roster_that_lists_her_again_is_refused(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    ok("person", "forget", AISHA, "--now", FORGET_AT)
    roster = tmp_path / "roster.csv"
    roster.write_text((EXAMPLES / "roster.csv").read_text())
    before = database_rows(settings)
    result = journey("cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(roster))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: 1 problem found; nothing was written\n"
        f"{roster}:6: email: {AISHA!r} was erased on 2026-10-20; it cannot be imported again\n"
    )
    assert database_rows(settings) == before
    with session_scope(settings.database_url) as session:  # only a hash is kept
        assert (
            session.scalar(select(func.count()).select_from(Person).where(Person.email == AISHA))
            == 0
        )


def test_a_dry_run_changes_nothing(settings: Settings, cohort_id: str, tmp_path: Path) -> None:
    year(settings, tmp_path)
    rows, files = database_rows(settings), outbox(settings)
    said = ok("person", "forget", AISHA, "--dry-run", "--now", FORGET_AT)
    lines = said.splitlines()
    assert lines[0] == f"Would forget {AISHA}:"
    assert lines[-1] == "Dry run: nothing was changed."
    listed = [line.strip() for line in lines if line.startswith("    ")]
    assert listed and set(listed) < set(files)
    assert (database_rows(settings), outbox(settings)) == (rows, files)


def test_an_unknown_address_is_one_line(settings: Settings, cohort_id: str) -> None:
    result = journey("person", "forget", "nobody@example.org")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: no one with the email 'nobody@example.org' is known\n"
    ok("person", "forget", AISHA, "--now", FORGET_AT)
    again = journey("person", "forget", AISHA)
    assert again.returncode == 1 and again.stderr.count("\n") == 1


@pytest.mark.skipif(BACKEND != "sqlite", reason="the raw file is SQLite's")
def test_the_raw_search_finds_her_before(settings: Settings, cohort_id: str) -> None:
    """The raw search can find her: it does not pass by looking in the wrong place."""
    assert raw_hits(settings)
    assert text_hits(settings) == ["people.name", "people.email"]


@pytest.mark.parametrize("rename", [False, True], ids=["plain", "rename"])
def test_adding_her_to_a_cohort_again_is_refused(
    settings: Settings, cohort_id: str, tmp_path: Path, rename: bool
) -> None:
    ok("person", "forget", AISHA, "--now", FORGET_AT)
    roster = tmp_path / "new.csv"
    lines = (EXAMPLES / "roster.csv").read_text().splitlines()
    roster.write_text(f"{lines[0]}\n{lines[5]}\n")  # the header and her row
    before = database_rows(settings)
    extra = ["--rename"] if rename else []
    result = journey(
        "cohort", "add", cohort_id, "--roster", str(roster), "--now", FORGET_AT, *extra
    )
    assert (result.returncode, result.stderr.splitlines()[1:]) == (
        1,
        [f"{roster}:2: email: {AISHA!r} was erased on 2026-10-20; it cannot be imported again"],
    )
    assert database_rows(settings) == before


def test_an_active_trainee_forgotten_still_counts_as_before(
    settings: Settings, cohort_id: str
) -> None:
    """Erased is not withdrawn: the report counts her place, days and progress as before."""
    launch_sweep_deliver(settings)
    with session_scope(settings.database_url) as session:
        for day in (1, 2):  # both training days: she counts as trained
            record(
                session=session,
                cohort_id="mk-2026",
                emails=[AISHA],
                milestone="training",
                on=date(2026, 9, 24 + day),
                now=utc("2026-09-29T12:00"),
            )
    before = report(settings)
    ok("person", "forget", AISHA, "--now", FORGET_AT)
    assert report(settings) == before
    [cohort] = json.loads(before)["cohorts"]
    assert cohort["participation"]["enrolled"]["leaders"] == 20
    assert cohort["participation"]["trained"]["leaders"] == 1  # she is the one trained
    assert cohort["withdrawals"]["count"] == 0
