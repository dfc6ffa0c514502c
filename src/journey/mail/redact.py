"""Email addresses taken out of text that leaves the database for Prefect or a log.

A mail server's reply often quotes the address it refused (``550 5.1.1
<aisha@example.org>: no such user``). Replies are kept in ``notices.last_error``, a
delivery run's ``failures``, its logs and its events, none of which may hold a
trainee's address; :func:`redact` is applied wherever such text is made.
"""

from __future__ import annotations

import re

ADDRESS = re.compile(r"<?[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"'@]+>?")
WITHHELD = "<address>"


def redact(text: str) -> str:
    """``text`` with every email address (``local@domain``, with or without angle
    brackets) replaced by ``<address>``."""
    return ADDRESS.sub(WITHHELD, text)


def has_address(text: str) -> bool:
    """Whether ``text`` holds something that looks like an email address."""
    return ADDRESS.search(text) is not None
