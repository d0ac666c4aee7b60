"""Placeholder until the SMTP transport lands (replaced by the helper's version)."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("companion.mail")


class MailNotSent(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


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
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise MailNotSent(str(e) or type(e).__name__, permanent=False) from e


class LogTransport:
    async def send(self, message: EmailMessage) -> None:
        log.info("mail (no SMTP configured) to %s: %s", message["To"], message["Subject"])
