"""The hub (``python -m bot``) as a real child process, wired to the bot stack (a pytest plugin).

Registered by ``tests/conftest.py`` (``pytest_plugins``). Session fixture ``hub_factory``::

    hub = await hub_factory.start(env={"TAWASUL_TELEGRAM_TOKEN": ..., ...}, name="telegram")
    ... talk to f"{hub.url}/webhooks/telegram" ...
    await hub.kill()        # SIGKILL
    await hub.start()       # again, same port, same Redis, same media directory
    await hub.stop()        # SIGTERM (graceful), SIGKILL after 20 s
    print(hub.log_tail())
    await hub.wait_idle("telegram:12345")   # its messages turned, its replies handed over
    # also: hub.redis_url, hub.media_dir, hub.admin_headers() for /admin/dead-letters

Every hub gets

- its own fresh Redis (``redis-server`` with ``appendonly yes`` / ``appendfsync always``, like the
  ``redis_url`` fixture and production) so hubs of different tests never take each other's
  conversations; pass ``redis_url=other.redis_url`` to run a second hub process on the same
  Redis (the "two hub processes on one Redis" case);
- the Rasa server, the ticket service and the hub API key of ``bot_stack``
  (``tests.ticket_service.conftest.KEYS["hub"]``);
- a temporary media directory and ``TAWASUL_PUBLIC_URL`` = its own URL;
- an admin token (``hub.admin_token``, for ``/admin/...``);
- a clean environment: no ``TAWASUL_*`` variable of the test runner's environment leaks in, so a
  channel is on only when ``env`` configures it (the web chat needs no credentials).

``env`` wins over all of the above. All hubs (and their Redis servers) are stopped at the end
of the session. ``start``/``stop``/``kill`` are coroutines: they never block the event loop,
which serves the tests' fake provider servers that the hub is talking to meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot import keys
from tests.services import RedisServer, ServiceError, free_port
from tests.stack import ROOT, BotStack
from tests.ticket_service.conftest import KEYS

HUB_STARTUP_TIMEOUT = 60.0
HUB_STOP_TIMEOUT = 20.0


class HubError(RuntimeError):
    """The hub process did not start (the message has the tail of its log)."""


class HubProcess:
    """One ``python -m bot`` child process on a fixed port; restartable."""

    def __init__(
        self,
        name: str,
        directory: Path,
        env: Mapping[str, str],
        redis_url: str,
        redis_server: RedisServer | None,
    ) -> None:
        self.name = name
        self.directory = directory
        self.port = free_port()
        self.redis_url = redis_url
        self.redis_server = redis_server
        self.media_dir = directory / "media"
        self.log_path = directory / "hub.log"
        self.admin_token = secrets.token_hex(16)
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def child_env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("TAWASUL_")}
        return {
            **base,
            "PYTHONUNBUFFERED": "1",
            "TAWASUL_HUB_HOST": "127.0.0.1",
            "TAWASUL_HUB_PORT": str(self.port),
            "TAWASUL_PUBLIC_URL": self.url,
            "TAWASUL_REDIS_URL": self.redis_url,
            "TAWASUL_MEDIA_DIR": str(self.media_dir),
            "TAWASUL_ADMIN_TOKEN": self.admin_token,
            **self.env,
        }

    def _launch(self) -> None:
        self.media_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bot"]
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {' '.join(command)} (port {self.port})\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.child_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> HubProcess:
        """Launch the process (again) and wait until it serves HTTP (``/healthz`` answers,
        healthy or not: a test may start the hub while Rasa is down)."""
        if self.running:
            raise HubError(f"hub {self.name} is already running (pid {self.pid})")
        if self.redis_server is not None and self.redis_server.proc is None:
            self.redis_server.start()
        self._launch()
        assert self.proc is not None
        deadline = time.monotonic() + HUB_STARTUP_TIMEOUT
        timeout = aiohttp.ClientTimeout(total=2.0)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if self.proc.poll() is not None:
                    raise HubError(
                        f"hub {self.name} exited ({self.proc.returncode}) while starting:\n"
                        + self.log_tail()
                    )
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status in (200, 503):
                            return self
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise HubError(
                        f"hub {self.name} not serving after {HUB_STARTUP_TIMEOUT:.0f} s:\n"
                        + self.log_tail()
                    )
                await asyncio.sleep(0.1)

    async def _wait_exit(self, seconds: float) -> bool:
        proc = self.proc
        deadline = time.monotonic() + seconds
        while proc is not None and proc.poll() is None:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def stop(self) -> int | None:
        """SIGTERM (graceful: in-flight turns and sends finish), SIGKILL after 20 s; the exit
        code (None when it was not running)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            if not await self._wait_exit(HUB_STOP_TIMEOUT):
                proc.kill()
                await self._wait_exit(HUB_STOP_TIMEOUT)
        self.proc = None
        return proc.returncode

    async def kill(self) -> None:
        """SIGKILL: the crash case (nothing is flushed, locks are left to expire)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            await self._wait_exit(HUB_STOP_TIMEOUT)
        self.proc = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def wait_idle(self, *conversation_ids: str, within: float = 120.0) -> None:
        """Wait until the hub has nothing left to do: every message turned and every reply
        handed to the provider (for ``conversation_ids`` only, when given: their inbound and
        outbound streams empty and unlocked). AssertionError after ``within`` seconds."""
        client = Redis.from_url(self.redis_url)
        deadline = time.monotonic() + within
        try:
            while not await _idle(client, conversation_ids):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"hub {self.name} still busy after {within:g} s:\n{self.log_tail()}"
                    )
                await asyncio.sleep(0.1)
        finally:
            await client.aclose()

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def shutdown(self) -> None:
        """Synchronous last resort at the end of the session."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(HUB_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.redis_server is not None:
            self.redis_server.stop()


async def _idle(client: Redis, conversation_ids: tuple[str, ...]) -> bool:
    if conversation_ids:
        for conversation in conversation_ids:
            if await client.xlen(keys.conv_in(conversation)) or await client.xlen(
                keys.conv_out(conversation)
            ):
                return False
            if await client.exists(keys.lock(conversation), keys.send_lock(conversation)):
                return False
        return True
    for stream in (keys.WORK, keys.SEND_WORK):
        if not await client.exists(stream):
            continue
        for group in await client.xinfo_groups(stream):
            if int(group.get("pending") or 0) or int(group.get("lag") or 0):
                return False
        if await client.xlen(stream) and not await client.xinfo_groups(stream):
            return False
    return True


class HubFactory:
    """Starts hubs wired to ``bot_stack``; stops them all at the end of the session."""

    def __init__(self, stack: BotStack, directory: Path) -> None:
        self.stack = stack
        self.directory = directory
        self.hubs: list[HubProcess] = []

    def stack_env(self) -> dict[str, str]:
        return {
            "TAWASUL_RASA_URL": self.stack.rasa.url,
            "TAWASUL_TICKET_URL": self.stack.ticket.url,
            "TAWASUL_HUB_API_KEY": KEYS["hub"],
        }

    async def start(
        self,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        *,
        redis_url: str | None = None,
    ) -> HubProcess:
        """A running hub. ``env`` adds (or overrides) variables, e.g. a channel's credentials
        and the base URL of its fake provider; ``redis_url`` shares another hub's Redis."""
        label = name or f"hub{len(self.hubs) + 1}"
        directory = self.directory / f"{len(self.hubs) + 1:02d}-{label}"
        directory.mkdir(parents=True)
        server: RedisServer | None = None
        if redis_url is None:
            server = RedisServer(directory / "redis")
            try:
                redis_url = server.start()
            except ServiceError as exc:
                raise HubError(str(exc)) from exc
        hub = HubProcess(label, directory, {**self.stack_env(), **(env or {})}, redis_url, server)
        self.hubs.append(hub)
        return await hub.start()

    async def stop_all(self) -> None:
        for hub in self.hubs:
            await hub.stop()
        for hub in self.hubs:
            hub.shutdown()


@pytest.fixture(scope="session")
async def hub_factory(
    bot_stack: BotStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[HubFactory]:
    """Starts hub processes (``await hub_factory.start(env=..., name=...)``)."""
    factory = HubFactory(bot_stack, tmp_path_factory.mktemp("hubs"))
    try:
        yield factory
    finally:
        await factory.stop_all()


__all__ = ["HubError", "HubFactory", "HubProcess"]
