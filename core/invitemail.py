"""Invitation, update, cancellation and reminder mails, one per recipient, built but not sent (RFC 6047).

An invitation is the iMIP shape Google Calendar sends, which Gmail, Outlook and Apple Mail all show
with Accept/Decline:

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; charset=UTF-8; method=REQUEST    (the iTIP message, RFC 6047 2.4)
      application/ics; name="invite.ics"                (attachment: the same calendar)

The attachment is for a person whose client shows no buttons: they save it and open it. It is
application/ics rather than a second text/calendar part, which a client could read as a second iTIP
message. Both calendar parts are base64, so the CRLF line ends and the folding of the calendar text
(RFC 5545 3.1) arrive exactly as written.

The text and HTML parts show times in the recipient's own zone (the session's when they have none),
and ask for answers by the personal RSVP link: calendar replies (METHOD:REPLY) are not read.
Reminders are text and HTML only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal

from core.ical import EventFacts, Invitee, Method, calendar, series_starts
from core.schedule import WEEKDAYS, zone

Kind = Literal["invite", "update", "cancel"]

_METHOD: dict[Kind, Method] = {"invite": "REQUEST", "update": "REQUEST", "cancel": "CANCEL"}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def local_time_text(instant: datetime, tz: str) -> str:
    """How a time reads for a person in zone `tz`: 'Tuesday 16 March 2027, 10:00 (Europe/Berlin)'."""
    local = instant.astimezone(zone(tz))
    return f"{_date_text(local)}, {local:%H:%M} ({tz})"


def invitation_mail(
    kind: Kind, facts: EventFacts, invitee: Invitee, *, organizer: str, now: datetime, message_id: str
) -> EmailMessage:
    """The invitation, update or cancellation of `facts` for `invitee`, with its calendar parts."""
    if kind == "update" and facts.sequence < 1:
        raise ValueError("an update follows an invitation, so its SEQUENCE is at least 1")
    method = _METHOD[kind]
    ics = calendar(method, facts, invitee, organizer, now)
    label = {"invite": "Invitation", "update": "Updated", "cancel": "Cancelled"}[kind]
    subject = f"{label}: {_one_line(facts.topic)} — {_when_short(facts, invitee)}"
    body = [*_opening(kind, facts, invitee), *_details(facts, invitee, with_links=kind != "cancel")]
    if kind == "cancel":
        body.append(("There is no need to answer.",))
    else:
        body.extend(_rsvp(invitee, "Will you come? Please answer with your personal link:"))
    message = _message(subject, body, invitee, organizer=organizer, now=now, message_id=message_id)
    message.add_alternative(ics, maintype="text", subtype="calendar", cte="base64")
    part = list(message.iter_parts())[-1]
    # Written as Google and Outlook write it, the method unquoted and in capitals: some readers match
    # the header text rather than parse it, and the email package would quote the value.
    del part["Content-Type"]
    part.set_raw("Content-Type", f"text/calendar; charset=UTF-8; method={method}")
    message.make_mixed()
    message.add_attachment(
        ics, maintype="application", subtype="ics", filename="invite.ics", params={"name": "invite.ics"}
    )
    return message


def reminder_mail(
    facts: EventFacts, invitee: Invitee, *, offset_text: str, organizer: str, now: datetime, message_id: str
) -> EmailMessage:
    """The reminder of `facts` that goes out `offset_text` ('24 hours') before the start: text and HTML."""
    topic = _one_line(facts.topic)
    body = [
        (f"Reminder: “{topic}” starts in {offset_text}.",),
        *_details(facts, invitee, with_links=True),
        *_rsvp(invitee, "Cannot come after all? Please say so with your personal link:"),
    ]
    return _message(
        f"Reminder: {topic} in {offset_text}", body, invitee, organizer=organizer, now=now, message_id=message_id
    )


@dataclass(frozen=True, slots=True)
class _Link:
    url: str


_Paragraph = tuple[str | _Link, ...]


def _message(
    subject: str, body: list[_Paragraph], invitee: Invitee, *, organizer: str, now: datetime, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    name, address = parseaddr(organizer)
    message["From"] = Address(display_name=_one_line(name), addr_spec=address)
    message["To"] = Address(display_name=_one_line(invitee.name), addr_spec=invitee.email)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id  # given: a resend after a crash repeats it, and clients drop the copy
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a machine
    message.set_content(_text(body))
    message.add_alternative(_html(subject, body), subtype="html")
    return message


def _opening(kind: Kind, facts: EventFacts, invitee: Invitee) -> list[_Paragraph]:
    topic = f"“{_one_line(facts.topic)}”"
    role = " as its instructor" if invitee.role == "instructor" else ""
    if facts.recurrence_id is not None:
        which = local_time_text(facts.recurrence_id, _recipient_zone(facts, invitee))
        if kind == "cancel" and facts.status == "CANCELLED":
            return [(f"One session of {topic} is cancelled: the one of {which}.",)]
        return [(f"One session of {topic} has changed: the one of {which}. The others stay as they were.",)]
    if kind == "invite":
        return [(f"You are invited to {topic}{role}.",)]
    if kind == "update":
        return [(f"{topic} has changed. These are its details now.",)]
    if facts.status == "CANCELLED":
        return [(f"{topic} is cancelled.",)]
    return [(f"You are no longer on the roster of {topic}; it is taken out of your calendar.",)]


def _details(facts: EventFacts, invitee: Invitee, *, with_links: bool) -> list[_Paragraph]:
    rz = _recipient_zone(facts, invitee)
    when = f"When: {local_time_text(facts.starts_at, rz)}, {facts.duration_minutes} minutes"
    paragraphs: list[_Paragraph] = [(when + _repeats(facts, rz),)]
    if not with_links:
        return paragraphs
    links: list[str | _Link] = []
    if facts.join_url:
        links += ["Join: ", _Link(facts.join_url), "\n"]
    if invitee.tab_url:
        links += ["Your companion tab: ", _Link(invitee.tab_url), "\n"]
    if invitee.setup_url:
        links += ["Check your microphone, camera and connection before the class: ", _Link(invitee.setup_url), "\n"]
    if links:
        paragraphs.append(tuple(links[:-1]))
    if facts.agenda:
        paragraphs.append((f"Agenda:\n{facts.agenda.strip()}",))
    if facts.materials:
        items: list[str | _Link] = ["Materials:"]
        for title, url in facts.materials:
            items += [f"\n- {title}: ", _Link(url)]
        paragraphs.append(tuple(items))
    return paragraphs


def _repeats(facts: EventFacts, rz: str) -> str:
    rule = facts.rrule
    if rule is None:
        return ""
    local = facts.starts_at.astimezone(zone(facts.timezone))
    days = " and ".join(_DAY_NAMES[WEEKDAYS.index(d)] for d in rule.byday)
    starts = series_starts(facts)
    text = (
        f"\nRepeats: every {days} at {local:%H:%M} ({facts.timezone}), {len(starts)} sessions, "
        f"the last on {local_time_text(starts[-1], rz)}"
    )
    if rz != facts.timezone:
        text += f"\nThe time follows the clocks of {facts.timezone}, so in yours it may move when they change."
    return text


def _rsvp(invitee: Invitee, question: str) -> list[_Paragraph]:
    return [(f"{question}\n", _Link(invitee.rsvp_url), "\nReplies sent from a calendar are not read.")]


def _when_short(facts: EventFacts, invitee: Invitee) -> str:
    when = local_time_text(facts.starts_at, _recipient_zone(facts, invitee))
    return f"weekly from {when}" if facts.rrule is not None else when


def _recipient_zone(facts: EventFacts, invitee: Invitee) -> str:
    return invitee.timezone or facts.timezone


def _text(body: list[_Paragraph]) -> str:
    return "\n\n".join("".join(s.url if isinstance(s, _Link) else s for s in p) for p in body) + "\n"


def _html(title: str, body: list[_Paragraph]) -> str:
    paragraphs = "\n".join(f"<p>{''.join(_html_segment(s) for s in p)}</p>" for p in body)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{paragraphs}\n</body></html>\n"
    )


def _html_segment(segment: str | _Link) -> str:
    if isinstance(segment, str):
        return html.escape(segment).replace("\n", "<br>\n")
    url = html.escape(segment.url)
    # Only web links become links: a javascript: or data: URL stays text.
    if segment.url.lower().startswith(("https://", "http://")):
        return f'<a href="{url}">{url}</a>'
    return url


def _one_line(text: str) -> str:
    """Text for a header or a sentence: no line breaks or runs of white space."""
    return " ".join(text.split())


def _date_text(local: datetime) -> str:
    return f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} {local.year}"
