"""A fake Telegram Bot API server (an aiohttp app on 127.0.0.1) that checks requests the way
the real one does and answers in its format, plus the Telegram side of a chat: it builds
updates in the real format and delivers them to a webhook with the secret-token header.

Methods: ``getMe``, ``sendMessage``, ``sendPhoto``, ``answerCallbackQuery``, ``getFile``,
``setWebhook``, ``deleteWebhook`` at ``/bot<token>/<method>`` (GET or POST; query string,
``application/json``, ``application/x-www-form-urlencoded`` or ``multipart/form-data``, where
object parameters such as ``reply_markup`` are JSON strings — what python-telegram-bot sends);
files at ``/file/bot<token>/<file_path>``. A wrong token → 401, an unknown method → 404,
invalid parameters → 400 with Telegram's descriptions, a blocked user → 403. Failures can be
queued per method (``fail_next``), answers delayed (``delay_next``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.services import free_port

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ROW = 8
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD = 20 * 1024 * 1024
JSON_PARAMS = frozenset(
    {"reply_markup", "reply_parameters", "link_preview_options", "entities", "allowed_updates"}
)
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
INLINE_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "web_app",
        "pay",
        "copy_text",
        "callback_game",
    }
)
PARSE_MODES = frozenset({"MarkdownV2", "HTML", "Markdown"})
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code", "description", "parameters"?}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    raw: str | None = None  # a non-JSON body (a proxy's HTML error page)


@dataclass
class Call:
    """One accepted Bot API call, parameters decoded as Telegram reads them."""

    method: str
    params: dict[str, Any]
    content_type: str


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class StoredFile:
    data: bytes
    path: str
    unique_id: str
    hide_size: bool = False  # getFile without file_size (Telegram omits it when unknown)


@dataclass
class FakeTelegram:
    token: str = "123456789:AAFakeTokenForTawasulTests_0123456789"
    bot_id: int = 123456789
    bot_username: str = "tawasul_test_bot"
    users: dict[int, User] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    files: dict[str, StoredFile] = field(default_factory=dict)
    unreachable_urls: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    rejected: list[tuple[str, ApiError]] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)  # callback query id → answers
    sent: list[dict[str, Any]] = field(default_factory=list)  # Message results
    webhook: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))
    delays: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    downloads: list[str] = field(default_factory=list)
    lost_paths: set[str] = field(default_factory=set)  # getFile paths the file server 404s
    root: str = ""
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700000001))

    # --- server -------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.root = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What ``TAWASUL_TELEGRAM_BASE_URL`` / PTB's ``base_url`` should be."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root}/file/bot"

    def env(self, secret: str, **extra: str) -> dict[str, str]:
        """The adapter's environment pointing at this fake."""
        return {
            "TAWASUL_TELEGRAM_BOT_TOKEN": self.token,
            "TAWASUL_TELEGRAM_SECRET_TOKEN": secret,
            "TAWASUL_TELEGRAM_BASE_URL": self.base_url,
            "TAWASUL_TELEGRAM_BASE_FILE_URL": self.base_file_url,
            **extra,
        }

    # --- test controls ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        raw: str | None = None,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self.failures[method].append(Failure(status, description, retry_after, raw))

    def delay_next(self, method: str, seconds: float) -> None:
        self.delays[method].append(seconds)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_file(self, data: bytes, path: str, *, hide_size: bool = False) -> str:
        """Store a file the citizen sent; returns its file_id."""
        n = next(self._ids)
        file_id = f"AgACAgQAAxkBAAIB{n:04d}Zm9vYmFy"
        self.files[file_id] = StoredFile(data, path, f"AQAD{n:04d}", hide_size)
        return file_id

    # --- the Telegram side of a chat: updates in the real format ------------------------

    def _message(self, user: User, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "from": user.to_dict(),
            "chat": user.private_chat(),
            "date": int(time.time()),
            **content,
        }

    def update(self, **body: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **body}

    def text_update(self, user: User, text: str) -> dict[str, Any]:
        return self.update(message=self._message(user, text=text))

    def location_update(self, user: User, lat: float, long: float) -> dict[str, Any]:
        location = {"latitude": lat, "longitude": long}
        return self.update(message=self._message(user, location=location))

    def photo_update(self, user: User, data: bytes, caption: str | None = None) -> dict[str, Any]:
        """A photo as Telegram delivers it: several sizes; the largest holds ``data``."""
        sizes = []
        for width, height, scale in ((90, 67, 30), (320, 240, 4), (1280, 960, 1)):
            size = len(data) // scale
            file_id = self.add_file(data if scale == 1 else data[:size], f"photos/file_{width}.jpg")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": self.files[file_id].unique_id,
                    "file_size": size,
                    "width": width,
                    "height": height,
                }
            )
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.update(message=self._message(user, **content))

    def tap(self, user: User, message: dict[str, Any], title: str) -> dict[str, Any]:
        """The callback query of tapping the inline button ``title`` under ``message`` (a
        message this fake returned from sendMessage)."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        button = next(b for row in rows for b in row if b["text"] == title)
        query_id = str(4000000000000000000 + next(self._ids))
        self.queries[query_id] = 0
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": message,
            "chat_instance": "-5316962446962925912",
            "data": button["callback_data"],
        }
        return self.update(callback_query=query)

    async def post_update(
        self,
        session: aiohttp.ClientSession,
        url: str,
        update: dict[str, Any],
        secret: str | None,
    ) -> tuple[int, Any]:
        """Deliver an update as Telegram does: POST, ``application/json``, the secret header."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with session.post(url, data=json.dumps(update), headers=headers) as response:
            return response.status, await response.json(content_type=None)

    # --- HTTP handlers ------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        method = request.match_info["method"]
        handler = self._methods().get(method.lower())
        if handler is None:
            return ApiError(404, "Not Found").response()
        delays = self.delays[method]
        if delays:
            await asyncio.sleep(delays.popleft())
        failures = self.failures[method]
        if failures:
            failure = failures.popleft()
            if failure.raw is not None:
                return web.Response(
                    status=failure.status, text=failure.raw, content_type="text/html"
                )
            return ApiError(failure.status, failure.description, failure.retry_after).response()
        try:
            params = await self._params(request)
            result = handler(params)
        except ApiError as error:
            self.rejected.append((method, error))
            return error.response()
        self.calls.append(Call(method, params, request.content_type))
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None or path in self.lost_paths:
            return ApiError(404, "Not Found").response()
        self.downloads.append(path)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise bad("can't parse JSON object")
                params.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                raise bad(f"unsupported Content-Type {request.content_type!r}")
        for key in JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise bad(f"can't parse {key} JSON object") from None
        return params

    def _methods(self) -> dict[str, Any]:
        return {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
        }

    # --- methods ------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Tawasul 940",
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user()

    def _chat(self, params: dict[str, Any]) -> User:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad("chat not found") from None
        user = self.users.get(chat_id)
        if user is None:
            raise bad("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _check_parse_mode(self, params: dict[str, Any]) -> None:
        mode = params.get("parse_mode")
        if mode not in (None, "") and mode not in PARSE_MODES:
            raise bad(f"unsupported parse_mode {mode!r}")

    def _sent(self, user: User, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": self._bot_user(),
            "chat": user.private_chat(),
            "date": int(time.time()),
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        self.sent.append(message)
        return message

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad("message is too long")
        self._check_parse_mode(params)
        check_reply_markup(params.get("reply_markup"))
        return self._sent(user, params, text=text)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo:
            raise bad("there is no photo in the request")
        if photo.startswith(("http://", "https://")):
            if photo in self.unreachable_urls:
                raise bad("failed to get HTTP URL content")
        elif photo not in self.files:
            raise bad("wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > MAX_CAPTION:
            raise bad("message caption is too long")
        self._check_parse_mode(params)
        check_reply_markup(params.get("reply_markup"))
        n = next(self._ids)
        sizes = [
            {
                "file_id": f"AgACAgQAAxkDAAIC{n:04d}{w}",
                "file_unique_id": f"AQADsent{n}{w}",
                "file_size": w * 40,
                "width": w,
                "height": w * 3 // 4,
            }
            for w in (90, 320, 800)
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._sent(user, params, **content)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise bad("callback_query_id is empty")
        answers = self.queries.get(str(query_id))
        if answers is None or answers > 0:  # unknown, or answered already
            raise bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self.queries[str(query_id)] = answers + 1
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not file_id:
            raise bad("file_id is empty")
        stored = self.files.get(str(file_id))
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise bad("file is too big")
        result: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": stored.unique_id,
            "file_path": stored.path,
        }
        if not stored.hide_size:
            result["file_size"] = len(stored.data)
        return result

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if url is None:
            raise bad("url is empty")  # "" removes the webhook, a missing url is an error
        if url and not str(url).startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(str(secret)):
            raise bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and (
            not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed)
        ):
            raise bad("can't parse allowed updates")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_reply_markup(markup: Any) -> None:
    """Raise the 400 Telegram gives for a reply_markup it refuses."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    kinds = [
        k for k in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply") if k in markup
    ]
    if len(kinds) != 1:
        raise bad("can't parse reply keyboard markup JSON object")
    if kinds[0] == "inline_keyboard":
        _check_inline(markup["inline_keyboard"])
    elif kinds[0] == "keyboard":
        _check_keyboard(markup["keyboard"])
    elif markup[kinds[0]] is not True:
        raise bad("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, what: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad(f'field "{what}" of the ReplyMarkup must be an Array of Arrays')
    if any(len(r) > MAX_ROW for r in rows):
        raise bad("too many buttons in a row")
    return rows


def _check_inline(rows: Any) -> None:
    rows = _rows(rows, "inline_keyboard")
    buttons = [b for row in rows for b in row]
    if len(buttons) > MAX_INLINE_BUTTONS:
        raise bad("reply markup is too long")
    actions = INLINE_ACTIONS
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad("can't parse inline keyboard button: Text must be a String")
        if not button["text"].strip():
            raise bad("BUTTON_TEXT_EMPTY")  # the real description for a blank label
        present = actions & button.keys()
        if len(present) != 1:
            raise bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        data = button.get("callback_data")
        if "callback_data" in button and (
            not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
        ):
            raise bad("BUTTON_DATA_INVALID")


def _check_keyboard(rows: Any) -> None:
    rows = _rows(rows, "keyboard")
    if not rows or not any(rows):
        raise bad("keyboard must be non-empty")
    for button in (b for row in rows for b in row):
        if isinstance(button, str):
            continue
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad("can't parse keyboard button: Text must be a String")
        for flag in ("request_location", "request_contact"):
            if flag in button and not isinstance(button[flag], bool):
                raise bad(f'can\'t parse keyboard button: Field "{flag}" must be of type Boolean')
