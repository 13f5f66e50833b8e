"""The JSON + WebSocket API under ``/webchat/api`` (the page and mobile apps use it).

Documented in README.md. Errors are ``{"error": <code>, "message": <text>}`` with the
message in the language of ``Accept-Language`` (Arabic by default); 429 carries
``Retry-After``. A token that is malformed, unknown or expired is 404: the answer never tells
a guessed token from an expired one.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from redis.exceptions import RedisError

from bot.errors import QueueUnavailable
from bot.media import sniff
from bot.model import Attachment
from channels.base import HubServices, read_limited
from channels.web import push
from channels.web.config import WebConfig
from channels.web.inbound import (
    ApiError,
    MessageRequest,
    parse_json_object,
    parse_message,
    to_inbound,
    user_entry,
    validate_message,
)
from channels.web.ratelimit import RateLimiter
from channels.web.store import ChatStore, ConversationGone, media_owner
from channels.web.texts import error_message, pick_language
from channels.web.tokens import new_token, user_id_for

__all__ = ["API_PREFIX", "WebApi"]

API_PREFIX = "/webchat/api/"
MAX_HISTORY_PAGE = 500
_JSON = "application/json"
_FORM = "multipart/form-data"
_FORM_FIELDS = ("text", "client_message_id", "language")
_NO_STORE = {"Cache-Control": "no-store"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebApi:
    """Request handlers; one per hub process."""

    def __init__(
        self,
        config: WebConfig,
        store: ChatStore,
        limiter: RateLimiter,
        hub: HubServices,
        relay: push.Relay,
    ) -> None:
        self.config = config
        self.store = store
        self.limiter = limiter
        self.hub = hub
        self.relay = relay

    def routes(self) -> list[web.RouteDef]:
        """Routes relative to the ``/webchat`` sub-application."""
        conversation = "/api/conversations/{token}"
        return [
            web.post("/api/conversations", self.create_conversation),
            web.get(conversation + "/messages", self.history),
            web.post(conversation + "/messages", self.post_message),
            web.post(conversation + "/photos", self.post_photo),
            web.get(conversation + "/media/{media_id}", self.media),
            web.get(conversation + "/ws", self.websocket),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Per-IP rate limit on the API; API errors, Redis trouble → JSON answers."""
        try:
            if request.path.startswith(API_PREFIX):
                await self._limit("ip", self._client_ip(request), self.config.rate_ip)
            return await handler(request)
        except ApiError as exc:
            return _problem(request, exc)
        except (QueueUnavailable, RedisError):
            return _problem(request, ApiError("unavailable", 503))

    # --- handlers ---------------------------------------------------------------------------

    async def create_conversation(self, request: web.Request) -> web.Response:
        """``POST /webchat/api/conversations`` {language?} → 201 {token, language, ttl}."""
        await self._limit("new", self._client_ip(request), self.config.rate_conversations)
        raw = await self._json_body(request, allow_empty=True)
        fields = validate_message(parse_json_object(raw), self.config.max_text) if raw else None
        language = (fields and fields.language) or pick_language(
            request.headers.get("Accept-Language")
        )
        token = new_token()
        uid = user_id_for(token)
        assert uid is not None  # a fresh token is well-formed
        await self.store.create(uid, language)
        body = {"token": token, "language": language, "ttl": self.config.history_ttl}
        return web.json_response(body, status=201, headers=_NO_STORE)

    async def post_message(self, request: web.Request) -> web.Response:
        """``POST .../messages`` {text | payload | location, client_message_id?, language?}
        → 202 {seq, client_message_id, duplicate} once the hub holds the message."""
        uid = await self._conversation(request)
        await self._limit("msg", uid, self.config.rate_messages)
        message = parse_message(await self._json_body(request), self.config.max_text)
        return await self._accept(uid, message)

    async def post_photo(self, request: web.Request) -> web.Response:
        """``POST .../photos`` multipart: ``photo`` (JPEG/PNG/WebP/HEIC) and optional ``text``
        (a caption), ``client_message_id``, ``language`` → 202 like a message."""
        uid = await self._conversation(request)
        await self._limit("msg", uid, self.config.rate_messages)
        if request.content_type != _FORM:
            raise ApiError("unsupported_media_type", 415, expected=_FORM)
        limit = self.config.upload_max_bytes
        if request.content_length is not None and request.content_length > limit + 64 * 1024:
            raise ApiError("photo_too_large", 413, max=limit)
        data, fields = await self._read_photo_form(request)
        if data is None:
            raise ApiError("photo_missing")
        kind = sniff(data)  # the bytes decide, never the client's Content-Type
        if kind is None or kind.type != "image":
            raise ApiError("photo_type", 415)
        mime = kind.mime
        message = validate_message(fields, self.config.max_text)
        client_id = message.client_message_id or uuid.uuid4().hex
        name = hashlib.sha256(f"{uid}:{client_id}".encode()).hexdigest()[:32]
        media_id = await self.store.put_upload(uid, data, mime, name)
        attachment = Attachment(type="image", media_id=media_id, mime_type=mime, size=len(data))
        return await self._accept(uid, message, client_id, attachment)

    async def history(self, request: web.Request) -> web.Response:
        """``GET .../messages?after=<seq>&limit=<n>`` → {messages: [...], last_seq}."""
        uid = await self._conversation(request)
        after, limit = _history_query(request)
        entries = await self.store.history(uid, after, limit)
        token = request.match_info["token"]
        messages = [_decorate(token, entry) for entry in entries]
        last = messages[-1]["seq"] if messages else after
        return web.json_response({"messages": messages, "last_seq": last}, headers=_NO_STORE)

    async def media(self, request: web.Request) -> web.Response:
        """``GET .../media/{media_id}``: a photo of this conversation, while it is kept."""
        uid = await self._conversation(request)
        media_id = request.match_info["media_id"]
        found = await self.store.get_upload(media_id) if media_owner(media_id) == uid else None
        if found is None:
            raise ApiError("media_not_found", 404)
        data, mime = found
        headers = {
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        }
        return web.Response(body=data, content_type=mime, headers=headers)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """``GET .../ws?after=<seq>``: the history after ``after``, then each new entry."""
        uid = await self._conversation(request)
        after, _ = _history_query(request)
        if self.relay.open_sockets(uid) >= self.config.max_sockets:
            raise ApiError("too_many_sockets", 429, seconds=5)
        ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=4096)
        await ws.prepare(request)
        wake = self.relay.register(uid, ws)
        token = request.match_info["token"]
        pusher = asyncio.create_task(
            push.push_history(ws, self.store, uid, after, wake, lambda e: _decorate(token, e))
        )
        try:
            await push.receive_loop(ws)
        finally:
            self.relay.unregister(uid, ws, wake)
            wake.set()  # the pusher sees the closed socket and ends
            done, _ = await asyncio.wait([pusher], timeout=2.0)
            if not done:
                pusher.cancel()
        return ws

    # --- helpers ----------------------------------------------------------------------------

    async def _accept(
        self,
        uid: str,
        message: MessageRequest,
        client_id: str | None = None,
        attachment: Attachment | None = None,
    ) -> web.Response:
        """History first (so the page shows the citizen's message before the reply), then the
        hub. Both are idempotent by client message id, so a client retrying after any failure
        gets the message handled exactly once."""
        client_id = client_id or message.client_message_id or uuid.uuid4().hex
        now = time.time()
        photo = attachment.media_id if attachment else None
        try:
            appended = await self.store.append(
                uid, user_entry(client_id, message, now, photo), f"c:{client_id}"
            )
        except ConversationGone:
            raise ApiError("not_found", 404) from None
        attachments = (attachment,) if attachment else ()
        await self.hub.submit([to_inbound(uid, client_id, message, now, attachments)])
        body = {
            "seq": appended.seq,
            "client_message_id": client_id,
            "duplicate": appended.duplicate,
        }
        return web.json_response(body, status=202, headers=_NO_STORE)

    async def _conversation(self, request: web.Request) -> str:
        """The user id of the request's token; 404 unless the conversation exists."""
        uid = user_id_for(request.match_info["token"])
        if uid is None or not await self.store.exists(uid):
            raise ApiError("not_found", 404)
        return uid

    async def _limit(self, scope: str, subject: str, limit: int) -> None:
        wait = await self.limiter.hit(scope, subject, limit)
        if wait is not None:
            raise ApiError("rate_limited", 429, seconds=math.ceil(wait))

    def _client_ip(self, request: web.Request) -> str:
        if self.config.trust_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            if hops:
                return hops[-1]
        return request.remote or "unknown"

    async def _json_body(self, request: web.Request, allow_empty: bool = False) -> bytes:
        limit = self.config.max_body
        if request.content_length is not None and request.content_length > limit:
            raise ApiError("body_too_large", 413, max=limit)
        raw = await read_limited(request, limit)
        if raw is None:
            raise ApiError("body_too_large", 413, max=limit)
        if allow_empty and not raw.strip():
            return b""
        if request.content_type != _JSON:
            raise ApiError("unsupported_media_type", 415, expected=_JSON)
        return raw

    async def _read_photo_form(self, request: web.Request) -> tuple[bytes | None, dict[str, str]]:
        limit = self.config.upload_max_bytes
        field_limit = self.config.max_text * 4 + 256
        data: bytes | None = None
        fields: dict[str, str] = {}
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if isinstance(part, MultipartReader):
                    raise ApiError("invalid_body")
                if part.name == "photo":
                    data = await _read_part(part, limit)
                    if data is None:
                        raise ApiError("photo_too_large", 413, max=limit)
                elif part.name in _FORM_FIELDS:
                    raw = await _read_part(part, field_limit)
                    if raw is None:
                        raise ApiError("invalid_text", max=self.config.max_text)
                    fields[part.name] = raw.decode("utf-8")
                else:
                    await part.release()
        except (ValueError, LookupError, AssertionError, HttpProcessingError):
            # aiohttp's multipart parser raises all of these on a malformed form
            raise ApiError("invalid_body") from None
        return data, fields


async def _read_part(part: BodyPartReader, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _history_query(request: web.Request) -> tuple[int, int]:
    try:
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ApiError("invalid_query", max=MAX_HISTORY_PAGE) from None
    if after < 0 or not 1 <= limit <= MAX_HISTORY_PAGE:
        raise ApiError("invalid_query", max=MAX_HISTORY_PAGE)
    return after, limit


def _decorate(token: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as clients see it: a photo gets the URL it can be read back at."""
    photo = entry.get("photo")
    if photo:
        return {**entry, "image_url": f"/webchat/api/conversations/{token}/media/{photo}"}
    return entry


def _problem(request: web.Request, error: ApiError) -> web.Response:
    language = pick_language(request.headers.get("Accept-Language"))
    body = {"error": error.code, "message": error_message(error.code, language, error.params)}
    headers = dict(_NO_STORE)
    if error.status == 429:
        headers["Retry-After"] = str(error.params.get("seconds", 1))
    return web.json_response(body, status=error.status, headers=headers)
