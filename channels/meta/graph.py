"""The Graph API's HTTP calls for both Meta channels, over the hub's one client session.

Sending maps failures to :mod:`bot.errors` (``errors.send_error``; connection errors and
timeouts → :class:`TransientSendError`). Fetching media maps every failure to
:class:`MediaError`, reads at most ``max_bytes`` and sends the access token only to Meta's
own hosts (or the configured Graph host, which tests point at a fake).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.errors import MediaError, TransientSendError
from channels.download import read_capped
from channels.meta.config import GraphConfig
from channels.meta.errors import parse_error, send_error

__all__ = ["GraphClient", "trusted_media_url"]

#: Hosts Meta serves media from (``lookaside.fbsbx.com``, ``scontent*.fbcdn.net`` ...).
META_MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net", "facebook.com", "whatsapp.net")


def trusted_media_url(url: str, config: GraphConfig) -> bool:
    """True for an https URL on a Meta media host, or any URL on the configured Graph host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return False
    graph = urlsplit(config.base_url)
    if parts.scheme == graph.scheme and host == (graph.hostname or "").lower():
        return parts.port == graph.port
    return parts.scheme == "https" and any(
        host == domain or host.endswith("." + domain) for domain in META_MEDIA_DOMAINS
    )


class GraphClient:
    """Calls with one access token (a WhatsApp system-user token or a Page token)."""

    def __init__(self, session: aiohttp.ClientSession, config: GraphConfig, token: str) -> None:
        self._session = session
        self._config = config
        self._auth = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=config.timeout)

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``<base>/<version>/<path>``; the JSON answer, or a ``SendError``."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {**self._auth, "Content-Type": "application/json"}
        try:
            async with self._session.post(
                self._config.url(path), data=data, headers=headers, timeout=self._timeout
            ) as resp:
                raw = await resp.read()
                if resp.status >= 300:
                    raise send_error(resp.status, raw, resp.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(f"graph POST {path}: {type(exc).__name__} {exc}") from exc
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TransientSendError(f"graph POST {path}: 2xx without a JSON object")
        return answer

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph object (media metadata); :class:`MediaError` on any failure."""
        try:
            async with self._session.get(
                self._config.url(path), params=params, headers=self._auth, timeout=self._timeout
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"graph GET {path}: {type(exc).__name__} {exc}") from exc
        if status >= 300:
            raise MediaError(parse_error(status, raw).describe())
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise MediaError(f"graph GET {path}: not a JSON object")
        return answer

    async def fetch(self, url: str, max_bytes: int, *, authorized: bool) -> tuple[bytes, str]:
        """The bytes and Content-Type at ``url``; at most ``max_bytes`` are read (more →
        :class:`MediaError`). ``authorized`` sends the token (WhatsApp media)."""
        if not trusted_media_url(url, self._config):
            raise MediaError("media URL is not on a Meta host")
        headers = self._auth if authorized else {}
        try:
            async with self._session.get(url, headers=headers, timeout=self._timeout) as resp:
                if resp.status >= 300:
                    raw = await resp.content.read(4096)
                    raise MediaError(f"media download: {parse_error(resp.status, raw).describe()}")
                data = await read_capped(resp, max_bytes)
                mime = resp.headers.get("Content-Type", "application/octet-stream")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"media download: {type(exc).__name__} {exc}") from exc
        return data, mime.split(";", 1)[0].strip().lower()
