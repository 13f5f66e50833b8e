"""The mailbox loop: IMAP → parse → ``hub.submit`` → move (or flag) → cursor.

One round (:meth:`MailboxPoller.sync`): SELECT the mailbox; if its UIDVALIDITY is not the
stored one, forget the stored UID and rescan the whole mailbox, skipping mails whose
Message-ID (else SHA-256) was already submitted; ``UID SEARCH`` the UIDs above the stored
one; for each, in order: ``UID FETCH … BODY.PEEK[]`` (``\\Seen`` untouched), parse, map a
numeric answer to the pending option, submit (durable once it returns), remember the key,
add ``\\Seen $TawasulProcessed`` and MOVE to the processed mailbox (COPY + ``\\Deleted`` +
UID EXPUNGE without MOVE; flags only when that is impossible or not configured), then store
the UID. A crash anywhere re-reads at most the mail in hand, which the seen set (or the hub's
dedup by provider message id) keeps from being submitted twice. Mails that are not parseable
are flagged ``$TawasulRejected`` and moved aside too, so one bad mail never blocks the rest.

Between rounds: IDLE until the server announces mail, at most ``poll_seconds`` (the periodic
catch-up poll); plain sleeping without IDLE. Errors (connection, server, Redis, the hub's
queue) close the connection and retry with exponential backoff (1 s doubling to 60 s, with
jitter). Only the holder of the mailbox's Redis lease polls (:mod:`channels.email.lock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from datetime import datetime

from redis.exceptions import RedisError

from bot.errors import MalformedPayload, QueueUnavailable
from bot.logs import mask
from bot.model import Button, InboundMessage
from channels.base import HubServices

from .config import EmailConfig
from .imap import IMAP_ERRORS, Fetched, ImapClient
from .lock import LeaderLock
from .options import choose
from .parse import ParseSettings, message_key, parse_mail
from .state import ConversationStore, MailboxCursor

__all__ = ["MailboxPoller"]

log = logging.getLogger(__name__)

PROCESSED_FLAGS = ("\\Seen", "$TawasulProcessed")
REJECTED_FLAGS = ("\\Seen", "$TawasulRejected")
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
LEASE_SECONDS = 30.0
#: How often a hub without the lease tries to take it.
FOLLOWER_RETRY = 2.0


class _LeaseLost(Exception):
    pass


#: Worth a reconnect after a backoff (anything else is logged as a bug, then retried too).
_RETRIED: tuple[type[BaseException], ...] = (*IMAP_ERRORS, RedisError, QueueUnavailable)


def _received_at(fetched: Fetched) -> float:
    if fetched.internaldate:
        try:
            when = datetime.strptime(fetched.internaldate.strip(), "%d-%b-%Y %H:%M:%S %z")
            return when.timestamp()
        except ValueError:
            pass
    return time.time()


class MailboxPoller:
    """Polls one mailbox for the hub (module doc). ``rounds`` counts completed sync rounds
    (tests and health checks watch it)."""

    def __init__(
        self,
        config: EmailConfig,
        hub: HubServices,
        conversations: ConversationStore,
        *,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._config = config
        self._hub = hub
        self._conversations = conversations
        self._cursor = MailboxCursor(hub.redis, config.redis_prefix, config.account_key)
        self._lock = LeaderLock(
            hub.redis, f"{config.redis_prefix}:lock:{config.account_key}", lease_seconds
        )
        self._settings = ParseSettings(
            own_addresses=frozenset({config.address.lower(), config.envelope_sender.lower()}),
            authserv_id=config.authserv_id,
            max_attachment_bytes=config.max_attachment_bytes,
            max_attachments=config.max_attachments,
        )
        self._backoff = BACKOFF_FIRST
        self.rounds = 0

    async def run(self) -> None:
        """Poll until cancelled; never raises otherwise. The lease is released on the way
        out, so another hub takes the mailbox over at once."""
        try:
            while True:
                await self._attempt()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._release()), 2.0)

    async def _attempt(self) -> None:
        try:
            if not await self._lock.acquire():
                await asyncio.sleep(min(self._lock.renew_every, FOLLOWER_RETRY))
                return
            await self._lead()
        except _LeaseLost:
            log.warning("e-mail poller lost its mailbox lease", extra={"channel": "email"})
        except _RETRIED as exc:
            log.warning(
                "e-mail poller: %s: %s; retrying in %.1f s",
                type(exc).__name__,
                exc,
                self._backoff,
                extra={"channel": "email", "event": "imap_retry"},
            )
        except Exception:  # a bug must not end polling for good
            log.exception("e-mail poller failed", extra={"channel": "email"})
        await self._release()
        await asyncio.sleep(self._backoff * random.uniform(0.8, 1.2))
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)

    async def _release(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._lock.release()

    async def _lead(self) -> None:
        """Run a session while renewing the lease; end it when the lease is lost."""
        session = asyncio.create_task(self._session(), name="email-imap-session")
        try:
            while not session.done():
                await asyncio.wait({session}, timeout=self._lock.renew_every)
                if session.done():
                    break
                try:
                    renewed = await self._lock.renew()
                except (RedisError, OSError):
                    renewed = False
                if not renewed:
                    raise _LeaseLost
            session.result()
        finally:
            if not session.done():
                session.cancel()
                with contextlib.suppress(asyncio.CancelledError, *IMAP_ERRORS):
                    await session

    async def _session(self) -> None:
        cfg = self._config
        async with ImapClient(cfg) as client:
            if cfg.processed_mailbox:
                await client.ensure_mailbox(cfg.processed_mailbox)
            while True:
                await self.sync(client)
                self._backoff = BACKOFF_FIRST
                await client.wait_for_mail(cfg.poll_seconds, cfg.idle)

    async def sync(self, client: ImapClient) -> None:
        """One round over a connected client (module doc)."""
        info = await client.select(self._config.mailbox)
        stored, last_uid = await self._cursor.load()
        if stored != info.uidvalidity:
            if stored is not None:
                log.warning(
                    "UIDVALIDITY of %s changed (%s → %s): rescanning, dedup by Message-ID",
                    self._config.mailbox,
                    stored,
                    info.uidvalidity,
                    extra={"channel": "email", "event": "uidvalidity_changed"},
                )
            await self._cursor.reset(info.uidvalidity)
            last_uid = 0
        for uid in await client.uids_after(last_uid):
            # A shutdown lets the mail in hand finish (submit → seen → move → cursor), so a
            # graceful restart never submits it twice; only a crash can (the hub dedups).
            step = asyncio.ensure_future(self._process(client, info.uidvalidity, uid))
            try:
                await asyncio.shield(step)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(step, self._config.timeout)
                raise
        self.rounds += 1

    async def _process(self, client: ImapClient, uidvalidity: int, uid: int) -> None:
        fetched = await client.fetch(uid)
        if fetched is None:  # expunged between SEARCH and FETCH
            await self._cursor.advance(uid)
            return
        key = message_key(fetched.raw)
        accepted = True
        if not await self._cursor.seen(key):
            message = self._parse(fetched, uidvalidity)
            accepted = message is not None
            if message is not None:
                await self._submit(message)
            await self._cursor.mark_seen(key)
        await self._put_away(client, uid, accepted)
        await self._cursor.advance(uid)

    def _parse(self, fetched: Fetched, uidvalidity: int) -> InboundMessage | None:
        try:
            return parse_mail(
                fetched.raw,
                self._settings,
                uidvalidity=uidvalidity,
                uid=fetched.uid,
                received_at=_received_at(fetched),
            )
        except MalformedPayload as exc:
            reason = str(exc)
        except Exception as exc:  # a parser bug must not stop the mailbox
            log.exception("e-mail parser failed on UID %s", fetched.uid, extra={"channel": "email"})
            reason = type(exc).__name__
        log.warning(
            "e-mail UID %s rejected: %s",
            fetched.uid,
            reason,
            extra={"channel": "email", "event": "mail_rejected"},
        )
        return None

    async def _submit(self, message: InboundMessage) -> None:
        conversation = message.conversation_id
        options: list[Button] = []
        if message.no_reply_reason is None:
            options = await self._conversations.options(conversation)
            payload = choose(message.text, options)
            if payload is not None:
                message = dataclasses.replace(message, payload=payload)
        await self._hub.submit([message])
        log.info(
            "e-mail from %s submitted%s",
            mask(message.user_id),
            f" (not to be answered: {message.no_reply_reason})" if message.no_reply_reason else "",
            extra={"channel": "email", "conversation_id": conversation, "event": "mail_in"},
        )
        if message.no_reply_reason is None:
            if options:
                await self._conversations.clear_options(conversation)
            await self._conversations.remember_thread(conversation, message.reply_context)

    async def _put_away(self, client: ImapClient, uid: int, accepted: bool) -> None:
        await client.add_flags(uid, PROCESSED_FLAGS if accepted else REJECTED_FLAGS)
        target = self._config.processed_mailbox
        if target and not await client.move(uid, target):
            log.warning(
                "IMAP server can neither MOVE nor UID EXPUNGE: UID %s flagged, not moved",
                uid,
                extra={"channel": "email"},
            )
