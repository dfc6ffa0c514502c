"""The programme marks which milestones are mentoring meetings (recorded apart, by number
and date only); a programme stored before the marker still reads as it did."""

from __future__ import annotations

import re

import pytest

from journey.errors import ProgrammeError
from journey.programme import default_programme_text, load_programme, parse_programme

MEETINGS = {1: "mentoring-1", 2: "mentoring-2", 3: "mentoring-3", 4: "mentoring-4"}


def unmarked(text: str) -> str:
    """The programme as cohorts stored it before ``mentoring: N`` existed."""
    text = re.sub(r"\n *mentoring: \d+(?=\n)", "", text)
    return re.sub(r", mentoring: \d+", "", text)


def test_the_default_programme_marks_its_four_meetings() -> None:
    programme = load_programme("default")
    assert programme.meetings == MEETINGS
    assert programme.mentoring_number("mentoring-3") == 3
    assert programme.mentoring_number("listening") is None


def test_a_programme_stored_before_the_marker_reads_mentoring_n_as_meeting_n() -> None:
    text = unmarked(default_programme_text())
    assert not re.search(r"mentoring: \d", text)
    programme = load_programme(text)
    assert programme.meetings == MEETINGS
    assert programme.ids == load_programme("default").ids


def test_a_marked_programme_is_read_by_its_marks_not_its_ids() -> None:
    text = default_programme_text().replace("id: mentoring-1\n", "id: first-meeting\n", 1)
    programme = parse_programme(text)
    assert programme.meetings[1] == "first-meeting"
    assert programme.mentoring_number("first-meeting") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((", mentoring: 2,", ", mentoring: 1,"), "mentoring meetings numbered twice: 1"),
        (
            ("session: 3, notices: *set_rules}", "session: 3, mentoring: 5, notices: *set_rules}"),
            "mentoring: N is a meeting a trainee books with their mentor, not a session",
        ),
    ],
)
def test_mentoring_marks_are_checked(change: tuple[str, str], message: str) -> None:
    text = default_programme_text().replace(*change, 1)
    with pytest.raises(ProgrammeError, match=re.escape(message)):
        parse_programme(text)
