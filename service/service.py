"""The service: every area over one unit, its background loops, and its health; one per process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession as DbSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock, SystemClock
from core.model import Actor
from core.settings import Settings
from core.video import VideoProvider
from persistence.db import ping_database
from persistence.files import LocalFiles
from persistence.live.base import LiveStore
from persistence.repos import audit
from service import feedback, invitations, preparation, reports, retention, session_record, views
from service.access import Access
from service.chat import Chat
from service.consent import Consent
from service.feedback import Feedback
from service.help import Help
from service.invitations import Invitations, Transport
from service.jobs import JobRunner
from service.lifecycle import Lifecycle
from service.loops import Loops
from service.minutes import MINUTES_MAIL, MinutesArea
from service.people import People
from service.pings import Pings
from service.platform_attendance import PlatformAttendance
from service.preparation import Preparation
from service.presence import Presence
from service.publish import Publisher, Sink
from service.records import Records
from service.reports import Reports
from service.retention import Retention
from service.roster import Roster
from service.scheduling import Scheduling
from service.session_record import SessionRecords
from service.smtp import LogTransport, SmtpTransport
from service.ticker import Ticker
from service.unit import Unit
from video import provider_for
from video import providers as video_providers

log = logging.getLogger("companion.service")
STALE_WRITE_S = 3600.0


class Service:
    """Built in the app's lifespan and handed to both adapters (the Socket.IO hub, the HTTP routes)."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[DbSession],
        store: LiveStore,
        clock: Clock | None = None,
        video: Callable[[str | None], VideoProvider] | None = None,
        mail: Transport | None = None,
    ) -> None:
        self.settings = settings
        # One clock for every action, the ticker and the views (tests hand in a fake one).
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.store = store
        self._db = sessionmaker
        self.clustered = settings.redis_url is not None
        self.publisher = Publisher(store, self.clock)
        self.unit = Unit(
            store=store,
            sessionmaker=sessionmaker,
            clock=self.clock,
            publisher=self.publisher,
            ordered_publish=self.clustered,
        )
        self.writer = self.unit.writer
        # Chat allowances and wrong check-in codes belong to a person, whichever process their tabs
        # reach: counted in the live store.
        limiter = MovingWindowRateLimiter(store.rate_storage())
        self.lifecycle = Lifecycle(self.unit)
        self.presence = Presence(self.unit)
        self.pings = Pings(self.unit)
        self.help = Help(self.unit)
        self.chat = Chat(self.unit, limiter)
        self.access = Access(self.unit, secret_key=settings.secret_key, public_url=settings.public_url)
        self.records = Records(self.unit)
        # Each platform's meetings are booked through its API when one is configured (COMPANION_ZOOM_*,
        # COMPANION_MSGRAPH_*), else through the manual link: tests may hand in their own.
        configured = video_providers(settings)
        # Invitations and reminders are mailed by the job runner, over SMTP when COMPANION_SMTP_URL is set
        # (else written to the log): tests may hand in their own transport.
        transport = mail or (SmtpTransport(settings.smtp_url) if settings.smtp_url else LogTransport())
        self.invitations = Invitations(self.unit, settings, transport)
        self.scheduling = Scheduling(
            self.unit,
            settings.platforms,
            video or (lambda platform: provider_for(configured, platform or "")),
            self.invitations,
        )
        self.roster = Roster(self.unit, limiter, self.invitations)
        self.files = LocalFiles(settings.files_dir)  # materials and session records
        self.preparation = Preparation(self.unit, settings, self.files, self.invitations, transport)
        self.session_record = SessionRecords(self.unit, self.files)
        self.lifecycle.on_close.append(self.session_record.at_close)  # the first version, straight after
        self.invitations.materials = self.preparation.links_for  # invitations list them, each link personal
        self.invitations.also_schedule.append(self.preparation.schedule_flag)  # a day before: ready or mailed
        self.feedback = Feedback(self.unit, settings, transport)  # after the class: forms, links, mails
        self.lifecycle.on_close.append(self.feedback.on_close)  # in the close's transaction: mails and events
        self.minutes = MinutesArea(self.unit, settings, transport)  # notes and minutes; circulated by mail jobs
        self.consent = Consent(self.unit, settings.consent_text)  # recording consent and the recording banner
        self.lifecycle.on_close.append(self.consent.on_close)  # the request ends, the recording stops
        self.lifecycle.after_close.append(self.consent.after_close)  # then every tab hears it stopped
        # Legal holds and the retention purge (daily job, `companion purge`), within half the job's lease.
        self.retention = Retention(self.unit, settings.retention, budget_s=settings.jobs_lease_s / 2)
        self.platform_attendance = PlatformAttendance(self.unit, settings.zoom_webhook_secret)  # Zoom, Teams
        self.people = People(self.unit, settings, self.files)  # a person's export and erasure
        self.reports = Reports(self.unit, settings, transport)  # reviews across sessions; low-attendance warnings
        self.lifecycle.on_close.append(self.reports.on_close)  # a session of a series: whom to warn about, a job
        self.jobs = JobRunner(
            sessionmaker,
            self.clock,
            {
                invitations.MAIL: self.invitations.send_mail,
                invitations.REMINDER: self.invitations.run_reminder,
                invitations.REMINDER_MAIL: self.invitations.send_reminder,
                preparation.FILES_GC: self.preparation.collect,
                preparation.READINESS: self.preparation.flag,
                feedback.OPEN: self.feedback.run_open,
                feedback.MAIL: self.feedback.send_mail,
                feedback.REMINDER: self.feedback.run_reminder,
                MINUTES_MAIL: self.minutes.send_mail,
                session_record.BUILD: self.session_record.build,
                retention.RETENTION: self.retention.run_daily,
                reports.CHECK: self.reports.run_check,
                reports.MAIL: self.reports.send_warning,
            },
            every_s=settings.jobs_every_s,
            batch=settings.jobs_batch,
            lease=timedelta(seconds=settings.jobs_lease_s),
        )
        self.invitations.wake = self.jobs.wake
        self.feedback.wake = self.jobs.wake
        self.minutes.wake = self.jobs.wake
        self.people.wake = self.jobs.wake
        self.reports.wake = self.jobs.wake
        self.lifecycle.after_close.append(self.jobs.wake)  # what the close queued runs at once
        self.ticker = Ticker(
            self.unit,
            self.lifecycle,
            self.pings,
            self.presence,
            every_s=settings.ticker_seconds,
            autoclose_every_s=settings.auto_close_every_s,
            grace=timedelta(minutes=settings.auto_close_grace_minutes),
            clustered=self.clustered,
        )
        self.loops = Loops()

    def attach(self, sink: Sink) -> None:
        """Where events leave: the Socket.IO side."""
        self.publisher.attach(sink)

    async def session_state(self, actor: Actor, session_id: str) -> dict[str, Any]:
        """The `session:state` snapshot for this actor, as it stands now."""
        state = await self.unit.ensure_loaded(session_id)
        last_seq = await self.store.chat_last_seq(session_id)
        snapshot = await views.session_state(self.store, actor, state, last_seq, self.clock.now())
        if actor.role == "participant" and actor.email:
            snapshot["me"]["calendar_url"] = self.invitations.calendar_url(actor.email)  # "Add to calendar"
        snapshot["materials"] = await self.preparation.listing(actor, state)
        if (form := self.feedback.tab(actor, state)) is not None:
            snapshot["feedback"] = form  # a tab opened after the close shows the participant's form
        snapshot.update(await self.consent.snapshot(actor, state))  # the open consent request, the recording
        return snapshot

    # ------------------------------------------------------------ lifespan

    async def start(self) -> None:
        self.writer.start()
        # The audit log's retention is the database's to enforce (its DELETE trigger): set from the setting.
        keep = int(self.settings.retention.keep["audit"].total_seconds())
        await self.unit.submit(lambda db: audit.set_keep(db, seconds=keep))
        # A write to the file store that has not moved for an hour was left by a process that died.
        await self.files.sweep(older_than_s=STALE_WRITE_S)
        if not self.clustered:
            # The embedded default is one process: every connection still open in the database was
            # left by a process that died, and ends where it was last known alive.
            await self.presence.end_stale()
        self.loops.spawn("emitter", self.publisher.emit_forever)
        self.loops.spawn("batcher", self.publisher.batch_forever)
        self.loops.spawn("ticker", self.ticker.run)
        self.loops.spawn("consent", self.consent.refresh_forever)  # pending moves as tabs come and go
        self.loops.spawn("jobs", self._jobs_forever)

    async def _jobs_forever(self) -> None:
        await self.invitations.ensure_reminders()  # sessions booked before reminders, or before the offsets changed
        await self.retention.ensure_daily()  # the next daily purge, unless one is queued
        await self.jobs.run()

    async def quiesce(self) -> None:
        """Stop ticking and batching, end this process's sockets in one write, commit what was acknowledged."""
        self.loops.report_dead()
        await self.loops.cancel("ticker", "batcher", "consent")
        await self.jobs.stop()  # the mails of the batch in hand are sent and marked, or left to their lease
        await self.loops.cancel("jobs")
        await self.presence.end_mine(self.clock.now())
        await self.writer.stop()

    async def stop(self) -> None:
        """Once the sockets are closed: send what is due, stop the emitter, close the live store."""
        await self.publisher.flush_batches()
        await self.publisher.drain()
        await self.loops.cancel("emitter")
        await self.store.close()

    async def health(self) -> list[str]:
        """The parts that do not answer: empty when all is well."""
        failing = []
        try:
            async with self._db() as db:
                await ping_database(db)
        except (SQLAlchemyError, OSError) as e:
            log.warning("health: database: %s", e)
            failing.append("database")
        try:
            await self.store.check()
        except (RedisError, OSError) as e:
            log.warning("health: redis: %s", e)
            failing.append("redis")
        if self.writer.dead:
            failing.append("writer")
        return failing + self.loops.failing()
