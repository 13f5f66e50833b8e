"""A fake Meta Graph API on 127.0.0.1 for the WhatsApp and Messenger adapters.

It checks every request the way Graph does (protocols.md §1.7-1.11, §2.3-2.5) and answers in
Graph's formats, including its error body
``{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}``:

- ``POST /<version>/<phone_number_id>/messages`` (WhatsApp): Bearer system-user token,
  JSON, ``messaging_product: "whatsapp"``, ``to`` (digits) or ``recipient`` (BSUID); text ≤ 4096;
  reply buttons 1-3 with unique titles ≤ 20 and ids ≤ 256 without outer spaces; lists ≤ 10
  rows (ids ≤ 200, titles ≤ 24, descriptions ≤ 72, button label ≤ 20, sections ≤ 10);
  location requests; images by link or id (caption ≤ 1024); templates that exist in the
  requested language with the right number of parameters (no newline/tab, no 5 spaces); the
  24 h window (free-form to a user whose window is not open → 131047).
- ``POST /<version>/me/messages`` or ``/<version>/<page_id>/messages`` (Messenger): the Page
  token (Bearer or ``access_token``), ``recipient.id``, ``messaging_type`` RESPONSE / UPDATE /
  MESSAGE_TAG (+ a valid ``tag``), ``message`` with ``text`` ≤ 2000 or an ``attachment``,
  quick replies ≤ 13 (titles ≤ 20, payloads ≤ 1000); outside the window without a tag →
  code 10 / subcode 2018278.
- ``GET /<version>/<media-id>`` → ``{"url", "mime_type", "sha256", "file_size", "id"}`` and
  ``GET /whatsapp_business/attachments/?mid=…`` → the bytes (both need the token);
  ``GET /cdn/<name>`` → Messenger attachment bytes (no token, like Meta's signed CDN URLs).

Tests script failures (``fail_next``: 429 / 5xx / any Graph error code for the next N calls,
optionally after a delay) and read every call back from ``calls``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Call", "FakeGraph", "GraphFault"]

WA_TEXT_MAX = 4096
MESSENGER_TEXT_MAX = 2000
MESSENGER_TAGS = frozenset(
    {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "HUMAN_AGENT"}
)
_PHONE = re.compile(r"^\+?\d{6,20}$")
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]{1,140}$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_BAD_PARAM = re.compile(r"[\n\t]| {5,}")


class GraphFault(Exception):
    """A request Graph would refuse: answered as Graph's error body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int = 400,
        subcode: int | None = None,
        details: str | None = None,
        error_type: str = "OAuthException",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.subcode = subcode
        self.details = details
        self.error_type = error_type
        self.headers = headers or {}

    def response(self, whatsapp: bool) -> web.Response:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if whatsapp:
            error["error_data"] = {
                "messaging_product": "whatsapp",
                "details": self.details or self.message,
            }
        return web.json_response({"error": error}, status=self.status, headers=self.headers)


def _invalid(details: str) -> GraphFault:
    return GraphFault(131009, "(#131009) Parameter value is not valid", details=details)


def _missing(details: str) -> GraphFault:
    return GraphFault(131008, "(#131008) Required parameter is missing", details=details)


def _param(details: str) -> GraphFault:
    return GraphFault(100, f"(#100) {details}", details=details)


@dataclass
class Call:
    """One request the fake received, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0
    #: ``time.monotonic()`` when the request arrived (bench/hub.py times turns with it).
    received_at: float = field(default_factory=time.monotonic)
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    fault: GraphFault | None  # None: let this call through (``fail_next(after=...)``)
    delay: float
    scope: str


@dataclass
class _Template:
    languages: frozenset[str]
    body_params: int
    quick_replies: int


@dataclass
class _Media:
    data: bytes
    mime_type: str
    sha256: str
    file_size: int


@dataclass
class FakeGraph:
    """The fake's state; ``start()`` serves it on a free loopback port."""

    version: str = "v24.0"
    wa_token: str = "wa-system-user-token"
    phone_number_id: str = "106540352242922"
    page_token: str = "page-access-token"
    page_id: str = "1234567890123"
    #: Refuse free-form messages to users whose window is not open (as Graph does).
    enforce_window: bool = True
    #: Where media URLs point (None: this server, as lookaside.fbsbx.com would be).
    media_url_base: str | None = None
    calls: list[Call] = field(default_factory=list)
    #: Called with each call as it arrives, before it is answered.
    on_call: Callable[[Call], None] | None = None
    _windows: set[str] = field(default_factory=set)
    _failures: list[_Failure] = field(default_factory=list)
    _templates: dict[str, _Template] = field(default_factory=dict)
    _media: dict[str, _Media] = field(default_factory=dict)
    _cdn: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        """Forget calls, windows, scripted failures, media and templates."""
        self.calls.clear()
        self._windows.clear()
        self._failures.clear()
        self._templates.clear()
        self._media.clear()
        self._cdn.clear()
        self.enforce_window = True
        self.media_url_base = None

    # --- scripting -------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        code: int = 131000,
        message: str = "(#131000) Something went wrong",
        subcode: int | None = None,
        retry_after: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        scope: str = "messages",
        after: int = 0,
    ) -> None:
        """Answer ``n`` calls of ``scope`` (``messages`` or ``media``), once ``after`` more
        have gone through, with this Graph error (after ``delay`` seconds: a delay past the
        client's timeout is a timeout)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        fault = GraphFault(code, message, status=status, subcode=subcode, headers=extra)
        self._failures.extend(_Failure(None, 0.0, scope) for _ in range(after))
        self._failures.extend(_Failure(fault, delay, scope) for _ in range(n))

    def open_window(self, *users: str) -> None:
        """These users wrote to us recently: free-form messages to them are allowed."""
        self._windows.update(users)

    def close_window(self, *users: str) -> None:
        self._windows.difference_update(users)

    def register_template(
        self, name: str, languages: Iterable[str], body_params: int, quick_replies: int = 0
    ) -> None:
        """An approved template (its name, language codes, parameters, quick-reply buttons)."""
        self._templates[name] = _Template(frozenset(languages), body_params, quick_replies)

    def add_media(
        self,
        data: bytes,
        mime_type: str,
        *,
        file_size: int | None = None,
        sha256: str | None = None,
    ) -> str:
        """A citizen's WhatsApp upload; returns its media id. ``file_size``/``sha256``
        override what the metadata declares (to test the checks)."""
        media_id = str(10**15 + len(self._media) + secrets.randbelow(10**9))
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self._media[media_id] = _Media(
            data, mime_type, sha256 or digest, len(data) if file_size is None else file_size
        )
        return media_id

    def add_cdn(self, data: bytes, mime_type: str) -> str:
        """A Messenger attachment on the 'CDN'; returns its URL."""
        name = secrets.token_hex(8)
        self._cdn[name] = (data, mime_type)
        return f"{self.base_url}/cdn/{name}"

    # --- reading back ----------------------------------------------------------------------

    def sent(self, channel: str) -> list[dict[str, Any]]:
        """The bodies of the messages accepted (status 200) for ``whatsapp`` or ``messenger``."""
        marker = f"/{self.phone_number_id}/messages" if channel == "whatsapp" else None
        return [
            call.body
            for call in self.calls
            if call.method == "POST"
            and call.status == 200
            and (
                call.path.endswith(marker)
                if marker
                else call.path.endswith(("/me/messages", f"/{self.page_id}/messages"))
            )
        ]

    # --- serving ---------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        call = Call(request.method, request.path, dict(request.query), dict(request.headers), body)
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        response = await self._answer(request, call)
        call.status = response.status
        return response

    async def _answer(self, request: web.Request, call: Call) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts[:1] == ["cdn"] and len(parts) == 2:
            return self._serve_cdn(parts[1])
        if request.method == "GET" and parts[:2] == ["whatsapp_business", "attachments"]:
            return await self._serve_media_bytes(request)
        if len(parts) < 2 or parts[0] != self.version:
            return GraphFault(
                100, "Unknown path components: /" + "/".join(parts), error_type="OAuthException"
            ).response(whatsapp=False)
        whatsapp = parts[1] != "me" and parts[1] != self.page_id
        try:
            if request.method == "POST" and len(parts) == 3 and parts[2] == "messages":
                await self._scripted("messages")
                if whatsapp:
                    return self._whatsapp_send(request, parts[1], call.body)
                return self._messenger_send(request, call.body)
            if request.method == "GET" and len(parts) == 2:
                await self._scripted("media")
                return self._media_info(request, parts[1])
            raise GraphFault(
                100,
                f"Unsupported {request.method.lower()} request.",
                subcode=33,
                error_type="GraphMethodException",
            )
        except GraphFault as fault:
            return fault.response(whatsapp)

    async def _scripted(self, scope: str) -> None:
        for index, failure in enumerate(self._failures):
            if failure.scope == scope:
                del self._failures[index]
                if failure.delay:
                    await asyncio.sleep(failure.delay)
                if failure.fault is not None:
                    raise failure.fault
                return

    # --- auth ------------------------------------------------------------------------------

    @staticmethod
    def _token(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer ") :]
        return request.query.get("access_token")

    def _auth(self, request: web.Request, expected: str) -> None:
        token = self._token(request)
        if token is None:
            raise GraphFault(
                2500,
                "An active access token must be used to query information about the current user.",
                status=400,
            )
        if token != expected:
            raise GraphFault(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                status=401,
            )

    # --- WhatsApp --------------------------------------------------------------------------

    def _whatsapp_send(self, request: web.Request, number: str, body: Any) -> web.Response:
        self._auth(request, self.wa_token)
        if number != self.phone_number_id:
            raise GraphFault(
                100,
                f"Unsupported post request. Object with ID '{number}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                subcode=33,
                error_type="GraphMethodException",
            )
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise _param("The request body must be JSON")
        if not isinstance(body, dict):
            raise _param("Invalid parameter")
        if body.get("messaging_product") != "whatsapp":
            raise _param("The parameter messaging_product is required.")
        if body.get("recipient_type", "individual") != "individual":
            raise _invalid("recipient_type must be individual")
        to, recipient = body.get("to"), body.get("recipient")
        if to is None and recipient is None:
            raise _param("The parameter to is required.")
        if to is not None and not (isinstance(to, str) and _PHONE.match(to)):
            raise _invalid("to must be a phone number")
        if recipient is not None and not (isinstance(recipient, str) and _BSUID.match(recipient)):
            raise _invalid("recipient must be a business-scoped user id")
        user = (to or "").lstrip("+") or str(recipient)
        kind = body.get("type", "text")
        free_form = kind != "template"
        if kind == "text":
            _wa_text(body.get("text"))
        elif kind == "interactive":
            _wa_interactive(body.get("interactive"))
        elif kind == "image":
            _wa_image(body.get("image"))
        elif kind == "template":
            self._wa_template(body.get("template"))
        else:
            raise _invalid(f"the fake does not take messages of type {kind!r}")
        if free_form and self.enforce_window and user not in self._windows:
            raise GraphFault(
                131047,
                "(#131047) Re-engagement message",
                details="Message failed to send because more than 24 hours have passed since "
                "the customer last replied to this number.",
            )
        contact = {"input": to, "wa_id": user} if to else {"input": recipient, "user_id": user}
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": "wamid." + base64.b64encode(secrets.token_bytes(24)).decode()}],
            }
        )

    def _wa_template(self, template: Any) -> None:
        if not isinstance(template, dict):
            raise _missing("template is required")
        name = template.get("name")
        code = _get(template, "language", "code")
        known = self._templates.get(name) if isinstance(name, str) else None
        if known is None or code not in known.languages:
            raise GraphFault(
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template name ({name}) does not exist in {code}",
            )
        components = template.get("components") or []
        if not isinstance(components, list):
            raise _invalid("components must be a list")
        params = 0
        buttons: set[int] = set()
        for component in components:
            if not isinstance(component, dict):
                raise _invalid("component must be an object")
            kind = component.get("type")
            parameters = component.get("parameters")
            if not isinstance(parameters, list):
                raise _missing("component parameters are required")
            if kind == "body":
                for p in parameters:
                    text = p.get("text") if isinstance(p, dict) else None
                    if not isinstance(p, dict) or p.get("type") != "text" or not text:
                        raise _invalid("body parameters are {type: text, text}")
                    if _BAD_PARAM.search(text):
                        raise GraphFault(
                            132018,
                            "(#132018) There was an issue with the parameters in your template.",
                            details="Param text cannot have new-line/tab characters or more "
                            "than 4 consecutive spaces",
                        )
                params += len(parameters)
            elif kind == "button":
                index = component.get("index")
                if component.get("sub_type") != "quick_reply" or not (
                    isinstance(index, str) and index.isdigit()
                ):
                    raise _invalid("button components are quick_reply with a string index")
                if int(index) >= known.quick_replies or int(index) in buttons:
                    raise _invalid(f"button index {index} does not exist in the template")
                buttons.add(int(index))
                if not (
                    len(parameters) == 1
                    and isinstance(parameters[0], dict)
                    and parameters[0].get("type") == "payload"
                    and isinstance(parameters[0].get("payload"), str)
                    and 0 < len(parameters[0]["payload"]) <= 128
                ):
                    raise _invalid("a quick_reply button takes one payload parameter (≤ 128)")
            else:
                raise _invalid(f"the fake does not take {kind!r} components")
        if params != known.body_params:
            raise GraphFault(
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                details=f"body: number of localizable_params ({params}) does not match the "
                f"expected number of params ({known.body_params})",
            )

    def _media_info(self, request: web.Request, media_id: str) -> web.Response:
        self._auth(request, self.wa_token)
        media = self._media.get(media_id)
        owner = request.query.get("phone_number_id")
        if media is None or (owner is not None and owner != self.phone_number_id):
            raise GraphFault(
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                subcode=33,
                error_type="GraphMethodException",
            )
        url = (
            f"{self.media_url_base or self.base_url}/whatsapp_business/attachments/?mid={media_id}"
            f"&ext=1739321024&hash={secrets.token_urlsafe(12)}"
        )
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": media.file_size,
                "id": media_id,
            }
        )

    async def _serve_media_bytes(self, request: web.Request) -> web.Response:
        if self._token(request) != self.wa_token:
            return web.Response(status=401, text="Unauthorized")
        media = self._media.get(request.query.get("mid", ""))
        if media is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=media.data, content_type=media.mime_type)

    def _serve_cdn(self, name: str) -> web.Response:
        if name not in self._cdn:
            return web.Response(status=404, text="Not Found")
        data, mime = self._cdn[name]
        return web.Response(body=data, content_type=mime)

    # --- Messenger -------------------------------------------------------------------------

    def _messenger_send(self, request: web.Request, body: Any) -> web.Response:
        self._auth(request, self.page_token)
        if not isinstance(body, dict):
            raise _param("Invalid parameter")
        psid = _get(body, "recipient", "id")
        if not (isinstance(psid, str) and psid.isdigit()):
            raise _param('Param recipient[id] must be a valid ID string (e.g., "123")')
        message, action = body.get("message"), body.get("sender_action")
        if (message is None) == (action is None):
            raise _param("Must send either message or sender_action")
        if action is not None:
            if action not in {"typing_on", "typing_off", "mark_seen"}:
                raise _param(
                    "Param sender_action must be one of {typing_on, typing_off, mark_seen}"
                )
            return web.json_response({"recipient_id": psid})
        messaging_type = body.get("messaging_type")
        if messaging_type not in {"RESPONSE", "UPDATE", "MESSAGE_TAG"}:
            raise _param("Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        if messaging_type == "MESSAGE_TAG" and body.get("tag") not in MESSENGER_TAGS:
            raise _param("Param tag must be a valid message tag")
        _messenger_message(message)
        if self.enforce_window and messaging_type != "MESSAGE_TAG" and psid not in self._windows:
            raise GraphFault(
                10,
                "(#10) This message is sent outside of allowed window. Learn more about the "
                "new policy here: https://developers.facebook.com/docs/messenger-platform/"
                "policy-overview",
                subcode=2018278,
            )
        return web.json_response(
            {"recipient_id": psid, "message_id": "m_" + secrets.token_urlsafe(48)}
        )


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _text(value: Any, limit: int, what: str, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise _missing(f"{what} is required")
    if len(value) > limit:
        raise _invalid(f"{what} is {len(value)} characters; the limit is {limit}")


def _wa_text(text: Any) -> None:
    if not isinstance(text, dict):
        raise _missing("text is required")
    _text(text.get("body"), WA_TEXT_MAX, "text.body")
    if not isinstance(text.get("preview_url", False), bool):
        raise _invalid("text.preview_url must be a boolean")


def _wa_image(image: Any) -> None:
    if not isinstance(image, dict) or ("link" in image) == ("id" in image):
        raise _invalid("image needs exactly one of link and id")
    if "link" in image and not (isinstance(image["link"], str) and _URL.match(image["link"])):
        raise _invalid("image.link must be an http(s) URL")
    _text(image.get("caption"), 1024, "image.caption", required=False)


def _wa_interactive(interactive: Any) -> None:
    if not isinstance(interactive, dict):
        raise _missing("interactive is required")
    kind = interactive.get("type")
    body_max = {"button": 1024, "list": 4096, "location_request_message": 1024}.get(str(kind))
    if body_max is None:
        raise _invalid(f"the fake does not take interactive type {kind!r}")
    _text(_get(interactive, "body", "text"), body_max, "interactive.body.text")
    _text(_get(interactive, "footer", "text"), 60, "interactive.footer.text", required=False)
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise _missing("interactive.action is required")
    if kind == "location_request_message":
        if action.get("name") != "send_location":
            raise _invalid("action.name must be send_location")
    elif kind == "button":
        _wa_buttons(action.get("buttons"))
    else:
        _wa_list(action)


def _wa_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise _invalid("interactive buttons: 1 to 3 buttons")
    ids: list[str] = []
    titles: list[str] = []
    for button in buttons:
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise _invalid("buttons are {type: reply, reply: {id, title}}")
        reply = button.get("reply")
        button_id, title = _get(reply, "id"), _get(reply, "title")
        _text(button_id, 256, "button id")
        if button_id != button_id.strip():
            raise _invalid("button id cannot have leading or trailing spaces")
        _text(title, 20, "button title")
        ids.append(button_id)
        titles.append(title)
    if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
        raise _invalid("button ids and titles must be unique")


def _wa_list(action: dict[str, Any]) -> None:
    _text(action.get("button"), 20, "action.button")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise _invalid("list: 1 to 10 sections")
    ids: list[str] = []
    for section in sections:
        if not isinstance(section, dict):
            raise _invalid("section must be an object")
        _text(section.get("title"), 24, "section title", required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _missing("section rows are required")
        for row in rows:
            _text(_get(row, "id"), 200, "row id")
            _text(_get(row, "title"), 24, "row title")
            _text(_get(row, "description"), 72, "row description", required=False)
            ids.append(row["id"])
    if len(ids) > 10:
        raise _invalid(f"list: {len(ids)} rows; the limit is 10")
    if len(set(ids)) != len(ids):
        raise _invalid("row ids must be unique")


def _messenger_message(message: Any) -> None:
    if not isinstance(message, dict):
        raise _param("param message must be an object")
    text, attachment = message.get("text"), message.get("attachment")
    if (text is None) == (attachment is None):
        raise _param("Must send either message[text] or message[attachment]")
    if text is not None:
        if not isinstance(text, str) or not text:
            raise _param("param message[text] must be a non-empty UTF-8 encoded string")
        if len(text) > MESSENGER_TEXT_MAX:
            raise _param("Length of param message[text] must be less than or equal to 2000")
    else:
        kind = _get(attachment, "type")
        if kind not in {"image", "audio", "video", "file", "template"}:
            raise _param(
                "param message[attachment][type] must be one of {image, audio, "
                "video, file, template}"
            )
        url = _get(attachment, "payload", "url")
        if kind != "template" and not (
            (isinstance(url, str) and _URL.match(url))
            or _get(attachment, "payload", "attachment_id")
        ):
            raise _param("param message[attachment][payload][url] must be a valid URL")
    quick_replies = message.get("quick_replies")
    if quick_replies is None:
        return
    if not isinstance(quick_replies, list) or not 1 <= len(quick_replies) <= 13:
        raise _param("param message[quick_replies] must have between 1 and 13 elements")
    for reply in quick_replies:
        kind = _get(reply, "content_type")
        if kind not in {"text", "user_phone_number", "user_email"}:
            raise _param("param message[quick_replies][content_type] is not valid")
        if kind != "text":
            continue
        title, payload = _get(reply, "title"), _get(reply, "payload")
        if not isinstance(title, str) or not title:
            raise _param("param message[quick_replies][title] is required")
        if len(title) > 20:
            raise _param("param message[quick_replies][title] must be at most 20 characters")
        if not isinstance(payload, str | int) or not str(payload):
            if not _get(reply, "image_url"):
                raise _param("param message[quick_replies][payload] is required")
        elif len(str(payload)) > 1000:
            raise _param("param message[quick_replies][payload] must be at most 1000 characters")
