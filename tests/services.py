"""Real backing services for the tests: a private redis-server and fresh PostgreSQL databases."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import asyncpg

from tests.support import free_port

PG_ADMIN_DSN = os.environ.get("COMPANION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class RedisServer:
    """A redis-server of our own on a free port, so tests can flush, stop and restart it freely."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, timeout=2)
                if out.stdout.strip() == b"PONG":
                    return
            except (subprocess.TimeoutExpired, FileNotFoundError):
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def flush(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "flushall"], capture_output=True, timeout=5, check=True)


class Postgres:
    """Creates a migrated template database once per run; each test gets a fresh copy, dropped after."""

    def __init__(self) -> None:
        self.run_id = f"companion_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self.run_id}_tpl"
        self.created: list[str] = []

    @staticmethod
    def url(name: str) -> str:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{name}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def setup(self) -> None:
        from persistence.db import create_engine, migrate

        await self._admin(f'CREATE DATABASE "{self.template}"')
        engine = create_engine(self.url(self.template))
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    async def fresh(self) -> str:
        name = f"{self.run_id}_{len(self.created)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def teardown(self) -> None:
        for name in [*self.created, self.template]:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
