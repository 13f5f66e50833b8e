"""tweepy's AsyncClient on the hub's one aiohttp session, at a configurable host.

tweepy hard-codes ``https://api.twitter.com`` (protocols.md §3.5), signs OAuth 1.0a over that
URL and then calls ``session.request(method, url, params=, json=, headers=)`` as an async
context manager. :class:`RebasedSession` is that session: it swaps the host for the
configured base URL (a fake in tests; the real host by default, so nothing changes) and
adds the request timeout. tweepy never closes a session it was given; the hub closes its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from tweepy.asynchronous import AsyncClient  # type: ignore[import-untyped]
from yarl import URL

from channels.x.config import XConfig

TWEEPY_HOST = "https://api.twitter.com"
#: tweepy logs every request's headers at DEBUG — the app bearer token in clear among them.
TWEEPY_LOGGER = "tweepy.asynchronous.client"


class RebasedSession:
    """What tweepy needs of a session, forwarding to ``get_session()`` at ``base_url``."""

    def __init__(
        self, get_session: Callable[[], aiohttp.ClientSession], base_url: str, timeout: float
    ) -> None:
        self._get_session = get_session
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def rebase(self, url: str | URL) -> URL:
        raw = str(url)  # a URL tweepy built with encoded=True keeps its encoding here
        if not raw.startswith(TWEEPY_HOST + "/"):
            raise ValueError(f"tweepy asked for an unexpected URL: {raw}")
        return URL(self._base_url + raw[len(TWEEPY_HOST) :], encoded=True)

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return self._get_session().request(method, self.rebase(url), **kwargs)


def make_client(config: XConfig, get_session: Callable[[], aiohttp.ClientSession]) -> AsyncClient:
    """An AsyncClient with our account's OAuth 1.0a credentials (and the app bearer when
    configured) answering plain dicts, on the hub's session."""
    client = AsyncClient(
        bearer_token=config.bearer_token,
        consumer_key=config.consumer_key,
        consumer_secret=config.consumer_secret,
        access_token=config.access_token,
        access_token_secret=config.access_token_secret,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session = RebasedSession(get_session, config.api_base_url, config.timeout)
    tweepy_log = logging.getLogger(TWEEPY_LOGGER)
    tweepy_log.setLevel(max(tweepy_log.getEffectiveLevel(), logging.INFO))
    return client
