"""``journey person prune --ended-before DAY``: everyone whose last cohort is over is
forgotten, as ``person forget`` does; people of a later cohort are kept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from journey.db import session_scope
from journey.services.retention import people_ended_before
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import ok
from tests.conftest import EXAMPLES

STAFF = {
    "organiser@example.org",
    "tim@example.org",
    "amrit.sandhu@example.org",
    "grace.adeyemi@example.org",
    "helen.okafor@example.org",
    "imran.chaudhry@example.org",
}


def a_later_cohort(folder: Path) -> None:
    """``mk-2027``: the example a year on, the same organiser, mentors and facilitators,
    two trainees of its own."""
    text = (EXAMPLES / "cohort.yaml").read_text(encoding="utf-8")
    text = text.replace("2027-", "2028-").replace("2026-", "2027-")
    text = text.replace("id: mk-2026", "id: mk-2027").replace("Training 2026", "Training 2027")
    (folder / "cohort.yaml").write_text(text, encoding="utf-8")
    (folder / "roster.csv").write_text(
        "name,email,institution,place,follow_up,mentor,learning_set\n"
        "Zara Ahmed,zara.ahmed@example.org,St Mary's Church,member,no,,\n"
        "Ben Cole,ben.cole@example.org,Greenleys Residents,fee,no,,\n",
        encoding="utf-8",
    )
    ok("cohort", "import", str(folder / "cohort.yaml"), "--roster", str(folder / "roster.csv"))


def test_the_people_of_an_ended_cohort_are_forgotten_and_the_rest_kept(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    a_later_cohort(tmp_path)
    with session_scope(settings.database_url) as session:
        ended = people_ended_before(session=session, day=date(2027, 12, 1))
        everyone = {e.email for e in people_ended_before(session=session, day=date(2029, 1, 1))}
    trainees = {e.email for e in ended}
    assert len(trainees) == 20 and not trainees & STAFF  # staff are in mk-2027 too
    assert {e.ended_on.isoformat() for e in ended} == {"2027-06-17"}
    assert STAFF | {"zara.ahmed@example.org", "ben.cole@example.org"} <= everyone

    report = ["report", "mk-2026", "--format", "json", "--now", "2027-12-01T12:00"]
    before = json.loads(ok(*report))
    listed = ok("person", "prune", "--ended-before", "2027-12-01", "--dry-run")
    assert listed.startswith("Would forget 20 people whose last cohort ended before 2027-12-01:")
    assert "aisha.rahman@example.org (mk-2026, ended 2027-06-17)" in listed
    assert journey("person", "show", "aisha.rahman@example.org").returncode == 0  # dry run

    done = ok("person", "prune", "--ended-before", "2027-12-01", "--by", "dpo")
    assert done.endswith("Done: 20 people forgotten.\n")
    for email in trainees:
        assert journey("person", "show", email).returncode == 1
    for email in STAFF:
        assert journey("person", "show", email).returncode == 0
    assert json.loads(ok(*report)) == before
    again = ok("person", "prune", "--ended-before", "2027-12-01")
    assert again == "Forgetting 0 people whose last cohort ended before 2027-12-01:\n"


def test_a_day_that_cannot_be_read_is_one_line(settings: Settings, cohort_id: str) -> None:
    result = journey("person", "prune", "--ended-before", "last year")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: cannot read 'last year' as a date; use YYYY-MM-DD\n"
