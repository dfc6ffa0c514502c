"""Reading and validating a cohort file and its roster (journey.cohort.file)."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.cohort.file import read_cohort
from journey.cohort.places import places_report
from journey.cohort.slots import SlotError, parse_slot
from journey.errors import InvalidInput
from journey.models import Place
from journey.programme import default_programme_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mk-2026"
LONDON = ZoneInfo("Europe/London")
HEADER = "name,email,institution,place,follow_up,mentor,learning_set"
DROP = object()  # an override that removes the key

BASE_COHORT: dict[str, Any] = {
    "id": "test-2026",
    "title": "Two-Day Training 2026",
    "timezone": "Europe/London",
    "organiser": {"name": "Sam Rivers", "email": "organiser@example.org"},
    "funder": "MK Community Foundation",
    "fee": 60,
    "training": {
        "venue": "MK Quaker Centre",
        "days": ["2026-09-25T09:30/16:30", "2026-09-26T09:30/16:30"],
    },
    "institutions": [
        {"name": "St Mary's Church", "member": True},
        {"name": "Greenleys Residents", "member": False},
        {"name": "Al-Noor Mosque", "member": True},
    ],
    "mentors": [{"name": "Tim Norwood", "email": "tim@example.org"}],
    "learning_sets": [
        {
            "name": "Set A",
            "venue": "Christ the Cornerstone",
            "sessions": [
                "2026-12-03T17:30/19:30",
                "2027-02-04T17:30/19:30",
                "2027-04-01T17:30/19:30",
            ],
            "facilitator": {"name": "Helen Okafor", "email": "helen@example.org"},
        }
    ],
    "graduation": {"venue": "MK Quaker Centre", "at": "2027-06-17T18:00/20:00"},
    "programme": "default",
}

BASE_ROW = {
    "name": "Ann Lee",
    "email": "ann@example.org",
    "institution": "St Mary's Church",
    "place": "member",
    "follow_up": "yes",
    "mentor": "tim@example.org",
    "learning_set": "Set A",
}


def cohort_yaml(**overrides: Any) -> str:
    """The base cohort file's YAML text, with top-level fields replaced (or DROPped)."""
    data = copy.deepcopy(BASE_COHORT)
    for key, value in overrides.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=200)


def row(**overrides: str) -> dict[str, str]:
    """A valid roster row (a follow-up trainee on a member place), with overrides."""
    return {**BASE_ROW, **overrides}


def roster_csv(*rows: dict[str, str], header: str = HEADER) -> str:
    """Roster CSV text: the header, then one line per row (cells in header order)."""
    columns = header.split(",")
    lines = [header] + [",".join(r.get(c, "") for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line number of the nth line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so messages name files as ``cohort.yaml`` and ``roster.csv``."""
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(cohort: str | None = None, roster: str | None = None) -> Any:
    """read_cohort on files written from the given texts (the base cohort by default)."""
    cohort_path = write("cohort.yaml", cohort if cohort is not None else cohort_yaml())
    roster_path = write("roster.csv", roster) if roster is not None else None
    return read_cohort(cohort_path, roster_path)


def problems(cohort: str | None = None, roster: str | None = None) -> list[str]:
    """The problems read_cohort reports, as printed lines."""
    with pytest.raises(InvalidInput) as info:
        load(cohort, roster)
    return [str(p) for p in info.value.problems]


# --- the example files -------------------------------------------------------------------


def test_example_cohort_imports_with_20_trainees_from_10_institutions() -> None:
    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    assert spec.id == "mk-2026"
    assert len(spec.trainees) == 20
    assert len(spec.institutions) == 10
    assert {t.institution for t in spec.trainees} == {i.name for i in spec.institutions}
    assert spec.fee == Decimal("60") and spec.funder == "MK Community Foundation"
    assert spec.training_days[0].starts_at == datetime(2026, 9, 25, 9, 30, tzinfo=LONDON)
    assert [len(s.sessions) for s in spec.learning_sets] == [3, 3]
    assert all(s.facilitator is not None for s in spec.learning_sets)
    assert sum(t.follow_up for t in spec.trainees) == 14


def test_example_places_report_shows_each_member_free_place() -> None:
    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    report = places_report(spec)
    assert "St Mary's Church: 1 free place used" in report
    assert report[-2:] == [
        "Fee-paying places: 7 at 60 each, 420 in all",
        "Subsidised places: 7, funded by MK Community Foundation",
    ]


# --- a valid cohort --------------------------------------------------------------------


def test_valid_cohort_is_fully_populated() -> None:
    spec = load(roster=roster_csv(row(), row(email="Bob@Example.ORG", name=" Bob Smith ")))
    assert spec.timezone == "Europe/London" and spec.programme == "default"
    assert spec.organiser.email == "organiser@example.org"
    assert spec.graduation is not None
    assert spec.graduation.ends_at == datetime(2027, 6, 17, 20, 0, tzinfo=LONDON)
    assert spec.learning_sets[0].sessions[2].starts_at.utcoffset() is not None
    assert [t.person.email for t in spec.trainees] == ["ann@example.org", "bob@example.org"]
    assert spec.trainees[1].person.name == "Bob Smith"
    assert [t.row for t in spec.trainees] == [2, 3]
    assert spec.source == "cohort.yaml"


def test_optional_fields_take_their_defaults() -> None:
    cohort = cohort_yaml(
        timezone=DROP, fee=DROP, funder=DROP, mentors=DROP, learning_sets=DROP,
        graduation=DROP, programme=DROP,
    )  # fmt: skip
    spec = load(cohort)
    assert (spec.timezone, spec.fee, spec.funder, spec.programme) == (
        "Europe/London", Decimal(0), None, "default",
    )  # fmt: skip
    assert spec.mentors == () and spec.learning_sets == () and spec.graduation is None
    assert spec.trainees == ()


def test_roster_cells_are_trimmed_matched_and_normalised() -> None:
    text = (
        " name , EMAIL ,institution,place,follow_up,mentor,learning_set\n"
        "\n"
        "  Ann Lee , ANN@example.org , st mary's church , Member , TRUE , Tim Norwood , set a \n"
        ",,,,,,\n"
        "Bob Smith,bob@example.org,greenleys residents,fee,N,,\n"
    )
    spec = load(roster=text)
    ann, bob = spec.trainees
    assert (ann.row, bob.row) == (3, 5)  # blank lines are skipped but still counted
    assert ann.person.email == "ann@example.org"
    assert (ann.institution, ann.place, ann.follow_up) == ("St Mary's Church", Place.MEMBER, True)
    assert (ann.mentor_email, ann.learning_set) == ("tim@example.org", "Set A")
    assert (bob.institution, bob.follow_up, bob.mentor_email) == (
        "Greenleys Residents",
        False,
        None,
    )


def test_utf8_bom_is_accepted() -> None:
    cohort_path = Path("cohort.yaml")
    cohort_path.write_bytes(b"\xef\xbb\xbf" + cohort_yaml().encode())
    roster_path = Path("roster.csv")
    roster_path.write_bytes(b"\xef\xbb\xbf" + roster_csv(row(name="Zoë Ñúñez")).encode())
    spec = read_cohort(cohort_path, roster_path)
    assert spec.trainees[0].person.name == "Zoë Ñúñez"


def test_slot_may_end_on_a_later_day() -> None:
    cohort = cohort_yaml(graduation={"venue": "Hall", "at": "2027-06-17T18:00/2027-06-18T01:00"})
    spec = load(cohort)
    assert spec.graduation.ends_at == datetime(2027, 6, 18, 1, 0, tzinfo=LONDON)


# --- inline trainees -------------------------------------------------------------------


def test_inline_trainees_are_read_from_the_cohort_file() -> None:
    trainees = [
        {**BASE_ROW, "follow_up": True},
        {"name": "Bob Smith", "email": "bob@example.org", "institution": "Greenleys Residents",
         "place": "fee", "follow_up": False},
    ]  # fmt: skip
    text = cohort_yaml(trainees=trainees)
    spec = load(text)
    assert [t.person.name for t in spec.trainees] == ["Ann Lee", "Bob Smith"]
    assert spec.trainees[0].row == line_of(text, "name: Ann Lee")
    assert spec.trainees[1].mentor_email is None


def test_inline_trainee_problems_name_the_yaml_path_and_line() -> None:
    trainees = [BASE_ROW, {**BASE_ROW, "place": "free", "emial": "x"}]
    text = cohort_yaml(trainees=trainees)
    item = line_of(text, "emial")
    assert problems(text) == [
        f"cohort.yaml:{item}: trainees[1].emial: unknown field (did you mean 'email'?)",
        f"cohort.yaml:{item}: trainees[1].place: unknown place type 'free'"
        " (use member, fee or subsidised)",
        f"cohort.yaml:{item}: trainees[1].email: 'ann@example.org' is already on line {item - 1}",
    ]


def test_roster_file_is_used_instead_of_inline_trainees() -> None:
    text = cohort_yaml(trainees=[{**BASE_ROW, "email": "inline@example.org"}])
    spec = load(text, roster_csv(row()))
    assert [t.person.email for t in spec.trainees] == ["ann@example.org"]


# --- files: missing, encoding, YAML syntax -------------------------------------------


def test_non_utf8_roster_is_rejected_with_the_byte_and_offset() -> None:
    write("cohort.yaml", cohort_yaml())
    Path("roster.csv").write_bytes((HEADER + "\nRené Dubois,rene@example.org").encode("latin-1"))
    with pytest.raises(InvalidInput) as info:
        read_cohort(Path("cohort.yaml"), Path("roster.csv"))
    offset = len(HEADER) + 1 + len("Ren")
    assert [str(p) for p in info.value.problems] == [
        f"roster.csv: encoding: not UTF-8 text (byte 0xe9 at offset {offset}); save it as UTF-8"
    ]


def test_missing_files_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        read_cohort(Path("nope.yaml"), Path("absent.csv"))
    assert [str(p) for p in info.value.problems] == [
        "absent.csv: file: not found",
        "nope.yaml: file: not found",
    ]
    assert str(info.value).startswith("2 problems found; nothing was written\n")


def test_yaml_syntax_error_gives_its_line() -> None:
    assert problems("id: x\ntitle: [unclosed\norganiser: {}\n") == [
        "cohort.yaml:3: yaml: not valid YAML: expected ',' or ']', but got ':'"
    ]


def test_cohort_file_must_be_a_mapping() -> None:
    assert problems("- just\n- a list\n") == ["cohort.yaml:1: cohort: expected a mapping of fields"]


def test_key_given_twice_is_a_problem() -> None:
    text = cohort_yaml() + "fee: 70\n"
    assert problems(text) == [f"cohort.yaml:{line_of(text, 'fee: 70')}: fee: given twice"]


# --- the cohort file's fields ----------------------------------------------------------


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    text = cohort_yaml(mentor=[])
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'mentor: []')}: mentor: unknown field"
        " (did you mean 'mentors'?)"
    ]


def test_required_fields_are_reported_at_line_1() -> None:
    text = cohort_yaml(id=DROP, title=DROP, organiser=DROP, training=DROP, institutions=DROP)
    assert problems(text) == [
        "cohort.yaml:1: id: required",
        "cohort.yaml:1: title: required",
        "cohort.yaml:1: organiser: required",
        "cohort.yaml:1: training: required",
        "cohort.yaml:1: institutions: required",
    ]


def test_bad_id_timezone_fee_and_organiser_email() -> None:
    text = cohort_yaml(
        id="MK 2026", timezone="Europe/Londn", fee=-5,
        organiser={"name": "Sam", "email": "sam@"},
    )  # fmt: skip
    assert problems(text) == [
        "cohort.yaml:1: id: 'MK 2026' is not a valid id: use 2 to 63 lowercase letters,"
        " digits and dashes, not starting with a dash",
        "cohort.yaml:3: timezone: unknown time zone 'Europe/Londn'"
        " (use an IANA name such as Europe/London)",
        "cohort.yaml:4: organiser.email: 'sam@' is not a valid email address:"
        " There must be something after the @-sign.",
        "cohort.yaml:6: fee: expected a number, 0 or more, got -5",
    ]


def test_fee_may_be_a_decimal_string() -> None:
    assert load(cohort_yaml(fee="12.50")).fee == Decimal("12.50")


def test_institution_names_are_unique_case_insensitively() -> None:
    institutions = [
        {"name": "St Mary's Church", "member": True},
        {"name": "ST MARY'S CHURCH", "member": False},
        {"name": "Greenleys Residents", "member": "yes"},
    ]
    text = cohort_yaml(institutions=institutions)
    first = line_of(text, "St Mary's Church")
    assert problems(text) == [
        f'cohort.yaml:{first + 1}: institutions[1].name: "ST MARY\'S CHURCH" is listed twice'
        f" (first on line {first})",
        f"cohort.yaml:{first + 2}: institutions[2].member: expected true or false",
    ]


def test_mentor_emails_are_unique_and_valid() -> None:
    mentors = [
        {"name": "Tim Norwood", "email": "tim@example.org"},
        {"name": "Timothy", "email": "TIM@example.org"},
        {"name": "Nobody", "email": "not-an-email"},
    ]
    text = cohort_yaml(mentors=mentors)
    first = line_of(text, "Tim Norwood")
    found = problems(text)
    assert found[0] == (
        f"cohort.yaml:{first + 1}: mentors[1].email: 'tim@example.org' is listed twice"
        f" (first on line {first})"
    )
    assert found[1].startswith(
        f"cohort.yaml:{first + 2}: mentors[2].email: 'not-an-email' is not a valid email address"
    )
    assert len(found) == 2


def test_learning_set_session_that_ends_before_it_starts() -> None:
    sets = copy.deepcopy(BASE_COHORT["learning_sets"])
    sets[0]["sessions"][1] = "2027-02-04T19:30/17:30"
    text = cohort_yaml(learning_sets=sets)
    line = line_of(text, "sessions:")
    assert problems(text) == [
        f"cohort.yaml:{line}: learning_sets[0].sessions[1]: ends before it starts"
    ]


def test_exact_message_for_session_on_its_own_line() -> None:
    text = (
        "id: x-1\ntitle: T\norganiser: {name: S, email: s@example.org}\n"
        "training: {venue: V, days: ['2026-09-25T09:30/16:30']}\n"
        "institutions: [{name: A, member: true}]\n"
        "learning_sets:\n"
        "  - name: Set A\n"
        "    venue: V\n"
        "    sessions:\n"
        '      - "2026-12-03T17:30/19:30"\n'
        '      - "2027-02-04T17:30/17:30"\n'
        '      - "2027-04-01T17:30/19:30"\n'
    )
    assert problems(text) == ["cohort.yaml:11: learning_sets[0].sessions[1]: ends when it starts"]


def test_bad_dates_are_reported_with_the_expected_format() -> None:
    training = {"venue": "V", "days": ["2026-13-01T09:00/10:00", "25/09/2026 09:30"]}
    text = cohort_yaml(training=training)
    line = line_of(text, "days:")
    assert problems(text) == [
        f"cohort.yaml:{line}: training.days[0]: bad date '2026-13-01T09:00/10:00':"
        " expected YYYY-MM-DDTHH:MM/HH:MM",
        f"cohort.yaml:{line}: training.days[1]: bad date '25/09/2026 09:30':"
        " expected YYYY-MM-DDTHH:MM/HH:MM",
    ]


def test_training_days_must_be_in_order_and_at_least_one() -> None:
    out_of_order = {"venue": "V", "days": ["2026-09-26T09:30/16:30", "2026-09-25T09:30/16:30"]}
    text = cohort_yaml(training=out_of_order)
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'days:')}: training.days[1]:"
        " starts before the one before it ends; list them in order"
    ]
    empty = cohort_yaml(training={"venue": "V", "days": []})
    assert problems(empty) == [
        f"cohort.yaml:{line_of(empty, 'days:')}: training.days: give at least one session"
    ]


def test_time_the_clocks_skip_is_rejected() -> None:
    text = cohort_yaml(graduation={"venue": "V", "at": "2027-03-28T01:30/03:00"})
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'graduation:')}: graduation.at: 2027-03-28 01:30 does not"
        " exist in Europe/London (the clocks go forward)"
    ]


def test_learning_sets_need_the_programme_session_count_and_unique_names() -> None:
    sets = copy.deepcopy(BASE_COHORT["learning_sets"]) * 2
    sets[1] = {**sets[1], "name": "set a", "sessions": sets[1]["sessions"][:2]}
    text = cohort_yaml(learning_sets=sets)
    second = line_of(text, "name: set a")
    assert problems(text) == [
        f"cohort.yaml:{second}: learning_sets[1].name: 'set a' is listed twice"
        f" (first on line {line_of(text, 'name: Set A')})",
        f"cohort.yaml:{second + 2}: learning_sets[1].sessions: 2 sessions given;"
        " the programme needs exactly 3",
    ]


def test_facilitator_email_is_validated() -> None:
    sets = copy.deepcopy(BASE_COHORT["learning_sets"])
    sets[0]["facilitator"] = {"name": "Helen", "email": "helen at example.org"}
    found = problems(cohort_yaml(learning_sets=sets))
    assert len(found) == 1
    assert "learning_sets[0].facilitator.email: 'helen at example.org' is not a valid" in found[0]


# --- programme files -------------------------------------------------------------------


def test_programme_path_is_relative_to_the_cohort_file() -> None:
    programme = default_programme_text()
    write("cohorts/progs/custom.yaml", programme)
    cohort = write("cohorts/cohort.yaml", cohort_yaml(programme="progs/custom.yaml"))
    spec = read_cohort(cohort)
    assert spec.programme == programme
    assert spec.programme_name == "progs/custom.yaml"


def test_broken_programme_file_reports_its_problem() -> None:
    write("custom.yaml", "id: custom\ntitle: Custom\nmilestones: []\nextra: 1\n")
    text = cohort_yaml(programme="custom.yaml")
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'programme:')}: programme: custom.yaml: extra:"
        " Extra inputs are not permitted"
    ]


def test_missing_programme_file_is_named() -> None:
    text = cohort_yaml(programme="nowhere.yaml")
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'programme:')}: programme: no programme file at nowhere.yaml"
    ]


def test_programme_decides_how_many_sessions_a_set_needs() -> None:
    two_sets = default_programme_text().replace("session: 3", "session: 2")
    write("two.yaml", two_sets)
    text = cohort_yaml(programme="two.yaml")
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'sessions:')}: learning_sets[0].sessions: 3 sessions given;"
        " the programme needs exactly 2"
    ]


# --- roster rows -----------------------------------------------------------------------


def test_roster_header_must_have_exactly_the_columns() -> None:
    header = "name,e-mail,institution,place,follow_up,mentor,learning_set,notes"
    assert problems(roster=roster_csv(header=header)) == [
        "roster.csv:1: header: unknown column 'e-mail' (did you mean 'email'?)",
        "roster.csv:1: header: unknown column 'notes'; the columns are"
        " name,email,institution,place,follow_up,mentor,learning_set",
        "roster.csv:1: header: missing column 'email'",
    ]


def test_empty_roster_needs_a_header() -> None:
    assert problems(roster="") == [
        "roster.csv:1: header: missing; the first row must be"
        " name,email,institution,place,follow_up,mentor,learning_set"
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": ""}, "name: required"),
        ({"email": ""}, "email: required"),
        ({"email": "ann@"}, "email: 'ann@' is not a valid email address:"
         " There must be something after the @-sign."),
        ({"institution": "St Marks"}, "institution: unknown institution 'St Marks'"),
        ({"place": "free"}, "place: unknown place type 'free' (use member, fee or subsidised)"),
        ({"institution": "Greenleys Residents"}, "place: member place but 'Greenleys Residents'"
         " is not a member institution; use fee or subsidised"),
        ({"follow_up": "maybe"}, "follow_up: expected yes or no, got 'maybe'"),
        ({"mentor": "Jo Bloggs"}, "mentor: unknown mentor 'Jo Bloggs'"),
        ({"learning_set": "Set Z"}, "learning_set: unknown learning set 'Set Z'"),
        ({"learning_set": ""}, "learning_set: follow_up is yes but no learning set is given"),
        ({"mentor": ""}, "mentor: follow_up is yes but no mentor is given"),
        ({"follow_up": "no", "learning_set": ""}, "mentor: follow_up is no but a mentor is given"),
        ({"follow_up": "no", "mentor": ""},
         "learning_set: follow_up is no but a learning set is given"),
    ],
)  # fmt: skip
def test_bad_roster_cell_gives_exact_message(overrides: dict[str, str], expected: str) -> None:
    assert problems(roster=roster_csv(row(**overrides))) == [f"roster.csv:2: {expected}"]


def test_name_with_a_control_character_is_rejected() -> None:
    assert problems(roster=roster_csv(row(name="Ann\x07Lee"))) == [
        "roster.csv:2: name: contains control characters or line breaks"
    ]


def test_fee_place_at_a_member_institution_is_allowed() -> None:
    spec = load(roster=roster_csv(row(), row(email="b@example.org", place="fee")))
    assert spec.trainees[1].place is Place.FEE


def test_a_member_institution_that_sends_trainees_uses_its_free_place() -> None:
    roster = roster_csv(row(place="fee"), row(email="b@example.org", place="subsidised"))
    assert problems(roster=roster) == [
        'roster.csv:2: place: "St Mary\'s Church" is a member institution, so one of its'
        " trainees takes its free place: give one of them place member"
    ]


def test_subsidised_place_needs_a_funder() -> None:
    roster = roster_csv(row(institution="Greenleys Residents", place="subsidised"))
    assert problems(cohort_yaml(funder=DROP), roster) == [
        "roster.csv:2: place: subsidised place needs a funder in the cohort file"
    ]
    assert load(roster=roster).trainees[0].place is Place.SUBSIDISED


def test_duplicate_trainee_email_names_the_first_row() -> None:
    roster = roster_csv(row(), row(name="Bob Smith", place="fee"), row(email="ANN@example.org "))
    assert problems(roster=roster) == [
        "roster.csv:3: email: 'ann@example.org' is already on row 2",
        "roster.csv:4: email: 'ann@example.org' is already on row 2",
    ]


def test_a_mentor_may_also_be_a_trainee_under_the_same_name() -> None:
    trainee = row(name="Tim Norwood", email="tim@example.org", follow_up="no", mentor="",
                  learning_set="")  # fmt: skip
    spec = load(roster=roster_csv(trainee))
    assert spec.trainees[0].person.email == "tim@example.org"


def test_follow_up_without_sets_in_the_cohort_needs_no_set() -> None:
    spec = load(cohort_yaml(learning_sets=DROP), roster_csv(row(learning_set="")))
    assert spec.trainees[0].learning_set is None


def test_row_with_too_many_cells() -> None:
    text = HEADER + "\n" + ",".join(BASE_ROW.values()) + ",extra\n"
    assert problems(roster=text) == ["roster.csv:2: row: 8 cells but the header has 7 columns"]


def test_many_problems_are_all_listed_sorted_by_file_and_row() -> None:
    cohort = cohort_yaml(id="Bad Id", fee="lots", mentros=[])
    roster = roster_csv(
        row(email="x"),
        row(email="b@example.org", institution="Nowhere", place="gift"),
        row(email="c@example.org", follow_up="no"),
    )
    found = problems(cohort, roster)
    assert [p.split(": ")[0] for p in found] == [
        "cohort.yaml:1",
        "cohort.yaml:6",
        f"cohort.yaml:{line_of(cohort, 'mentros')}",
        "roster.csv:2",
        "roster.csv:3",
        "roster.csv:3",
        "roster.csv:4",
        "roster.csv:4",
    ]
    assert "roster.csv:3: institution: unknown institution 'Nowhere'" in found
    assert "roster.csv:4: learning_set: follow_up is no but a learning set is given" in found


# --- what the database could not hold, or would get wrong (issue 11) -------------------

LONG = "x" * 201
DAYS = BASE_COHORT["training"]["days"]
SAM = "organiser@example.org"


def one_set(**fields: Any) -> list[dict[str, Any]]:
    """The base cohort's learning set, with fields replaced."""
    return [{**BASE_COHORT["learning_sets"][0], **fields}]


@pytest.mark.parametrize(
    ("overrides", "needle", "expected"),
    [
        ({"title": "T" * 5000}, "title:", "title: too long: 5000 characters (at most 200)"),
        ({"id": "a" * 65}, "id:", "id: too long: 65 characters (at most 64)"),
        ({"timezone": "Z" * 65}, "timezone:", "timezone: too long: 65 characters (at most 64)"),
        ({"funder": LONG}, "funder:", "funder: too long: 201 characters (at most 200)"),
        ({"organiser": {"name": "N" * 10000, "email": "organiser@example.org"}}, "organiser:",
         "organiser.name: too long: 10000 characters (at most 200)"),
        ({"training": {"venue": LONG, "days": DAYS}}, "venue: xxx",
         "training.venue: too long: 201 characters (at most 200)"),
        ({"institutions": [{"name": LONG, "member": True}]}, "name: xxx",
         "institutions[0].name: too long: 201 characters (at most 200)"),
        ({"learning_sets": one_set(name="S" * 101)}, "name: SSS",
         "learning_sets[0].name: too long: 101 characters (at most 100)"),
        ({"learning_sets": one_set(venue=LONG)}, "venue: xxx",
         "learning_sets[0].venue: too long: 201 characters (at most 200)"),
        ({"graduation": {"venue": LONG, "at": "2027-06-17T18:00/20:00"}}, "graduation:",
         "graduation.venue: too long: 201 characters (at most 200)"),
        ({"programme": "p" * 301}, "programme:",
         "programme: too long: 301 characters (at most 300)"),
        ({"fee": "1e30"}, "fee:", "fee: expected less than 100000000, got '1e30'"),
        ({"fee": 1e30}, "fee:", "fee: expected less than 100000000, got 1e+30"),
        ({"fee": 100000000}, "fee:", "fee: expected less than 100000000, got 100000000"),
        ({"fee": "12.345"}, "fee:", "fee: expected at most 2 decimal places, got '12.345'"),
        ({"fee": ".nan"}, "fee:", "fee: expected a number, 0 or more, got '.nan'"),
        ({"graduation": {"venue": "Hall", "at": "2026-09-20T18:00/20:00"}}, "graduation:",
         "graduation.at: starts before the training ends (2026-09-26 16:30)"),
        ({"graduation": {"venue": "Hall", "at": "2026-09-26T12:00/13:00"}}, "graduation:",
         "graduation.at: starts before the training ends (2026-09-26 16:30)"),
        ({"learning_sets": one_set(sessions=["2026-09-01T17:30/19:30",
                                              "2027-02-04T17:30/19:30", "2027-04-01T17:30/19:30"])},
         "sessions:", "learning_sets[0].sessions[0]: starts before the training ends"
         " (2026-09-26 16:30)"),
        ({"mentors": [{"name": "Jose Garcia", "email": "jösé@exämple.org"}]}, "Jose Garcia",
         "mentors[0].email: 'jösé@exämple.org' is not an address this system can send to:"
         " use an ASCII address"),
        ({"learning_sets": one_set(facilitator={"name": "Sam R", "email": SAM})}, "facilitator:",
         "learning_sets[0].facilitator.email: 'organiser@example.org' is Sam Rivers"
         " (cohort.yaml:4, organiser.email), not 'Sam R'; use the same name"),
    ],
)  # fmt: skip
def test_cohort_file_value_the_database_would_get_wrong(
    overrides: dict[str, Any], needle: str, expected: str
) -> None:
    text = cohort_yaml(**overrides)
    assert problems(text) == [f"cohort.yaml:{line_of(text, needle)}: {expected}"]


@pytest.mark.parametrize("fee", [0, "0", 99999999.99, "99999999.99", "12.500", 12.5, "1e3"])
def test_fees_the_column_holds_are_taken(fee: Any) -> None:
    assert load(cohort_yaml(fee=fee)).fee == Decimal(str(fee))


def test_a_graduation_right_after_the_training_is_taken() -> None:
    spec = load(cohort_yaml(graduation={"venue": "Hall", "at": "2026-09-26T16:30/18:00"}))
    assert spec.graduation is not None


def test_a_defaulted_time_zone_is_marked_so_the_import_can_say_so() -> None:
    assert load(cohort_yaml(timezone=DROP)).timezone_defaulted
    assert load(cohort_yaml(timezone="")).timezone_defaulted
    assert not load(cohort_yaml(timezone="Europe/London")).timezone_defaulted


MENTOR_LINE = line_of(cohort_yaml(), "Tim Norwood")
NO_FOLLOW_UP = {"follow_up": "no", "mentor": "", "learning_set": ""}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "N" * 201}, "name: too long: 201 characters (at most 200)"),
        ({"email": "jösé@exämple.org"}, "email: 'jösé@exämple.org' is not an address this"
         " system can send to: use an ASCII address"),
        ({"email": "jose@exämple.org"}, "email: 'jose@exämple.org' is not an address this"
         " system can send to: use an ASCII address"),
        ({"email": "jösé@"}, "email: 'jösé@' is not a valid email address: There must be"
         " something after the @-sign."),
        ({"name": "Tim Norwood", "email": "tim@example.org"},
         "mentor: a trainee cannot be their own mentor"),
        ({"name": "Helen Okafor", "email": "helen@example.org"},
         "learning_set: a trainee cannot be in the set they facilitate ('Set A')"),
        ({"name": "Timothy Norwood", "email": "tim@example.org", **NO_FOLLOW_UP},
         f"email: 'tim@example.org' is Tim Norwood (cohort.yaml:{MENTOR_LINE}, mentors[0].email),"
         " not 'Timothy Norwood'; use the same name"),
        ({"name": "Sam", "email": "ORGANISER@example.org", **NO_FOLLOW_UP},
         "email: 'organiser@example.org' is Sam Rivers (cohort.yaml:4, organiser.email),"
         " not 'Sam'; use the same name"),
    ],
)  # fmt: skip
def test_roster_row_the_system_would_get_wrong(overrides: dict[str, str], expected: str) -> None:
    assert problems(roster=roster_csv(row(**overrides))) == [f"roster.csv:2: {expected}"]


def test_the_same_address_under_two_names_in_the_roster_is_one_problem() -> None:
    roster = roster_csv(row(), row(name="Annie Lee", place="fee"))
    assert problems(roster=roster) == ["roster.csv:3: email: 'ann@example.org' is already on row 2"]


def test_an_inline_trainee_under_a_mentors_address_is_named_by_its_line() -> None:
    trainee = {**BASE_ROW, "name": "Timothy", "email": "tim@example.org", **NO_FOLLOW_UP}
    text = cohort_yaml(trainees=[trainee])
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'Timothy')}: trainees[0].email: 'tim@example.org' is Tim"
        f" Norwood (cohort.yaml:{MENTOR_LINE}, mentors[0].email), not 'Timothy'; use the same name"
    ]


OUTSIDE = (
    "is outside the cohort file's folder: give default, or the path of a programme file in"
    " that folder"
)


@pytest.mark.parametrize(
    "given", ["/etc/passwd", "../elsewhere/x.yaml", "link.yaml", "sub/../../elsewhere/x.yaml"]
)
def test_a_programme_file_outside_the_cohort_folder_is_not_read(given: str) -> None:
    write("elsewhere/x.yaml", default_programme_text())
    write("cohorts/sub/keep", "")
    Path("cohorts/link.yaml").symlink_to(Path("../elsewhere/x.yaml"))
    text = cohort_yaml(programme=given)
    with pytest.raises(InvalidInput) as info:
        read_cohort(write("cohorts/cohort.yaml", text))
    assert [str(p) for p in info.value.problems] == [
        f"cohorts/cohort.yaml:{line_of(text, 'programme:')}: programme: {given!r} {OUTSIDE}"
    ]


def test_a_link_to_a_programme_inside_the_folder_is_read() -> None:
    write("cohorts/progs/custom.yaml", default_programme_text())
    Path("cohorts/link.yaml").symlink_to(Path("progs/custom.yaml"))
    spec = read_cohort(write("cohorts/cohort.yaml", cohort_yaml(programme="link.yaml")))
    assert spec.programme == default_programme_text()


def test_a_programme_that_is_not_yaml_is_named_by_its_line_and_not_quoted() -> None:
    write("custom.yaml", "id: custom\ntitle: Custom\nsecret: [hunter2\nmilestones: []\n")
    text = cohort_yaml(programme="custom.yaml")
    assert problems(text) == [
        f"cohort.yaml:{line_of(text, 'programme:')}: programme: custom.yaml:"
        " not valid YAML at line 4"
    ]


# --- places report ---------------------------------------------------------------------


def test_places_report_warns_about_unused_free_places() -> None:
    roster = roster_csv(
        row(),
        row(email="b@example.org", institution="Greenleys Residents", place="subsidised"),
        row(email="c@example.org", institution="Greenleys Residents", place="fee"),
    )
    assert places_report(load(roster=roster)) == [
        "St Mary's Church: 1 free place used",
        "Al-Noor Mosque: member institution with no trainee yet — its free place is unused",
        "Fee-paying places: 1 at 60 each, 60 in all",
        "Subsidised places: 1, funded by MK Community Foundation",
    ]


def test_places_report_counts_free_places_and_fractional_fees() -> None:
    roster = roster_csv(row(), row(email="b@example.org"), row(email="c@example.org", place="fee"))
    report = places_report(load(cohort_yaml(fee="12.5", funder=DROP), roster))
    assert report[0] == "St Mary's Church: 2 free places used"
    assert report[-2:] == [
        "Fee-paying places: 1 at 12.50 each, 12.50 in all",
        "Subsidised places: 0",
    ]


# --- slots, as a property --------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
    minutes=st.integers(min_value=1, max_value=600),
)
def test_parse_slot_keeps_the_wall_clock_or_rejects_it(start: datetime, minutes: int) -> None:
    start = start.replace(second=0, microsecond=0)
    end_clock = (start.hour * 60 + start.minute + minutes) % (24 * 60)
    text = f"{start:%Y-%m-%dT%H:%M}/{end_clock // 60:02d}:{end_clock % 60:02d}"
    try:
        slot = parse_slot(text, LONDON)
    except SlotError as exc:
        assert "before it starts" in str(exc) or "does not exist" in str(exc)
    else:
        assert slot.starts_at.replace(tzinfo=None) == start
        assert slot.starts_at.tzinfo is LONDON and slot.ends_at > slot.starts_at
