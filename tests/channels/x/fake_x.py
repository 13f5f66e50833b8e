"""A fake X API (api.twitter.com, ton.twitter.com, pbs.twimg.com) on 127.0.0.1 for tests.

It checks requests the way X does and answers in X's formats:

- OAuth 1.0a user context: the ``Authorization: OAuth …`` header is parsed and its
  HMAC-SHA1 signature recomputed over the *real* host's URL (tweepy signs for
  api.twitter.com, downloads sign for ton.twitter.com), with the consumer key, token,
  timestamp window and nonce reuse checked; app-only ``Bearer`` where X allows it (mention
  reads) and refused where it does not (posting, DMs).
- ``POST /2/tweets``: body keys, text ≤ 280 weighted characters (its own counter), the
  reply target known and its author having summoned us (the 2026 reply rule), the DM deep
  link's form.
- ``POST /2/dm_conversations/with/:id/messages``: body keys, 1–10,000 characters, not to
  ourselves, recipients that blocked DMs refused.
- ``POST /1.1/direct_messages/events/new.json``: the v1.1 event shape, quick replies
  (1–20 options, labels 1–36 characters without URLs, metadata ≤ 1,000).
- ``GET /2/users/:id/mentions``: our id only; ``max_results`` 5–100, ``since_id``,
  ``pagination_token``; answers carry only the fields and expansions asked for; at most
  ``page_limit`` tweets per page (X may return fewer than asked).
- Media: ``/1.1/ton/…`` (DM media, OAuth-signed) and ``/media/…`` (public).

Every answer carries ``x-rate-limit-*`` headers. ``fail(route, status, …)`` queues an
error answer (429 with ``x-rate-limit-reset``, 5xx, 403 …) for the next call of a route.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature, utils  # type: ignore[import-untyped]

API = "https://api.twitter.com"
TON = "https://ton.twitter.com"
TIMESTAMP_WINDOW = 300
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
DEFAULT_MEDIA_FIELDS = ("media_key", "type")
DEEP_LINK = re.compile(r"^https://(twitter|x)\.com/messages/compose\?recipient_id=\d+$")
TWEET_KEYS = {
    "text", "reply", "direct_message_deep_link", "media", "quote_tweet_id", "poll",
    "reply_settings", "for_super_followers_only", "place_id",
}  # fmt: skip


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    """X API v2's error body (RFC 7807 problem)."""
    return {"title": title, "detail": detail, "type": kind, "status": status}


def invalid_request(message: str, parameter: str) -> dict[str, Any]:
    return {
        "errors": [{"parameters": {parameter: []}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def weighted_length(text: str) -> int:
    """twitter-text 3's weighted length, written apart from the adapter's on purpose."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"https?://\S+", "x" * 23, text)
    light = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
    return sum(1 if any(a <= ord(c) <= b for a, b in light) else 2 for c in text)


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class Call:
    """One request the fake accepted or refused."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    auth: str  # "oauth1", "bearer" or "none"
    status: int = 0
    at: float = field(default_factory=time.time)


@dataclass
class Failure:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    skip: int = 0  # calls answered normally before this failure


class FakeX:
    """State and handlers of the fake; ``app()`` is the aiohttp application."""

    def __init__(
        self,
        *,
        user_id: str,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        bearer_token: str,
    ) -> None:
        self.url = ""  # set once served
        self.user_id = user_id
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.bearer_token = bearer_token
        self.calls: list[Call] = []
        self.tweets: dict[str, dict[str, Any]] = {}  # every post X knows (v2 shape)
        self.summoned: set[str] = set()  # posts whose author summoned us
        self.timeline: list[dict[str, Any]] = []  # our mentions, v2 shape
        self.users: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # path → (bytes, content type)
        self.dm_closed: set[str] = set()  # accounts that do not take our DMs
        self.page_limit = 100
        self.failures: dict[str, deque[Failure]] = {}
        self.nonces: set[str] = set()
        self._ids = itertools.count(1853100000000000001)

    # --- test controls -----------------------------------------------------------------

    def fail(
        self,
        route: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        skip: int = 0,
    ) -> None:
        """Queue an error answer for the next call of ``route`` ("tweets", "dm", "dm_v1",
        "mentions", "media"), or for the one after ``skip`` normal answers."""
        if body is None:
            body = problem(status, web.Response(status=status).reason or "Error", "injected")
        self.failures.setdefault(route, deque()).append(
            Failure(status, body, headers or {}, content_type, skip)
        )

    def rate_limit(self, route: str, reset_in: float = 1.0) -> int:
        """Queue X's 429 answer for ``route``; returns the ``x-rate-limit-reset`` sent."""
        reset = int(time.time() + reset_in) + 1
        self.fail(
            route,
            429,
            problem(429, "Too Many Requests", "Too Many Requests"),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        )
        return reset

    def add_post(self, tweet: dict[str, Any], *, summoned: bool = True) -> None:
        self.tweets[str(tweet["id"])] = tweet
        if summoned:
            self.summoned.add(str(tweet["id"]))

    def add_mentions_page(self, page: dict[str, Any]) -> None:
        """Load a recorded mentions page: its tweets join the timeline, its includes the
        fake's users and media."""
        for tweet in page.get("data", []):
            self.add_post(tweet)
            self.timeline.append(tweet)
        self.timeline.sort(key=lambda t: int(t["id"]), reverse=True)
        for user in page.get("includes", {}).get("users", []):
            self.users[user["id"]] = user
        for media in page.get("includes", {}).get("media", []):
            self.media[media["media_key"]] = media

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def posted(self) -> list[Call]:
        """Accepted calls that post a reply or a DM."""
        return [c for c in self.calls if c.method == "POST" and 200 <= c.status < 300]

    # --- application -------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/2/tweets", self._create_tweet)
        app.router.add_post("/2/dm_conversations/with/{participant_id}/messages", self._create_dm)
        app.router.add_post("/1.1/direct_messages/events/new.json", self._create_dm_v1)
        app.router.add_get("/2/users/{id}/mentions", self._mentions)
        app.router.add_get("/1.1/ton/{tail:.+}", self._ton)
        app.router.add_get("/media/{name}", self._public_media)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            body: Any = await request.json() if request.can_read_body else None
        except ValueError:
            body = "<not json>"
        call = Call(request.method, request.path, dict(request.query), body, _auth_kind(request))
        self.calls.append(call)
        route = _route_name(request)
        try:
            queued = self.failures.get(route)
            response: web.StreamResponse
            if queued and queued[0].skip > 0:
                queued[0].skip -= 1
                response = await handler(request)
            elif queued:
                failure = queued.popleft()
                response = web.Response(
                    status=failure.status,
                    text=failure.body
                    if isinstance(failure.body, str)
                    else json.dumps(failure.body),
                    content_type=failure.content_type,
                    headers=failure.headers,
                )
            else:
                response = await handler(request)
        except Refused as refused:
            response = web.json_response(refused.body, status=refused.status)
        call.status = response.status
        if "x-rate-limit-reset" not in response.headers:
            response.headers["x-rate-limit-limit"] = "300"
            response.headers["x-rate-limit-remaining"] = "299"
            response.headers["x-rate-limit-reset"] = str(int(time.time()) + 900)
        return response

    # --- authentication ----------------------------------------------------------------

    def _check_oauth1(self, request: web.Request, host: str, v1: bool = False) -> None:
        def refuse(detail: str) -> Refused:
            if v1:
                return Refused(
                    401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]}
                )
            return Refused(401, problem(401, "Unauthorized", f"Unauthorized: {detail}"))

        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            if header.startswith("Bearer ") and not v1:
                raise Refused(
                    403,
                    problem(
                        403,
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                        "endpoint.  Supported authentication types are [OAuth 1.0a User "
                        "Context, OAuth 2.0 User Context].",
                        "https://api.twitter.com/2/problems/unsupported-authentication",
                    ),
                )
            raise refuse("no OAuth 1.0a header")
        try:
            params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        except ValueError as exc:
            raise refuse("malformed OAuth header") from exc
        required = {
            "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
            "oauth_nonce", "oauth_version", "oauth_signature",
        }  # fmt: skip
        if not required <= params.keys():
            raise refuse(f"missing {sorted(required - params.keys())}")
        if params["oauth_consumer_key"] != self.consumer_key:
            raise refuse("unknown consumer key")
        if params["oauth_token"] != self.access_token:
            raise refuse("unknown token")
        if params["oauth_signature_method"] != "HMAC-SHA1" or params["oauth_version"] != "1.0":
            raise refuse("unsupported signature method or version")
        if abs(int(params["oauth_timestamp"]) - time.time()) > TIMESTAMP_WINDOW:
            raise refuse("timestamp out of window")
        if params["oauth_nonce"] in self.nonces:
            raise refuse("nonce reused")
        collected = signature.collect_parameters(
            uri_query=request.rel_url.raw_query_string,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        base = signature.signature_base_string(
            request.method,
            signature.base_string_uri(host + request.rel_url.raw_path),
            signature.normalize_parameters(collected),
        )
        key = f"{utils.escape(self.consumer_secret)}&{utils.escape(self.access_token_secret)}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise refuse("bad signature")
        self.nonces.add(params["oauth_nonce"])

    def _check_read_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            if header != f"Bearer {self.bearer_token}":
                raise Refused(401, problem(401, "Unauthorized", "Unauthorized"))
            return
        self._check_oauth1(request, API)

    # --- posting -----------------------------------------------------------------------

    def _next_id(self) -> str:
        return str(next(self._ids))

    async def _create_tweet(self, request: web.Request) -> web.Response:
        self._check_oauth1(request, API)
        body = _json_object(request, await request.read())
        unknown = set(body) - TWEET_KEYS
        if unknown:
            raise Refused(400, invalid_request(f"unknown fields {sorted(unknown)}", "body"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused(400, invalid_request("text must be a non-empty string", "text"))
        if weighted_length(text) > 280:
            raise Refused(403, problem(403, "Forbidden", "Your Tweet text is too long."))
        link = body.get("direct_message_deep_link")
        if link is not None and (not isinstance(link, str) or not DEEP_LINK.match(link)):
            raise Refused(
                400, invalid_request("bad direct_message_deep_link", "direct_message_deep_link")
            )
        reply = body.get("reply")
        if reply is not None:
            parent = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            if not isinstance(parent, str) or not parent.isdigit():
                raise Refused(
                    400, invalid_request("in_reply_to_tweet_id must be an id string", "reply")
                )
            if parent not in self.tweets:
                raise Refused(
                    403,
                    problem(
                        403,
                        "Forbidden",
                        "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    ),
                )
            if parent not in self.summoned:
                raise Refused(
                    403,
                    problem(
                        403,
                        "Forbidden",
                        "Reply to this conversation is not allowed because you have not been "
                        "mentioned or otherwise engaged by the author of the post you are "
                        "replying to.",
                    ),
                )
        tweet_id = self._next_id()
        self.tweets[tweet_id] = {"id": tweet_id, "text": text, "author_id": self.user_id}
        return web.json_response(
            {"data": {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text}},
            status=201,
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        self._check_oauth1(request, API)
        participant = request.match_info["participant_id"]
        body = _json_object(request, await request.read())
        if set(body) - {"text", "attachments"}:
            raise Refused(400, invalid_request("unknown fields", "body"))
        text = body.get("text")
        if text is None and not body.get("attachments"):
            raise Refused(400, invalid_request("text or attachments is required", "text"))
        if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= 10_000):
            raise Refused(400, invalid_request("text must have 1 to 10000 characters", "text"))
        if not participant.isdigit() or participant == self.user_id:
            raise Refused(400, invalid_request("invalid participant_id", "participant_id"))
        if participant in self.dm_closed:
            raise Refused(
                403,
                problem(403, "Forbidden", "You are not permitted to send messages to this user."),
            )
        low, high = sorted((participant, self.user_id), key=int)
        return web.json_response(
            {"data": {"dm_conversation_id": f"{low}-{high}", "dm_event_id": self._next_id()}},
            status=201,
        )

    async def _create_dm_v1(self, request: web.Request) -> web.Response:
        self._check_oauth1(request, API, v1=True)

        def bad(message: str, code: int = 214) -> Refused:
            return Refused(400, {"errors": [{"code": code, "message": message}]})

        body = _json_object(request, await request.read(), v1=True)
        event = body.get("event")
        if not isinstance(event, dict) or event.get("type") != "message_create":
            raise bad("event.type must be message_create.")
        create = event.get("message_create") or {}
        recipient = (create.get("target") or {}).get("recipient_id")
        if not isinstance(recipient, str) or not recipient.isdigit():
            raise bad("event.message_create.target.recipient_id: invalid value.")
        if recipient in self.dm_closed:
            raise Refused(
                403,
                {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]},
            )
        data = create.get("message_data") or {}
        text = data.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 10_000:
            raise bad("event.message_create.message_data.text: must have 1 to 10000 characters.")
        quick = data.get("quick_reply")
        if quick is not None:
            options = quick.get("options") if isinstance(quick, dict) else None
            if quick.get("type") != "options" or not isinstance(options, list):
                raise bad("quick_reply.type must be options.")
            if not 1 <= len(options) <= 20:
                raise bad("quick_reply.options: between 1 and 20 options.")
            described = {"description" in o for o in options if isinstance(o, dict)}
            if len(described) > 1:
                raise bad("quick_reply.options: all or no options need a description.")
            for option in options:
                label = option.get("label") if isinstance(option, dict) else None
                if not isinstance(label, str) or not 1 <= len(label) <= 36:
                    raise bad("quick_reply.options.label: 1 to 36 characters.")
                if re.search(r"https?://", label):
                    raise bad("quick_reply.options.label: URLs are not allowed.")
                metadata = option.get("metadata", "")
                if not isinstance(metadata, str) or len(metadata) > 1000:
                    raise bad("quick_reply.options.metadata: at most 1000 characters.")
        event_id = self._next_id()
        return web.json_response(
            {
                "event": {
                    "type": "message_create",
                    "id": event_id,
                    "created_timestamp": str(int(time.time() * 1000)),
                    "message_create": {
                        "target": {"recipient_id": recipient},
                        "sender_id": self.user_id,
                        "message_data": data,
                    },
                }
            }
        )

    # --- reading -----------------------------------------------------------------------

    async def _mentions(self, request: web.Request) -> web.Response:
        self._check_read_auth(request)
        if request.match_info["id"] != self.user_id:
            raise Refused(
                403,
                problem(403, "Forbidden", "You can only read your own mention timeline here."),
            )
        query = request.query
        try:
            max_results = int(query.get("max_results", "10"))
        except ValueError as exc:
            raise Refused(
                400, invalid_request("max_results is not a number", "max_results")
            ) from exc
        if not 5 <= max_results <= 100:
            raise Refused(
                400,
                invalid_request(
                    f"The `max_results` query parameter value [{max_results}] is not "
                    "between 5 and 100",
                    "max_results",
                ),
            )
        since = query.get("since_id")
        if since is not None and not since.isdigit():
            raise Refused(400, invalid_request("since_id must be a tweet id", "since_id"))
        tweets = [t for t in self.timeline if since is None or int(t["id"]) > int(since)]
        offset = 0
        if "pagination_token" in query:
            token = query["pagination_token"]
            if not token.startswith("fake-next-") or not token[10:].isdigit():
                raise Refused(400, invalid_request("invalid pagination_token", "pagination_token"))
            offset = int(token[10:])
        size = min(max_results, self.page_limit)
        page = tweets[offset : offset + size]
        if not page:
            return web.json_response({"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if offset + size < len(tweets):
            meta["next_token"] = f"fake-next-{offset + size}"
        return web.json_response({**self._shape(page, query), "meta": meta})

    def _shape(self, page: list[dict[str, Any]], query: Any) -> dict[str, Any]:
        """Only the fields and expansions the request asked for, as X does."""

        def asked(name: str) -> set[str]:
            return {v for v in query.get(name, "").split(",") if v}

        expansions = asked("expansions")
        tweet_fields = set(DEFAULT_TWEET_FIELDS) | asked("tweet.fields")
        if "author_id" in expansions:
            tweet_fields.add("author_id")
        if "attachments.media_keys" in expansions:
            tweet_fields.add("attachments")
        data = [{k: v for k, v in t.items() if k in tweet_fields} for t in page]
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            user_fields = set(DEFAULT_USER_FIELDS) | asked("user.fields")
            authors = dict.fromkeys(t["author_id"] for t in page)
            includes["users"] = [
                {k: v for k, v in self.users[a].items() if k in user_fields}
                for a in authors
                if a in self.users
            ]
        if "attachments.media_keys" in expansions:
            media_fields = set(DEFAULT_MEDIA_FIELDS) | asked("media.fields")
            keys = [k for t in page for k in t.get("attachments", {}).get("media_keys", [])]
            found = [
                {k: v for k, v in self.media[key].items() if k in media_fields}
                for key in keys
                if key in self.media
            ]
            if found:
                includes["media"] = found
        return {"data": data, "includes": includes} if includes else {"data": data}

    async def _ton(self, request: web.Request) -> web.Response:
        self._check_oauth1(request, TON, v1=True)
        return self._file(request.path)

    async def _public_media(self, request: web.Request) -> web.Response:
        return self._file(request.path)

    def _file(self, path: str) -> web.Response:
        if path not in self.files:
            return web.Response(status=404, text="Not Found")
        data, content_type = self.files[path]
        return web.Response(body=data, content_type=content_type)


def _auth_kind(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("OAuth "):
        return "oauth1"
    if header.startswith("Bearer "):
        return "bearer"
    return "none"


def _route_name(request: web.Request) -> str:
    path = request.path
    if path == "/2/tweets":
        return "tweets"
    if path.startswith("/2/dm_conversations/"):
        return "dm"
    if path.startswith("/1.1/direct_messages/"):
        return "dm_v1"
    if path.endswith("/mentions"):
        return "mentions"
    return "media"


def _json_object(request: web.Request, raw: bytes, v1: bool = False) -> dict[str, Any]:
    if request.content_type != "application/json":
        if v1:
            raise Refused(
                415,
                {"errors": [{"code": 214, "message": "Content-Type must be application/json."}]},
            )
        raise Refused(
            415, problem(415, "Unsupported Media Type", "Content-Type must be application/json")
        )
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Refused(400, invalid_request("body is not valid JSON", "body")) from exc
    if not isinstance(body, dict):
        raise Refused(400, invalid_request("body must be an object", "body"))
    return body
