"""Measuring tools: wall time, SQL statements and commits, medians, and profiles by cost.

SQL is counted with a ``before_cursor_execute`` listener on the product's own engine
(``journey.db.get_engine(url)``, one per URL per process), so statements from any thread,
task or flow that uses that URL are counted; Prefect's own database is not.
"""

from __future__ import annotations

import gc
import itertools
import re
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")
_SHAPE = re.compile(r"\s+")


@dataclass
class SqlCount:
    """Statements and commits seen on one engine while counting, with the commonest shapes."""

    statements: int = 0
    commits: int = 0
    shapes: Counter[str] = field(default_factory=Counter)

    def top(self, n: int = 6) -> list[dict[str, Any]]:
        """The ``n`` commonest statement shapes (first 70 characters), with their counts."""
        return [{"count": c, "sql": s} for s, c in self.shapes.most_common(n)]


@contextmanager
def count_sql(engine: Engine) -> Iterator[SqlCount]:
    """Count statements (``executemany`` counts once) and commits on ``engine``."""
    counted = SqlCount()
    statements, commits = itertools.count(), itertools.count()

    def on_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        next(statements)
        counted.shapes[_SHAPE.sub(" ", statement)[:70]] += 1

    def on_commit(conn: Any) -> None:
        next(commits)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
        counted.statements = next(statements)
        counted.commits = next(commits)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call, the garbage of earlier work collected first."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def settled(
    limit: float = 60,
    busy: float = 0.1,
    window: float = 1,
    on_busy: Callable[[float], None] | None = None,
) -> bool:
    """Wait (at most ``limit`` s) until other processes, Prefect's server among them, use
    under ``busy`` of the CPUs for a whole ``window`` of seconds; whether they did.

    Before each timed flow run: a flow's events and artifacts are stored after it
    returns, and would otherwise slow the next run timed. ``on_busy`` hears each busy
    window's share."""
    from bench.env import OtherWork

    began = time.monotonic()
    while time.monotonic() - began < limit:
        others = OtherWork()
        others.start()
        time.sleep(window)
        share = others.share()
        if share is None or share < busy:
            return True
        if on_busy is not None:
            on_busy(share)
    return False


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and every value, rounded, for the results file."""
    return {
        "median": round(median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "runs": [round(v, 4) for v in values],
    }


def fresh_copy(template: Path, folder: Path, name: str) -> str:
    """Copy a checkpointed SQLite file to ``folder/name``; returns its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def checkpoint(url: str) -> None:
    """Fold the WAL into the main file and drop the engine's connections."""
    from journey.db import get_engine

    get_engine(url).dispose()


# Profiles: time attributed to the innermost frame whose function names a category.


@dataclass(frozen=True)
class Category:
    label: str
    functions: frozenset[str]


def categories(spec: Sequence[tuple[str, Sequence[str]]]) -> list[Category]:
    return [Category(label, frozenset(names)) for label, names in spec]


def profile(fn: Callable[[], T], spec: Sequence[tuple[str, Sequence[str]]]) -> dict[str, Any]:
    """Run ``fn`` under pyinstrument; seconds per category (innermost match wins).

    The rest, under no category, is reported as ``other``. Profiling slows the run down
    (by ~10-30 %), so only the shares are meant to be read, not the seconds.
    """
    try:
        from pyinstrument import Profiler
    except ImportError:  # a dev tool, not a dependency: the rest of the figures still count
        fn()
        return {"skipped": "pyinstrument is not installed (.venv/bin/pip install pyinstrument)"}

    cats = categories(spec)
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        fn()
    finally:
        session = profiler.stop()
    totals: Counter[str] = Counter()
    root = session.root_frame()
    if root is not None:
        _attribute(root, "other", cats, totals)
    total = sum(totals.values()) or 1.0
    return {
        "total_s": round(total, 3),
        "by_cost": [
            {"what": label, "seconds": round(s, 3), "share": round(s / total, 3)}
            for label, s in totals.most_common()
        ],
        "top_functions": _top_functions(root),
    }


def _attribute(frame: Any, current: str, cats: list[Category], totals: Counter[str]) -> None:
    label = next((c.label for c in cats if frame.function in c.functions), current)
    children = list(frame.children)
    own = frame.time - sum(child.time for child in children)
    totals[label] += max(own, 0.0)
    for child in children:
        _attribute(child, label, cats, totals)


def _top_functions(root: Any, n: int = 12) -> list[dict[str, Any]]:
    """Own time per application function (site-packages excluded), the largest first."""
    own: Counter[str] = Counter()

    def walk(frame: Any) -> None:
        children = list(frame.children)
        if frame.file_path and "/journey/" in frame.file_path:
            where = frame.file_path.split("/journey/", 1)[1]
            mine = frame.time - sum(c.time for c in children if "/journey/" in (c.file_path or ""))
            own[f"{where}:{frame.function}"] += max(mine, 0.0)
        for child in children:
            walk(child)

    if root is not None:
        walk(root)
    return [{"function": f, "seconds": round(s, 3)} for f, s in own.most_common(n)]
