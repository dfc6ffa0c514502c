"""What every task needs: the database URL and settings of this process, and the clock."""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr

from journey.settings import Settings, get_settings
from journey.timeutil import wall_clock


def settings() -> Settings:
    """This process's settings, with the SMTP password from its Prefect Secret block if named.

    The secret stays a ``SecretStr``: it is never logged, returned or put in an artifact.
    """
    config = get_settings()
    if not config.smtp_password_block:
        return config
    from prefect.blocks.system import Secret

    block = Secret.load(config.smtp_password_block)
    assert isinstance(block, Secret)  # a sync call: never a coroutine here
    return config.model_copy(update={"smtp_password": SecretStr(str(block.get()))})


def resolve_now(now: datetime | None) -> datetime:
    """The time a flow was asked to act at; the wall clock when none was given."""
    return now if now is not None else wall_clock()
