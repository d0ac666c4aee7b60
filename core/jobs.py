"""Work to do later (reminders, the readiness mail, feedback mails, retention): the job and its retry rules.

A job is claimed under a lease, run, and then marked done, skipped, or failed. A failure puts it back
with a doubling delay until MAX_ATTEMPTS have been spent; after that it stays `failed`, shown to staff.
Every claim counts as an attempt, so a job whose worker died mid-run (its lease ran out) counts too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

JobState = Literal["pending", "running", "done", "failed", "cancelled", "skipped"]
# The states a job never leaves.
FINAL_STATES: frozenset[JobState] = frozenset({"done", "failed", "cancelled", "skipped"})

# A claim holds its job this long; then another worker may take it again. Longer than any handler
# should run (an SMTP send with its connect and reply timeouts of a minute or two, a provider's API
# call), so a slow send is not taken twice; short enough that the reminders of a worker killed
# mid-batch still go out within minutes, well ahead of the session they announce.
LEASE = timedelta(minutes=5)
# A handler is stopped after this share of its lease, so it has ended before another worker may
# take its job (the rest of the lease is for marking the outcome).
HANDLER_SHARE_OF_LEASE = 0.8

# The delay after the first failed attempt; each further failure doubles it, up to BACKOFF_CAP.
BACKOFF_FIRST = timedelta(seconds=30)
# An outage of the mail server is seldom longer; retrying more often than hourly past that only fills the log.
BACKOFF_CAP = timedelta(hours=1)
# Attempts before a job is given up as `failed`: with the delays above that is about an hour
# (30 s, 1, 2, 4, 8, 16, 32 min between the eight), enough to ride out a restart or a short SMTP outage.
MAX_ATTEMPTS = 8
# A job keeps this much of its last error (a whole traceback of a provider's HTML page is no use to staff).
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of later work, as stored; `key` is unique (see `job_key`)."""

    id: int
    kind: str
    key: str
    session_id: str | None
    due_at: datetime
    state: JobState = "pending"
    attempts: int = 0  # claims so far, the current one included
    lease_until: datetime | None = None
    last_error: str | None = None  # or, for a skipped job, why it was skipped
    payload: dict[str, Any] = field(default_factory=dict)


def job_key(kind: str, session_id: str | None, recipient: str, version: int | str) -> str:
    """The unique key of a job: one per kind, session, recipient and version of what is sent."""
    return f"{kind}:{session_id or '-'}:{recipient}:{version}"


def backoff(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts: 30 s after the first, doubling each time, at most an hour."""
    if attempts < 1:
        raise ValueError("backoff follows at least one attempt")
    # 30 s * 2**7 is past the cap already: a larger exponent would only risk overflowing timedelta.
    doublings: int = min(attempts - 1, 7)
    return min(BACKOFF_FIRST * (1 << doublings), BACKOFF_CAP)


def exhausted(job: Job) -> bool:
    """The job was claimed more often than MAX_ATTEMPTS: its workers kept dying before marking it."""
    return job.attempts > MAX_ATTEMPTS


def next_after_failure(job: Job, now: datetime, error: str, *, permanent: bool = False) -> Job:
    """The job after its current attempt failed: pending again after the back-off, or failed for good
    (its attempts spent, or `permanent`: a failure no retry can mend, such as a mail server's 5xx)."""
    error = error[:MAX_ERROR_CHARS]
    if permanent or job.attempts >= MAX_ATTEMPTS:
        return replace(job, state="failed", lease_until=None, last_error=error)
    return replace(job, state="pending", due_at=now + backoff(max(job.attempts, 1)), lease_until=None, last_error=error)
