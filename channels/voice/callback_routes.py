"""The callbacks' webhooks, each verified like every Twilio request (``X-Twilio-Signature``
over the public URL and the form; unsigned or forged → 403, nothing changes):

- ``POST /webhooks/voice/callback/{id}/answer`` — the callee picked up: the update, then the
  survey after a closure. An answering machine (``AnsweredBy``, machine detection on) is hung
  up on and the attempt counts as unanswered.
- ``POST /webhooks/voice/callback/{id}/survey/{quality|speed}?try=N[&q=Q]`` — a key press.
  Both answers → ``ticket_client.submit_survey`` as the callee's voice identity; 409 (already
  answered) → thanked anyway.
- ``POST /webhooks/voice/callback/{id}/status`` — Twilio's status callback →
  :meth:`CallbackDialer.on_status`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.errors import MalformedPayload, SignatureError
from bot.model import OutboundMessage
from channels.base import MAX_WEBHOOK_BYTES, read_limited
from channels.voice.callback_dialer import MACHINE, CallbackDialer
from channels.voice.callback_store import CallbackRecord
from channels.voice.callback_twiml import CallbackTwiml, takes_survey
from channels.voice.config import VoiceConfig
from channels.voice.survey_keypad import QUESTIONS, Question, next_step, score
from channels.voice.verify import parse_form, verify
from ticket_client import Conflict, Forbidden, TawasulClient, TicketClientError

__all__ = ["BASE", "add_callback_routes"]

log = logging.getLogger("channels.voice.callback")

BASE = "/webhooks/voice/callback"
_ID = re.compile(r"^[0-9a-f]{32}$")
#: Records a call's webhooks may act on.
LIVE = frozenset({"dialing", "calling"})
_XML = "text/xml"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Tickets = Callable[[], TawasulClient | None]


def _xml(body: bytes) -> web.Response:
    return web.Response(body=body, content_type=_XML, charset="utf-8")


class CallbackRoutes:
    def __init__(
        self, config: VoiceConfig, dialer: CallbackDialer, twiml: CallbackTwiml, tickets: Tickets
    ) -> None:
        self.config = config
        self.dialer = dialer
        self.twiml = twiml
        self.tickets = tickets

    async def _form(self, request: web.Request) -> dict[str, str]:
        """The verified form (raises ``HTTPForbidden`` / ``HTTPBadRequest``)."""
        if not _ID.match(request.match_info.get("id", "")):
            raise web.HTTPNotFound()
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
            raise web.HTTPRequestEntityTooLarge(MAX_WEBHOOK_BYTES, request.content_length)
        raw = await read_limited(request, MAX_WEBHOOK_BYTES)
        if raw is None:
            raise web.HTTPRequestEntityTooLarge(MAX_WEBHOOK_BYTES, MAX_WEBHOOK_BYTES + 1)
        try:
            params = parse_form(raw)
        except MalformedPayload as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        try:
            verify(self.config.public_url + request.raw_path, params, request.headers,
                   self.config.auth_token, self.config.shared_key)  # fmt: skip
        except SignatureError as exc:
            raise web.HTTPForbidden(text=str(exc) or "invalid signature") from exc
        form = dict(params)
        if form.get("AccountSid", self.config.account_sid) != self.config.account_sid:
            raise web.HTTPForbidden(text="another account's call")
        return form

    async def _live(self, request: web.Request, form: Mapping[str, str]) -> CallbackRecord | None:
        record = await self.dialer.store.get(request.match_info["id"])
        if record is None or record.state not in LIVE:
            return None
        if record.sid and form.get("CallSid") != record.sid:
            return None
        return record

    async def answer(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        record = await self._live(request, form)
        if record is None:
            return _xml(self.twiml.hangup())
        if form.get("AnsweredBy", "") in MACHINE:
            await self.dialer.store.note(record.id, machine=form.get("CallSid", ""))
            log.info("callback reached an answering machine",
                     extra={"key": record.key, "event": "callback_machine"})  # fmt: skip
            return _xml(self.twiml.hangup())
        message = OutboundMessage.from_json(record.message)
        return _xml(self.twiml.answer(record.id, message))

    async def survey(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        question = request.match_info["question"]
        if question not in QUESTIONS:
            raise web.HTTPNotFound()
        record = await self._live(request, form)
        if record is None:
            return _xml(self.twiml.hangup())
        message = OutboundMessage.from_json(record.message)
        if not takes_survey(message):
            return _xml(self.twiml.hangup())
        raw_tries = request.query.get("try", "1")
        tries = int(raw_tries) if raw_tries.isdigit() else 1
        quality = score(request.query.get("q"))
        step = next_step(_question(question), form.get("Digits"), tries, quality)
        language = message.language
        if step.action == "ask" and step.question is not None:
            asked = tries + 1 if step.again else 1
            return _xml(self.twiml.ask(record.id, language, step.question, asked, step.quality,
                                       again=step.again))  # fmt: skip
        if step.action == "give_up" or step.quality is None or step.speed is None:
            return _xml(self.twiml.survey_end(language, "no_answer"))
        outcome = await self._submit(message, step.quality, step.speed)
        return _xml(self.twiml.survey_end(language, outcome))

    async def _submit(self, message: OutboundMessage, quality: int, speed: int) -> str:
        """Store the answers as the callee's voice identity: ``thanks``, ``already`` or
        ``error``. The identity is the conversation id the bot files with (``voice:+966…``);
        a reporter filed under the bare number is tried next."""
        tickets = self.tickets()
        number = message.reply_context.get("ticket_number", "")
        if tickets is None or not number:
            return "error"
        for user in dict.fromkeys((message.conversation_id, message.recipient_id)):
            try:
                await tickets.submit_survey(number, channel=message.channel, channel_user_id=user,
                                            quality=quality, speed=speed)  # fmt: skip
            except Forbidden:
                continue
            except Conflict:
                return "already"
            except TicketClientError as exc:
                log.warning("callback survey not stored: %s", exc,
                            extra={"key": message.key, "event": "callback_survey"})  # fmt: skip
                return "error"
            log.info("callback survey stored", extra={"key": message.key,
                                                      "event": "callback_survey"})  # fmt: skip
            return "thanks"
        log.warning("callback survey refused: not the reporter", extra={"key": message.key})
        return "error"

    async def status(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        await self.dialer.on_status(
            request.match_info["id"],
            form.get("CallSid", ""),
            form.get("CallStatus", ""),
            form.get("AnsweredBy", ""),
        )
        return _xml(self.twiml.empty())


def _question(name: str) -> Question:
    return "quality" if name == "quality" else "speed"


def add_callback_routes(
    app: web.Application,
    config: VoiceConfig,
    dialer: CallbackDialer,
    twiml: CallbackTwiml,
    tickets: Tickets,
) -> None:
    """Mount the three webhooks under :data:`BASE`."""
    routes = CallbackRoutes(config, dialer, twiml, tickets)
    app.router.add_post(BASE + "/{id}/answer", routes.answer)
    app.router.add_post(BASE + "/{id}/survey/{question}", routes.survey)
    app.router.add_post(BASE + "/{id}/status", routes.status)
