"""What every benchmark section shares: sizes, folders, the SMTP sink, settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.smtp_sink import Sink
from journey.settings import Settings, get_settings

SENDER = "Leadership Journey <journey@example.org>"


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is, and how often each figure is taken."""

    sweep_trainees: tuple[int, ...]
    sweep_cohorts: int
    delivery_notices: int
    launch_trainees: tuple[int, int]
    repeats: int  # timed runs per figure (the median is reported)
    flow_repeats: int  # timed runs of each flow whose run takes 10-60 s
    cli_runs: int
    report_cohorts: int = 100  # the funder's report: a grant of this many cohorts
    report_trainees: int = 100  # of this many trainees each
    report_runs: int = 5

    @staticmethod
    def full() -> Sizes:
        return Sizes((1_000, 10_000), 100, 2_000, (20, 500), 3, 2, 5)

    @staticmethod
    def quick() -> Sizes:
        return Sizes((200, 1_000), 20, 400, (20, 100), 1, 1, 2, 5, 20, 2)

    def cohorts_for(self, trainees: int) -> int:
        return min(self.sweep_cohorts, max(1, trainees // 10))


@dataclass
class Context:
    work: Path
    sizes: Sizes
    sink: Sink
    seed: int = 20260925
    results: dict[str, Any] = field(default_factory=dict)
    built: dict[str, Any] = field(default_factory=dict)  # databases built, by name

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def smtp_settings(self, url: str, **overrides: Any) -> Settings:
        """Settings that deliver to the sink over plain SMTP (no TLS), for ``url``."""
        values: dict[str, Any] = {
            "database_url": url,
            "smtp_host": self.sink.host,
            "smtp_port": self.sink.port,
            "smtp_starttls": False,
            "smtp_ssl": False,
            "smtp_timeout": 10.0,
            "smtp_retry_delays": [0.5, 1.0],
            "sender": SENDER,
            "outbox_dir": self.work / "outbox-unused",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)


def _as_env(settings: Settings) -> dict[str, str]:
    env = {
        "JOURNEY_DATABASE_URL": settings.database_url,
        "JOURNEY_OUTBOX_DIR": str(settings.outbox_dir),
        "JOURNEY_SENDER": settings.sender,
        "JOURNEY_SMTP_STARTTLS": str(settings.smtp_starttls).lower(),
        "JOURNEY_SMTP_SSL": str(settings.smtp_ssl).lower(),
        "JOURNEY_SMTP_RETRY_DELAYS": "[" + ", ".join(map(str, settings.smtp_retry_delays)) + "]",
    }
    if settings.smtp_host:
        env["JOURNEY_SMTP_HOST"] = settings.smtp_host
        env["JOURNEY_SMTP_PORT"] = str(settings.effective_smtp_port)
    return env


@contextmanager
def process_settings(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` this process's (what flows and tasks read), then put things back."""
    values = _as_env(settings)
    saved = {k: os.environ.get(k) for k in [*values, "JOURNEY_SMTP_HOST", "JOURNEY_SMTP_PORT"]}
    os.environ.update(values)
    if not settings.smtp_host:
        os.environ.pop("JOURNEY_SMTP_HOST", None)
        os.environ.pop("JOURNEY_SMTP_PORT", None)
    get_settings.cache_clear()
    try:
        current = get_settings()
        assert current.database_url == settings.database_url
        yield current
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@contextmanager
def to_queued(module: Any) -> Iterator[None]:
    """A flow module's delivery and publishing steps patched out (in this process only),
    so its flow ends once its notices are queued: the issue's scope for the launch and the
    sweep ("first notices queued", "due computation and queueing")."""
    from unittest.mock import patch

    from journey.services.delivery import DeliveryResult

    nothing = DeliveryResult("not sent")
    publish = "publish_cohorts" if hasattr(module, "publish_cohorts") else "publish_cohort"
    with (
        patch.object(module, "deliver_until_done", lambda at: nothing),
        patch.object(module, publish, lambda cohort_ids, at: {}),
    ):
        yield
