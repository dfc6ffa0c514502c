"""One address is one person (issue 11): ``journey cohort import`` and ``journey cohort add``
refuse a known address under another name, naming both names and where the address is
used, and write nothing, unless ``--rename``; then they say who was renamed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Base, Cohort, Person
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES

NOW = "2026-08-02T09:00"
HEADER = "name,email,institution,place,follow_up,mentor,learning_set\n"
REFUSED = "use the same name, or import with --rename to rename them"


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows: what 'nothing written' means."""
    found = {}
    with session_scope(url) as session:
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in session.execute(select(table)))
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            found[table.name] = (len(rows), digest)
    return found


def cohort_file(folder: Path, cohort_id: str = "mk-2027", **changes: str) -> Path:
    """The example cohort file as ``cohort_id``, with text replaced (``old=new``)."""
    text = (EXAMPLES / "cohort.yaml").read_text().replace("id: mk-2026", f"id: {cohort_id}")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = folder / f"{cohort_id}.yaml"
    path.write_text(text)
    return path


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of ``path`` containing ``needle``."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def name_of(url: str, email: str) -> str:
    with session_scope(url) as session:
        return session.scalars(select(Person.name).where(Person.email == email)).one()


def refused(result_stderr: str, *problems: str) -> bool:
    """Whether stderr is exactly the InvalidInput lines for ``problems``."""
    count = len(problems)
    head = f"Error: {count} problem{'s' if count != 1 else ''} found; nothing was written"
    return result_stderr == "\n".join([head, *problems]) + "\n"


def test_a_known_address_under_another_name_is_refused_and_nothing_is_written(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = cohort_file(tmp_path, **{"name: Tim Norwood": "name: Timothy Norwood"})
    before = snapshot(settings.database_url)
    result = journey("cohort", "import", str(path), "--now", NOW)
    line = line_of(path, "Timothy Norwood")
    assert (result.returncode, result.stdout) == (1, "")
    assert refused(
        result.stderr,
        f"{path}:{line}: mentors[0].email: 'tim@example.org' is Tim Norwood (mentor in"
        f" mk-2026), not 'Timothy Norwood'; {REFUSED}",
    ), result.stderr
    assert snapshot(settings.database_url) == before


def test_the_organiser_of_another_cohort_is_not_renamed_by_a_new_one(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = cohort_file(tmp_path, **{"name: Sam Rivers": "name: Samantha Rivers"})
    before = snapshot(settings.database_url)
    result = journey("cohort", "import", str(path), "--now", NOW)
    assert result.returncode == 1
    assert refused(
        result.stderr,
        f"{path}:{line_of(path, 'Samantha')}: organiser.email: 'organiser@example.org' is Sam"
        f" Rivers (organiser of mk-2026), not 'Samantha Rivers'; {REFUSED}",
    ), result.stderr
    assert snapshot(settings.database_url) == before
    assert name_of(settings.database_url, "organiser@example.org") == "Sam Rivers"


def test_a_roster_row_renaming_a_trainee_names_the_row_and_their_cohort(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text((EXAMPLES / "roster.csv").read_text().replace("Aisha Rahman", "Aisha Khan"))
    before = snapshot(settings.database_url)
    result = journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(roster), "--now", NOW
    )
    assert result.returncode == 1
    assert refused(
        result.stderr,
        f"{roster}:{line_of(roster, 'Aisha Khan')}: email: 'aisha.rahman@example.org' is Aisha"
        f" Rahman (trainee in mk-2026), not 'Aisha Khan'; {REFUSED}",
    ), result.stderr
    assert snapshot(settings.database_url) == before


def test_every_cohort_the_address_is_used_in_is_named(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    second = journey("cohort", "import", str(cohort_file(tmp_path)), "--now", NOW)
    assert second.returncode == 0, second.stderr
    path = cohort_file(tmp_path, "mk-2028", **{"name: Tim Norwood": "name: T. Norwood"})
    result = journey("cohort", "import", str(path), "--now", NOW)
    assert refused(
        result.stderr,
        f"{path}:{line_of(path, 'T. Norwood')}: mentors[0].email: 'tim@example.org' is Tim"
        f" Norwood (mentor in mk-2026 and mk-2027), not 'T. Norwood'; {REFUSED}",
    ), result.stderr


def test_rename_renames_them_everywhere_and_says_so(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = cohort_file(tmp_path, **{"name: Tim Norwood": "name: Timothy Norwood"})
    result = journey("cohort", "import", str(path), "--rename", "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert "  Renamed 'Tim Norwood' to 'Timothy Norwood' (tim@example.org)\n" in result.stdout
    assert result.stdout.count("Renamed") == 1
    url = settings.database_url
    assert name_of(url, "tim@example.org") == "Timothy Norwood"
    again = journey("cohort", "import", str(path), "--now", NOW)  # the new name is known now
    assert again.returncode == 0, again.stderr
    assert "Renamed" not in again.stdout


def test_a_second_cohort_reusing_the_organisers_address_and_name_is_fine(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    url = settings.database_url
    people = snapshot(url)["people"]
    result = journey("cohort", "import", str(cohort_file(tmp_path)), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Imported cohort mk-2027: 0 trainees added, 0 updated.\n")
    assert "Renamed" not in result.stdout
    assert snapshot(url)["people"] == people  # the same people, unchanged
    with session_scope(url) as session:
        organisers = set(session.scalars(select(Cohort.organiser_id)))
    assert len(organisers) == 1


def test_cohort_add_applies_the_same_rule(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    roster = tmp_path / "new.csv"
    roster.write_text(
        HEADER + "T. Norwood,tim@example.org,Greenleys Residents,fee,yes,"
        "grace.adeyemi@example.org,Set A\n"
    )
    url = settings.database_url
    before = snapshot(url)
    result = journey("cohort", "add", cohort_id, "--roster", str(roster), "--now", NOW)
    assert result.returncode == 1
    assert refused(
        result.stderr,
        f"{roster}:2: email: 'tim@example.org' is Tim Norwood (mentor in mk-2026), not"
        " 'T. Norwood'; use the same name, or add them with --rename to rename them",
    ), result.stderr
    assert snapshot(url) == before
    renamed = journey("cohort", "add", cohort_id, "--roster", str(roster), "--rename", "--now", NOW)
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout.startswith(
        "Added 1 trainees to mk-2026: tim@example.org.\n"
        "  Renamed 'Tim Norwood' to 'T. Norwood' (tim@example.org)\n"
    )
    assert name_of(url, "tim@example.org") == "T. Norwood"


def test_cohort_add_refuses_a_trainee_as_their_own_mentor_or_facilitator(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    roster = tmp_path / "new.csv"
    roster.write_text(
        HEADER
        + "Tim Norwood,tim@example.org,Greenleys Residents,fee,yes,tim@example.org,Set B\n"
        + "Revd Helen Okafor,helen.okafor@example.org,Greenleys Residents,fee,yes,"
        "grace.adeyemi@example.org,Set A\n"
    )
    before = snapshot(settings.database_url)
    result = journey("cohort", "add", cohort_id, "--roster", str(roster), "--now", NOW)
    assert result.returncode == 1
    assert refused(
        result.stderr,
        f"{roster}:2: mentor: a trainee cannot be their own mentor",
        f"{roster}:3: learning_set: a trainee cannot be in the set they facilitate ('Set A')",
    ), result.stderr
    assert snapshot(settings.database_url) == before


def test_a_defaulted_time_zone_is_said_in_the_import(settings: Settings, tmp_path: Path) -> None:
    path = cohort_file(tmp_path, **{"timezone: Europe/London": "# no time zone given"})
    result = journey("cohort", "import", str(path), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "Imported cohort mk-2027: 0 trainees added, 0 updated.",
        "  Time zone: Europe/London (the default; set timezone: to change it)",
    ]
    given = journey("cohort", "import", str(cohort_file(tmp_path, "mk-2028")), "--now", NOW)
    assert "Time zone" not in given.stdout


ASCII_ONLY = "is not an address this system can send to: use an ASCII address"


@pytest.mark.parametrize(
    ("changes", "needle", "problem"),
    [
        ({"email: tim@example.org": "email: tím@example.org"}, "tím@",
         f"mentors[0].email: 'tím@example.org' {ASCII_ONLY}"),
        ({"programme: default ": "programme: /etc/passwd "}, "programme:",
         "programme: '/etc/passwd' is outside the cohort file's folder: give default, or the"
         " path of a programme file in that folder"),
        ({"fee: 60 ": "fee: 1e30 "}, "fee:", "fee: expected less than 100000000, got '1e30'"),
        ({"at: \"2027-06-17T18:00/20:00\"": "at: \"2026-09-01T18:00/20:00\""}, "graduation:",
         "graduation.at: starts before the training ends (2026-09-26 16:30)"),
    ],
)  # fmt: skip
def test_a_bad_cohort_file_is_one_problem_exit_1_and_nothing_written(
    settings: Settings, cohort_id: str, tmp_path: Path, changes: dict[str, str], needle: str,
    problem: str,
) -> None:  # fmt: skip
    path = cohort_file(tmp_path, **changes)
    before = snapshot(settings.database_url)
    result = journey("cohort", "import", str(path), "--now", NOW)
    assert result.returncode == 1
    assert refused(result.stderr, f"{path}:{line_of(path, needle)}: {problem}"), result.stderr
    assert snapshot(settings.database_url) == before
