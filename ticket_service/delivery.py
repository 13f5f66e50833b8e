"""Delivery of outbox events, at least once, until acknowledged.

Each row of ``outbox_deliveries`` is one event for one target: a webhook subscriber (by name,
``settings.subscribers``) or the escalation e-mail notifier (``outbox.SMTP_TARGET``). A pass
works each configured target side by side, so one that is down or slow never holds up the
others; for each target, batch after batch:

1. claim its due rows, oldest first, in a short write transaction (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, the single-writer lock on SQLite), pushing their ``next_attempt_at``
   forward by a lease so another instance does not take them meanwhile;
2. send them in order with no transaction open;
3. record the outcomes in another short transaction: delivered, or a retry after an
   exponential backoff with jitter.

After a failure the rest of that target's batch waits a little without counting an attempt:
a subscriber that is down gets one request per batch, not one per pending event. Rows of a
target no longer configured stay pending until it is configured again. Receivers
de-duplicate by ``event_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum
from typing import Any

import aiohttp
import aiosmtplib
from sqlalchemy import select, update

from ticket_service.config import ConfigError, Settings, SmtpSettings, Text
from ticket_service.context import Context
from ticket_service.db.schema import outbox_deliveries, outbox_events
from ticket_service.messages import Messages, load_messages
from ticket_service.outbox import SMTP_TARGET
from ticket_service.signing import HEADER as SIGNATURE_HEADER
from ticket_service.signing import sign

log = logging.getLogger(__name__)

BATCH_SIZE = 50
LEASE = timedelta(seconds=60)
POLL_SECONDS = 1.0
JITTER = 0.2
ERROR_MAX_CHARS = 500
EMAIL = "escalation_email"  # the prefix of its texts in settings/messages.yml


class Result(Enum):
    DELIVERED = "delivered"
    FAILED = "failed"  # attempted: counts as an attempt and backs off
    PAUSED = "paused"  # not attempted: its target failed earlier in this batch
    RELEASED = "released"  # not attempted: the batch ran out of lease time


@dataclass(frozen=True)
class Outcome:
    result: Result
    note: str | None = None  # the error, or why a delivery needed nothing sent


DELIVERED = Outcome(Result.DELIVERED)


@dataclass(frozen=True)
class Claimed:
    """One due delivery, with its event serialised once: the bytes signed are the bytes sent."""

    id: int
    target: str
    attempts: int
    event_id: str
    event_type: str
    payload: dict[str, Any]
    body: bytes


def event_body(payload: Mapping[str, Any]) -> bytes:
    """The webhook body: compact JSON, UTF-8, non-ASCII text as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: doubling from
    ``retry_initial_s``, capped at ``retry_max_s``, then ±20% jitter."""
    doublings = min(max(attempts - 1, 0), 62)
    base = min(settings.retry_initial_s * 2.0**doublings, settings.retry_max_s)
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


# --- claiming and recording --------------------------------------------------------------


async def _claim(ctx: Context, target: str, batch_size: int) -> list[Claimed]:
    now = ctx.clock.now()
    d, e = outbox_deliveries.c, outbox_events.c
    query = (
        select(d.id, d.target, d.attempts, e.event_id, e.type, e.payload)
        .join(outbox_events, e.id == d.outbox_event_id)
        .where(d.target == target, d.delivered_at.is_(None), d.next_attempt_at <= now)
        .order_by(d.id)
        .limit(batch_size)
    )
    async with ctx.db.write() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=outbox_deliveries, skip_locked=True)
        rows = (await conn.execute(query)).all()
        if rows:
            await conn.execute(
                update(outbox_deliveries)
                .where(d.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + LEASE)
            )
    return [
        Claimed(
            id=r.id,
            target=r.target,
            attempts=r.attempts,
            event_id=r.event_id,
            event_type=r.type,
            payload=r.payload,
            body=event_body(r.payload),
        )
        for r in rows
    ]


def _truncate(text: str) -> str:
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


def _retry_values(ctx: Context, item: Claimed, outcome: Outcome) -> dict[str, Any]:
    now = ctx.clock.now()
    d = outbox_deliveries.c
    if outcome.result is Result.FAILED:
        return {
            "attempts": d.attempts + 1,
            "last_error": _truncate(outcome.note or "failed"),
            "next_attempt_at": now + backoff(ctx.settings, item.attempts + 1),
        }
    if outcome.result is Result.PAUSED:
        return {"next_attempt_at": now + backoff(ctx.settings, 1)}
    return {"next_attempt_at": now}  # released: due again at once


async def _record(ctx: Context, outcomes: list[tuple[Claimed, Outcome]]) -> int:
    """Store every outcome in one transaction; returns how many were acknowledged."""
    now = ctx.clock.now()
    d = outbox_deliveries.c
    acknowledged = 0
    async with ctx.db.write() as conn:
        for item, outcome in outcomes:
            pending = update(outbox_deliveries).where(d.id == item.id, d.delivered_at.is_(None))
            if outcome.result is Result.DELIVERED:
                values: dict[str, Any] = {
                    "delivered_at": now,
                    "attempts": d.attempts + 1,
                    "last_error": _truncate(outcome.note) if outcome.note else None,
                }
                acknowledged += 1
            else:
                values = _retry_values(ctx, item, outcome)
            await conn.execute(pending.values(**values))
    return acknowledged


# --- webhooks ----------------------------------------------------------------------------


async def _post(
    session: aiohttp.ClientSession, settings: Settings, url: str, item: Claimed
) -> Outcome:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(settings.event_secret, item.body),
        "X-Tawasul-Event-Id": item.event_id,
        "X-Tawasul-Event-Type": item.event_type,
    }
    timeout = aiohttp.ClientTimeout(total=settings.event_timeout_s)
    try:
        async with session.post(
            url, data=item.body, headers=headers, timeout=timeout, allow_redirects=False
        ) as resp:
            if 200 <= resp.status < 300:
                return DELIVERED
            excerpt = (await resp.content.read(200)).decode("utf-8", "replace")
            return Outcome(Result.FAILED, f"HTTP {resp.status} from {url}: {excerpt}".strip())
    except TimeoutError:
        return Outcome(Result.FAILED, f"no answer from {url} within {settings.event_timeout_s:g} s")
    except aiohttp.ClientError as exc:
        return Outcome(Result.FAILED, f"{type(exc).__name__} posting to {url}: {exc}")


# --- escalation e-mails ------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _fields(
    settings: Settings, messages: Messages, payload: Mapping[str, Any]
) -> dict[str, dict[str, str]]:
    """Placeholder values of the escalation e-mail, per language."""
    ticket, data = payload["ticket"], payload.get("data") or {}
    service = settings.service(ticket["service_code"])
    muni = settings.municipality(ticket["municipality"])
    requested, due = _when(ticket.get("requested_datetime")), _when(ticket.get("expected_datetime"))
    occurred = _when(payload.get("occurred_at"))
    overdue_h = max((occurred - due) / timedelta(hours=1), 0.0) if occurred and due else 0.0
    if data.get("reason") == "followup":
        reason = "followup"
    else:
        reason = "reminder" if int(data.get("reminder") or 0) > 0 else "sla"
    code, muni_code = ticket["service_code"], ticket["municipality"]
    names = {
        "service": service.name if service else Text(code, code),
        "municipality": muni.name if muni else Text(muni_code, muni_code),
    }
    common = {
        "number": str(ticket["service_request_id"]),
        "level": str(int(data["level"])),
        "requested": requested.strftime("%Y-%m-%d %H:%M") if requested else "",
        "due": due.strftime("%Y-%m-%d %H:%M") if due else "",
        "overdue_hours": f"{overdue_h:.1f}".removesuffix(".0"),
    }
    return {
        lang: {
            **common,
            **{key: text.get(lang) for key, text in names.items()},
            "reason": messages.text(f"{EMAIL}_reason_{reason}", lang),
            "status": messages.text(f"{EMAIL}_status_{ticket['status']}", lang),
        }
        for lang in ("ar", "en")
    }


def escalation_email(
    settings: Settings, messages: Messages, payload: Mapping[str, Any], sender: str
) -> EmailMessage | None:
    """The bilingual e-mail (Arabic first) for a ``ticket.escalated`` event, addressed to the
    escalation contacts of the ticket's municipality for that level; None when there are none."""
    ticket, level = payload["ticket"], int(payload["data"]["level"])
    muni = settings.municipality(ticket["municipality"])
    contacts = muni.escalation_contacts.get(level, ()) if muni else ()
    if not contacts:
        return None
    fields = _fields(settings, messages, payload)
    subject = [messages.text(f"{EMAIL}_subject", lang, **fields[lang]) for lang in ("ar", "en")]
    body = [messages.text(f"{EMAIL}_body", lang, **fields[lang]).rstrip() for lang in ("ar", "en")]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(contacts)
    msg["Subject"] = " / ".join(subject)
    if occurred := _when(payload.get("occurred_at")):
        msg["Date"] = format_datetime(occurred)
    # Stable per event: a copy re-sent after a crash is recognisable as the same message.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{payload['event_id']}@{domain}>"
    msg.set_content(("\n\n" + "-" * 40 + "\n\n").join(body) + "\n")
    msg["Content-Language"] = "ar, en"
    return msg


async def _smtp_send(smtp: SmtpSettings, msg: EmailMessage, limit_s: float) -> Outcome:
    try:
        refused, _ = await aiosmtplib.send(
            msg,
            hostname=smtp.host,
            port=smtp.port,
            start_tls=smtp.starttls,
            username=smtp.username,
            password=smtp.password if smtp.username else None,
            timeout=limit_s,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        where = f"{smtp.host}:{smtp.port}"
        return Outcome(Result.FAILED, f"SMTP {where}: {type(exc).__name__}: {exc}")
    if refused:  # some recipients refused, the others accepted: retrying would send twice
        refused_list = ", ".join(sorted(refused))
        return Outcome(Result.DELIVERED, f"refused by the SMTP server: {refused_list}")
    return DELIVERED


# --- one pass ----------------------------------------------------------------------------


class _Sender:
    """Sends one claimed delivery to its target; e-mail texts are read on first need."""

    def __init__(self, ctx: Context, session: aiohttp.ClientSession) -> None:
        self.settings = ctx.settings
        self.session = session
        self.urls = {s.name: s.url for s in ctx.settings.subscribers}
        self.targets = list(self.urls) + ([SMTP_TARGET] if ctx.settings.smtp else [])
        self._messages: Messages | None = None

    async def send(self, item: Claimed) -> Outcome:
        if item.target == SMTP_TARGET:
            return await self._email(item)
        return await _post(self.session, self.settings, self.urls[item.target], item)

    async def _email(self, item: Claimed) -> Outcome:
        smtp = self.settings.smtp
        if smtp is None:  # not reached: the SMTP target is only worked when configured
            return Outcome(Result.FAILED, "SMTP is not configured (TAWASUL_SMTP_HOST)")
        if item.event_type != "ticket.escalated":
            return Outcome(Result.DELIVERED, f"no e-mail is sent for {item.event_type}")
        try:
            if self._messages is None:
                self._messages = load_messages()
            msg = escalation_email(self.settings, self._messages, item.payload, smtp.sender)
        except (ConfigError, KeyError, IndexError, ValueError) as exc:
            return Outcome(Result.FAILED, f"cannot compose the escalation e-mail: {exc!r}")
        if msg is None:
            ticket, level = item.payload["ticket"], item.payload["data"]["level"]
            where = f"{ticket['municipality']} level {level}"
            return Outcome(Result.DELIVERED, f"no escalation contacts for {where}: nothing sent")
        return await _smtp_send(smtp, msg, self.settings.event_timeout_s)


async def _send_in_order(
    items: list[Claimed], send: Callable[[Claimed], Awaitable[Outcome]], deadline: float
) -> list[tuple[Claimed, Outcome]]:
    """One target's deliveries in order; after a failure the rest wait, and none starts
    after ``deadline`` (so every send ends inside the lease)."""
    loop = asyncio.get_running_loop()
    done: list[tuple[Claimed, Outcome]] = []
    stopped: Outcome | None = None
    for item in items:
        if stopped is None and loop.time() > deadline:
            stopped = Outcome(Result.RELEASED)
        if stopped is not None:
            done.append((item, stopped))
            continue
        try:
            outcome = await send(item)
        except Exception as exc:  # one bad delivery must not sink the batch
            log.exception("event %s to %s: delivery %s failed", item.event_id, item.target, item.id)
            outcome = Outcome(Result.FAILED, f"{type(exc).__name__}: {exc}")
        if outcome.result is Result.FAILED:
            log.warning("event %s to %s: %s", item.event_id, item.target, outcome.note)
            stopped = Outcome(Result.PAUSED)
        done.append((item, outcome))
    return done


async def _drain(ctx: Context, sender: _Sender, target: str, batch_size: int) -> int:
    """Deliver ``target``'s due rows, batch after batch, until none is due or one fails."""
    loop = asyncio.get_running_loop()
    acknowledged = 0
    while True:
        batch = await _claim(ctx, target, batch_size)
        if not batch:
            return acknowledged
        budget = LEASE.total_seconds() - ctx.settings.event_timeout_s - 5
        outcomes = await _send_in_order(batch, sender.send, loop.time() + max(budget, 0.0))
        delivered = await _record(ctx, outcomes)
        acknowledged += delivered
        if len(batch) < batch_size or delivered < len(batch):
            return acknowledged


async def deliver_due(
    ctx: Context, session: aiohttp.ClientSession, *, batch_size: int = BATCH_SIZE
) -> int:
    """One delivery pass over everything due now; returns how many deliveries were acknowledged."""
    sender = _Sender(ctx, session)
    async with asyncio.TaskGroup() as group:  # a failing target cancels the pass, not leaks it
        lanes = [group.create_task(_drain(ctx, sender, t, batch_size)) for t in sender.targets]
    return sum(lane.result() for lane in lanes)


async def delivery_loop(ctx: Context, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
    """Deliver due events about once a second until ``stop`` is set; a failed pass is logged
    and retried on the next tick."""
    while not stop.is_set():
        try:
            delivered = await deliver_due(ctx, session)
            if delivered:
                log.info("delivered %d events", delivered)
        except Exception:  # the database may be briefly away; the loop must live on
            log.exception("event delivery pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)
