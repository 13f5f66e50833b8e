"""The real action server (``python -m actions``, a child process on a free loopback port)
against the real ticket service (its aiohttp application in this process, on another port,
with a fresh SQLite database), once per test session.

``actions`` talks to a running ticket service; ``actions_down`` to a port where nothing
listens (the ticket service "down"). Both get the domain exactly as the Rasa server sends it
(``Domain.load("domain.yml").as_dict()`` run by the Rasa environment; the YAML itself when
``.venv-rasa`` is missing). ``admin`` and ``hub`` read what the actions filed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from tests.actions.support import ActionServer
from tests.services import free_port
from tests.ticket_service.conftest import KEYS, START, make_settings
from ticket_client import ClientConfig, RetryPolicy, TawasulClient
from ticket_service.clock import FakeClock
from ticket_service.context import Context
from ticket_service.db.engine import Database
from ticket_service.db.migrate import upgrade
from ticket_service.http.app import create_app

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / os.environ.get("RASA_VENV", ".venv-rasa") / "bin" / "python"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def load_domain() -> dict[str, Any]:
    if RASA_PYTHON.exists():
        code = (
            "import json, sys; from rasa.shared.core.domain import Domain;"
            "json.dump(Domain.load('domain.yml').as_dict(), sys.stdout)"
        )
        done = subprocess.run(
            [str(RASA_PYTHON), "-W", "ignore", "-c", code],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=120,
        )
        loaded: dict[str, Any] = json.loads(done.stdout)
        return loaded
    with (ROOT / "domain.yml").open(encoding="utf-8") as handle:
        raw: dict[str, Any] = yaml.safe_load(handle)
    return raw


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return load_domain()


@dataclass
class TicketServiceUnderTest:
    url: str
    ctx: Context


@pytest.fixture(scope="session")
async def ticket_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[TicketServiceUnderTest]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('tickets')}/tickets.db")
    await upgrade(database.engine)
    ctx = Context(make_settings(), database, FakeClock(START))
    server = TestServer(create_app(ctx, background=False), host="127.0.0.1")
    await server.start_server()
    try:
        yield TicketServiceUnderTest(str(server.make_url("")).rstrip("/"), ctx)
    finally:
        await server.close()
        await database.dispose()


class ActionServerProcess:
    """``python -m actions`` with its output in a log file."""

    def __init__(self, ticket_url: str, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "TAWASUL_TICKET_URL": ticket_url,
            "TAWASUL_ACTIONS_API_KEY": KEYS["hub"],
            "TAWASUL_ACTIONS_PORT": str(self.port),
            "TAWASUL_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "actions",
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"python -m actions exited:\n{self.tail()}")
                try:
                    async with http.get(f"{self.url}/health") as response:
                        # Sanic answers a little before it handles SIGTERM ("Worker ready").
                        if response.status == 200 and "Worker ready" in self.tail():
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"python -m actions did not start:\n{self.tail()}")
                await asyncio.sleep(0.1)

    async def stop(self) -> int | None:
        """SIGTERM, then the exit code (SIGKILL after STOP_TIMEOUT)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            return await proc.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
async def actions_process(
    ticket_service: TicketServiceUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ActionServerProcess]:
    process = ActionServerProcess(
        ticket_service.url, tmp_path_factory.mktemp("actions") / "actions.log"
    )
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
async def actions_down_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ActionServerProcess]:
    """Its ticket service URL is a loopback port where nothing listens."""
    process = ActionServerProcess(
        f"http://127.0.0.1:{free_port()}", tmp_path_factory.mktemp("down") / "actions.log"
    )
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def actions(
    actions_process: ActionServerProcess, domain: dict[str, Any], http: aiohttp.ClientSession
) -> ActionServer:
    return ActionServer(actions_process.url, domain, http)


@pytest.fixture
def actions_down(
    actions_down_process: ActionServerProcess,
    domain: dict[str, Any],
    http: aiohttp.ClientSession,
) -> ActionServer:
    return ActionServer(actions_down_process.url, domain, http)


def _client(url: str, role: str, http: aiohttp.ClientSession) -> TawasulClient:
    retry = RetryPolicy(attempts=2, backoff_base=0.01, backoff_max=0.05)
    return TawasulClient(http, ClientConfig(url, api_key=KEYS[role], timeout=5.0, retry=retry))


@pytest.fixture
def admin(ticket_service: TicketServiceUnderTest, http: aiohttp.ClientSession) -> TawasulClient:
    """Sees every ticket with its reporter."""
    return _client(ticket_service.url, "admin", http)


@pytest.fixture
def hub(ticket_service: TicketServiceUnderTest, http: aiohttp.ClientSession) -> TawasulClient:
    return _client(ticket_service.url, "hub", http)


@pytest.fixture
def sender() -> str:
    """A conversation of its own for each test."""
    return f"test-{uuid.uuid4().hex[:12]}"
