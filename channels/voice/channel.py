"""The voice channel: the IVR's webhooks, and the bot's replies kept for the call."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.exceptions import RedisError

from bot.errors import (
    MalformedPayload,
    MediaError,
    PermanentSendError,
    SignatureError,
    TransientSendError,
)
from bot.model import Attachment, OutboundMessage
from channels.base import HubServices, Media, read_limited
from channels.voice.callback import Callbacks
from channels.voice.config import VoiceConfig
from channels.voice.flow import CHANNEL, Parts
from channels.voice.ivr import ENDED, INCOMING, STEPS, Ivr
from channels.voice.parse import CallParams, parse_call
from channels.voice.prompts import Prompts
from channels.voice.response import PATH
from channels.voice.state import CallStore
from channels.voice.twiml import CONTENT_TYPE, Speaker, VoiceResponse, render
from channels.voice.verify import parse_form, verify
from ticket_service.clock import Clock, SystemClock

__all__ = ["MAX_BODY", "VoiceChannel"]

log = logging.getLogger("channels.voice")

#: Twilio's voice webhooks are a few kB of form fields.
MAX_BODY = 64 * 1024
#: Proactive updates (``OutboundMessage.key`` ``event:…``) are callback calls, not replies.
EVENT_PREFIX = "event:"


class VoiceChannel:
    """Implements :class:`channels.base.Channel` for a TwiML voice number."""

    name = CHANNEL

    def __init__(
        self,
        config: VoiceConfig,
        prompts: Prompts,
        clock: Clock | None = None,
        callbacks: Callbacks | None = None,
    ) -> None:
        self.config = config
        self.prompts = prompts
        self.clock: Clock = clock or SystemClock()
        #: The automatic callbacks (issue 6 item 2); None: proactive updates are refused.
        self.callbacks = callbacks
        self._parts: Parts | None = None

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """``POST /webhooks/voice/<step>``: ``incoming`` is the number's voice URL,
        ``ended`` its (optional) status callback; the others are the IVR's own actions."""
        store = CallStore(hub.redis, self.config.state_ttl)
        self._parts = Parts(self.config, self.prompts, store, hub, self.clock)
        ivr = Ivr(self._parts)
        for step in (INCOMING, ENDED, *STEPS):
            app.router.add_post(f"{PATH}/{step}", self._handler(ivr, step))
        if self.callbacks is not None:  # /webhooks/voice/callback/..., before the catch-all
            self.callbacks.setup(app, hub)
        # Last: a step no answer of ours leads to (an old URL) is still answered in words.
        app.router.add_post(f"{PATH}/{{step}}", self._handler(ivr, None))

    def _handler(self, ivr: Ivr, fixed: str | None) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            step = fixed or request.match_info.get("step", "")
            return await self._webhook(request, ivr, step)

        return handle

    async def _webhook(self, request: web.Request, ivr: Ivr, step: str) -> web.Response:
        """Raw bytes → signature over the public URL → the step's TwiML. Forged or unsigned →
        403; not Twilio's form → 400; anything failing inside → spoken apology, never 5xx."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="body too large")
        raw = await read_limited(request, MAX_BODY)
        if raw is None:
            return web.Response(status=413, text="body too large")
        try:
            form = parse_form(raw)
            url = self.config.public_url + request.raw_path
            verify(url, form, request.headers, self.config.auth_token, self.config.shared_key)
        except MalformedPayload as exc:
            return web.Response(status=400, text=str(exc))
        except SignatureError as exc:
            return web.Response(status=403, text=str(exc) or "invalid signature")
        try:
            params = parse_call(form)
        except MalformedPayload as exc:
            return web.Response(status=400, text=str(exc))
        if params.account_sid is not None and params.account_sid != self.config.account_sid:
            return web.Response(status=403, text="another account's call")
        try:
            n = _sequence(request.query.get("n"))
            body = await self._answer(ivr, step, params, n, url, _digest(form))
        except Exception:  # the caller hears an apology, never silence
            log.exception("voice: step %s failed", step, extra={"event": "voice_error"})
            body = self._apology()
        return web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8")

    async def _answer(
        self, ivr: Ivr, step: str, params: CallParams, n: int | None, url: str, digest: str
    ) -> bytes:
        """One request of a call at a time; a retried request (same step, same parameters)
        gets the answer it had."""
        store = self.parts.store
        sid, kept_as = params.call_sid, f"{n if n is not None else 0}:{digest}"
        async with store.busy(sid, self.config.turn_wait + 2) as free:
            if not free:  # another request of this call is still being answered
                response = VoiceResponse()
                response.pause(length=1)
                response.redirect(url, method="POST")
                return render(response)
            kept = await store.answer(sid, kept_as, step)
            if kept is not None:
                return kept
            body = await ivr.handle(step, params, n)
            await store.remember_answer(sid, kept_as, step, body)
            return body

    def _apology(self) -> bytes:
        response = VoiceResponse()
        speaker = Speaker(self.config)
        for lang in ("ar", "en"):
            speaker.say(response, self.prompts.text("service_error", lang), lang)
        response.hangup()
        return render(response)

    @property
    def parts(self) -> Parts:
        if self._parts is None:
            raise RuntimeError("VoiceChannel.setup() was not called")
        return self._parts

    async def deliver(self, message: OutboundMessage) -> None:
        """Keep a reply of the bot for the webhook that is waiting to speak it (Redis)."""
        if message.key.startswith(EVENT_PREFIX):
            # Proactive updates become outbound callback calls (channels/voice/callback*.py).
            if self.callbacks is None:
                raise PermanentSendError("voice: callbacks are off")
            await self.callbacks.deliver(message)
            return
        try:
            await self.parts.store.add_reply(message)
        except RedisError as exc:
            raise TransientSendError(f"voice: redis: {exc}") from exc

    async def download(self, attachment: Attachment, max_bytes: int) -> Media:
        """Calls carry no files."""
        raise MediaError("voice calls carry no attachments")


def _digest(form: Sequence[tuple[str, str]]) -> str:
    """A request's parameters, in short (a retry has the same)."""
    return hashlib.sha256(urlencode(sorted(form)).encode()).hexdigest()[:16]


def _sequence(raw: str | None) -> int | None:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    return int(raw)
