"""``journey person export``: everything held about one person, for a subject access request."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

from sqlalchemy import select

from journey.db import session_scope
from journey.models import HistoryEntry
from journey.services.evaluation import import_responses
from journey.services.record import record
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import AISHA, launch_sweep_deliver, ok
from tests.conftest import utc

HEADER = (
    "email,score,relational-power-before,relational-power-after,leadership-before,"
    "leadership-after,motivation-before,motivation-after,comments\n"
)
NOW = "2026-10-01T12:00"


ANSWERS = f"{AISHA},9,4,8,5,9,6,9,Loved the role play\n,7,3,6,,,,,\n"


def aisha_year(settings: Settings, answers: str = ANSWERS) -> None:
    """Launched, welcomed and reminded; Aisha recorded listening, answered the questionnaire
    (a comment too), and so did someone anonymous (``answers``: the responses file's rows)."""
    launch_sweep_deliver(settings)
    with session_scope(settings.database_url) as session:
        record(
            session=session,
            cohort_id="mk-2026",
            emails=[AISHA],
            milestone="listening",
            on=date(2026, 9, 28),
            now=utc("2026-09-29T12:00"),
        )
        import_responses(
            session=session,
            cohort_id="mk-2026",
            file="after.csv",
            text=HEADER + answers,
            questionnaire_id=None,
            now=utc("2026-09-27T10:00"),
        )


def export(settings: Settings, tmp_path: Path, *extra: str) -> dict[str, object]:
    out = tmp_path / "aisha.json"
    said = ok("person", "export", AISHA.upper(), "--out", str(out), "--now", NOW, *extra)
    assert said == f"Everything held about {AISHA} written to {out}.\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_export_holds_everything_about_her_and_nobody_else(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    aisha_year(settings)
    data = export(settings, tmp_path, "--by", "dpo")
    assert data["format"] == "journey-person-export/1"
    assert data["person"] == {"name": "Aisha Rahman", "email": AISHA, "opted_out_at": None}
    [enrolment] = data["enrolments"]
    assert (enrolment["cohort"], enrolment["status"]) == ("mk-2026", "active")
    assert {"institution", "institution_is_member", "place", "fee"} <= enrolment.keys()
    assert [(c["milestone"], c["occurrence"], c["completed_on"]) for c in data["completions"]] == [
        ("listening", 1, "2026-09-28")
    ]
    [response] = data["evaluation_responses"]
    assert response["questionnaire"] == "after-training"
    assert {(a["item"], a["value"], a["before"]) for a in response["answers"]} == {
        ("score", 9, None),
        ("relational-power", 8, 4),
        ("leadership", 9, 5),
        ("motivation", 9, 6),
    }
    assert "Loved the role play" not in json.dumps(data)  # comments are kept apart from names
    assert data["not_included"]
    sent = [n for n in data["notices"] if n["status"] == "sent"]
    assert sent and all(n["subject"] for n in sent)
    assert {n["template"] for n in sent} >= {"welcome"}
    assert "person-export" not in [h["action"] for h in data["history"]]


def test_outbox_files_are_hers_or_name_her(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    aisha_year(settings)
    files = export(settings, tmp_path)["outbox_files"]
    assert isinstance(files, list) and files
    outbox = settings.outbox_dir
    every = sorted(p.name for p in outbox.glob("*.eml"))
    assert set(files) < set(every)  # others' mail is not hers
    for name in every:
        text = (outbox / name).read_bytes().decode("ascii", "replace")
        mentions = AISHA in text or "Aisha" in text
        assert (name in files) == mentions, name  # hers, or naming her; no other file


def test_the_export_is_in_the_history_and_the_next_one_shows_it(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    aisha_year(settings)
    export(settings, tmp_path, "--by", "dpo")
    with session_scope(settings.database_url) as session:
        [line] = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "person-export")
        ).all()
        assert (line.by, line.cohort_id, line.person_id is not None) == ("dpo", None, True)
    again = export(settings, tmp_path)
    exports = [(h["action"], h["by"]) for h in again["history"] if h["action"] == "person-export"]
    assert exports == [("person-export", "dpo")]


def test_to_the_screen_without_out(settings: Settings, cohort_id: str) -> None:
    data = json.loads(ok("person", "export", AISHA, "--now", NOW))
    assert data["person"]["email"] == AISHA


def test_an_unknown_person_is_one_line_and_no_history(settings: Settings, cohort_id: str) -> None:
    result = journey("person", "export", "nobody@example.org", "--now", NOW)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: no one with the email 'nobody@example.org' is known\n"
    with session_scope(settings.database_url) as session:
        exports = select(HistoryEntry).where(HistoryEntry.action == "person-export")
        assert session.scalars(exports).all() == []


def test_an_unwritable_out_is_one_line_and_no_history(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "aisha.json"
    result = journey("person", "export", AISHA, "--out", str(out), "--now", NOW)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot write the export to {out}: No such file or directory\n"
    )
    with session_scope(settings.database_url) as session:
        exports = select(HistoryEntry).where(HistoryEntry.action == "person-export")
        assert session.scalars(exports).all() == []
