"""Fetching a citizen's photo or video from X's media hosts.

DM media (``ton.twitter.com``) is only served to a request signed with OAuth 1.0a as one of
the conversation's accounts, so every download is signed with our account's credentials (over
the real URL, as X checks it) and sent to the configured base URL of that host. Only X's
media hosts are fetched: an attachment URL anywhere else is refused, never followed.
"""

from __future__ import annotations

import aiohttp
from oauthlib.oauth1 import Client as OAuth1  # type: ignore[import-untyped]
from yarl import URL

from bot.errors import MediaError
from bot.model import Attachment
from channels.base import Media
from channels.download import read_capped
from channels.x.config import XConfig

API_HOST = "api.twitter.com"


def signed_headers(config: XConfig, url: str) -> dict[str, str]:
    """The OAuth 1.0a ``Authorization`` header of a GET of ``url`` as our account."""
    client = OAuth1(
        config.consumer_key,
        client_secret=config.consumer_secret,
        resource_owner_key=config.access_token,
        resource_owner_secret=config.access_token_secret,
    )
    _, headers, _ = client.sign(url, "GET")
    return {"Authorization": str(headers["Authorization"])}


def target_url(config: XConfig, url: str) -> URL:
    """Where to fetch ``url`` from: its host's configured base URL (MediaError when the URL
    is not on one of X's media hosts)."""
    parsed = URL(url)
    host = parsed.host or ""
    if parsed.scheme != "https" or host == API_HOST or host not in config.base_urls:
        raise MediaError(f"not an X media URL: {url}")
    return URL(config.base_urls[host] + parsed.raw_path_qs, encoded=True)


async def download(
    session: aiohttp.ClientSession, config: XConfig, attachment: Attachment, max_bytes: int
) -> Media:
    """The attachment's bytes (MediaError when missing, refused, or over ``max_bytes``)."""
    if not attachment.source_url:
        raise MediaError("the attachment has no X media URL")
    target = target_url(config, attachment.source_url)
    headers = signed_headers(config, attachment.source_url)
    timeout = aiohttp.ClientTimeout(total=config.timeout)
    try:
        async with session.get(target, headers=headers, timeout=timeout) as response:
            if response.status != 200:
                raise MediaError(f"X media answered {response.status} for {target.path}")
            data = await read_capped(response, max_bytes)
            mime = response.content_type or attachment.mime_type or "application/octet-stream"
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MediaError(f"X media could not be fetched: {exc!r}") from exc
    return Media(data, mime, target.name or None)
