"""The funder's report as one HTML page, on the hand-checked year of ``test_funder_report``.

The year's funnel (20 enrolled): 17 trained (85%), 3 met their mentor (15%), 14 in a
learning set (70%), 1 presented (5%), 1 graduated (5%). With the three responses of
``test_funder_evaluation`` imported, the before/after chart shows relational power 3.0 → 8.0
(n 3), leadership 4.5 → 8.5 (n 2) and motivation 6.5 → 8.0 (n 2).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from journey.services.funder_report import FunderReport
from journey.services.funder_report_html import to_html
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.services.test_funder_evaluation import _import as import_responses
from tests.services.test_funder_report import NOW, _report, _second_cohort
from tests.services.test_funder_report import year as year  # the fixture: the hand-checked year

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def _row(head: str, *cells: str) -> str:
    """A table row as the page writes it: the first cell heads the row; cells given as
    ``#12`` are in a column of numbers (right-aligned)."""
    tds = "".join(
        f'<td class="num">{c[1:]}</td>' if c.startswith("#") else f"<td>{c}</td>" for c in cells
    )
    return f'<tr><th scope="row">{head}</th>{tds}</tr>'


def test_the_page_holds_the_figures_counted_by_hand(year: Settings, tmp_path: Path) -> None:
    import_responses(tmp_path)
    page = to_html(_report(year))
    assert "<h1>Funder&#x27;s report: Two-Day Training 2026</h1>" in page
    assert (
        '<p class="made">Made on Sun 20 Jun 2027 13:00 (Europe/London), from what was recorded'
        " for cohort mk-2026 by then.</p>"
    ) in page
    for step in (
        _row("enrolled", "#20", "#100%"),
        _row("trained", "#17", "#85%"),
        _row("mentored", "#3", "#15%"),
        _row("in a learning set", "#14", "#70%"),
        _row("presented", "#1", "#5%"),
        _row("graduated", "#1", "#5%"),
    ):
        assert step in page
    assert (
        '<title id="funnel-mk-2026-title">From enrolment to graduation: enrolled 20, trained'
        " 17, mentored 3, in a learning set 14, presented 1, graduated 1</title>"
    ) in page
    assert _row("day 2", "2026-09-26", "17 of 20 (85%)") in page
    assert (
        _row("Set A", "#7", "3 of 7 (43%)", "0 of 7 (0%)", "1 of 7 (14%)", "1 of 7 (14%)") in page
    )
    assert _row("welcomes", "#19", "#1") in page
    assert "<p>1 of the 14 trainees it is open to is eligible to graduate; 1 graduated.</p>" in page
    assert "<p>1 trainee withdrew (October 2026).</p>" in page
    # the before/after chart and the same figures in the table beside it
    assert page.count("<svg ") == 2
    assert '<figure class="before-after"><svg id="ratings-mk-2026-after-training"' in page
    relational = re.search(r'<tr><th scope="row">[^<]*relational[^<]*</th>(.*?)</tr>', page, re.I)
    assert relational is not None
    assert relational.group(1) == (
        '<td class="num">3</td><td class="num">3.0</td><td class="num">8.0</td>'
        '<td class="num">167%</td><td>100% (n 2)</td>'
    )
    assert "<blockquote>Loved the role plays</blockquote>" in page


def test_the_page_stands_alone(year: Settings, tmp_path: Path) -> None:
    """No link, source, import or script: opened offline, from an email, it is whole."""
    import_responses(tmp_path)
    page = to_html(_report(year))
    assert not re.search(r"""(?i)\b(src|href)\s*=\s*["']?\s*(https?:|//|file:|data:)""", page)
    assert not re.search(r"(?i)@import|url\(\s*[^#\s]|<script|<link|<iframe|<img", page)
    # the only web addresses are the SVG namespaces, which name, not fetch
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    # each chart's own ids, so two charts on a page never share one
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert all(i.startswith(("funnel-mk-2026", "ratings-mk-2026")) for i in ids)


def test_any_process_gives_the_same_bytes(year: Settings, tmp_path: Path) -> None:
    """Matplotlib's SVG ids and the order of sets change from process to process unless
    pinned: the page made here and by ``journey report`` under two hash seeds is one."""
    import_responses(tmp_path)
    page = to_html(_report(year))
    for seed in ("0", "1"):
        out = tmp_path / f"{seed}.html"
        args = ("report", "mk-2026", "--format", "html", "--out", str(out), "--now", NOW)
        result = journey(*args, env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        assert out.read_text(encoding="utf-8") == page, seed


def test_text_from_the_records_is_escaped(year: Settings, tmp_path: Path) -> None:
    import_responses(tmp_path)
    report = _report(year)
    [f] = report.cohorts
    [q] = f.evaluation.questionnaires
    hostile = replace(
        f,
        title=HOSTILE,
        learning_sets=tuple(replace(s, name=HOSTILE) for s in f.learning_sets),
        participation=replace(
            f.participation,
            places=tuple(replace(p, funder=HOSTILE) for p in f.participation.places),
        ),
        evaluation=replace(
            f.evaluation,
            questionnaires=(
                replace(
                    q,
                    title=HOSTILE,
                    comments=(HOSTILE,),
                    changes=tuple(replace(c, text=HOSTILE) for c in q.changes),
                ),
            ),
        ),
    )
    page = to_html(FunderReport(report.made_at, report.timezone, ("mk-2026",), (hostile,), None))
    assert "<script" not in page
    assert "<img" not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x"
    assert f"<title>Funder&#x27;s report: {escaped}" in page
    assert f"<blockquote>{escaped}" in page
    assert f'<th scope="row">subsidised by {escaped}' in page
    assert f'<th scope="row">{escaped}' in page  # the learning set, the statements
    assert (
        '<title id="ratings-mk-2026-after-training-title">Self-ratings before and after:'
        " &lt;script&gt;" in page
    )


def test_no_responses_draws_no_ratings_chart(year: Settings) -> None:
    page = to_html(_report(year))
    assert "<section><h2>Evaluation</h2><p>No responses.</p></section>" in page
    assert page.count("<svg ") == 1  # the funnel alone
    assert 'class="before-after"' not in page


def test_a_statement_nobody_rated_is_in_the_table_not_the_chart(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "scores-only.csv"
    path.write_text("email,score\n,7\n,9\n")
    assert journey("evaluation", "import", "mk-2026", str(path), "--now", NOW).returncode == 0
    page = to_html(_report(settings))
    assert page.count("<svg ") == 1
    assert "<p>No one answered the before/after statements: no chart.</p>" in page
    assert _row("The course as a whole, out of 10", "#2", "#8.0", "#8.0") in page


def test_several_cohorts_draw_the_totals_and_tabulate_each_funnel(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    _second_cohort(settings, tmp_path)
    page = to_html(_report(settings, ["mk-2026", "mk-2027"]))
    assert "<h1>Funder&#x27;s report: 2 cohorts</h1>" in page
    assert "from what was recorded for cohorts mk-2026, mk-2027 by then." in page
    assert page.count("<svg ") == 1  # the totals' funnel; no responses anywhere
    assert '<svg id="funnel-total"' in page
    assert "<caption>Each cohort&#x27;s funnel</caption>" in page
    # nothing recorded yet: 14 of mk-2026's 20 are in a set, mk-2027's 2 are in none
    zero = "<td>0 (0%)</td>"
    assert f'<tr><th scope="row">mk-2026</th><td>20 (100%)</td>{zero * 2}<td>14 (70%)</td>' in page
    assert f'<tr><th scope="row">mk-2027</th><td>2 (100%)</td>{zero * 2}<td>0 (0%)</td>' in page
    assert (
        f'<tr><th scope="row">all cohorts</th><td>22 (100%)</td>{zero * 2}<td>14 (64%)</td>' in page
    )
    assert page.index("<h2>Two-Day Training 2027 (mk-2027)</h2>") < page.index(
        "<h2>All cohorts together</h2>"
    )


def test_cli_writes_the_page(year: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = journey("report", "mk-2026", "--format", "html", "--out", str(out), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Report written to {out}.\n"
    assert out.read_text(encoding="utf-8") == to_html(_report(year))


def test_matplotlib_is_loaded_only_to_draw() -> None:
    """``journey --help`` and the other formats do not pay for the plotting library."""
    code = (
        "import sys\nimport journey.cli.report, journey.services.funder_report_html\n"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "False\n", result.stderr
