"""The `companion` command: serve, token create|revoke, staff invite, purge, demo."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import socket
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn

from core import purge as purge_rules
from core.model import SessionState, utcnow
from core.settings import DEFAULT_PORT, Settings, SettingsError, browser_host, local_url, remember_served_url
from persistence import identity
from persistence.db import create_engine, migrate, sessionmaker
from persistence.repos import roster, sessions, staff
from server import logs
from service import metrics

# uvicorn's default: connections that arrive while the workers start wait here rather than being refused.
BACKLOG = 2048

DEMO_PEOPLE = [
    ("Ada Lovelace", "ada@example.org"),
    ("Alan Turing", "alan@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Edsger Dijkstra", "edsger@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="companion", description="Live-session companion for virtual classrooms")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=1, help="processes on one port (needs COMPANION_REDIS_URL)")

    tokens = sub.add_parser("token", help="API tokens for automation")
    token_sub = tokens.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="print a new token alone on the last line")
    create.add_argument("--role", required=True, choices=["admin", "instructor", "support"])
    create.add_argument("--name", required=True)
    create.add_argument("--email")
    revoke = token_sub.add_parser("revoke", help="end a token")
    revoke.add_argument("token_id")

    staff_parser = sub.add_parser("staff", help="staff members, who sign in with passkeys")
    staff_sub = staff_parser.add_subparsers(dest="staff_command", required=True)
    invite = staff_sub.add_parser("invite", help="print a one-time enrolment link (valid 24 h) alone on the last line")
    invite.add_argument("--email", required=True)
    invite.add_argument("--role", required=True, choices=["admin", "instructor", "support"])
    invite.add_argument("--name", help="shown while enrolling (default: the email's local part)")

    purge = sub.add_parser("purge", help="delete what COMPANION_RETENTION says is past keeping, and print it")
    purge.add_argument("--dry-run", action="store_true", help="print what would be deleted, delete nothing")

    demo = sub.add_parser("demo", help="seed a demo session starting in a few minutes, print its links, serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--minutes", type=int, default=3, help="minutes until the demo session starts")
    demo.add_argument("--seed-only", action="store_true", help="print the links without starting the server")

    args = parser.parse_args(argv)
    try:
        logs.configure(logs.parse_format(os.environ.get("COMPANION_LOG_FORMAT")))
    except ValueError as e:
        print(f"companion: {e}", file=sys.stderr)
        return 2
    serving = args.command == "serve" or (args.command == "demo" and not args.seed_only)
    listener: socket.socket | None = None
    port: int | None = None
    if serving:
        # Take the port before anything else: a port in use is said at once and plainly, and the
        # public URL carries the port really listened on (--port 0 picks a free one).
        try:
            listener = listen(args.host, args.port)
        except OSError as e:
            print(f"companion: {listen_problem(args.host, args.port, e)}", file=sys.stderr)
            return 1
        port = int(listener.getsockname()[1])
    elif args.command == "demo":
        port = args.port
    try:
        # The public URL names the host as a browser should (localhost for 127.0.0.1): passkeys need a name.
        settings = Settings.from_env(host=browser_host(getattr(args, "host", "127.0.0.1")), port=port)
    except SettingsError as e:
        print(f"companion: {e}", file=sys.stderr)
        return 2
    if args.command == "serve":
        assert listener is not None and port is not None
        if args.workers > 1:
            return run_workers(settings, listener, args.host, port, args.workers)
        return run_server(settings, listener, args.host, port)
    if args.command == "token" and args.token_command == "create":
        _, token = asyncio.run(_create_token(settings, args.role, args.name, args.email))
        print(token)
        return 0
    if args.command == "token":
        found = asyncio.run(_revoke_token(settings, args.token_id))
        print("revoked" if found else f"no such token: {args.token_id}")
        return 0 if found else 1
    if args.command == "purge":
        report = asyncio.run(_purge(settings, dry_run=args.dry_run))
        print(f"{'Would delete' if args.dry_run else 'Deleted'} (retention {settings.retention.text()}):")
        for line in purge_rules.lines(report["kinds"]):
            print(f"  {line}")
        return 0
    if args.command == "staff":
        if "@" not in args.email.strip("@"):
            print(f"companion: not an email address: {args.email}", file=sys.stderr)
            return 2
        hours = settings.invitation_ttl_s / 3600
        print(f"Enrolment link for {args.email} ({args.role}), valid {hours:g} hours, works once:")
        print(asyncio.run(_invite_staff(settings, args.email.strip(), args.role, args.name)))
        return 0
    links = asyncio.run(_seed_demo(settings, args.minutes))
    print(links, flush=True)
    if listener is None or port is None:
        return 0
    return run_server(settings, listener, args.host, port)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free port); OSError when that cannot be."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        # A restart must not wait for the previous process's connections to leave TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.set_inheritable(True)  # worker processes serve on it too
    except OSError:
        sock.close()
        raise
    return sock


def listen_problem(host: str, port: int, error: OSError) -> str:
    """What to tell a person whose server cannot listen."""
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use (another server?). "
            "Stop that one, or choose another port: --port N (make run PORT=N)."
        )
    return f"cannot listen on {where}: {error.strerror or error}"


def announce(settings: Settings, host: str, port: int, processes: int = 1) -> None:
    """Say where the server is, once it listens; remember it for `companion staff invite`."""
    remember_served_url(settings)
    local = local_url(host, port)
    extra = [f"{processes} processes"] if processes > 1 else []
    if settings.public_url != local:
        extra.append(f"public URL {settings.public_url}")
    suffix = f"  ({', '.join(extra)})" if extra else ""
    print(f"Companion serving on {local}{suffix}", flush=True)


class _Server(uvicorn.Server):
    """uvicorn's server, announcing itself once it accepts connections (after the app started)."""

    def __init__(self, config: uvicorn.Config, on_started: Any) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def run_server(settings: Settings, listener: socket.socket, host: str, port: int) -> int:
    """Serve in this process on the listening socket until SIGTERM/SIGINT."""
    from server.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        lifespan="on",
        # A line per request or socket costs more CPU than the request itself when a lecture hall
        # connects at once; warnings and errors still reach the log.
        log_level="warning",
        access_log=False,
        # Compression keeps a zlib context per connection (hundreds of KB); a class of
        # 2,000 sends small JSON messages that gain little from it.
        ws_per_message_deflate=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        backlog=BACKLOG,
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT (sessions are committed, sockets closed) and
    # then raises the signal again for the handler that was there before it: make that an exit 0,
    # since a stop that was asked for and went well is a clean exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    server = _Server(config, lambda: announce(settings, host, port))
    server.run(sockets=[listener])
    # uvicorn leaves with SystemExit(3) when the app fails to start; anything else that ends it
    # before it listened is a failure too.
    return 0 if server.started else 3


def run_workers(settings: Settings, listener: socket.socket, host: str, port: int, workers: int) -> int:
    """N processes on one listening socket; they share live state and fan-out through Redis."""
    if settings.redis_url is None:
        print(
            "companion: --workers above 1 needs COMPANION_REDIS_URL (live state shared between processes)",
            file=sys.stderr,
        )
        return 2
    # Every worker reads its settings again: give them the same public URL and key as this process.
    os.environ.setdefault("COMPANION_PUBLIC_URL", settings.public_url)
    os.environ.setdefault("COMPANION_SECRET_KEY", settings.secret_key)
    from uvicorn.supervisors import Multiprocess

    # /metrics of any worker sums them all: the workers write their values into one directory
    # (service/metrics.py), emptied here so that a restart does not count the last run's processes.
    if not os.environ.get(metrics.MULTIPROC_ENV):
        os.environ[metrics.MULTIPROC_ENV] = tempfile.mkdtemp(prefix="companion-metrics-")
    shared = Path(os.environ[metrics.MULTIPROC_ENV])
    shared.mkdir(parents=True, exist_ok=True)
    for stale in shared.glob("*.db"):
        stale.unlink()

    config = uvicorn.Config(
        "server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        backlog=BACKLOG,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    # The socket already listens: a connection made now waits in its backlog for the first worker.
    announce(settings, host, port, processes=workers)
    Multiprocess(config, sockets=[listener]).run()
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _with_db(settings: Settings, fn: Any) -> Any:
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        async with sessionmaker(engine)() as db, db.begin():
            return await fn(db)
    finally:
        await engine.dispose()


async def _create_token(settings: Settings, role: str, name: str, email: str | None) -> tuple[str, str]:
    now = utcnow()
    result: tuple[str, str] = await _with_db(
        settings, lambda db: identity.create_staff_token(db, role=role, name=name, email=email, now=now)
    )
    return result


async def _revoke_token(settings: Settings, token_id: str) -> bool:
    found: bool = await _with_db(settings, lambda db: staff.revoke_token(db, token_id=token_id, now=utcnow()))
    return found


async def _purge(settings: Settings, *, dry_run: bool) -> dict[str, Any]:
    """The retention purge against the settings' database (and live store), no server: service/purge.py."""
    from persistence.live import create_live_store
    from service.service import Service

    engine = create_engine(settings.database_url)
    store = create_live_store(settings.redis_url)
    try:
        await migrate(engine)
        service = Service(settings, sessionmaker(engine), store)
        service.writer.start()
        try:
            report: dict[str, Any] = await service.retention.purge(dry_run=dry_run)
        finally:
            await service.writer.stop()
        return report
    finally:
        await store.close()
        await engine.dispose()


async def _invite_staff(settings: Settings, email: str, role: str, name: str | None) -> str:
    from server.staff import create_invitation, enrolment_link

    now = utcnow()
    ttl = timedelta(seconds=settings.invitation_ttl_s)
    _, token = await _with_db(
        settings,
        lambda db: create_invitation(db, email=email, role=role, name=name, invited_by=None, now=now, ttl=ttl),
    )
    return enrolment_link(settings.public_url, token)


async def _seed_demo(settings: Settings, minutes: int) -> str:
    now = utcnow()
    instructor_email = "instructor@example.org"
    state = SessionState(
        id=identity.new_id(),
        topic="Demo: Introduction to Distributed Systems",
        instructor_email=instructor_email,
        starts_at=(now + timedelta(minutes=minutes)).replace(microsecond=0),
        duration_minutes=60,
        late_after_minutes=5,
        platform="zoom",
        join_url="https://zoom.example/j/123456789",
        agenda=["Welcome and check-in", "Clocks and ordering", "Poll: which clock?", "Questions"],
    )

    async def seed(db: Any) -> tuple[list[Any], str, str]:
        await sessions.create_session(db, state=state, now=now)
        people = await roster.add_participants(
            db,
            session_id=state.id,
            people=DEMO_PEOPLE,
            new_ids=(identity.new_id() for _ in DEMO_PEOPLE),
            now=now,
        )
        _, instructor = await identity.create_staff_token(
            db, role="instructor", name="Dana Instructor", email=instructor_email, now=now
        )
        _, support = await identity.create_staff_token(
            db, role="support", name="Sam Support", email="support@example.org", now=now
        )
        return people, instructor, support

    people, instructor, support = await _with_db(settings, seed)
    base = settings.public_url
    lines = [
        f"Demo session {state.id!r} starts at {state.starts_at.isoformat()} ({minutes} min from now).",
        "",
        f"Instructor dashboard: {base}/dashboard/{state.id}#token={instructor}",
        f"Support console:      {base}/support/{state.id}#token={support}",
        "Companion tabs (one per participant):",
    ]
    for m in people:
        token = identity.participant_token(settings.secret_key, state.id, m.id)
        lines.append(f"  {m.name:<16} {base}/join/{state.id}#token={token}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
