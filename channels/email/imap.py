"""A typed, small IMAP client over aioimaplib: just what the mailbox poller needs.

TLS: ``tls`` is implicit TLS (IMAPS); ``starttls`` upgrades the plain connection before
LOGIN — aioimaplib 2.0 has no STARTTLS call, so :meth:`ImapClient._starttls` sends the
command and upgrades the transport with asyncio's ``loop.start_tls``, then asks the
capabilities again (RFC 3501 §6.2.1: the pre-TLS list must be forgotten). ``none`` is for
loopback test servers only (enforced by :mod:`channels.email.config`).

Two gaps of aioimaplib 2.0.3 are closed here: several commands (MOVE, COPY, STORE, EXPUNGE)
carry no timeout and hang for ever on a dead connection, so every call is bounded by the
configured timeout and by the connection-lost callback; and an ``* n EXISTS`` that arrives
during a command such as SEARCH or FETCH is dropped, so the protocol is subclassed to notice
it (:attr:`ImapClient.new_mail`) — otherwise a mail arriving mid-round would wait for the
next catch-up poll.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from aioimaplib import aioimaplib  # type: ignore[import-untyped]

from .config import EmailConfig, tls_context

__all__ = ["IMAP_ERRORS", "Fetched", "ImapClient", "ImapError", "SelectInfo"]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_EXISTS = re.compile(rb"^(?:\* )?(\d+) EXISTS$")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_STOP = aioimaplib.STOP_WAIT_SERVER_PUSH


class ImapError(Exception):
    """The IMAP server refused a command, or the connection is gone."""


#: Everything a broken connection or a refusing server raises: reconnect with backoff.
IMAP_ERRORS: tuple[type[BaseException], ...] = (
    ImapError,
    aioimaplib.AioImapException,
    OSError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class SelectInfo:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    raw: bytes
    internaldate: str | None


class _Protocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]
    """aioimaplib's protocol, noticing ``EXISTS`` wherever it arrives."""

    exists_seen = False

    def _untagged_response(self, line: bytes) -> Any:
        if _EXISTS.match(line):
            self.exists_seen = True
        return super()._untagged_response(line)


class _IMAP4(aioimaplib.IMAP4):  # type: ignore[misc]
    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Any = None,
        ssl_context: Any = None,
    ) -> None:
        local_loop = loop or asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )


def _lines(response: Any) -> list[bytes]:
    return [bytes(line) for line in response.lines]


def _check(response: Any, what: str) -> list[bytes]:
    lines = _lines(response)
    if str(response.result) != "OK":
        detail = lines[-1].decode("ascii", "replace")[:200] if lines else ""
        raise ImapError(f"IMAP {what} failed: {response.result} {detail}")
    return lines


def _quote(mailbox: str) -> str:
    return f'"{mailbox}"' if " " in mailbox else mailbox


class ImapClient:
    """One connection, logged in; ``async with ImapClient(config) as client``."""

    def __init__(self, config: EmailConfig) -> None:
        self._config = config
        self._imap: Any = None
        self.lost = asyncio.Event()

    async def __aenter__(self) -> ImapClient:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def new_mail(self) -> bool:
        """The server announced mail (``EXISTS``) since :meth:`select` returned."""
        return bool(self._imap is not None and self._imap.protocol.exists_seen)

    async def _run(self, call: Awaitable[Any], what: str, bounded: bool = True) -> Any:
        """Await ``call`` unless the connection drops or (``bounded``) the timeout passes."""
        task = asyncio.ensure_future(call)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            timeout = self._config.timeout if bounded else None
            done, _ = await asyncio.wait(
                {task, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if task in done:
            return task.result()
        task.cancel()
        if self.lost.is_set():
            raise ImapError(f"IMAP connection lost during {what}")
        raise ImapError(f"IMAP {what} timed out")

    async def connect(self) -> None:
        """Connect, (STARTTLS,) LOGIN. Raises one of :data:`IMAP_ERRORS`."""
        cfg = self._config
        self.lost.clear()
        ssl_context = tls_context(cfg.ca_file) if cfg.imap_security == "tls" else None
        self._imap = _IMAP4(
            host=cfg.imap_host,
            port=cfg.imap_port,
            timeout=cfg.timeout,
            conn_lost_cb=lambda _exc: self.lost.set(),
            ssl_context=ssl_context,
        )
        await self._imap.wait_hello_from_server()
        if cfg.imap_security == "starttls":
            await self._starttls()
        _check(await self._run(self._imap.login(cfg.login, cfg.imap_password), "LOGIN"), "LOGIN")

    async def _starttls(self) -> None:
        protocol = self._imap.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("IMAP server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        _check(await self._run(protocol.execute(command), "STARTTLS"), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await loop.start_tls(
            protocol.transport,
            protocol,
            tls_context(self._config.ca_file),
            server_hostname=self._config.imap_host,
            ssl_handshake_timeout=self._config.timeout,
        )
        await self._run(protocol.capability(), "CAPABILITY")

    def has(self, capability: str) -> bool:
        return bool(self._imap.has_capability(capability))

    async def ensure_mailbox(self, name: str) -> None:
        """CREATE ``name`` unless it exists."""
        response = await self._run(self._imap.create(_quote(name)), "CREATE")
        if str(response.result) != "OK" and not any(
            b"ALREADYEXISTS" in line or b"already exists" in line.lower()
            for line in _lines(response)
        ):
            _check(response, f"CREATE {name}")

    async def select(self, mailbox: str) -> SelectInfo:
        response = await self._run(self._imap.select(_quote(mailbox)), "SELECT")
        lines = _check(response, f"SELECT {mailbox}")
        self._imap.protocol.exists_seen = False
        uidvalidity = uidnext = None
        exists = 0
        for line in lines:
            if found := _UIDVALIDITY.search(line):
                uidvalidity = int(found.group(1))
            if found := _UIDNEXT.search(line):
                uidnext = int(found.group(1))
            if found := _EXISTS.match(line):
                exists = int(found.group(1))
        if uidvalidity is None:
            raise ImapError(f"SELECT {mailbox} gave no UIDVALIDITY")
        return SelectInfo(uidvalidity=uidvalidity, uidnext=uidnext, exists=exists)

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending (``UID SEARCH UID n:*`` always answers
        the highest UID even when it is below n: those are dropped)."""
        search = self._imap.uid_search("UID", f"{last_uid + 1}:*", charset=None)
        lines = _check(await self._run(search, "UID SEARCH"), "UID SEARCH")
        uids: set[int] = set()
        for line in lines[:-1]:
            words = line.removeprefix(b"SEARCH").split()
            if words and all(word.isdigit() for word in words):
                uids.update(int(word) for word in words)
        return sorted(uid for uid in uids if uid > last_uid)

    async def fetch(self, uid: int) -> Fetched | None:
        """The raw mail without setting ``\\Seen`` (``BODY.PEEK[]``); None when the server
        has no such message any more (expunged meanwhile). aioimaplib's own timeout applies
        between chunks, so a big mail on a slow link is not cut off."""
        call = self._imap.uid("fetch", str(uid), "(UID INTERNALDATE BODY.PEEK[])")
        lines = _check(await self._run(call, "UID FETCH", bounded=False), "UID FETCH")
        for index, line in enumerate(lines[:-1]):
            if not _LITERAL.search(line) or index + 1 >= len(lines):
                continue
            # The UID is in the FETCH line before the literal or in the line closing it.
            closing = lines[index + 2] if index + 2 < len(lines) else b""
            found = _FETCH_UID.search(line) or _FETCH_UID.search(closing)
            if found and int(found.group(1)) == uid:
                date = _INTERNALDATE.search(line) or _INTERNALDATE.search(closing)
                return Fetched(
                    uid=uid,
                    raw=lines[index + 1],
                    internaldate=date.group(1).decode("ascii", "replace") if date else None,
                )
        if any(_LITERAL.search(line) for line in lines):
            raise ImapError(f"UID FETCH {uid} answered another message")
        return None

    async def add_flags(self, uid: int, flags: Sequence[str]) -> None:
        flag_list = "(" + " ".join(flags) + ")"
        store = self._imap.uid("store", str(uid), "+FLAGS.SILENT", flag_list)
        _check(await self._run(store, "UID STORE"), "UID STORE")

    async def move(self, uid: int, mailbox: str) -> bool:
        """MOVE (RFC 6851), else COPY + ``\\Deleted`` + UID EXPUNGE (UIDPLUS, RFC 4315).
        False when the server can do neither (the caller flags the mail instead)."""
        if self.has("MOVE"):
            move = self._imap.uid("move", str(uid), _quote(mailbox))
            _check(await self._run(move, "UID MOVE"), "UID MOVE")
            return True
        if not self.has("UIDPLUS"):
            return False
        copy = self._imap.uid("copy", str(uid), _quote(mailbox))
        _check(await self._run(copy, "UID COPY"), "UID COPY")
        await self.add_flags(uid, ["\\Deleted"])
        expunge = self._imap.uid("expunge", str(uid))
        _check(await self._run(expunge, "UID EXPUNGE"), "UID EXPUNGE")
        return True

    async def wait_for_mail(self, seconds: float, use_idle: bool) -> bool:
        """Block up to ``seconds`` until the server announces new mail (IDLE, RFC 2177) —
        True — or the time is up — False; at once when mail was announced during the last
        round. Without IDLE (or ``use_idle`` false) just waits. Raises :class:`ImapError`
        when the connection drops meanwhile."""
        if self.new_mail:
            return True
        if not (use_idle and self.has("IDLE")):
            lost = asyncio.ensure_future(self.lost.wait())
            try:
                await asyncio.wait({lost}, timeout=seconds)
            finally:
                lost.cancel()
            if self.lost.is_set():
                raise ImapError("IMAP connection lost")
            return False
        idle = await self._run(self._imap.idle_start(timeout=seconds), "IDLE")
        try:
            return await self._idle_until_mail(seconds)
        finally:
            if self._imap.has_pending_idle() and not self.lost.is_set():
                self._imap.idle_done()
                await self._run(idle, "DONE")
            else:
                idle.cancel()

    async def _idle_until_mail(self, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds + self._config.timeout
        while True:
            remaining = max(deadline - loop.time(), 0.01)
            push = asyncio.ensure_future(self._imap.wait_server_push(remaining))
            lost = asyncio.ensure_future(self.lost.wait())
            done, _ = await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
            lost.cancel()
            if push not in done:
                push.cancel()
                raise ImapError("IMAP connection lost while idling")
            try:
                lines = push.result()
            except TimeoutError:
                return False
            if lines == _STOP:
                return False
            if any(_EXISTS.match(bytes(line)) for line in lines):
                return True

    async def close(self) -> None:
        """LOGOUT (best effort) and drop the connection."""
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            if not self.lost.is_set() and imap.get_state() != "STARTED":
                await asyncio.wait_for(imap.logout(), min(self._config.timeout, 5.0))
        except IMAP_ERRORS:
            pass
        finally:
            transport = getattr(imap.protocol, "transport", None)
            if transport is not None:
                transport.close()
