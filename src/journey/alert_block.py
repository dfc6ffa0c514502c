"""``JourneyEmail``: a Prefect notification block that emails an alert through an SMTP
server, with aiosmtplib.

``journey alerts apply`` saves one (named ``journey-alerts``) from the product's own SMTP
settings, and the automations it creates send their alerts through it. Prefect runs an
automation's send-notification action in the *server* process: it finds the block's class
by its type slug (``journey-email``) among the classes imported there, and the server
imports this module at start-up through the ``prefect.collections`` entry point in
pyproject.toml. So this module must stay cheap to import and need nothing but Prefect,
pydantic and aiosmtplib: it runs in every Prefect process of this environment.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib
from prefect.blocks.abstract import NotificationBlock, NotificationError
from pydantic import Field, SecretStr

BLOCK_TYPE_SLUG = "journey-email"


class JourneyEmail(NotificationBlock):
    """Email a notification, over SMTP with aiosmtplib, to the addresses in ``to``.

    Used by the automations ``journey alerts apply`` creates; any automation can use it.
    A failure to send raises :class:`NotificationError` (Prefect then records the action
    as failed, with the reason), so an alert that did not go out is never silent.
    """

    _block_type_name = "Journey Email"
    _block_type_slug = BLOCK_TYPE_SLUG
    _description = (
        "Email alerts through an SMTP server (Leadership Journey). "
        "Made by `journey alerts apply` from the JOURNEY_SMTP_* settings."
    )

    host: str = Field(description="SMTP server.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    starttls: bool = Field(default=True, description="Upgrade with STARTTLS (port 587).")
    ssl: bool = Field(default=False, description="Implicit TLS from the start (port 465).")
    username: str | None = Field(default=None, description="SMTP login, if any.")
    password: SecretStr | None = Field(default=None, description="SMTP password, if any.")
    sender: str = Field(description="The From: of each alert.")
    to: list[str] = Field(min_length=1, description="Who gets the alerts.")
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per SMTP command.")
    ca_certificates: str | None = Field(
        default=None,
        description="PEM text of the certificate authorities to trust for the server's "
        "certificate (JOURNEY_SMTP_CA_FILE's content: the text, not the path, as the block "
        "runs in the Prefect server's process); none: the system's trust store.",
    )

    def message(self, body: str, subject: str | None) -> EmailMessage:
        """The alert as a plain-text email (one line of subject, whatever it was given)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message["Subject"] = " ".join((subject or "Leadership Journey alert").split())
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid("journey-alert", domain=domain)
        message.set_content(body)
        return message

    async def notify(self, body: str, subject: str | None = None) -> None:
        """Send the alert; raise :class:`NotificationError` with the reason if it fails."""
        password = self.password.get_secret_value() if self.password is not None else None
        try:
            trust = self.ca_certificates
            tls_context = ssl.create_default_context(cadata=trust) if trust else None
            await aiosmtplib.send(
                self.message(body, subject),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=password,
                use_tls=self.ssl,
                start_tls=self.starttls and not self.ssl,
                timeout=self.timeout,
                tls_context=tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            why = f"could not email the alert through {self.host}:{self.port}: {exc}"
            self.logger.warning(why)
            raise NotificationError(log=why) from None
