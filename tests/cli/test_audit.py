"""``journey audit``: every change an organiser makes is a line of who, when and what."""

from __future__ import annotations

import json

from journey.db import session_scope
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import AISHA, ok
from tests.conftest import EXAMPLES, utc

IMPORTED = "2026-08-01T10:00"


def year(settings: Settings) -> None:
    """Import (by alice), launch (by the launching login), record, withdraw, export,
    cancel a session: each through the command an organiser would use."""
    cohort, roster = str(EXAMPLES / "cohort.yaml"), str(EXAMPLES / "roster.csv")
    ok("cohort", "import", cohort, "--roster", roster, "--by", "alice", "--now", IMPORTED)
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc("2026-09-01T09:00"), by="bob")
    ok("record", "mk-2026", AISHA, "listening", "--by", "carol", "--now", "2026-10-02T12:00")
    ok("withdraw", "mk-2026", AISHA, "--by", "dan", "--now", "2026-10-03T12:00")
    ok("session", "cancel", "mk-2026", "graduation", "--by", "erin", "--now", "2026-10-04T12:00")
    ok("person", "export", AISHA, "--by", "dpo", "--now", "2026-10-05T12:00")


def test_the_trail_names_who_did_what_and_when(settings: Settings) -> None:
    year(settings)
    lines = json.loads(ok("audit", "mk-2026", "--format", "json"))
    assert [(x["by"], x["action"], x["person"]) for x in lines] == [
        ("alice", "cohort-import", None),
        ("bob", "launch", None),
        ("carol", "record", "Aisha Rahman"),
        ("dan", "withdraw", "Aisha Rahman"),
        ("erin", "session-cancel", None),
    ]
    assert lines[0]["at"] == "2026-08-01T09:00:00+00:00"  # 10:00 in London
    assert lines[0]["detail"] == "created: 20 trainees added"
    assert lines[1]["detail"].startswith("launched: 20 welcomes, ")
    assert lines[4]["detail"] == "graduation 1 cancelled"
    everything = json.loads(ok("audit", "--format", "json"))
    assert [x["action"] for x in everything][-1] == "person-export"  # not tied to a cohort
    assert everything[-1]["cohort_id"] is None


def test_about_one_person(settings: Settings) -> None:
    year(settings)
    lines = json.loads(ok("audit", "--person", AISHA.upper(), "--format", "json"))
    assert [x["action"] for x in lines] == ["record", "withdraw", "person-export"]


def test_importing_again_and_launching_again_are_lines_too(settings: Settings) -> None:
    year(settings)
    cohort, roster = str(EXAMPLES / "cohort.yaml"), str(EXAMPLES / "roster.csv")
    ok("cohort", "import", cohort, "--roster", roster, "--now", "2026-10-06T12:00")
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc("2026-10-06T12:00"))
    lines = json.loads(ok("audit", "mk-2026", "--format", "json"))
    assert lines[-1]["action"] == "cohort-import"  # a launch that queued nothing is no line
    assert lines[-1]["detail"] == "0 trainees added, 20 kept"


def test_the_table_is_plain_text(settings: Settings) -> None:
    year(settings)
    table = ok("audit", "mk-2026")
    assert "cohort-import" in table and "alice" in table and "Aisha Rahman" in table


def test_an_empty_trail_says_so(settings: Settings) -> None:
    assert ok("audit") == "Nothing in the audit trail yet.\n"


def test_unknown_cohort_or_person_is_one_line(settings: Settings) -> None:
    result = journey("audit", "mk-2099")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1)
    assert result.stderr.startswith("Error: ") and "mk-2099" in result.stderr
    result = journey("audit", "--person", "nobody@example.org")
    assert result.returncode == 1
    assert result.stderr == "Error: no one with the email 'nobody@example.org' is known\n"
