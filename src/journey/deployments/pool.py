"""``journey deploy``: the work pool, the SMTP password in a Secret block, the workers'
environment as job variables, then every deployment on the pool; and its report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.deployments.define import Target, definitions
from journey.deployments.register import Outcome, client, sync
from journey.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

NEVER_PASSED = {"smtp_password"}  # a Secret block's name goes instead


def ensure_pool(api: SyncPrefectClient, name: str) -> str | None:
    """Create a process work pool ``name`` if there is none; returns its type if it was
    created, else None."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        api.read_work_pool(name)
        return None
    except ObjectNotFound:
        template = ProcessWorker.get_default_base_job_template()
        api.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))
        return "process"


def ensure_secret(block_name: str, password: str) -> bool:
    """Keep the SMTP password in a Prefect Secret block; True if it was saved (new or
    changed), False if the block held it already."""
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        held = Secret.load(block_name)
        if isinstance(held, Secret) and held.get() == password:
            return False
    except (ObjectNotFound, ValueError):
        pass
    Secret(value=password).save(block_name, overwrite=True)
    return True


def job_env(settings: Settings, password_block: str | None) -> dict[str, str]:
    """The ``JOURNEY_*`` settings that are set (and the database URL, always), as a worker's
    environment: paths made absolute, never the SMTP password (the name of its Secret
    block instead)."""
    names = (settings.model_fields_set | {"database_url"}) - NEVER_PASSED
    env: dict[str, str] = {}
    for name in sorted(names):
        value = getattr(settings, name)
        if value is not None and value != "":
            env[ENV_PREFIX + name.upper()] = env_text(name, value)
    if password_block:
        env[ENV_PREFIX + "SMTP_PASSWORD_BLOCK"] = password_block
    return env


def env_text(name: str, value: Any) -> str:
    """A setting's value as the environment gives it."""
    if name == "database_url":
        return absolute_sqlite(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def absolute_sqlite(url: str) -> str:
    """A SQLite URL with a relative path made absolute (a worker runs its flows in a
    folder of its own); any other URL unchanged."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if not parsed.drivername.startswith("sqlite") or not path or path == ":memory:":
        return url
    if Path(path).is_absolute():
        return url
    return parsed.set(database=str(Path(path).resolve())).render_as_string(hide_password=False)


@dataclass(frozen=True)
class DeployReport:
    """What ``journey deploy`` did, for the terminal."""

    pool: str
    pool_created: str | None  # the type of the pool made, if one was
    secret: tuple[str, bool] | None  # (block name, saved now) when a password is set
    env: dict[str, str]
    smtp_limit: int | None
    outcomes: list[Outcome]

    def lines(self) -> list[str]:
        """One line per fact: the pool, the password, each deployment, the job variables."""
        made = f"created (type {self.pool_created})" if self.pool_created else "exists"
        out = [f"Work pool {self.pool}: {made}."]
        if self.secret:
            block, saved = self.secret
            did = "saved in" if saved else "already in"
            out.append(
                f"SMTP password: {did} Prefect Secret block {block!r}; workers get "
                "JOURNEY_SMTP_PASSWORD_BLOCK, never the password."
            )
        if self.smtp_limit is not None:
            out.append(
                f"SMTP connections across workers: at most {self.smtp_limit} (journey-smtp)."
            )
        for o in self.outcomes:
            when = f"  [{'; '.join(o.schedules)}]" if o.schedules else ""
            out.append(f"  {o.name}: {o.change}{when}")
        out.append(f"Job variables: env {', '.join(self.env) or '(none)'}.")
        return out + self._notes() + [self._summary()]

    def _notes(self) -> list[str]:
        """Warnings about the database URL the workers are given."""
        database = self.env.get(f"{ENV_PREFIX}DATABASE_URL", "")
        notes = []
        if _has_password(database):
            notes.append(
                "Note: the database URL holds a password, and job variables are stored in "
                "Prefect's database; prefer a password file on the workers (.pgpass)."
            )
        if database.startswith("sqlite"):
            notes.append(
                "Note: the database is a SQLite file, which only workers on this machine "
                "can reach; use Postgres for workers elsewhere."
            )
        return notes

    def _summary(self) -> str:
        changed = sum(o.changed for o in self.outcomes)
        if changed:
            return f"{changed} of {len(self.outcomes)} deployments changed."
        return f"Nothing changed: {len(self.outcomes)} deployments already as defined."


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return bool(url) and make_url(url).password is not None


def deploy(settings: Settings, pool: str, refresh_every: timedelta, block: str) -> DeployReport:
    """``journey deploy``: make the pool if missing, keep the SMTP password in a Secret
    block, set the SMTP connection limit if configured, then create or update every
    deployment on the pool (only those that differ) and remove stale zones' sweeps."""
    from journey.smtp_limit import ensure_smtp_limit

    with client() as api:
        created = ensure_pool(api, pool)
    secret: tuple[str, bool] | None = None
    if settings.smtp_password is not None:
        secret = (block, ensure_secret(block, settings.smtp_password.get_secret_value()))
    env = job_env(settings, secret[0] if secret else None)
    if settings.smtp_global_limit is not None:
        ensure_smtp_limit(settings.smtp_global_limit)
    target = Target(pool, {"env": env}, refresh_every)
    outcomes = sync(definitions(settings, target))
    return DeployReport(pool, created, secret, env, settings.smtp_global_limit, outcomes)
