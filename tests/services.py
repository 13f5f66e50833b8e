"""Real servers for tests: Redis and PostgreSQL on free loopback ports (a pytest plugin).

Registered by ``tests/conftest.py`` (``pytest_plugins``). Session-scoped fixtures:

``redis_url``
    ``redis://127.0.0.1:<port>/0`` -- a fresh ``redis-server`` (appendonly yes,
    appendfsync always, no RDB snapshots) in a temporary directory.
``postgres_url``
    ``postgresql+asyncpg://tawasul@127.0.0.1:<port>/tawasul`` -- a fresh cluster (``initdb``
    of the newest /usr/lib/postgresql/*/bin, trust auth, superuser ``tawasul``) with the
    database ``tawasul``. Durability is switched off (fsync=off ...) for speed: test use only.

Both are stopped and their directories removed at the end of the session. A test that needs
its own server (say, to stop Redis mid-test) can use ``RedisServer`` / ``PostgresServer``
directly. Needs the Debian packages ``redis-server`` and ``postgresql`` (``make packages``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 5


class ServiceError(RuntimeError):
    """A test server could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def redis_database(redis_url: str, db: int) -> AsyncIterator[tuple[str, Redis]]:
    """Database ``db`` of the Redis at ``redis_url``, emptied: its URL and a client on it."""
    url = redis_url.rsplit("/", 1)[0] + f"/{db}"
    client = Redis.from_url(url)
    await client.flushdb()
    try:
        yield url, client
    finally:
        await client.aclose()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Redis ---------------------------------------------------------------------------------


def redis_ping(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True when a Redis at host:port answers PING with PONG (raw RESP, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A ``redis-server`` process with its data in ``directory``; ``start()`` / ``stop()``."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server not found; install it with `make packages`")
        self.binary = binary
        self.directory = directory
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def start(self) -> str:
        """Start (or restart, keeping the data and port once chosen); return the URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fixed_port = self.port is not None
        for _ in range(1 if fixed_port else PORT_ATTEMPTS):
            port = self.port if self.port is not None else free_port()
            if self._start_on(port):
                self.port = port
                return self.url
        raise ServiceError(f"redis-server did not start:\n{_tail(self.log_path)}")

    def _start_on(self, port: int) -> bool:
        # fmt: off
        cmd = [
            self.binary,
            "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
            "--dir", str(self.directory), "--logfile", str(self.log_path),
            "--daemonize", "no", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always",
        ]
        # fmt: on
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, cwd=self.directory)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False  # most likely the port was taken meanwhile
            if redis_ping(port):
                self.proc = proc
                return True
            time.sleep(0.05)
        _stop_process(proc)
        raise ServiceError(f"redis-server on port {port} did not answer PING in time")

    def stop(self) -> None:
        """SIGTERM (Redis fsyncs the AOF and exits), SIGKILL if that takes too long."""
        if self.proc is not None:
            _stop_process(self.proc)
            self.proc = None


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_bindir() -> Path:
    """$TAWASUL_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin with initdb."""
    override = os.environ.get("TAWASUL_PG_BINDIR")
    if override:
        return Path(override)

    def version(path: Path) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in path.parent.parent.name.split("."))
        except ValueError:
            return (0,)

    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version)
    if not initdbs:
        raise ServiceError(
            "PostgreSQL not found (/usr/lib/postgresql/*/bin/initdb); install it with "
            "`make packages` or set TAWASUL_PG_BINDIR"
        )
    return initdbs[-1].parent


class PostgresServer:
    """A throw-away PostgreSQL cluster; ``start()`` returns the SQLAlchemy asyncpg URL.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system
    user, in a directory under /tmp that it owns (reachable whatever the caller's TMPDIR).
    """

    user = "tawasul"
    database = "tawasul"

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # benchmarks measure with PostgreSQL's real fsync settings
        self.bindir = pg_bindir()
        self.as_user: dict[str, Any] = {}
        self.owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as e:
                raise ServiceError(
                    "running as root but there is no `postgres` user to run PostgreSQL as "
                    "(the Debian postgresql package creates it: `make packages`)"
                ) from e
            self.owner = (pw.pw_uid, pw.pw_gid)
            self.as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.base = Path(tempfile.mkdtemp(prefix="tawasul-pg-", dir="/tmp" if self.owner else None))
        os.chmod(self.base, 0o700)
        if self.owner:
            os.chown(self.base, *self.owner)
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.log_path = self.base / "postgres.log"
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, as_owner: bool = True) -> subprocess.CompletedProcess[str]:
        extra = self.as_user if as_owner else {}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.base,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **extra,
        )

    def initdb(self) -> None:
        common = ["-D", str(self.data), "-A", "trust", "-U", self.user, "--encoding=UTF8"]
        # --no-sync: the cluster is thrown away, don't wait for the disk.
        result = self._run("initdb", *common, "--locale=C.UTF-8", "--no-sync")
        if result.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            result = self._run("initdb", *common, "--no-locale", "--no-sync")
        if result.returncode != 0:
            raise ServiceError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> str:
        if not (self.data / "PG_VERSION").exists():
            self.initdb()
        self.sockets.mkdir(exist_ok=True)
        if self.owner:
            os.chown(self.sockets, *self.owner)
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            if self._start_on(port):
                self.port = port
                break
        else:
            raise ServiceError(f"postgres did not start:\n{_tail(self.log_path)}")
        result = self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database
        )
        if result.returncode != 0:
            raise ServiceError(f"createdb failed: {result.stderr}")
        return self.url

    def _start_on(self, port: int) -> bool:
        # fmt: off
        cmd = [
            str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(port),
            "-k", str(self.sockets),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=200",
        ]
        if not self.durable:
            # Test-only: no durability, much faster. Never use these settings elsewhere.
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # fmt: on
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self.as_user,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False  # most likely the port was taken meanwhile
            ready = self._run(
                "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "1",
                as_owner=False,
            )  # fmt: skip
            if ready.returncode == 0:
                self.proc = proc
                return True
            time.sleep(0.05)
        _stop_process(proc)
        raise ServiceError(
            f"postgres on port {port} was not ready in time:\n{_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """``pg_ctl stop -m fast`` (as the cluster's owner), SIGKILL if that fails."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
            _stop_process(self.proc)
            self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


# --- fixtures ------------------------------------------------------------------------------


def _announce(config: pytest.Config, message: str) -> None:
    """Print past pytest's output capture, so the URL shows even with -q."""
    capman = config.pluginmanager.getplugin("capturemanager")
    ctx = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
    with ctx:
        print(f"\n[tests.services] {message}", flush=True)


@pytest.fixture(scope="session")
def redis_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a real, empty, durable Redis for this test session."""
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        url = server.start()
    except ServiceError as e:
        pytest.fail(str(e), pytrace=False)
    _announce(request.config, f"redis: {url} (data in {server.directory})")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL (asyncpg driver) of a real PostgreSQL database for this test session."""
    server: PostgresServer | None = None
    try:
        server = PostgresServer()
        url = server.start()
    except ServiceError as e:
        if server is not None:
            server.remove()
        pytest.fail(str(e), pytrace=False)
    _announce(request.config, f"postgres: {url} (cluster in {server.base})")
    try:
        yield url
    finally:
        server.remove()
