"""A fresh clone as a new user meets it: `make run PORT=…`, the lock file, and the suite without ../shared.

Each test clones this repository's committed state into a temporary directory. The clone reuses
this checkout's virtualenv (VENV=…, installed from the same requirements.lock: the first test checks
that every pin is what is installed) instead of installing a hundred packages again, so the install
step is skipped with `make -o`; everything else is the real Makefile target in the clone.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
STAMP = VENV / ".installed"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git repository to clone"),
    pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs the project's virtualenv (make test makes it)"),
]


def clone(into: Path) -> Path:
    """A fresh clone of the committed state of this repository."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(into)], check=True, timeout=60)
    return into


def pins(lock: Path) -> dict[str, str]:
    """name → version of every requirement the lock file pins."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def make_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPANION_", "MAKE", "MFLAGS"))}
    return env


def test_the_lock_pins_what_this_virtualenv_runs(tmp_path: Path) -> None:
    """The clone's requirements.lock pins every package with hashes, at the version installed here."""
    lock = clone(tmp_path / "checkout") / "requirements.lock"
    pinned = pins(lock)
    assert {"starlette", "uvicorn", "python-socketio", "sqlalchemy", "pytest", "pip-audit"} <= pinned.keys()
    blocks = lock.read_text().split("==")[1:]
    assert all("--hash=sha256:" in block for block in blocks), "every pin carries its hashes"
    assert "/opt/" not in lock.read_text() and "file://" not in lock.read_text(), "no machine-local index"
    wrong = {
        name: (version, installed)
        for name, version in pinned.items()
        if (installed := _installed(name)) != version and name not in ("pip", "setuptools", "wheel")
    }
    assert wrong == {}, "pinned != installed (make lock, or reinstall)"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_make_run_and_make_test_install_from_the_lock(tmp_path: Path) -> None:
    """On a fresh machine both targets install the lock (hashes required), then the checkout without deps;
    the install is redone when the lock changes."""
    checkout = clone(tmp_path / "checkout")
    venv = tmp_path / "venv"

    def dry(target: str) -> str:
        return subprocess.run(
            ["make", "-n", target, f"VENV={venv}"], cwd=checkout, env=make_env(),
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip

    for target in ("run", "test"):
        out = dry(target)
        assert f"{venv}/bin/python -m pip install --quiet --require-hashes -r requirements.lock" in out
        assert f"{venv}/bin/python -m pip install --quiet --no-deps --no-build-isolation -e ." in out
    venv.mkdir()
    (venv / ".installed").touch()
    os.utime(checkout / "requirements.lock", (time.time() - 60, time.time() - 60))
    os.utime(checkout / "pyproject.toml", (time.time() - 60, time.time() - 60))
    assert "pip install" not in dry("run")  # installed, and the lock has not changed since
    (checkout / "requirements.lock").touch()
    assert "-r requirements.lock" in dry("run")  # a new lock: installed again


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`make run PORT=<free port>` in a fresh clone, stopped with SIGTERM to its process group."""
    checkout = clone(tmp_path / "checkout")
    port = free_port()
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"VENV={VENV}", "-o", str(STAMP)],
        cwd=checkout, env=make_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float) -> tuple[str, str]:
    """Lines the process printed until one matches pattern: (that line, everything before it)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        if re.search(pattern, line):
            return line, "".join(seen)
        seen.append(line)
    raise AssertionError(f"no line matching {pattern!r}; printed:\n{''.join(seen)}")


def test_make_run_serves_on_the_port_given_and_says_so_once_listening(
    make_run: tuple[subprocess.Popen[str], int],
) -> None:
    """`make run PORT=…` serves on that port; "serving on http://localhost:PORT" comes once it accepts connections."""
    proc, port = make_run
    line, before = read_until(proc, r"serving on", timeout=60)
    # Straight away, no retry: the line must not come before the port is bound and the app started.
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok"}
    assert line.strip() == f"Companion serving on http://localhost:{port}", line
    assert f"--port {port}" in before  # the command make ran
    assert httpx.get(f"http://localhost:{port}/login", timeout=5).status_code == 200  # the address printed works
    os.killpg(proc.pid, signal.SIGTERM)  # make and the server: as Ctrl-C in a terminal would
    proc.wait(timeout=20)
    assert proc.stdout is not None
    rest = proc.stdout.read()
    assert "Traceback" not in rest and "ERROR" not in rest, rest  # the server stopped cleanly
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_suite_skips_the_benchmark_without_the_peer_beside_the_checkout(tmp_path: Path) -> None:
    """Where ../shared is absent, the benchmark smoke test is skipped and says why; the rest is unaffected."""
    if subprocess.run(["sh", "-c", "command -v node && command -v npm"], capture_output=True).returncode:
        pytest.skip("without node and npm the smoke test skips for that reason first")
    lonely = tmp_path / "alone"  # no "shared" beside the checkout
    checkout = clone(lonely / "checkout")
    assert not (lonely / "shared").exists()
    # Wide enough that pytest does not cut the reason short in its summary.
    env = {**{k: v for k, v in make_env().items() if k != "BENCH_PEER_SRC"}, "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/test_bench_smoke.py"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "4 skipped" in done.stdout, done.stdout
    peer = lonely / "shared" / "bench" / "compare.sh"
    assert f"the benchmark's peer is not beside this checkout: no {peer}" in done.stdout, done.stdout
