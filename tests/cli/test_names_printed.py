"""People's text is printed as written: rich reads no markup or emoji codes in it.

A name holding ``[/b]`` once crashed ``journey status`` (a rich markup error),
``[link=…]`` became a terminal hyperlink, and ``Sam Lee [she/her]`` showed as "Sam Lee".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.db import session_scope
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc

NOW = "2026-09-02T10:00"  # after launch, before the training
TITLE = "Training [2026] [/b] [red]MK"
INSTITUTION = "[i]MK Food Share"
MENTOR = "Tim [he/him] Norwood"
NAMES = {  # the example roster's name -> the name written in this test's roster
    "Margaret O'Connor": "Sam Lee [she/her]",
    "David Okonkwo": "[/b]Bob",
    "Ruth Pemberton": "[link=https://example.org]Eve[/link]",
    "Aisha Rahman": "Jo :thumbs_up: [bold]Smith",
}
SAM, BOB, EVE, JO = NAMES.values()


def ok(*args: str) -> str:
    """Run the CLI; it must succeed, with nothing on stderr. Returns its output."""
    result = journey(*args)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


@pytest.fixture
def bracketed(settings: Settings, tmp_path: Path) -> str:
    """The example cohort, imported through the CLI and launched, with markup-like text in
    its title, an institution, a mentor and four trainees' names."""
    cohort = (EXAMPLES / "cohort.yaml").read_text(encoding="utf-8")
    cohort = cohort.replace("title: Two-Day Training 2026", f'title: "{TITLE}"')
    cohort = cohort.replace("{name: MK Food Share,", f'{{name: "{INSTITUTION}",')
    cohort = cohort.replace("Tim Norwood", f'"{MENTOR}"')
    roster = (EXAMPLES / "roster.csv").read_text(encoding="utf-8")
    roster = roster.replace(",MK Food Share,", f",{INSTITUTION},")
    for written, weird in NAMES.items():
        roster = roster.replace(f"{written},", f"{weird},")
    (tmp_path / "cohort.yaml").write_text(cohort, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    cohort_file, roster_file = str(tmp_path / "cohort.yaml"), str(tmp_path / "roster.csv")
    ok("cohort", "import", cohort_file, "--roster", roster_file, "--now", "2026-08-01T10:00")
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc("2026-09-01T09:00"))
    return "mk-2026"


def test_status_prints_names_titles_and_institutions_as_written(bracketed: str) -> None:
    out = ok("status", bracketed, "--now", NOW)
    for text in (f"{TITLE} (mk-2026)", SAM, BOB, EVE, JO, INSTITUTION):
        assert text in out, text
    assert "\x1b]8;" not in out  # no terminal hyperlink


def test_upcoming_prints_names_as_written(bracketed: str) -> None:
    out = ok("upcoming", "--days", "30", "--now", NOW)
    for text in (SAM, BOB, JO):
        assert text in out, text


def test_person_show_prints_name_mentor_title_and_reason_as_written(bracketed: str) -> None:
    email = "margaret.oconnor@example.org"
    reason = "[/red]moved"
    ok("withdraw", bracketed, email, "--reason", reason, "--now", NOW)
    out = ok("person", "show", email, "--now", NOW)
    assert out.startswith(f"{SAM} <{email}>\n")
    for text in (MENTOR, f"mk-2026 ({TITLE})", reason):
        assert text in out, text


def test_cohort_list_prints_the_title_as_written(bracketed: str) -> None:
    assert TITLE in ok("cohort", "list", "--now", NOW)
