"""The whole bot as real processes on free loopback ports, once per test session (a pytest
plugin registered in ``tests/conftest.py``, so tests/bot, tests/hub and tests/channels share it).

``bot_stack`` starts, in temporary directories:

- the ticket service, ``python -m ticket_service`` with an empty SQLite database and the test
  API keys (``tests.ticket_service.conftest.KEYS``);
- the action server, ``python -m actions`` with ``TAWASUL_TICKET_URL`` pointing at it;
- the Rasa server, ``.venv-rasa/bin/rasa run --enable-api`` with the trained
  ``models/tawasul.tar.gz`` and a generated endpoints file whose ``action_endpoint`` is that
  action server (``TAWASUL_TEST_MODEL`` names another model). Rasa loads the model before it
  listens (≈ 35 s), so it is launched first and waited for last.

Each process logs to a file in the session's temporary directory (printed at start-up; the
tail of a log is shown when a process does not come up). Tests talk to the bot as a channel
does, over Rasa's REST channel (``citizen`` / ``say``), and check what was filed through the
ticket service's API (``staff``, ``hub``). ``ticket_service`` can be stopped and started again
(same port, same database) to test what the bot does while it is down.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.support import Citizen, Domain, Say
from tests.services import _announce, free_port
from tests.ticket_service.conftest import KEYS
from ticket_client import ClientConfig, RetryPolicy, TawasulClient

ROOT = Path(__file__).resolve().parents[1]
RASA_VENV = ROOT / os.environ.get("RASA_VENV", ".venv-rasa")
RASA = RASA_VENV / "bin" / "rasa"
# The model `make train` writes; TAWASUL_TEST_MODEL tries another (say, an experiment's).
MODEL = Path(os.environ.get("TAWASUL_TEST_MODEL") or ROOT / "models" / "tawasul.tar.gz")

SERVICE_STARTUP_TIMEOUT = 60.0
# ≈ 35 s alone on 2 cores; more while other work competes for them.
RASA_STARTUP_TIMEOUT = 300.0
STOP_TIMEOUT = 20.0
# Rasa answers a REST message only after every action of the turn ran.
TURN_TIMEOUT = 60.0


class ProcessError(RuntimeError):
    """A process of the stack did not start."""


def _get_json(url: str, timeout: float = 2.0) -> Any | None:
    """The JSON body of a 200 answer; None when nothing (good) answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


class Process:
    """One child process, its output in ``log_path``; ``start`` waits until ``ready()``."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self, command: list[str], env: dict[str, str]) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {' '.join(command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self, ready: Callable[[], bool], timeout: float) -> None:
        started = time.monotonic()
        while not ready():
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                raise ProcessError(f"{self.name} exited ({code}) while starting:\n{self.tail()}")
            if time.monotonic() - started > timeout:
                raise ProcessError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM (all three shut down gracefully on it), SIGKILL when that takes too long."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class TicketService:
    """``python -m ticket_service`` on a fixed port and SQLite file: stop and start it again."""

    def __init__(self, directory: Path) -> None:
        self.db_path = directory / "tickets.db"
        self.port = free_port()
        self.process = Process("ticket service", directory / "ticket_service.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "TAWASUL_DB_URL": f"sqlite+aiosqlite:///{self.db_path}",
            "TAWASUL_TICKET_HOST": "127.0.0.1",
            "TAWASUL_TICKET_PORT": str(self.port),
            "TAWASUL_API_KEYS": ",".join(f"{role}={key}" for role, key in KEYS.items()),
            "TAWASUL_EVENT_SUBSCRIBERS": "",
        }
        env.pop("TAWASUL_TICKET_WORKERS", None)
        self.process.launch([sys.executable, "-m", "ticket_service"], env)
        self.process.wait(
            lambda: _get_json(f"{self.url}/open311/v2/services.json") is not None,
            SERVICE_STARTUP_TIMEOUT,
        )

    def stop(self) -> None:
        self.process.stop()

    @property
    def running(self) -> bool:
        return self.process.proc is not None and self.process.proc.poll() is None


class ActionServer:
    """``python -m actions`` (rasa-sdk) filing into ``ticket_url`` with the hub key."""

    def __init__(self, directory: Path, ticket_url: str) -> None:
        self.port = free_port()
        self.ticket_url = ticket_url
        self.process = Process("action server", directory / "actions.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "TAWASUL_TICKET_URL": self.ticket_url,
            "TAWASUL_ACTIONS_HOST": "127.0.0.1",
            "TAWASUL_ACTIONS_PORT": str(self.port),
            "TAWASUL_ACTIONS_API_KEY": KEYS["hub"],
        }
        self.process.launch([sys.executable, "-m", "actions"], env)
        self.process.wait(
            lambda: _get_json(f"{self.url}/health") is not None, SERVICE_STARTUP_TIMEOUT
        )

    def stop(self) -> None:
        self.process.stop()


class RasaServer:
    """``rasa run --enable-api`` on the trained model, calling ``action_url``."""

    def __init__(self, directory: Path, action_url: str) -> None:
        self.port = free_port()
        self.endpoints = directory / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "{action_url}/webhook"\n', encoding="utf-8"
        )
        self.process = Process("rasa server", directory / "rasa.log")
        self.startup_seconds = 0.0
        self._launched_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
        }
        # fmt: off
        command = [
            str(RASA), "run", "--enable-api",
            "--interface", "127.0.0.1", "--port", str(self.port),
            "--model", str(MODEL),
            "--endpoints", str(self.endpoints),
            "--credentials", str(ROOT / "credentials.yml"),
        ]
        # fmt: on
        self._launched_at = time.monotonic()
        self.process.launch(command, env)

    def wait_ready(self) -> None:
        def loaded() -> bool:
            status = _get_json(f"{self.url}/status")
            return isinstance(status, dict) and bool(status.get("model_file"))

        self.process.wait(loaded, RASA_STARTUP_TIMEOUT)
        self.startup_seconds = time.monotonic() - self._launched_at

    def wait_ready_or_move(self, attempts: int = 3) -> None:
        """``wait_ready``; when another process took the port while Rasa loaded its model
        (it binds only afterwards; other test sessions pick free ports too), move to a new
        free port and try again."""
        for attempt in range(1, attempts + 1):
            try:
                self.wait_ready()
                return
            except ProcessError as exc:
                if attempt == attempts or "address already in use" not in str(exc):
                    raise
            self.process.stop()
            self.port = free_port()
            self.launch()

    def start(self) -> None:
        """Launch (again, on the same port and model) and wait until the model is loaded."""
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        self.process.stop()

    @property
    def running(self) -> bool:
        return self.process.proc is not None and self.process.proc.poll() is None


@dataclass
class BotStack:
    ticket: TicketService
    actions: ActionServer
    rasa: RasaServer
    directory: Path


@pytest.fixture(scope="session")
def bot_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotStack]:
    """The ticket service, the action server and the Rasa server, started once."""
    if not RASA.is_file():
        pytest.fail(f"{RASA} not found: run `make rasa-venv` (or `make test`)", pytrace=False)
    if not MODEL.is_file():
        pytest.fail(
            f"{MODEL} not found: run `make train` (or `make test`, which trains when the "
            "data changed)",
            pytrace=False,
        )
    directory = tmp_path_factory.mktemp("bot")
    ticket = TicketService(directory)
    actions = ActionServer(directory, ticket.url)
    rasa = RasaServer(directory, actions.url)
    _announce(request.config, f"bot: starting Rasa, actions, ticket service (logs in {directory})")
    rasa.launch()
    try:
        ticket.start()
        actions.start()
        rasa.wait_ready_or_move()
    except ProcessError as exc:
        for process in (rasa, actions, ticket):
            process.stop()
        pytest.fail(str(exc), pytrace=False)
    _announce(
        request.config,
        f"bot: Rasa {rasa.url} ready after {rasa.startup_seconds:.0f} s; actions "
        f"{actions.url}; ticket service {ticket.url}",
    )
    try:
        yield BotStack(ticket, actions, rasa, directory)
    finally:
        for process in (rasa, actions, ticket):
            process.stop()


@pytest.fixture
def ticket_service(bot_stack: BotStack) -> Iterator[TicketService]:
    """The stack's ticket service; a test may stop it. It is running again after the test."""
    yield bot_stack.ticket
    if not bot_stack.ticket.running:
        bot_stack.ticket.start()


@pytest.fixture
def rasa_server(bot_stack: BotStack) -> Iterator[RasaServer]:
    """The stack's Rasa server; a test may stop it. It is running again after the test."""
    yield bot_stack.rasa
    if not bot_stack.rasa.running:
        bot_stack.rasa.start()


@pytest.fixture(scope="session")
def domain() -> Domain:
    """domain.yml's responses, to recognise which one the bot sent (in which language)."""
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session


def _client(session: aiohttp.ClientSession, stack: BotStack, role: str) -> TawasulClient:
    config = ClientConfig(
        base_url=stack.ticket.url,
        api_key=KEYS[role],
        timeout=10.0,
        retry=RetryPolicy(attempts=3, backoff_base=0.2, backoff_max=1.0),
    )
    return TawasulClient(session, config)


@pytest.fixture(scope="session")
def staff(http: aiohttp.ClientSession, bot_stack: BotStack) -> TawasulClient:
    """The ticket service as an admin sees it: full tickets with their reporters."""
    return _client(http, bot_stack, "admin")


@pytest.fixture(scope="session")
def hub(http: aiohttp.ClientSession, bot_stack: BotStack) -> TawasulClient:
    """The ticket service as the hub sees it (a contact's tickets, complaints included)."""
    return _client(http, bot_stack, "hub")


@pytest.fixture(scope="session")
def say(http: aiohttp.ClientSession, bot_stack: BotStack) -> Say:
    """``await say(sender, text, metadata)``: one message over Rasa's REST channel; the bot's
    replies (``[{"recipient_id", "text", "buttons"?, "image"?, "custom"?}]``)."""
    url = f"{bot_stack.rasa.url}/webhooks/rest/webhook"

    async def _say(
        sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        async with http.post(url, json=body) as response:
            assert response.status == 200, (
                f"REST webhook: {response.status} {await response.text()}"
            )
            replies = await response.json()
        assert isinstance(replies, list), replies
        return replies

    return _say


CitizenFactory = Callable[..., Citizen]


@pytest.fixture
def citizen(
    say: Say, http: aiohttp.ClientSession, bot_stack: BotStack, domain: Domain
) -> CitizenFactory:
    """``citizen(channel="whatsapp", contact={...}, **metadata)``: a new conversation (a fresh
    sender id) whose messages carry that metadata."""

    def make(channel: str = "rest", **metadata: Any) -> Citizen:
        sender = f"{channel}-{uuid.uuid4().hex[:12]}"
        return Citizen(
            sender=sender,
            channel=channel,
            metadata={"channel": channel, **metadata},
            say_=say,
            http=http,
            rasa_url=bot_stack.rasa.url,
            domain=domain,
        )

    return make


@pytest.fixture(scope="session")
def ratings_of(bot_stack: BotStack) -> Callable[[str], list[dict[str, Any]]]:
    """The ratings stored for a conversation (the API has no read endpoint for them)."""

    def query(conversation_id: str) -> list[dict[str, Any]]:
        return db_rows(
            bot_stack.ticket.db_path,
            "SELECT kind, score, conversation_id, channel FROM ratings WHERE conversation_id = ?",
            (conversation_id,),
        )

    return query


def db_rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """The rows of a query on the ticket service's SQLite database, opened read-only (for what
    its API does not show)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(sql, params).fetchall()
    return [dict(row) for row in rows]


def stored_surveys(db_path: Path, number: str) -> list[dict[str, Any]]:
    """A ticket's stored surveys, comment included (the API shows the scores in the staff
    history only)."""
    return db_rows(
        db_path,
        "SELECT s.quality, s.speed, s.comment FROM surveys s "
        "JOIN tickets t ON t.id = s.ticket_id WHERE t.number = ?",
        (number,),
    )


__all__ = [
    "ROOT",
    "BotStack",
    "CitizenFactory",
    "Process",
    "ProcessError",
    "RasaServer",
    "Say",
    "TicketService",
    "db_rows",
    "stored_surveys",
]
