"""The report's evaluation figures, pinned on a small hand-checked set of responses.

Three responses to `after-training` (two named, one anonymous):

| who | score | relational power | leadership | motivation |
| --- | --- | --- | --- | --- |
| Aisha | 9 | 4 → 8 | 5 → 9 | 6 → 9 |
| Yusuf | 10 | 0 → 6 | (not answered) | (not answered) |
| anonymous | 8 | 5 → 10 | 4 → 8 | 7 → 7 |

- score: mean (9 + 10 + 8) / 3 = 9.0, median 9.0, n 3;
- relational power: before 3.0, after 8.0; increase of the means (8 - 3) / 3 = 167%; each
  person's increase: Aisha 100%, the anonymous one 100% (Yusuf's before is 0: left out),
  mean 100%, n 2;
- leadership: before 4.5, after 8.5; 89% (4 / 4.5); each: 80%, 100%: mean 90%, n 2;
- motivation: before 6.5, after 8.0; 23% (1.5 / 6.5); each: 50%, 0%: mean 25%, n 2.
"""

from __future__ import annotations

import json
from pathlib import Path

from journey.db import session_scope
from journey.services.funder_evaluation import (
    ChangeFigures,
    ScoreFigures,
    evaluation_figures_each,
)
from journey.settings import Settings
from tests.cli.test_commands import journey

NOW = "2026-10-01T12:00"
RESPONSES = (
    "email,score,relational-power-before,relational-power-after,leadership-before,"
    "leadership-after,motivation-before,motivation-after,comments\n"
    "aisha.rahman@example.org,9,4,8,5,9,6,9,Great course\n"
    "yusuf.patel@example.org,10,0,6,,,,,\n"
    ",8,5,10,4,8,7,7,Loved the role plays\n"
)


def _import(tmp_path: Path) -> None:
    path = tmp_path / "after-training.csv"
    path.write_text(RESPONSES)
    result = journey("evaluation", "import", "mk-2026", str(path), "--now", NOW)
    assert result.returncode == 0, result.stderr


def test_scores_and_both_averages_of_increase_are_counted_by_hand(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    _import(tmp_path)
    with session_scope(settings.database_url) as session:
        _, figures = evaluation_figures_each(session=session, cohort_ids=[cohort_id])
    assert figures.responses == 3
    [q] = figures.questionnaires  # the other questionnaires have no responses
    assert (q.id, q.named, q.anonymous) == ("after-training", 2, 1)
    assert [(s.item, s.n, s.mean, s.median) for s in q.scores] == [("score", 3, "9.0", "9.0")]
    assert [
        (c.item, c.n, c.mean_before, c.mean_after, c.increase_of_means, c.mean_of_increases,
         c.increases_n)
        for c in q.changes
    ] == [
        ("relational-power", 3, "3.0", "8.0", "167%", "100%", 2),
        ("leadership", 2, "4.5", "8.5", "89%", "90%", 2),
        ("motivation", 2, "6.5", "8.0", "23%", "25%", 2),
    ]  # fmt: skip
    assert q.comments == ("Great course", "Loved the role plays")


def test_a_before_of_zero_everywhere_gives_no_percentage(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "zeros.csv"
    path.write_text("email,relational-power-before,relational-power-after\n,0,5\n,0,7\n")
    assert journey("evaluation", "import", "mk-2026", str(path), "--now", NOW).returncode == 0
    with session_scope(settings.database_url) as session:
        [q] = evaluation_figures_each(session=session, cohort_ids=[cohort_id])[1].questionnaires
    change = q.changes[0]  # leadership and motivation: not answered, n 0
    assert change == ChangeFigures(
        "relational-power", change.text, 2, "0.0", "6.0", "—", "—", 0
    )  # never divided by zero
    assert q.scores == (ScoreFigures("score", q.scores[0].text, 0, "—", "—"),)


def test_the_report_shows_them_in_every_format(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    _import(tmp_path)
    md = journey("report", "mk-2026", "--format", "md", "--now", NOW).stdout
    assert "3 responses (2 named, 1 anonymous)." in md
    assert (
        "| My awareness of tools for building relational power | 3 | 3.0 | 8.0 | 167% "
        "| 100% (n 2) |"
    ) in md
    assert "> Loved the role plays" in md
    csv_text = journey("report", "mk-2026", "--format", "csv", "--now", NOW).stdout
    assert "mk-2026,evaluation,after-training: leadership mean of increases,90%,," in csv_text
    data = json.loads(journey("report", "mk-2026", "--format", "json", "--now", NOW).stdout)
    assert json.dumps(data).count('"increase_of_means": "23%"') >= 1


def test_with_no_responses_the_report_says_so(settings: Settings, cohort_id: str) -> None:
    md = journey("report", "mk-2026", "--format", "md", "--now", NOW).stdout
    assert "Evaluation\n\nNo responses." in md
