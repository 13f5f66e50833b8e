"""The thin sender: one rendered part → one Bot API call, PTB's errors → :mod:`bot.errors`."""

from __future__ import annotations

import datetime as dt
import warnings

from telegram import Bot
from telegram import error as tg

from bot.errors import PermanentSendError, RetryAfter, SendError, TransientSendError

from .render import Part, TextPart


async def send_part(bot: Bot, chat_id: str, part: Part) -> None:
    """``sendMessage`` or ``sendPhoto``; raises a :class:`SendError` subclass."""
    try:
        if isinstance(part, TextPart):
            await bot.send_message(chat_id, part.text, reply_markup=part.markup)
        else:
            await bot.send_photo(chat_id, part.url, reply_markup=part.markup)
    except tg.TelegramError as exc:
        raise send_error(exc) from exc


def send_error(exc: tg.TelegramError) -> SendError:
    """429 → :class:`RetryAfter` (Telegram's ``retry_after``); a refused request (400 bad
    request, 403 blocked by the user, 401/404 bad token, a chat that migrated) →
    :class:`PermanentSendError`; timeouts, connection errors, 5xx and anything else →
    :class:`TransientSendError`."""
    if isinstance(exc, tg.RetryAfter):
        return RetryAfter(retry_seconds(exc), f"telegram: {exc.message}")
    # BadRequest subclasses NetworkError in PTB: test the permanent kinds first.
    if isinstance(exc, tg.BadRequest | tg.Forbidden | tg.InvalidToken | tg.ChatMigrated):
        return PermanentSendError(f"telegram: {exc.message}")
    return TransientSendError(f"telegram: {exc.message}")


def retry_seconds(exc: tg.RetryAfter) -> float:
    """The wait PTB read from ``parameters.retry_after`` (an int or, since 22.2, optionally a
    timedelta; reading it as an int warns until PTB settles on one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
