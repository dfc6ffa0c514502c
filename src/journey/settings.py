"""One settings object, read from the environment (``JOURNEY_*``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the data lives and how mail leaves."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///journey.db",
        description="Any SQLAlchemy URL; a SQLite file in the working folder by default.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server; with none, notices go to the outbox folder."
    )
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="Defaults to 465 with SSL, else 587."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_password_block: str | None = Field(
        default=None,
        description="Name of a Prefect Secret block holding the SMTP password (read by the "
        "delivery task at run time; takes the place of smtp_password).",
    )
    smtp_starttls: bool = Field(default=True, description="Upgrade with STARTTLS (port 587).")
    smtp_ssl: bool = Field(default=False, description="Implicit TLS from the start (port 465).")
    smtp_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per command.")
    smtp_retry_delays: list[float] = Field(
        default=[2.0, 10.0, 30.0],
        description="Back-off in seconds between tries on a 4xx reply or a dropped line.",
    )
    sender: str = Field(
        default="Leadership Journey <journey@localhost>",
        description="The From: of every notice.",
    )
    outbox_dir: Path = Field(
        default=Path("outbox"), description="Where .eml files go when no SMTP host is set."
    )
    batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Notices claimed and sent per batch."
    )
    lease_seconds: int = Field(
        default=600, ge=10, le=86_400, description="How long a claim lasts before it lapses."
    )
    smtp_connections: int = Field(
        default=3,
        ge=1,
        le=10,
        description="SMTP connections a batch is sent over at once (one message in flight "
        "on each). A single connection waits on the server's reply to every command.",
    )
    settle_every: int = Field(
        default=20,
        ge=1,
        le=1_000,
        description="Send outcomes recorded per commit. A crash can re-send at most "
        "settle_every + smtp_connections - 1 messages, each with its Message-ID unchanged; "
        "1 records every send on its own.",
    )
    reminder_cron: str | None = Field(
        default=None,
        description="When `journey serve` runs send-reminders (cron, local time). Default: "
        "each clock time the cohorts' programmes use (08:00 and 09:00 for the default one).",
    )

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls and self.smtp_port == 465:
            self.smtp_starttls = False
        return self

    @property
    def effective_smtp_port(self) -> int:
        """The port to use: the configured one, else the usual one for the TLS mode."""
        if self.smtp_port is not None:
            return self.smtp_port
        return 465 if self.smtp_ssl else 587


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
