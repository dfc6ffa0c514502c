"""The funder's report: every figure pinned on a small hand-checked year of the example cohort.

The year (``_year``), on the example cohort ``mk-2026`` (20 trainees from 10 institutions,
6 of them members; 14 on the follow-up, 7 in each learning set):
- launched 1 Sep 2026 and delivered over real SMTP, which refuses Neil Hargreaves: 19
  welcomes sent and 1 failed, 3 mentor and 2 facilitator assignments sent;
- training day 1 (25 Sep): all but Neil Hargreaves and Leah Goldberg (18); day 2 (26 Sep):
  those but Oliver Bennett too (17). Leah and Oliver are Kingsmead Academy's only
  trainees, so 17 leaders from 9 institutions (6 members, 3 external) completed it;
- listening done by Margaret, Ruth and Aisha; issues by Margaret;
- mentoring meetings: Margaret 1, 2 and 3; Ruth 1; Aisha 1 (5 meetings, 3 trainees);
- Tomasz Nowak (Set A, mentor Grace) withdraws on 5 Oct 2026: his mentor and facilitator
  are each told in a digest (2 digests sent, telling 2 held notices);
- learning set 1: Set A Margaret, Ruth, Harpreet (3 of 7); Set B Aisha, Yusuf (2 of 7);
  learning set 3 and the presentation: Margaret (1 of 7 in Set A);
- Margaret, having done all that, graduates on 17 Jun 2027: the only one eligible.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from journey.db import session_scope
from journey.errors import UnknownCohort
from journey.models import Place
from journey.services.delivery import deliver_all
from journey.services.digest import queue_digests
from journey.services.funder_report import (
    DayAttendance,
    FunderReport,
    Graduation,
    Institutions,
    Mentoring,
    NoticeCount,
    Notices,
    PlaceLine,
    Progress,
    Share,
    Withdrawals,
    funder_report,
)
from journey.services.funder_report_formats import to_csv, to_json
from journey.services.funder_report_markdown import to_markdown
from journey.services.membership import withdraw
from journey.services.record import record
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc

NOW = "2027-06-20T13:00"  # local (BST): 12:00 UTC
MARGARET, RUTH = "margaret.oconnor@example.org", "ruth.pemberton@example.org"
AISHA, YUSUF = "aisha.rahman@example.org", "yusuf.patel@example.org"
HARPREET, NEIL = "harpreet.gill@example.org", "neil.hargreaves@example.org"
LEAH, OLIVER = "leah.goldberg@example.org", "oliver.bennett@example.org"


def _roster_emails() -> list[str]:
    rows = csv.DictReader((EXAMPLES / "roster.csv").read_text().splitlines())
    return [row["email"] for row in rows]


def _record(url: str, emails: Sequence[str], milestone: str, on: str, now: str) -> None:
    with session_scope(url) as session:
        record(
            session=session,
            cohort_id="mk-2026",
            emails=emails,
            milestone=milestone,
            on=date.fromisoformat(on),
            now=utc(now),
        )


def _year(settings: Settings, smtp_server) -> None:  # type: ignore[no-untyped-def]
    """The year told in the module's docstring."""
    url = settings.database_url
    smtp_server.refuse_recipient(NEIL)
    with session_scope(url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc("2026-09-01T09:00"))
    deliver_all(url=url, settings=settings, now=utc("2026-09-01T09:00"))
    everyone = _roster_emails()
    day1 = [e for e in everyone if e not in (NEIL, LEAH)]
    _record(url, day1, "training", "2026-09-25", "2026-09-27T12:00")
    _record(url, [e for e in day1 if e != OLIVER], "training", "2026-09-26", "2026-09-27T12:00")
    with session_scope(url) as session:
        withdraw(
            session=session,
            cohort_id="mk-2026",
            email="tomasz.nowak@example.org",
            on=date(2026, 10, 5),
            reason=None,
            by="test",
            now=utc("2026-10-05T12:00"),
        )
        queue_digests(session=session, now=utc("2026-10-06T09:00"))
    deliver_all(url=url, settings=settings, now=utc("2026-10-06T09:00"))
    _record(url, [MARGARET, RUTH, AISHA], "listening", "2026-10-20", "2026-10-21T12:00")
    _record(url, [MARGARET], "issues", "2026-11-20", "2026-11-21T12:00")
    _record(url, [MARGARET, RUTH, AISHA], "mentoring-1", "2026-10-10", "2026-10-21T12:00")
    _record(url, [MARGARET, RUTH, HARPREET], "learning-set-1", "2026-12-03", "2026-12-04T12:00")
    _record(url, [AISHA, YUSUF], "learning-set-1", "2026-12-08", "2026-12-09T12:00")
    _record(url, [MARGARET], "mentoring-2", "2027-01-10", "2027-01-11T12:00")
    _record(url, [MARGARET], "mentoring-3", "2027-03-10", "2027-03-11T12:00")
    _record(url, [MARGARET], "learning-set-3", "2027-04-01", "2027-04-02T12:00")
    _record(url, [MARGARET], "presentation", "2027-04-01", "2027-04-02T12:00")
    _record(url, [MARGARET], "graduation", "2027-06-17", "2027-06-18T12:00")


@pytest.fixture
def year(use_smtp: Settings, smtp_server, cohort_id: str) -> Settings:  # type: ignore[no-untyped-def]
    _year(use_smtp, smtp_server)
    return use_smtp


def _report(settings: Settings, cohort_ids: Sequence[str] = ("mk-2026",)) -> FunderReport:
    from journey.timeutil import parse_moment

    with session_scope(settings.database_url) as session:
        return funder_report(session=session, cohort_ids=cohort_ids, now=parse_moment(NOW))


def test_participation_and_places_are_counted_by_hand(year: Settings) -> None:
    [figures] = _report(year).cohorts
    p = figures.participation
    assert p.enrolled == Institutions(leaders=20, institutions=10, members=6, others=4)
    # 20 less Neil, Leah (day 1) and Oliver (day 2); Kingsmead Academy sent only Leah and Oliver
    assert p.trained == Institutions(leaders=17, institutions=9, members=6, others=3)
    assert p.places == (
        PlaceLine(Place.MEMBER, None, 6, Decimal(0)),
        PlaceLine(Place.FEE, None, 7, Decimal(420)),  # 7 fee-paying places at 60
        PlaceLine(Place.SUBSIDISED, "MK Community Foundation", 7, Decimal(0)),
    )
    assert p.fees_due == Decimal(420)


def test_attendance_progress_mentoring_and_sets_are_counted_by_hand(year: Settings) -> None:
    [f] = _report(year).cohorts
    assert f.training == (
        DayAttendance(1, "2026-09-25", Share(18, 20)),
        DayAttendance(2, "2026-09-26", Share(17, 20)),
    )
    assert [(s.milestone, s.done) for s in f.stages] == [
        ("listening", Share(3, 20)),
        ("issues", Share(1, 20)),
        ("research", Share(0, 20)),
        ("action", Share(0, 20)),
        ("negotiation", Share(0, 20)),
        ("evaluation", Share(0, 20)),
    ]
    assert f.mentoring == Mentoring(
        with_mentor=14, trainees_met=3, meetings=5, by_number=((1, 3), (2, 1), (3, 1))
    )
    sets = {s.name: (s.members, [p.done for p in s.sessions]) for s in f.learning_sets}
    assert sets == {
        "Set A": (7, [Share(3, 7), Share(0, 7), Share(1, 7), Share(1, 7)]),
        "Set B": (7, [Share(2, 7), Share(0, 7), Share(0, 7), Share(0, 7)]),
    }
    assert [p.done for p in f.learning_set_totals] == [
        Share(5, 14),
        Share(0, 14),
        Share(1, 14),
        Share(1, 14),
    ]
    assert f.learning_set_totals[3] == Progress(
        "presentation", "Final presentation (last learning set)", Share(1, 14)
    )


def test_graduation_withdrawals_and_notices_are_counted_by_hand(year: Settings) -> None:
    [f] = _report(year).cohorts
    # 14 on the follow-up (Tomasz, withdrawn, among them); Margaret alone is eligible
    assert f.graduation == Graduation("Graduation", applies=14, eligible=1, graduated=1)
    assert f.withdrawals == Withdrawals(count=1, by_month=(("2026-10", 1),))
    assert f.notices == Notices(
        kinds=(
            NoticeCount("digest", 2, 0),  # to Grace (mentor) and Helen (facilitator)
            NoticeCount("facilitator-assignment", 2, 0),
            NoticeCount("mentor-assignment", 3, 0),
            NoticeCount("welcome", 19, 1),  # Neil's refused by the server
        ),
        sent=26,
        failed=1,
        told_in_digests=2,  # the news of Tomasz's withdrawal: not emails of their own
    )
    assert f.evaluation.responses == 0


GOLDEN_MD = """\
# Funder's report: Two-Day Training 2026

Made on Sun 20 Jun 2027 13:00 (Europe/London), from what was recorded for cohort mk-2026 by \
then.

## At a glance

Each step counts those enrolled who did it, withdrawn trainees included: trained means every \
training day attended; mentored, at least one mentoring meeting recorded; in a learning set, \
placed in one; presented, the final presentation recorded.

| step | trainees | of those enrolled |
| --- | --- | --- |
| enrolled | 20 | 100% |
| trained | 17 | 85% |
| mentored | 3 | 15% |
| in a learning set | 14 | 70% |
| presented | 1 | 5% |
| graduated | 1 | 5% |

## Participation

20 leaders from 10 institutions (6 member institutions and 4 external organisations) enrolled. \
17 leaders from 9 institutions (6 member institutions and 3 external organisations) completed \
the Two-Day Training (every day).

| place | trainees | fees due (£) |
| --- | --- | --- |
| member institution's free place | 6 | 0 |
| fee-paying | 7 | 420 |
| subsidised by MK Community Foundation | 7 | 0 |
| all places | 20 | 420 |

## Attendance at the Two-Day Training

| day | date | attended |
| --- | --- | --- |
| day 1 | 2026-09-25 | 18 of 20 (90%) |
| day 2 | 2026-09-26 | 17 of 20 (85%) |

## Progress through the stages

| stage | done |
| --- | --- |
| Stage 1: Listening | 3 of 20 (15%) |
| Stage 2: Issues | 1 of 20 (5%) |
| Stage 3: Research | 0 of 20 (0%) |
| Stage 4: Action | 0 of 20 (0%) |
| Stage 5: Negotiation | 0 of 20 (0%) |
| Stage 6: Evaluation | 0 of 20 (0%) |

## Mentoring

14 trainees have a mentor; 3 trainees met their mentor, in 5 meetings. Only that a meeting \
took place is recorded: what is said in it stays between mentor and trainee.

| meeting | held |
| --- | --- |
| meeting 1 | 3 |
| meeting 2 | 1 |
| meeting 3 | 1 |

## Action learning sets

| set | members | Action Learning Set 1 | Action Learning Set 2 | Action Learning Set 3 | \
Final presentation (last learning set) |
| --- | --- | --- | --- | --- | --- |
| Set A | 7 | 3 of 7 (43%) | 0 of 7 (0%) | 1 of 7 (14%) | 1 of 7 (14%) |
| Set B | 7 | 2 of 7 (29%) | 0 of 7 (0%) | 0 of 7 (0%) | 0 of 7 (0%) |
| all sets | 14 | 5 of 14 (36%) | 0 of 14 (0%) | 1 of 14 (7%) | 1 of 14 (7%) |

## Graduation

1 of the 14 trainees it is open to is eligible to graduate; 1 graduated.

## Withdrawals

1 trainee withdrew (October 2026).

## Notices

26 emails sent and 1 failed (a daily digest counts once); the digests gave mentors, \
facilitators and the organiser 2 updates about trainees.

| emails | sent | failed |
| --- | --- | --- |
| daily digests (mentors, facilitators, organiser) | 2 | 0 |
| introductions to set facilitators | 2 | 0 |
| introductions to mentors | 3 | 0 |
| welcomes | 19 | 1 |

## Evaluation

No responses.
"""


def test_markdown_reads_as_a_report_to_send(year: Settings) -> None:
    assert to_markdown(_report(year)) == GOLDEN_MD


def reported(fmt: str, seed: str, folder: Path) -> str:
    """``journey report --out`` in a fresh interpreter whose string hashes (and so the order
    of its sets) differ from this one's: the file it writes."""
    out = folder / f"{seed}.{fmt}"
    args = ("report", "mk-2026", "--format", fmt, "--out", str(out), "--now", NOW)
    result = journey(*args, env={"PYTHONHASHSEED": seed})
    assert result.returncode == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_each_format_is_byte_identical_in_any_process_and_parses(
    year: Settings, tmp_path: Path
) -> None:
    """The same records and --now give the same bytes: here, and under two hash seeds."""
    first = _report(year)
    for fmt, render in (("csv", to_csv), ("json", to_json)):
        for seed in ("0", "1"):
            assert reported(fmt, seed, tmp_path) == render(first), (fmt, seed)
    rows = list(csv.DictReader(io.StringIO(to_csv(first))))
    day2 = next(r for r in rows if r["measure"] == "day 2 (2026-09-26)")
    assert day2 == {
        "cohort": "mk-2026",
        "section": "attendance",
        "measure": "day 2 (2026-09-26)",
        "count": "17",
        "of": "20",
        "percent": "85%",
    }
    data = json.loads(to_json(first))
    assert data["made_at"] == "2027-06-20T12:00:00+00:00"
    assert data["cohorts"][0]["training"][1]["attended"] == {
        "count": 17,
        "of": 20,
        "percent": "85%",
    }
    assert data["cohorts"][0]["participation"]["fees_due"] == "420"
    assert data["total"] is None


def test_nothing_to_count_says_so_instead_of_dividing_by_zero(
    settings: Settings, cohort_id: str
) -> None:
    """Before anything is recorded (not even launched), shares of 0 say so; none is 0/0."""
    f = _report(settings).cohorts[0]
    assert f.training[0].attended == Share(0, 20)
    text = to_markdown(_report(settings))
    assert "No emails sent yet." in text
    assert "no meetings are recorded yet" in text
    assert "No one has withdrawn." in text
    assert "No one has completed the Two-Day Training yet." in text


def _second_cohort(settings: Settings, folder: Path) -> None:
    """``mk-2027``: the example's file under another id, with two trainees of its own."""
    from journey.cohort.file import read_cohort
    from journey.services.cohorts import import_cohort

    text = (EXAMPLES / "cohort.yaml").read_text()
    text = text.replace("id: mk-2026", "id: mk-2027").replace("2026 Two", "2027 Two")
    text = text.replace("title: Two-Day Training 2026", "title: Two-Day Training 2027")
    (folder / "cohort.yaml").write_text(text)
    (folder / "roster.csv").write_text(
        "name,email,institution,place,follow_up,mentor,learning_set\n"
        "Zara Ahmed,zara.ahmed@example.org,St Mary's Church,member,no,,\n"
        "Ben Cole,ben.cole@example.org,Greenleys Residents,fee,no,,\n"
    )
    spec = read_cohort(folder / "cohort.yaml", folder / "roster.csv")
    with session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-02T09:00"))


def test_several_cohorts_give_each_then_the_totals(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    _second_cohort(settings, tmp_path)
    report = _report(settings, ["mk-2027", "mk-2026", "mk-2027"])
    assert report.cohort_ids == ("mk-2026", "mk-2027")  # sorted, each once
    assert report.total is not None
    # 20 + 2 leaders; St Mary's and Greenleys are among the first cohort's 10 institutions
    assert report.total.participation.enrolled == Institutions(22, 10, 6, 4)
    assert report.total.participation.fees_due == Decimal(480)  # 8 fee-paying places at 60
    assert [d.attended for d in report.total.training] == [Share(0, 22), Share(0, 22)]
    assert report.total.learning_sets == ()  # each cohort names its own sets
    text = to_markdown(report)
    assert text.startswith("# Funder's report: 2 cohorts\n")
    assert "## All cohorts together\n" in text


def test_an_unknown_cohort_names_the_known_ones(settings: Settings, cohort_id: str) -> None:
    with pytest.raises(UnknownCohort, match=r"^unknown cohort 'nope'; known cohorts: mk-2026$"):
        _report(settings, ["mk-2026", "nope"])


def test_cli_prints_markdown_without_prefect(year: Settings) -> None:
    result = journey("report", "mk-2026", "--format", "md", "--now", NOW, probe_prefect=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN_MD
    assert result.stderr.strip().endswith("no prefect")


def test_cli_out_writes_the_file_and_says_where(year: Settings, tmp_path: Path) -> None:
    out = tmp_path / "grant.json"
    result = journey("report", "mk-2026", "--format", "json", "--out", str(out), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Report written to {out}.\n"
    assert out.read_text(encoding="utf-8") == to_json(_report(year))


def test_cli_out_to_a_missing_folder_is_one_line(settings: Settings, cohort_id: str) -> None:
    out = Path("/nonexistent-folder/report.md")
    result = journey("report", "mk-2026", "--out", str(out), "--now", NOW)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot write the report to {out}: No such file or directory\n"
    )


def test_cli_unknown_cohort_is_one_line(settings: Settings, cohort_id: str) -> None:
    result = journey("report", "nope", "--now", NOW)
    assert result.returncode == 1
    assert result.stderr == "Error: unknown cohort 'nope'; known cohorts: mk-2026\n"
    assert result.stdout == ""


def _statements(settings: Settings, cohort_ids: Sequence[str]) -> int:
    """How many SQL statements the report on ``cohort_ids`` sends."""
    from sqlalchemy import event

    from journey.db import get_engine

    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append("statement")

    engine = get_engine(settings.database_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        _report(settings, cohort_ids)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_the_report_sends_as_many_statements_for_two_cohorts_as_for_one(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    _second_cohort(settings, tmp_path)
    one = _statements(settings, ["mk-2026"])
    assert one and _statements(settings, ["mk-2026", "mk-2027"]) == one
