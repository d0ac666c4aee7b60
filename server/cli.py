"""The `companion` command: serve, token create|revoke, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from typing import Any

import uvicorn

from persistence import repo
from persistence.db import create_engine, migrate, sessionmaker
from realtime import identity
from realtime.model import SessionState, utcnow
from server.settings import Settings, SettingsError

DEMO_PEOPLE = [
    ("Ada Lovelace", "ada@example.org"),
    ("Alan Turing", "alan@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Edsger Dijkstra", "edsger@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="companion", description="Live-session companion for virtual classrooms"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="processes on one port (needs COMPANION_REDIS_URL)")

    tokens = sub.add_parser("token", help="API tokens for automation")
    token_sub = tokens.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="print a new token alone on the last line")
    create.add_argument("--role", required=True, choices=["admin", "instructor", "support"])
    create.add_argument("--name", required=True)
    create.add_argument("--email")
    revoke = token_sub.add_parser("revoke", help="end a token")
    revoke.add_argument("token_id")

    staff = sub.add_parser("staff", help="staff members, who sign in with passkeys")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    invite = staff_sub.add_parser(
        "invite", help="print a one-time enrolment link (valid 24 h) alone on the last line"
    )
    invite.add_argument("--email", required=True)
    invite.add_argument("--role", required=True, choices=["admin", "instructor", "support"])
    invite.add_argument("--name", help="shown while enrolling (default: the email's local part)")

    demo = sub.add_parser(
        "demo", help="seed a demo session starting in a few minutes, print its links, serve"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--minutes", type=int, default=3, help="minutes until the demo session starts")
    demo.add_argument("--seed-only", action="store_true", help="print the links without starting the server")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(
            host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8000)
        )
    except SettingsError as e:
        print(f"companion: {e}", file=sys.stderr)
        return 2
    if args.command == "serve":
        if args.workers > 1:
            return run_workers(settings, args.host, args.port, args.workers)
        return run_server(settings, args.host, args.port)
    if args.command == "token" and args.token_command == "create":
        _, token = asyncio.run(_create_token(settings, args.role, args.name, args.email))
        print(token)
        return 0
    if args.command == "token":
        found = asyncio.run(_revoke_token(settings, args.token_id))
        print("revoked" if found else f"no such token: {args.token_id}")
        return 0 if found else 1
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
    return 0 if args.seed_only else run_server(settings, args.host, args.port)


def run_server(settings: Settings, host: str, port: int) -> int:
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
    )
    print(f"Companion serving on http://{host}:{port}  (public URL {settings.public_url})", flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT (sessions are committed, sockets closed) and
    # then raises the signal again for the handler that was there before it: make that an exit 0,
    # since a stop that was asked for and went well is a clean exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    uvicorn.Server(config).run()
    return 0


def run_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    """N processes on one port; they share live state and fan-out through Redis."""
    if settings.redis_url is None:
        print("companion: --workers above 1 needs COMPANION_REDIS_URL (live state shared between processes)",
              file=sys.stderr)
        return 2
    # Every worker reads its settings again: give them the same public URL and key as this process.
    os.environ.setdefault("COMPANION_PUBLIC_URL", settings.public_url)
    os.environ.setdefault("COMPANION_SECRET_KEY", settings.secret_key)
    print(f"Companion serving on http://{host}:{port} with {workers} processes", flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    uvicorn.run(
        "server.app:app_from_env", factory=True, host=host, port=port, workers=workers, lifespan="on",
        log_level="warning", access_log=False, ws_per_message_deflate=False, proxy_headers=True,
        timeout_graceful_shutdown=5,
    )
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
    found: bool = await _with_db(settings, lambda db: repo.revoke_token(db, token_id=token_id, now=utcnow()))
    return found


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
        platform="Zoom",
        join_url="https://zoom.example/j/123456789",
        agenda=["Welcome and check-in", "Clocks and ordering", "Poll: which clock?", "Questions"],
    )

    async def seed(db: Any) -> tuple[list[Any], str, str]:
        await repo.create_session(db, state=state, now=now)
        people = await repo.add_participants(
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
