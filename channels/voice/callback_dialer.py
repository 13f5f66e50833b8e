"""Placing callback calls and deciding what each call's outcome means (issue 6 item 2).

- :meth:`CallbackDialer.deliver` (the sender's ``deliver`` for ``event:`` keys): one callback
  record per update key (a second delivery of the same key is a no-op), then the first call
  at once — or at the end of the quiet hours. Calls API errors propagate (429 →
  ``RetryAfter``, 5xx → ``TransientSendError``: the sender retries; 4xx →
  ``PermanentSendError``: the sender reports it and the events worker falls back). When it
  returns the sender records the update as ``sent`` — the call is *placed*; whether anybody
  answered comes later.
- :meth:`CallbackDialer.on_status` (Twilio's status callback): ``completed`` with a person on
  the line → done; ``busy`` / ``no-answer`` / ``failed`` / ``canceled`` or an answering
  machine → the next attempt after ``retry_seconds`` (moved out of the quiet hours), and once
  ``attempts`` calls failed → ``bot.events.outcome_hook``'s ``permanent`` with e.g.
  ``"busy ×3"``: the events worker records ``failed`` on the ticket and falls back to the
  contact's other verified channels.
- :meth:`CallbackDialer.run`: the schedule loop (retries, quiet-hour holds, calls whose final
  status never came are read back from the Calls API). The schedule lives in Redis, so a hub
  that restarts resumes it; claims with a lease keep two hubs from dialing one callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from redis.exceptions import RedisError

from bot.errors import PermanentSendError, RetryAfter, SendError, TransientSendError
from bot.events import OutcomeHook
from bot.events.quiet import release_time
from bot.events.survey import ProactiveKey
from bot.model import OutboundMessage
from channels.voice.callback_settings import CallbackSettings
from channels.voice.callback_store import CallbackRecord, CallbackStore
from channels.voice.calls_api import CallRequest, CallsApi, CallState
from channels.voice.config import VoiceConfig
from ticket_client import TawasulClient, TicketClientError
from ticket_service.clock import Clock

__all__ = ["MACHINE", "UNANSWERED", "CallbackDialer", "callback_path", "failure_text"]

log = logging.getLogger("channels.voice.callback")

#: Final call statuses that mean nobody took the call.
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
FINAL = UNANSWERED | {"completed"}
#: ``AnsweredBy`` values that are not a person.
MACHINE = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
_PHONE = re.compile(r"^\+?[1-9]\d{6,14}$")


def callback_path(callback_id: str, step: str) -> str:
    """Our webhook path of one callback's step (``answer``, ``status``, survey steps)."""
    return f"/webhooks/voice/callback/{callback_id}/{step}"


def failure_text(history: tuple[str, ...]) -> str:
    """``("busy", "busy", "busy")`` → ``"busy ×3"``; mixed → ``"busy, no-answer, busy"``."""
    if history and len(set(history)) == 1:
        return f"{history[0]} ×{len(history)}"
    return ", ".join(history) or "no answer"


def _e164(recipient: str) -> str:
    if not _PHONE.match(recipient):
        raise PermanentSendError("voice recipient is not a phone number")
    return recipient if recipient.startswith("+") else "+" + recipient


class CallbackDialer:
    """Everything about placing callbacks and their outcomes; the webhooks live in
    ``callback_routes``."""

    def __init__(
        self,
        *,
        config: VoiceConfig,
        settings: CallbackSettings,
        store: CallbackStore,
        calls: Callable[[], CallsApi],
        clock: Clock,
        report: OutcomeHook,
        tickets: Callable[[], TawasulClient | None] = lambda: None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.store = store
        self._calls = calls
        self.clock = clock
        self._report = report
        self._tickets = tickets

    def _now(self) -> float:
        return float(self.clock.now().timestamp())

    def _allowed_at(self, moment: float, message: OutboundMessage) -> float:
        """``moment``, or the end of the quiet hours it falls in."""
        when = datetime.fromtimestamp(moment, UTC)
        service = message.reply_context.get("service_code", "")
        release = release_time(self.settings.quiet, when, service)
        return release.timestamp() if release is not None else moment

    # --- the sender's side -----------------------------------------------------------------

    async def deliver(self, message: OutboundMessage) -> None:
        """Schedule the update's callback (once per key) and place its first call now unless
        the quiet hours hold it."""
        if not self.config.number:
            raise PermanentSendError("TAWASUL_VOICE_NUMBER is not set: no callbacks")
        _e164(message.recipient_id)
        try:
            await self._deliver(message)
        except RedisError as exc:
            raise TransientSendError(f"voice callbacks: Redis: {exc}") from exc

    async def _deliver(self, message: OutboundMessage) -> None:
        now = self._now()
        first = self._allowed_at(now, message)
        callback_id, created = await self.store.create(
            secrets.token_hex(16), message.to_json(), message.key, first
        )
        if first > now:
            log.info("callback held by the quiet hours",
                     extra={"key": message.key, "event": "callback_held"})  # fmt: skip
            if created:
                await self._history(message, "held", f"quiet hours: call at {self._local(first)}")
            return
        if not await self.store.claim(callback_id, now, self.settings.lease_seconds):
            return  # scheduled for later, in progress elsewhere, or finished
        record = await self.store.get(callback_id)
        if record is None:
            return
        await self._dial(record, inline=True)

    # --- placing a call --------------------------------------------------------------------

    async def _dial(self, record: CallbackRecord, *, inline: bool) -> None:
        attempt = await self.store.begin(record.id)
        if attempt == 0:
            return
        message = OutboundMessage.from_json(record.message)
        request = CallRequest(
            to=_e164(message.recipient_id),
            from_=self.config.number or "",
            url=self.config.url(callback_path(record.id, "answer")),
            status_callback=self.config.url(callback_path(record.id, "status")),
            timeout=self.settings.ring_seconds,
            machine_detection=self.settings.machine_detection,
        )
        try:
            call = await self._calls().create(request)
        except PermanentSendError as exc:
            await self.store.finish(record.id, "", "failed", None, "refused")
            log.warning("callback refused by the Calls API: %s", exc,
                        extra={"key": message.key, "event": "callback_refused"})  # fmt: skip
            if not inline:  # the sender reports its own deliver's failure
                await self._report(message, "permanent", f"voice call refused: {exc}")
            raise
        except SendError as exc:
            wait = self.settings.api_retry_seconds
            if isinstance(exc, RetryAfter):
                wait = max(wait, exc.seconds)
            await self.store.unplaced(record.id, self._now() + wait)
            raise
        check_at = self._now() + self.settings.check_seconds
        placed = await self.store.placed(record.id, call.sid, check_at)
        log.info("callback call %d placed", attempt,
                 extra={"key": message.key, "attempt": attempt, "event": "callback_placed"},
                 )  # fmt: skip
        if not placed:
            log.info("callback call finished before it was recorded", extra={"key": message.key})

    # --- outcomes --------------------------------------------------------------------------

    async def on_status(self, callback_id: str, sid: str, status: str, answered_by: str) -> None:
        """A call's status (Twilio's callback, or read back when it never came)."""
        if status not in FINAL:
            return
        record = await self.store.get(callback_id)
        if record is None:
            return
        machine = answered_by in MACHINE or record.fields.get("machine") == sid
        if status == "completed" and not machine:
            if await self.store.finish(callback_id, sid, "done", None, ""):
                log.info("callback answered", extra={"key": record.key, "event": "callback_done"})
            return
        what = "machine" if status == "completed" else status
        if record.attempt < self.settings.attempts:
            message = OutboundMessage.from_json(record.message)
            retry = self._allowed_at(self._now() + self.settings.retry_seconds, message)
            if await self.store.finish(callback_id, sid, "waiting", retry, what):
                log.info("callback %s: attempt %d of %d, next one scheduled", what,
                         record.attempt, self.settings.attempts,
                         extra={"key": record.key, "event": "callback_retry"})  # fmt: skip
                await self._history(message, "queued", f"call {record.attempt} of "
                                    f"{self.settings.attempts}: {what}; next call at "
                                    f"{self._local(retry)}")  # fmt: skip
            return
        if not await self.store.finish(callback_id, sid, "failed", None, what):
            return  # another report of the same call got here first
        done = await self.store.get(callback_id)
        text = failure_text(done.history if done else (what,))
        log.warning("callback failed: %s", text,
                    extra={"key": record.key, "event": "callback_failed"})  # fmt: skip
        await self._report(OutboundMessage.from_json(record.message), "permanent", text)

    # --- the ticket's history --------------------------------------------------------------

    def _local(self, moment: float) -> str:
        zone = self.settings.quiet.zone if self.settings.quiet else UTC
        return datetime.fromtimestamp(moment, zone).isoformat(timespec="minutes")

    async def _history(self, message: OutboundMessage, outcome: str, detail: str) -> None:
        """A step the events worker does not see (a retry, a hold of ours) on the ticket's
        history, best effort: ``queued`` / ``held`` with ``voice: <detail>``."""
        tickets = self._tickets()
        key = ProactiveKey.parse(message.key)
        number = message.reply_context.get("ticket_number", "")
        if tickets is None or key is None or not number:
            return
        try:
            await tickets.record_notification(
                number, event_id=key.event_id, event_type=message.reply_context.get(
                    "event_type", ""), channel=message.channel,
                channel_user_id=message.conversation_id, outcome=outcome,
                detail=f"{message.channel}: {detail}",
            )  # fmt: skip
        except TicketClientError as exc:
            log.warning("callback step not recorded on the ticket: %s", exc,
                        extra={"key": message.key, "event": "callback_history"})  # fmt: skip

    # --- the schedule ----------------------------------------------------------------------

    async def tick(self) -> int:
        """Act on every due callback once; how many were taken."""
        now = self._now()
        taken = 0
        for callback_id in await self.store.due(now):
            if not await self.store.claim(callback_id, now, self.settings.lease_seconds):
                continue
            taken += 1
            record = await self.store.get(callback_id)
            if record is None or record.state in ("done", "failed"):
                await self.store.drop(callback_id)
            elif record.state == "calling":
                await self._check(record)
            else:
                with contextlib.suppress(SendError):  # rescheduled or reported in _dial
                    await self._dial(record, inline=False)
        return taken

    async def _check(self, record: CallbackRecord) -> None:
        """No final status came for the current call: ask the Calls API."""
        try:
            state: CallState = await self._calls().fetch(record.sid)
        except PermanentSendError as exc:  # Twilio does not know the call: it failed
            log.warning("callback check: %s", exc, extra={"key": record.key})
            await self.on_status(record.id, record.sid, "failed", "")
            return
        except SendError as exc:
            log.warning("callback check failed: %s", exc, extra={"key": record.key})
            await self.store.reschedule(record.id, self._now() + self.settings.api_retry_seconds)
            return
        if state.status in FINAL:
            await self.on_status(record.id, record.sid, state.status, state.answered_by or "")
        else:
            await self.store.reschedule(record.id, self._now() + self.settings.check_seconds)

    async def run(self, stopping: asyncio.Event) -> None:
        """The loop: every ``poll_seconds`` until ``stopping``; Redis outages are waited out."""
        while not stopping.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("callbacks: Redis unavailable: %s", exc,
                            extra={"event": "callback_redis"})  # fmt: skip
            except Exception:  # one bad record must not stop the loop
                log.exception("callback loop error", extra={"event": "callback_error"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.settings.poll_seconds)
