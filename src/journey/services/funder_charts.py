"""The funder's report's two pictures, as inline SVG: the funnel and the before/after ratings.

The funnel follows the trainees from enrolment to graduation; the before/after chart shows
each self-rating statement's mean before and mean after on a scale of 0 to 10. Both are drawn by
matplotlib (imported only here, only when a chart is drawn) on a :class:`Figure` of their
own, with fixed settings: the same figures give the same SVG bytes. Text is drawn as paths
in DejaVu Sans (it ships with matplotlib), so a chart looks the same in every browser and
in print; each SVG carries a title, and the report puts the same figures in a table beside it.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from journey.services.funder_evaluation import ChangeFigures, QuestionnaireFigures
from journey.services.funder_report_formats import percent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from journey.services.funder_report_document import Step

__all__ = ["before_after_svg", "drawn_changes", "funnel_svg"]

INK, BAR, BEFORE, AFTER, GRID = "#1a1a1a", "#2f6b9a", "#9a9a9a", "#1f5f8b", "#dddddd"
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def funnel_svg(steps: Sequence[Step], *, chart_id: str, title: str) -> str:
    """Horizontal bars, one per step, each with its count and its share of those enrolled."""
    from matplotlib.figure import Figure

    with _settings():
        fig = Figure(figsize=(7.0, 0.42 * len(steps) + 0.5), layout="constrained")
        ax = fig.add_subplot()
        rows = list(range(len(steps)))
        counts = [s.share.count for s in steps]
        most = max([*counts, 1])
        ax.barh(rows, counts, height=0.62, color=BAR)
        for row, step in zip(rows, steps, strict=True):
            label = f"{step.share.count} ({percent(step.share)})"
            ax.text(step.share.count + most * 0.01, row, label, va="center", ha="left")
        ax.set_yticks(rows, [s.label for s in steps])
        ax.set_ylim(len(steps) - 0.5, -0.5)  # the first step on top
        ax.set_xlim(0, most * 1.18)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        return _svg(fig, chart_id, title)


def drawn_changes(q: QuestionnaireFigures) -> tuple[ChangeFigures, ...]:
    """The before/after statements with answers (a statement nobody answered is not drawn)."""
    return tuple(c for c in q.changes if c.n and _number(c.mean_before) is not None)


def before_after_svg(q: QuestionnaireFigures, *, chart_id: str, title: str) -> str | None:
    """Each statement's mean before (grey) and after (blue) out of 10, with its n; ``None``
    when no statement has answers."""
    changes = drawn_changes(q)
    if not changes:
        return None
    from matplotlib.figure import Figure

    with _settings():
        labels = [_wrapped(c) for c in changes]
        lines = sum(label.count("\n") + 1 for label in labels)
        fig = Figure(figsize=(7.0, 0.22 * lines + 0.35 * len(changes) + 0.9), layout="constrained")
        ax = fig.add_subplot()
        for row, c in enumerate(changes):
            before, after = _number(c.mean_before) or 0.0, _number(c.mean_after) or 0.0
            ax.plot([before, after], [row, row], color=GRID, linewidth=3, zorder=1)
            ax.scatter([before], [row], s=60, color=BEFORE, zorder=2, label="before")
            ax.scatter([after], [row], s=60, color=AFTER, zorder=3, label="after")
            low, high = (before, after) if before <= after else (after, before)
            left, right = (
                (c.mean_before, c.mean_after) if before <= after else (c.mean_after, c.mean_before)
            )
            ax.text(low - 0.25, row, left, va="center", ha="right", fontsize=9)
            ax.text(high + 0.25, row, right, va="center", ha="left", fontsize=9)
        ax.set_yticks(range(len(changes)), labels)
        ax.set_ylim(len(changes) - 0.5, -0.5)
        ax.set_xlim(-0.9, 10.9)
        ax.set_xticks(range(11))
        ax.set_xlabel("mean self-rating out of 10")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[:2], names[:2], loc="lower center", bbox_to_anchor=(0.5, 1.0),
                  ncols=2, frameon=False)  # fmt: skip
        return _svg(fig, chart_id, title)


def _settings() -> AbstractContextManager[None]:
    """matplotlib's settings for the report's charts, for the time one is drawn."""
    from matplotlib import rc_context

    return rc_context(
        {
            "svg.hashsalt": "journey-funder-report",  # ids from content, not from a random uuid
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "text.parse_math": False,  # a "$" in a statement is a dollar, not mathematics
            "text.color": INK,
            "axes.edgecolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
        }
    )


def _number(text: str) -> float | None:
    """``"3.0"`` as 3.0; ``None`` for ``—``."""
    try:
        return float(Decimal(text))
    except InvalidOperation:
        return None


def _wrapped(c: ChangeFigures) -> str:
    return "\n".join([*textwrap.wrap(c.text, 34), f"(n {c.n})"])


_HEAD = re.compile(r"\A.*?(?=<svg\b)", re.S)  # the XML declaration and doctype
_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)  # matplotlib's, escaped: they hold no "-->"
_ID = re.compile(r'(\bid="|xlink:href="#|url\(#)([^")]+)')


def _svg(fig: Figure, chart_id: str, title: str) -> str:
    """``fig`` as an ``<svg>`` element to put in a page: ids made unique to ``chart_id``,
    scaled to its container, labelled for screen readers by ``title``."""
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata=_METADATA)
    text = _COMMENT.sub("", _HEAD.sub("", out.getvalue()))
    text = _ID.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", text)
    heading = f'<title id="{chart_id}-title">{escape(title)}</title>'
    opening = f'<svg id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" class="chart" '
    text = text.replace("<svg ", opening, 1)
    return re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + heading, text, count=1).strip()
