"""core.jobs: the back-off doubles from 30 s and stops at an hour; a job fails for good after MAX_ATTEMPTS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import jobs
from core.jobs import Job

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def running(attempts: int) -> Job:
    return Job(
        id=1,
        kind="reminder",
        key=jobs.job_key("reminder", "s1", "ann@example.org", 1),
        session_id="s1",
        due_at=NOW - timedelta(hours=1),
        state="running",
        attempts=attempts,
        lease_until=NOW + jobs.LEASE,
        payload={"to": "ann@example.org"},
    )


def test_backoff_doubles_from_thirty_seconds_and_is_capped_at_an_hour() -> None:
    assert [jobs.backoff(n) for n in range(1, 10)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(minutes=16),
        timedelta(minutes=32),
        timedelta(hours=1),  # 64 min, capped
        timedelta(hours=1),
    ]
    assert jobs.backoff(10_000) == jobs.BACKOFF_CAP  # no overflow however many


def test_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError):
        jobs.backoff(0)


@given(st.integers(min_value=1, max_value=1_000))
def test_backoff_never_shrinks_and_stays_within_its_bounds(n: int) -> None:
    assert jobs.BACKOFF_FIRST <= jobs.backoff(n) <= jobs.backoff(n + 1) <= jobs.BACKOFF_CAP


def test_a_failure_puts_the_job_back_after_the_backoff_with_its_error() -> None:
    after = jobs.next_after_failure(running(3), NOW, "SMTPServerDisconnected: gone")
    assert after.state == "pending"
    assert after.due_at == NOW + timedelta(minutes=2)
    assert after.lease_until is None
    assert after.last_error == "SMTPServerDisconnected: gone"
    assert (after.attempts, after.payload, after.key) == (3, {"to": "ann@example.org"}, running(3).key)


def test_the_failure_of_the_last_attempt_fails_the_job_for_good() -> None:
    before_last = jobs.next_after_failure(running(jobs.MAX_ATTEMPTS - 1), NOW, "boom")
    assert before_last.state == "pending"
    last = jobs.next_after_failure(running(jobs.MAX_ATTEMPTS), NOW, "boom")
    assert last.state == "failed" and last.last_error == "boom" and last.lease_until is None
    assert last.due_at == running(jobs.MAX_ATTEMPTS).due_at  # failed jobs keep the time they were due


def test_a_permanent_failure_fails_the_job_on_its_first_attempt() -> None:
    after = jobs.next_after_failure(running(1), NOW, "MailRefused: 550 5.1.1 no such user", permanent=True)
    assert (after.state, after.last_error, after.lease_until) == ("failed", "MailRefused: 550 5.1.1 no such user", None)


def test_the_retries_of_a_failing_job_span_about_an_hour() -> None:
    job, now = running(1), NOW
    while True:
        job = jobs.next_after_failure(job, now, "down")
        if job.state == "failed":
            break
        now = job.due_at
        job = replace(job, state="running", attempts=job.attempts + 1)
    assert job.attempts == jobs.MAX_ATTEMPTS
    assert now - NOW == timedelta(seconds=30) * (2**7 - 1)  # 30 s + 1 + 2 + ... + 32 min = 63.5 min


def test_a_long_error_is_cut() -> None:
    after = jobs.next_after_failure(running(1), NOW, "x" * 10_000)
    assert after.last_error == "x" * jobs.MAX_ERROR_CHARS


def test_a_job_claimed_more_than_max_attempts_times_is_exhausted() -> None:
    assert not jobs.exhausted(running(jobs.MAX_ATTEMPTS))
    assert jobs.exhausted(running(jobs.MAX_ATTEMPTS + 1))


def test_the_key_names_kind_session_recipient_and_version() -> None:
    assert jobs.job_key("reminder", "s1", "ann@example.org", 2) == "reminder:s1:ann@example.org:2"
    assert jobs.job_key("retention", None, "all", "2030-01-07") == "retention:-:all:2030-01-07"
