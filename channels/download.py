"""Reading a media download's body without ever holding more than the allowed bytes."""

from __future__ import annotations

import aiohttp

from bot.errors import MediaError

__all__ = ["CHUNK", "read_capped"]

CHUNK = 64 * 1024


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body of ``response``, streamed; :class:`MediaError` as soon as its declared length
    or the bytes read so far pass ``max_bytes``."""
    if response.content_length is not None and response.content_length > max_bytes:
        raise MediaError(
            f"media of {response.content_length} bytes is over the limit of {max_bytes} bytes"
        )
    data = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise MediaError(f"media is over the limit of {max_bytes} bytes")
    return bytes(data)
