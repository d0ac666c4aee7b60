"""Outgoing mail: through SMTP when COMPANION_SMTP_URL is set; always kept in the outbox table.

Without SMTP the mail is written to the log and stays in the outbox (sent_at empty), so an operator
can still hand an enrolment link over. With SMTP a failure is logged and kept with the mail
(error), and the caller is told the mail did not leave.
"""

from __future__ import annotations

import logging
import secrets
from email.message import EmailMessage
from urllib.parse import urlsplit

from core.clock import Clock
from core.settings import Settings
from persistence.repos import mail
from service.records import Records
from service.smtp import MailNotSent, SmtpTransport

log = logging.getLogger("companion.mail")

# A slow or unreachable mail server must not hold an administrator's request for long.
SMTP_TIMEOUT_S = 15.0


class Mailer:
    """Sends plain-text mail and keeps a copy of each in the outbox."""

    def __init__(self, settings: Settings, *, records: Records, clock: Clock, sender: str | None = None) -> None:
        self._smtp = SmtpTransport(settings.smtp_url, timeout=SMTP_TIMEOUT_S) if settings.smtp_url else None
        self._records = records
        self._clock = clock
        host = urlsplit(settings.public_url).hostname or "localhost"
        self.sender = sender or f"Companion <no-reply@{host}>"

    async def send(self, *, to: str, subject: str, body: str) -> bool:
        """Queue the mail in the outbox, then deliver it over SMTP when configured; True when delivered."""
        mail_id = secrets.token_hex(12)
        now = self._clock.now()
        await self._records.write(
            lambda db: mail.add_mail(db, mail_id=mail_id, recipient=to, subject=subject, body=body, now=now)
        )
        if self._smtp is None:
            log.info("mail (no SMTP configured; kept in the outbox) to %s: %s\n%s", to, subject, body)
            return False
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            await self._smtp.send(message)
        except MailNotSent as e:
            log.warning("mail to %s not sent (%s); it stays in the outbox", to, e)
            error = str(e) or type(e).__name__
            await self._records.write(lambda db: mail.mail_outcome(db, mail_id=mail_id, sent_at=None, error=error))
            return False
        sent = self._clock.now()
        await self._records.write(lambda db: mail.mail_outcome(db, mail_id=mail_id, sent_at=sent, error=None))
        log.info("mail sent to %s: %s", to, subject)
        return True
