"""One typed settings object, read and checked once at start-up and passed into create_app."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from core import feedback, platforms, reports, retention
from core.errors import Invalid
from core.platforms import BUILT_IN, Platform

# Development keys are generated once and kept beside the SQLite file, so that participant
# links (derived from the key) stay valid across restarts of a laptop install.
_SECRET_FILE = "secret_key"
_MIN_SECRET_LENGTH = 32
# `companion serve` writes the URL it serves on into this file of the data directory once it listens,
# so that commands run beside it (`companion staff invite`) print links with the port it really uses.
_SERVED_URL_FILE = "served_url"
DEFAULT_PORT = 8000
# What a recording consent request asks when the instructor gives no text of their own; a request's
# text (and COMPANION_CONSENT_TEXT) is at most core.consent.MAX_TEXT characters, repeated here.
DEFAULT_CONSENT_TEXT = (
    "The instructor would like to record this session. The recording may show your name, voice and "
    "video. Do you agree to being recorded?"
)
MAX_CONSENT_TEXT = 2000


class SettingsError(ValueError):
    """Configuration that the server refuses to start with."""


DEFAULT_MAIL_FROM = "Companion <companion@localhost>"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Offset:
    """A length of time as the configuration writes it ("24h"), kept with its text for the API to answer."""

    text: str
    length: timedelta


def parse_offset(text: str) -> Offset:
    """'90s', '45m', '24h', '3d': a positive whole number and one unit."""
    text = text.strip()
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) < 1:
        raise ValueError(f"{text!r}: a positive whole number with s, m, h or d, like 24h")
    return Offset(text, timedelta(seconds=int(number) * _UNITS[unit]))


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """The reminder offsets, longest first ('24h,1h'); each at most once."""
    offsets = sorted((parse_offset(t) for t in text.split(",") if t.strip()), key=lambda o: -o.length)
    if len({o.length for o in offsets}) != len(offsets):
        raise ValueError(f"{text!r}: an offset is given twice")
    return tuple(offsets)


def _offset_setting(name: str, text: str) -> Offset:
    try:
        return parse_offset(text)
    except ValueError as e:
        raise SettingsError(f"{name}: {e}") from None


def _offsets_setting(text: str) -> tuple[Offset, ...]:
    try:
        return parse_offsets(text)
    except ValueError as e:
        raise SettingsError(f"COMPANION_REMINDERS: {e}") from None


def _mail_from(text: str) -> str:
    name, address = parseaddr(text)
    if "@" not in address or any(c in text for c in "\r\n"):
        raise SettingsError(f"COMPANION_MAIL_FROM: 'Name <address>' or an address, not {text!r}")
    return formataddr((name, address))


ZOOM_API_URL = "https://api.zoom.us/v2"
ZOOM_OAUTH_URL = "https://zoom.us/oauth/token"
GRAPH_API_URL = "https://graph.microsoft.com/v1.0"
GRAPH_LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True, slots=True)
class ZoomSettings:
    """A Zoom Server-to-Server OAuth app (COMPANION_ZOOM_*): meetings are booked with its account."""

    account_id: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a log line that prints the settings
    api_url: str = ZOOM_API_URL
    oauth_url: str = ZOOM_OAUTH_URL


@dataclass(frozen=True, slots=True)
class GraphSettings:
    """A Microsoft Entra app with Graph's OnlineMeetings.ReadWrite.All (COMPANION_MSGRAPH_*)."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a log line that prints the settings
    organizer: str  # the object id of the user whose onlineMeetings are created
    api_url: str = GRAPH_API_URL
    login_url: str = GRAPH_LOGIN_URL
    # Graph has no call that tells a meeting's capacity: None (not checked) or what the admin states.
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment."""

    database_url: str
    secret_key: str
    public_url: str
    redis_url: str | None = None
    smtp_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("var"))
    environment: str = "development"
    # A session nobody closed is closed this long after its scheduled end, once it is empty.
    auto_close_grace_minutes: int = 30
    # Engine.io heartbeat: a silent client is dropped after interval + timeout (15 s), well
    # inside the contract's 30 s for showing a dropped connection as disconnected.
    ping_interval_s: int = 10
    ping_timeout_s: int = 5
    max_payload_bytes: int = 64 * 1024
    # Per-connection budget for events: enough for a person clicking, not for a loop.
    events_per_second: int = 20
    # Staff work a queue and run a class, sometimes from a script with an API token: a roomier budget.
    staff_events_per_second: int = 200
    ticker_seconds: float = 1.0
    auto_close_every_s: float = 30.0
    # Who may frame the pages (CSP frame-ancestors): an LMS that embeds the companion tab is added here.
    frame_ancestors: str = "'self'"
    # Staff web sessions end after this long without a request, and after this long whatever happens:
    # a lecture's worth of idling is fine, a forgotten laptop in a lab is not signed in the next day.
    session_idle_s: int = 2 * 3600
    session_absolute_s: int = 12 * 3600
    # Sign-in and enrolment attempts per client address and minute: plenty for a person, little for a script.
    signin_attempts_per_minute: int = 30
    # A WebAuthn challenge is answered within minutes or not at all; an enrolment link within a day.
    challenge_ttl_s: int = 5 * 60
    invitation_ttl_s: int = 24 * 3600
    # The video platforms sessions run on (GET /api/platforms): built in, or COMPANION_PLATFORMS's file.
    platforms: tuple[Platform, ...] = BUILT_IN
    # Meetings booked through Zoom's and Microsoft Graph's APIs; None: those platforms use a pasted link.
    zoom: ZoomSettings | None = None
    msgraph: GraphSettings | None = None
    # Invitations and reminders (contract part 2): the sender and ORGANIZER, how early invitations go out
    # without a reason, and the reminder offsets as written (each with its length).
    mail_from: str = DEFAULT_MAIL_FROM
    invite_lead: Offset = field(default_factory=lambda: parse_offset("3d"))
    reminders: tuple[Offset, ...] = field(default_factory=lambda: parse_offsets("24h,1h"))
    # How often each process's job runner looks for due jobs (reminders, mails), and how many it takes at once.
    jobs_every_s: float = 1.0
    jobs_batch: int = 200
    # How long a claimed job is held before another process may take it (core.jobs.LEASE); shorter in tests.
    jobs_lease_s: float = 300.0
    # Materials (contract part 2, Preparation): where their bytes are kept (None: DATA_DIR/files, which
    # is ./var/files by default), and the largest accepted.
    storage_dir: Path | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    # Feedback forms after the class (docs/feedback.md): the forms a session gets when staff set none
    # (built in, or COMPANION_FEEDBACK_FORM's JSON file), and when the one reminder goes after the close.
    feedback_defaults: feedback.Defaults = field(default_factory=feedback.Defaults)
    feedback_reminder: Offset = field(default_factory=lambda: parse_offset("48h"))
    # Recording consent (docs/consent.md): the text a consent request shows unless it gives its own.
    consent_text: str = DEFAULT_CONSENT_TEXT
    # Zoom's webhook (docs/platform-attendance.md): its app's secret token; None: the webhook answers 404.
    zoom_webhook_secret: str | None = None
    # GET /metrics wants this as a bearer token when set (COMPANION_METRICS_TOKEN); None: open, as /healthz.
    metrics_token: str | None = None
    # How long each kind of record is kept (COMPANION_RETENTION, core/retention.py): the audit log's is
    # what the database's triggers enforce (audit_policy), set at each start.
    retention: retention.Retention = field(default_factory=lambda: retention.parse(None))
    # Reviews across sessions (core/reports.py): below this attendance rate, once this many sessions count, a
    # series' instructor is mailed once about the person (COMPANION_LOW_ATTENDANCE, COMPANION_LOW_ATTENDANCE_MIN).
    low_attendance: reports.Threshold = field(default_factory=reports.Threshold)

    @property
    def files_dir(self) -> Path:
        """Where uploaded materials (and later the session records) are kept."""
        return self.storage_dir or self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, host: str = "127.0.0.1", port: int | None = None
    ) -> Settings:
        """Read COMPANION_* variables; fill the embedded defaults; refuse insecure production setups.

        `port` is the one this process serves on; a command that does not serve passes none and gets
        the public URL of the last `companion serve` on the same data directory.
        """
        env = os.environ if env is None else env
        data_dir = Path(env.get("COMPANION_DATA_DIR", "var"))
        environment = env.get("COMPANION_ENV", "development")
        database_url = env.get("COMPANION_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'companion.db'}"
        if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError("COMPANION_DATABASE_URL must be sqlite+aiosqlite:///... or postgresql+asyncpg://...")
        secret_key = env.get("COMPANION_SECRET_KEY") or ""
        if not secret_key:
            if environment != "development":
                raise SettingsError("COMPANION_SECRET_KEY is required outside development")
            secret_key = _development_secret(data_dir)
        if len(secret_key) < _MIN_SECRET_LENGTH and environment != "development":
            raise SettingsError(f"COMPANION_SECRET_KEY must be at least {_MIN_SECRET_LENGTH} characters")
        public_url = (
            env.get("COMPANION_PUBLIC_URL")
            or (f"http://{_url_host(host)}:{port}" if port is not None else served_url(data_dir))
            or f"http://{_url_host(host)}:{DEFAULT_PORT}"
        ).rstrip("/")
        if not public_url.startswith(("http://", "https://")):
            raise SettingsError("COMPANION_PUBLIC_URL must be an http(s) origin")
        smtp_url = env.get("COMPANION_SMTP_URL") or None
        if smtp_url and not smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError("COMPANION_SMTP_URL must be smtp://host:port")
        frame_ancestors = (env.get("COMPANION_FRAME_ANCESTORS") or "'self'").strip()
        if any(c in frame_ancestors for c in ";,\r\n"):
            raise SettingsError(
                "COMPANION_FRAME_ANCESTORS: space-separated sources, like 'self' https://lms.example.edu"
            )
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            public_url=public_url,
            redis_url=env.get("COMPANION_REDIS_URL") or None,
            smtp_url=smtp_url,
            data_dir=data_dir,
            environment=environment,
            auto_close_grace_minutes=int(env.get("COMPANION_AUTO_CLOSE_GRACE_MINUTES", "30")),
            frame_ancestors=frame_ancestors,
            session_idle_s=int(env.get("COMPANION_SESSION_IDLE_MINUTES", "120")) * 60,
            session_absolute_s=int(env.get("COMPANION_SESSION_MAX_HOURS", "12")) * 3600,
            platforms=_platforms(env.get("COMPANION_PLATFORMS")),
            zoom=_zoom(env),
            msgraph=_msgraph(env),
            mail_from=_mail_from(env.get("COMPANION_MAIL_FROM") or DEFAULT_MAIL_FROM),
            invite_lead=_offset_setting("COMPANION_INVITE_LEAD", env.get("COMPANION_INVITE_LEAD") or "3d"),
            reminders=_offsets_setting(env.get("COMPANION_REMINDERS") or "24h,1h"),
            jobs_every_s=float(env.get("COMPANION_JOBS_EVERY_S", "1.0")),
            jobs_lease_s=float(env.get("COMPANION_JOBS_LEASE_S", "300")),
            storage_dir=Path(env["COMPANION_STORAGE_DIR"]) if env.get("COMPANION_STORAGE_DIR") else None,
            max_upload_bytes=_megabytes("COMPANION_MAX_UPLOAD_MB", env.get("COMPANION_MAX_UPLOAD_MB") or "50"),
            feedback_defaults=_feedback_form(env.get("COMPANION_FEEDBACK_FORM")),
            feedback_reminder=_offset_setting(
                "COMPANION_FEEDBACK_REMINDER", env.get("COMPANION_FEEDBACK_REMINDER") or "48h"
            ),
            consent_text=_consent_text(env.get("COMPANION_CONSENT_TEXT")),
            zoom_webhook_secret=(env.get("COMPANION_ZOOM_WEBHOOK_SECRET") or "").strip() or None,
            metrics_token=(env.get("COMPANION_METRICS_TOKEN") or "").strip() or None,
            retention=_retention(env.get("COMPANION_RETENTION")),
            low_attendance=_low_attendance(
                env.get("COMPANION_LOW_ATTENDANCE"), env.get("COMPANION_LOW_ATTENDANCE_MIN")
            ),
        )


def _low_attendance(rate: str | None, min_sessions: str | None) -> reports.Threshold:
    try:
        return reports.parse_threshold(rate, min_sessions)
    except ValueError as e:
        raise SettingsError(str(e)) from None


def _retention(text: str | None) -> retention.Retention:
    try:
        return retention.parse(text)
    except ValueError as e:
        raise SettingsError(str(e)) from None


def _consent_text(text: str | None) -> str:
    """COMPANION_CONSENT_TEXT, trimmed; unset or blank: the built-in sentence."""
    text = (text or "").strip()
    if len(text) > MAX_CONSENT_TEXT:
        raise SettingsError(f"COMPANION_CONSENT_TEXT must be at most {MAX_CONSENT_TEXT} characters")
    return text or DEFAULT_CONSENT_TEXT


def _megabytes(name: str, text: str) -> int:
    try:
        mb = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of megabytes, like 50") from None
    if not 0 < mb <= 10_000:
        raise SettingsError(f"{name} must be between 0 and 10000 megabytes")
    return int(mb * 1024 * 1024)


def _feedback_form(path: str | None) -> feedback.Defaults:
    """The default feedback forms of COMPANION_FEEDBACK_FORM's JSON file, or the built-in ones when it is unset."""
    if not path:
        return feedback.Defaults()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"COMPANION_FEEDBACK_FORM: cannot read {path}: {e}") from None
    try:
        return feedback.parse_defaults(text)
    except Invalid as e:
        raise SettingsError(f"COMPANION_FEEDBACK_FORM ({path}): {e.message}") from None


def _platforms(path: str | None) -> tuple[Platform, ...]:
    """The catalogue of COMPANION_PLATFORMS's TOML file, or the built-in one when it is unset."""
    if not path:
        return BUILT_IN
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"COMPANION_PLATFORMS: cannot read {path}: {e}") from None
    try:
        return platforms.parse(text)
    except platforms.CatalogueError as e:
        raise SettingsError(f"COMPANION_PLATFORMS ({path}): {e}") from None


def _zoom(env: Mapping[str, str]) -> ZoomSettings | None:
    """Zoom's app from COMPANION_ZOOM_*: all three credentials or none."""
    creds = _credentials(env, "COMPANION_ZOOM_", ("ACCOUNT_ID", "CLIENT_ID", "CLIENT_SECRET"))
    if creds is None:
        return None
    account_id, client_id, client_secret = creds
    return ZoomSettings(
        account_id=account_id,
        client_id=client_id,
        client_secret=client_secret,
        api_url=_api_url(env, "COMPANION_ZOOM_API_URL", ZOOM_API_URL),
        oauth_url=_api_url(env, "COMPANION_ZOOM_OAUTH_URL", ZOOM_OAUTH_URL),
    )


def _msgraph(env: Mapping[str, str]) -> GraphSettings | None:
    """Microsoft Graph's app from COMPANION_MSGRAPH_*: all four of tenant, client, secret and organizer, or none."""
    creds = _credentials(env, "COMPANION_MSGRAPH_", ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "ORGANIZER"))
    if creds is None:
        return None
    tenant_id, client_id, client_secret, organizer = creds
    capacity: int | None = None
    if raw := env.get("COMPANION_MSGRAPH_CAPACITY", "").strip():
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= platforms.MAX_CAPACITY:
            raise SettingsError(f"COMPANION_MSGRAPH_CAPACITY: a whole number of people, 1 to {platforms.MAX_CAPACITY}")
        capacity = int(raw)
    return GraphSettings(
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        organizer=organizer,
        api_url=_api_url(env, "COMPANION_MSGRAPH_API_URL", GRAPH_API_URL),
        login_url=_api_url(env, "COMPANION_MSGRAPH_LOGIN_URL", GRAPH_LOGIN_URL),
        capacity=capacity,
    )


def _credentials(env: Mapping[str, str], prefix: str, names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The values of prefix+name for every name, or None when none is set; SettingsError naming the first missing."""
    values = tuple(env.get(prefix + name, "").strip() for name in names)
    if not any(values):
        return None
    missing = [prefix + name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise SettingsError(f"{missing[0]} is missing: set all of {prefix}{{{', '.join(names)}}} or none of them")
    return values


def _api_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An API's base URL: https, or http to this machine only (a local stand-in in tests), since a secret goes there."""
    url = (env.get(name) or default).strip().rstrip("/")
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise SettingsError(f"{name} must be an https:// URL (http:// only to localhost), not {url!r}")
    return url


def browser_host(host: str) -> str:
    """The name to give browsers for a server listening on `host`: localhost for the loopback and every interface.

    Browsers offer passkeys (WebAuthn) to a host name only, never to an IP address, and count
    http://localhost as a secure context: announced as localhost, a laptop install can sign staff in.
    """
    if host in ("", "0.0.0.0", "::", "localhost"):
        return "localhost"
    try:
        return "localhost" if ipaddress.ip_address(host).is_loopback else host
    except ValueError:
        return host  # a host name


def local_url(host: str, port: int) -> str:
    """The URL to open for a server listening on host:port, when no public URL is configured."""
    return f"http://{_url_host(browser_host(host))}:{port}"


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def served_url(data_dir: Path) -> str | None:
    """The public URL that the last `companion serve` on this data directory listened on, if any."""
    try:
        return (data_dir / _SERVED_URL_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def remember_served_url(settings: Settings) -> None:
    """Record the public URL of a server that now listens (see served_url)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / _SERVED_URL_FILE
    tmp = path.with_name(f".{_SERVED_URL_FILE}.{os.getpid()}")
    tmp.write_text(settings.public_url + "\n")
    tmp.replace(path)  # atomic: a command reading it never sees half a URL


def _development_secret(data_dir: Path) -> str:
    path = data_dir / _SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
