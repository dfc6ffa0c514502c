"""The cohort report behind the monitoring artifacts: rows, share done, summary, escaping."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from journey.cohort.file import read_cohort
from journey.db import session_scope
from journey.services.cohorts import import_cohort
from journey.services.record import record
from journey.services.report import (
    CohortReport,
    cohort_report,
    md_escape,
    progress_rows,
    share_done,
    summary_markdown,
)
from journey.services.status import CohortStatus, TraineeStatus
from journey.services.sweep import launch
from journey.settings import Settings
from tests.conftest import EXAMPLES, utc

AISHA = "aisha.rahman@example.org"
DAVID = "david.okonkwo@example.org"  # no follow-up: mentoring, sets and graduation are n/a
LAUNCH = utc("2026-09-01T09:00")
NOW = utc("2026-11-28T12:00")
HOSTILE = "*bold* | <script>alert(1)</script> [x](javascript:alert(1)) _i_"
RENDER = MarkdownIt("commonmark").enable("table")


def launch_and_record(url: str, cohort_id: str) -> None:
    """Launch; Aisha and David did the training; Aisha did listening."""
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    with session_scope(url) as session:
        for emails, milestone, on in (
            ([AISHA, DAVID], "training", None),
            ([AISHA], "listening", date(2026, 11, 5)),
        ):
            record(
                session=session,
                cohort_id=cohort_id,
                emails=emails,
                milestone=milestone,
                on=on,
                now=NOW,
            )


def report(url: str, cohort_id: str) -> CohortReport:
    with session_scope(url) as session:
        return cohort_report(session=session, cohort_id=cohort_id, now=NOW)


def make_trainee(**overrides: object) -> TraineeStatus:
    """A trainee's status with plain defaults."""
    values: dict[str, object] = {
        "name": "Test Trainee",
        "email": "test@example.org",
        "institution": "St Mary's Church",
        "place": "member",
        "follow_up": True,
        "position": "listening",
        "done": 0,
        "applicable": 16,
        "overdue": (),
        "eligible": False,
        "milestones": {"training": "due"},
    }
    return TraineeStatus(**{**values, **overrides})  # type: ignore[arg-type]


def make_status(*trainees: TraineeStatus) -> CohortStatus:
    return CohortStatus("mk-2026", "Two-Day Training 2026", True, ("training",), trainees)


def test_progress_rows_hold_each_milestone_state_in_programme_order(
    settings: Settings, cohort_id: str
) -> None:
    launch_and_record(settings.database_url, cohort_id)
    rows = report(settings.database_url, cohort_id).rows
    assert len(rows) == 20
    aisha = next(r for r in rows if r["trainee"] == "Aisha Rahman")
    assert list(aisha.items()) == [
        ("trainee", "Aisha Rahman"),
        ("position", "mentoring-1"),
        ("training", "done"),
        ("listening", "done"),
        ("issues", "due"),
        ("research", "upcoming"),
        ("action", "upcoming"),
        ("negotiation", "upcoming"),
        ("evaluation", "upcoming"),
        ("mentoring-1", "overdue"),
        ("mentoring-2", "due"),
        ("mentoring-3", "upcoming"),
        ("mentoring-4", "upcoming"),
        ("learning-set-1", "due"),
        ("learning-set-2", "upcoming"),
        ("learning-set-3", "upcoming"),
        ("presentation", "upcoming"),
        ("graduation", "upcoming"),
    ]
    david = next(r for r in rows if r["trainee"] == "David Okonkwo")
    assert (david["listening"], david["mentoring-1"], david["graduation"]) == (
        "overdue",
        "n/a",
        "n/a",
    )


def test_progress_rows_carry_names_and_states_only(settings: Settings, cohort_id: str) -> None:
    """No email address, institution or place: the table is published to Prefect."""
    rows = report(settings.database_url, cohort_id).rows
    assert not [v for row in rows for v in row.values() if "@" in v]
    assert {k for row in rows for k in row} & {"institution", "place", "email"} == set()
    institutions = {"MK Central Mosque", "St Mary's Church"}
    assert not [v for row in rows for v in row.values() if v in institutions]


def test_a_withdrawn_trainee_keeps_a_row() -> None:
    status = make_status(make_trainee(position="withdrawn"))
    assert progress_rows(status) == [
        {
            "trainee": "Test Trainee",
            "position": "withdrawn",
            "training": "due",
        }
    ]


def test_share_done_counts_done_over_applicable_milestones(
    settings: Settings, cohort_id: str
) -> None:
    """3 done (Aisha: both training days count once, listening; David: training) of 266."""
    assert report(settings.database_url, cohort_id).share == 0.0
    launch_and_record(settings.database_url, cohort_id)
    result = report(settings.database_url, cohort_id)
    applicable = sum(t.applicable for t in result.status.trainees)
    assert applicable == 16 * 14 + 6 * 7  # 14 follow-up trainees, 6 without
    assert result.share == pytest.approx(100 * 3 / 266)


def test_share_done_leaves_out_withdrawn_trainees_and_is_zero_when_nothing_applies() -> None:
    done = make_trainee(done=8, applicable=16)
    gone = make_trainee(position="withdrawn", done=0, applicable=16)
    assert share_done(make_status(done, gone)) == 50.0
    assert share_done(make_status()) == 0.0
    assert share_done(make_status(make_trainee(applicable=0))) == 0.0


def test_summary_gives_headline_counts_overdue_and_next_notices(
    settings: Settings, cohort_id: str
) -> None:
    launch_and_record(settings.database_url, cohort_id)
    text = report(settings.database_url, cohort_id).markdown
    assert text.startswith(
        "# Two-Day Training 2026 (mk-2026)\n\nAt Sat 28 Nov 2026 12:00 (Europe/London).\n"
    )
    assert (
        "| trainees | 20 |\n| active | 20 |\n| milestones done | 3 of 266 applicable |\n"
        "| share done | 1.1% |\n| overdue milestones | 51 |\n| eligible to graduate | 0 |\n"
    ) in text
    assert "## Overdue (20 trainees)\n" in text
    assert "- Aisha Rahman: mentoring-1\n" in text
    assert "- David Okonkwo: listening\n" in text
    assert "## Next 7 days (80 notices)\n" in text  # 25 queued at launch, 55 planned
    assert (
        "| Wed 02 Dec 2026 09:00 | trainee | Chloe Whitaker | session-reminder"
        " | learning-set-1 | planned |\n"
    ) in text
    assert text.endswith("\n\nand 30 more\n")  # 50 rows shown
    assert "@" not in text


def test_summary_of_a_quiet_cohort_says_so() -> None:
    text = summary_markdown(make_status(make_trainee()), [], NOW, "Europe/London")
    assert "Nothing is overdue.\n" in text
    assert "Nothing to send in the next 7 days.\n" in text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Margaret O'Connor", "Margaret O'Connor"),
        ("*bold* | x", "\\*bold\\* \\| x"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("Two-Day Training 2026 (mk-2026)", "Two-Day Training 2026 (mk-2026)"),
        ("Stage 1: Listening. Great!", "Stage 1: Listening. Great!"),
        ("1. first", "1\\. first"),
        ("9.0", "9.0"),
        ("- item", "\\- item"),
        ("see https://x.org or www.y.org", "see https\\://x.org or www\\.y.org"),
        ("line\nbreak\r\n# heading", "line break \\# heading"),
        ("Tom & Jerry &amp;", "Tom &amp; Jerry &amp;amp;"),
        ("`code` _i_ ~s~ \\", "\\`code\\` \\_i\\_ \\~s\\~ \\\\"),
    ],
)
def test_md_escape_makes_peoples_text_inert(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


@pytest.mark.parametrize(
    "text",
    [
        HOSTILE,
        "1. - + > # x",
        "Tom & Jerry &amp; &copy;",
        "<b>x</b>\\*",
        "- a list? + no",
        "+44 1908 000000",
        "12) twelve",
        "9.0 out of 10",
        "1.5",
        "=== not a heading",
        "--- not a rule",
        "> not a quote",
        "Stage 1: Listening (two-day) www.example.org",
        "a ## closing mark ##",
    ],
)
def test_escaped_text_renders_exactly_as_typed(text: str) -> None:
    assert RENDER.render(md_escape(text)) == f"<p>{RENDER.utils.escapeHtml(text)}</p>\n"


def test_a_hostile_name_renders_inert_in_the_summary(settings: Settings, tmp_path: Path) -> None:
    roster = (EXAMPLES / "roster.csv").read_text().replace("Aisha Rahman", f'"{HOSTILE}"')
    (tmp_path / "roster.csv").write_text(roster)
    spec = read_cohort(EXAMPLES / "cohort.yaml", tmp_path / "roster.csv")
    with session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    launch_and_record(settings.database_url, spec.id)
    result = report(settings.database_url, spec.id)
    assert result.rows[4]["trainee"] == HOSTILE  # the table artifact keeps the data as is
    html = RENDER.render(result.markdown)
    assert "<script" not in html and "<em>" not in html and "<strong>" not in html
    assert "<a " not in html
    shown = RENDER.utils.escapeHtml(HOSTILE)
    assert f"<li>{shown}: mentoring-1</li>" in html
    assert f"<td>trainee</td>\n<td>{shown}</td>\n<td>welcome</td>" in html


def test_a_cohort_not_launched_is_reported_as_such(settings: Settings, cohort_id: str) -> None:
    result = report(settings.database_url, cohort_id)
    assert (result.timezone, result.status.launched) == ("Europe/London", False)
    assert {r["position"] for r in result.rows} == {"not launched"}
    assert "At Sat 28 Nov 2026 12:00 (Europe/London). Not launched yet.\n" in result.markdown
