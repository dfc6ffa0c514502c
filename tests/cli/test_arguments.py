"""Command-line arguments that cannot be right are one line and exit 1, changing nothing:
an unknown ``--cohort`` for ``upcoming``, a ``--now`` the clocks skip or pass twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journey.errors import BadDate
from journey.settings import Settings
from journey.timeutil import parse_moment
from tests.cli.test_commands import journey
from tests.services.test_record_checks import state

AISHA = "aisha.rahman@example.org"
GAP = (
    "Error: --now 2027-03-28T01:30 does not exist in Europe/London (the clocks go forward); "
    "give another time\n"
)
TWICE = (
    "Error: --now 2026-10-25T01:30 happens twice in Europe/London (the clocks go back); add "
    "the offset: 2026-10-25T01:30+01:00 or 2026-10-25T01:30+00:00\n"
)


def test_upcoming_for_an_unknown_cohort_names_the_known_ones(
    settings: Settings, cohort_id: str
) -> None:
    result = journey("upcoming", "--cohort", "nope", "--days", "14", probe_prefect=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "Error: unknown cohort 'nope'; known cohorts: mk-2026\nno prefect\n",
    )


def test_upcoming_for_a_cohort_when_there_are_none(settings: Settings) -> None:
    result = journey("upcoming", "--cohort", "mk-2026", probe_prefect=True)
    assert (result.returncode, result.stderr) == (
        1,
        "Error: unknown cohort 'mk-2026'; there are no cohorts yet: "
        "journey cohort import COHORT.yaml\nno prefect\n",
    )


def test_upcoming_for_a_known_cohort_not_launched_has_nothing_to_send(
    settings: Settings, cohort_id: str
) -> None:
    result = journey("upcoming", "--cohort", cohort_id, "--now", "2026-09-01", probe_prefect=True)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "Nothing to send in the next 7 days.\n",
        "no prefect\n",
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["record", "mk-2026", AISHA, "listening", "--now", "2027-03-28T01:30"], GAP),
        (["record", "mk-2026", AISHA, "listening", "--now", "2026-10-25T01:30"], TWICE),
        (["status", "mk-2026", "--now", "2027-03-28T01:30"], GAP),
        (["upcoming", "--now", "2026-10-25T01:30"], TWICE),
        (["withdraw", "mk-2026", AISHA, "--now", "2027-03-28T01:30"], GAP),
    ],
    ids=lambda v: " ".join(v[:1] + v[-1:]) if isinstance(v, list) else "",
)
def test_a_now_the_clocks_skip_or_pass_twice_is_refused_and_nothing_is_written(
    settings: Settings, cohort_id: str, args: list[str], error: str
) -> None:
    url = settings.database_url
    before = state(url)
    result = journey(*args, probe_prefect=True)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", error + "no prefect\n")
    assert state(url) == before


def test_an_autumn_time_with_its_offset_is_accepted(settings: Settings, cohort_id: str) -> None:
    """Either reading the refusal offers works: 01:30 BST and 01:30 GMT are both 25 Oct."""
    outputs = []
    for offset in ("+01:00", "+00:00"):
        args = ("record", "mk-2026", AISHA, "listening", "--now", f"2026-10-25T01:30{offset}")
        result = journey(*args, probe_prefect=True)
        assert (result.returncode, result.stderr) == (0, "no prefect\n")
        outputs.append(result.stdout)
    assert outputs == [
        "listening: 1 recorded.\n",
        "listening: 0 recorded, 1 already recorded.\n",
    ]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2027-03-28T00:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),  # GMT, just before
        ("2027-03-28T02:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),  # BST, just after
        ("2026-10-25T00:59", datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),  # BST, just before
        ("2026-10-25T02:00", datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),  # GMT, just after
        ("2026-10-25T01:30+01:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25T01:30+00:00", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("2027-03-28", datetime(2027, 3, 28, 11, 0, tzinfo=UTC)),  # a date: noon, BST
    ],
)
def test_times_either_side_of_a_clock_change_are_read_as_written(text: str, utc: datetime) -> None:
    assert parse_moment(text) == utc


def test_a_time_in_the_gap_or_the_overlap_is_refused_in_any_zone() -> None:
    with pytest.raises(
        BadDate,
        match=r"^--now 2027-03-14T02:30 does not exist in America/New_York \(the clocks go "
        r"forward\); give another time$",
    ):
        parse_moment("2027-03-14T02:30", "America/New_York")
    with pytest.raises(
        BadDate,
        match=r"^--now 2026-11-01T01:15 happens twice in America/New_York \(the clocks go "
        r"back\); add the offset: 2026-11-01T01:15-04:00 or 2026-11-01T01:15-05:00$",
    ):
        parse_moment("2026-11-01T01:15", "America/New_York")


def test_durations_are_read_with_their_bounds() -> None:
    from datetime import timedelta

    from journey.timeutil import parse_duration, text_of

    ten_seconds, day = timedelta(seconds=10), timedelta(days=1)
    assert parse_duration("26h", ten_seconds) == timedelta(hours=26)
    assert parse_duration(" 1D2h30m ", ten_seconds) == timedelta(days=1, hours=2, minutes=30)
    assert parse_duration("45s", ten_seconds, day) == timedelta(seconds=45)
    for bad, why in (
        ("", "is not a duration, e.g. 26h, 90m or 1d2h"),
        ("soon", "is not a duration"),
        ("26 hours", "is not a duration"),
        ("2h1d", "is not a duration"),
        ("5s", "is out of range: choose at least 10s"),
        ("2d", "is out of range: choose 10s to 1d"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_duration(bad, ten_seconds, day if bad == "2d" else None)
    assert [text_of(d) for d in (timedelta(days=1, hours=2), ten_seconds, timedelta(0))] == [
        "1d2h",
        "10s",
        "0s",
    ]
