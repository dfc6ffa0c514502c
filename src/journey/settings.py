"""One settings object, read from the environment (``JOURNEY_*``) or a ``.env`` file.

:func:`get_settings` reads and checks them all once; every bad one becomes a line of
:class:`~journey.errors.BadSettings`, never a pydantic traceback.
"""

from __future__ import annotations

import json
import ssl
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from journey.errors import BadSettings

ENV_PREFIX = "JOURNEY_"
MAX_RETRY_DELAY = 3600.0


class Settings(BaseSettings):
    """Where the data lives and how mail leaves."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
    smtp_ca_file: Path | None = Field(
        default=None,
        description="A PEM file of the certificate authorities to trust for the SMTP server's "
        "certificate (a private or in-house authority), for this connection only; unset: the "
        "system's trust store. Certificates are always checked.",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per command.")
    smtp_retry_delays: Annotated[list[float], NoDecode] = Field(
        default=[2.0, 10.0, 30.0],
        description="Back-off in seconds between tries on a 4xx reply or a dropped line: "
        "'2,10,30' or '[2, 10, 30]', each 0 to 3600.",
    )
    smtp_max_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Messages sent over SMTP in any minute, across every worker and run (a "
        "provider's limit, e.g. 30 for Microsoft 365); what is over it stays pending for the "
        "next sweep. Unset: no limit. The outbox folder is never limited.",
    )
    smtp_max_per_day: int | None = Field(
        default=None,
        ge=1,
        description="Messages sent over SMTP in any 24 hours, across every worker and run; "
        "what is over it stays pending for the next sweep. Unset: no limit.",
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
    smtp_global_limit: int | None = Field(
        default=None,
        ge=1,
        le=1_000,
        description="SMTP connections open at once across every worker, when a Prefect server "
        "is used (PREFECT_API_URL): each connection holds a slot of the Prefect global "
        "concurrency limit 'journey-smtp' (created with this many slots if missing) from "
        "connect to quit, and waits for one. Unset: only smtp_connections per batch applies.",
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
        description="When send-reminders runs, under `journey serve` or `journey deploy` (cron, "
        "in each cohort time zone). Default: each clock time the programmes of that zone's "
        "cohorts use (08:00 and 09:00 for the default one).",
    )

    @field_validator("smtp_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: Any) -> list[float]:
        """``2,10,30`` or a JSON list, as the environment gives it; each 0 to an hour."""
        return retry_delays(value)

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        """Read now, so a wrong path is named at start rather than met as an untrusted
        certificate at the first send."""
        if value is not None:
            ca_context(value)
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        """Checked here, so a bad From: is not found first by the mail server."""
        if "@" not in parseaddr(value)[1]:
            raise ValueError(
                f"{value!r} is not an address, e.g. Leadership Journey <journey@example.org>"
            )
        return value

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

    @property
    def smtp_server(self) -> str:
        """``host:port`` of the mail server, as every message about it names it."""
        return f"{self.smtp_host}:{self.effective_smtp_port}"


def retry_delays(value: Any) -> list[float]:
    """Seconds between tries from ``2,10,30``, ``[2, 10, 30]`` or a list; empty is none."""
    items = value
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            items = None
    elif isinstance(value, str):
        items = value.split(",") if value.strip() else []
    wrong = ValueError(f"{value!r} is not a list of seconds, e.g. 2,10,30")
    if not isinstance(items, list | tuple):
        raise wrong
    try:
        delays = [float(item) for item in items]
    except (TypeError, ValueError):
        raise wrong from None
    if not all(0 <= d <= MAX_RETRY_DELAY for d in delays):
        raise ValueError(f"{value!r}: each delay must be 0 to {MAX_RETRY_DELAY:g} seconds")
    return delays


def ca_context(ca_file: Path) -> ssl.SSLContext:
    """A verifying TLS context trusting the authorities in ``ca_file`` (PEM), for the SMTP
    connection alone (the process's trust store is left as it is); ValueError naming what
    is wrong with the file."""
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except FileNotFoundError:
        raise ValueError(f"{str(ca_file)!r}: no such file") from None
    except ssl.SSLError:
        raise ValueError(f"{str(ca_file)!r}: no PEM certificate in it") from None
    except OSError as exc:
        raise ValueError(f"{str(ca_file)!r}: cannot be read ({exc.strerror})") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read and checked once (the first caller pays, the CLI's
    ``main()`` at start); raises :class:`BadSettings` naming each bad one."""
    env_file = Path(str(Settings.model_config.get("env_file")))
    try:
        return Settings()
    except ValidationError as exc:
        raise BadSettings(settings_problems(exc.errors())) from None
    except UnicodeDecodeError as exc:
        where = f"byte {exc.object[exc.start]:#x} at position {exc.start}"
        raise BadSettings([f"{env_file}: not UTF-8 text ({where}); save it as UTF-8"]) from None
    except OSError as exc:
        raise BadSettings([f"{env_file}: cannot be read ({exc.strerror})"]) from None


def settings_problems(errors: list[ErrorDetails]) -> list[str]:
    """``setting JOURNEY_NAME: what is wrong``, one per bad setting, in the order pydantic
    found them (the first fault of each)."""
    problems: dict[str, str] = {}
    for error in errors:
        name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else "settings"
        problems.setdefault(name, _explain(error))
    return [f"setting {name}: {message}" for name, message in problems.items()]


_NOT_A = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "string_type": "text",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least"),
    "greater_than": ("gt", "must be more than"),
    "less_than_equal": ("le", "must be at most"),
    "less_than": ("lt", "must be less than"),
}


def _explain(error: ErrorDetails) -> str:
    """``'abc' is not a whole number``; pydantic's own words only for the unforeseen."""
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    shown = repr(given) if isinstance(given, str) else str(given)
    if kind in _NOT_A:
        return f"{shown} is not {_NOT_A[kind]}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        bound = ctx[key]
        return f"{shown} {words} {int(bound) if bound == int(bound) else bound}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return f"{shown}: {error['msg']}"
