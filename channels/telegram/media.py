"""Downloading a citizen's file: ``getFile`` → ``<base_file_url><token>/<file_path>``,
refusing anything over the hub's limit (and Telegram's own 20 MB for bots)."""

from __future__ import annotations

import posixpath

import aiohttp
from telegram import Bot
from telegram.error import TelegramError

from bot.errors import MediaError
from bot.model import Attachment
from channels.base import Media
from channels.download import read_capped

#: Bots cannot download larger files (Bot API getFile).
TELEGRAM_MAX_BYTES = 20 * 1024 * 1024


async def download(
    bot: Bot, session: aiohttp.ClientSession, attachment: Attachment, max_bytes: int
) -> Media:
    """The attachment's bytes; :class:`MediaError` when it is unknown, too large or cannot be
    fetched. Error messages never contain the file URL (it holds the bot token)."""
    limit = min(max_bytes, TELEGRAM_MAX_BYTES)
    if not attachment.media_id:
        raise MediaError("telegram attachment without a file_id")
    if attachment.size is not None and attachment.size > limit:
        raise MediaError(f"file of {attachment.size} bytes is over the {limit}-byte limit")
    try:
        file = await bot.get_file(attachment.media_id)
    except TelegramError as exc:
        raise MediaError(f"telegram getFile failed: {exc.message}") from None
    if file.file_size is not None and file.file_size > limit:
        raise MediaError(f"file of {file.file_size} bytes is over the {limit}-byte limit")
    if not file.file_path:
        raise MediaError("telegram getFile returned no file_path")
    data, content_type = await _fetch(session, file.file_path, limit)
    return Media(
        data=data,
        mime_type=attachment.mime_type or content_type or "application/octet-stream",
        filename=attachment.filename or posixpath.basename(file.file_path) or None,
    )


async def _fetch(session: aiohttp.ClientSession, url: str, limit: int) -> tuple[bytes, str]:
    try:
        async with session.get(url) as response:
            if response.status != 200:
                raise MediaError(f"telegram file download answered {response.status}")
            return await read_capped(response, limit), response.content_type
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MediaError(f"telegram file download failed: {type(exc).__name__}") from None
