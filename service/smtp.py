"""Mail transports for the job runner: SMTP (aiosmtplib) when COMPANION_SMTP_URL is set, else the log.

A refusal the server means for good (a 5xx reply: no such mailbox, relaying denied, policy) fails the
job at once (`MailRefused` is a `GiveUp`); anything else (a 4xx, a dropped connection, a timeout) is
retried by the job runner with its back-off.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from service.jobs import GiveUp

log = logging.getLogger("companion.mail")


class MailNotSent(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailRefused(MailNotSent, GiveUp):
    """The server refused the mail for good (5xx): no retry can make it go."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def permanent(e: aiosmtplib.SMTPException) -> bool:
    """Whether the server's answer was a 5xx (for a refused recipient list: every recipient's)."""
    if isinstance(e, aiosmtplib.SMTPRecipientsRefused):
        return bool(e.recipients) and all(r.code >= 500 for r in e.recipients)
    return isinstance(e, aiosmtplib.SMTPResponseException) and 500 <= e.code < 600


class SmtpTransport:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self._url = urlsplit(url)
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        u = self._url
        try:
            await aiosmtplib.send(
                message,
                hostname=u.hostname or "localhost",
                port=u.port,
                username=unquote(u.username) if u.username else None,
                password=unquote(u.password) if u.password else None,
                use_tls=u.scheme == "smtps",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPException as e:
            if permanent(e):
                raise MailRefused(str(e) or type(e).__name__) from e
            raise MailNotSent(str(e) or type(e).__name__, permanent=False) from e
        except (OSError, TimeoutError) as e:
            raise MailNotSent(str(e) or type(e).__name__, permanent=False) from e


class LogTransport:
    async def send(self, message: EmailMessage) -> None:
        log.info("mail (no SMTP configured) to %s: %s", message["To"], message["Subject"])
