""":class:`OutboundMessage` → the Bot API messages to send (pure; README.md "Replies").

Text goes as plain text (no parse mode: nothing the bot or a citizen wrote is read as markup),
split into messages of at most 4096 UTF-16 code units, preferably at a line break or a space.
Buttons become an inline keyboard (one button per row, at most 100; a blank payload drops the
button, a blank title shows the payload) on the last message;
their payloads become ``callback_data`` (long ones as tokens, :mod:`.callbacks`). An image is
sent by URL with ``sendPhoto`` after the text. A location request is a one-time reply keyboard
with a ``request_location`` button — Telegram's only way to ask for a location — on the last
message, or on its own short prompt when that message already has an inline keyboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.model import Button, OutboundMessage

from .callbacks import callback_data
from .texts import Texts

MAX_TEXT = 4096
MAX_BUTTONS = 100

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True, slots=True)
class TextPart:
    """A ``sendMessage``."""

    text: str
    markup: Markup | None = None


@dataclass(frozen=True, slots=True)
class PhotoPart:
    """A ``sendPhoto`` by URL (Telegram fetches it)."""

    url: str
    markup: Markup | None = None


Part = TextPart | PhotoPart


@dataclass(frozen=True, slots=True)
class Rendered:
    """The messages to send, in order, and the button tokens to keep before sending them."""

    parts: tuple[Part, ...]
    tokens: Mapping[str, str] = field(default_factory=dict)


def render(message: OutboundMessage, texts: Texts) -> Rendered:
    """The Bot API messages for one reply (nothing to send → no parts)."""
    language = message.language if message.language in ("ar", "en") else "ar"
    parts: list[Part] = [TextPart(chunk) for chunk in split_text(message.text)]
    if message.image_url:
        parts.append(PhotoPart(message.image_url))
    tokens: dict[str, str] = {}
    # A button without a payload can do nothing (and Telegram refuses empty callback_data).
    buttons = tuple(b for b in message.buttons if b.payload.strip())[:MAX_BUTTONS]
    if buttons:
        keyboard = _inline_keyboard(buttons, tokens)
        if not parts:
            parts.append(TextPart(texts.get("choose", language)))
        parts[-1] = _with_markup(parts[-1], keyboard)
    if message.request_location:
        keyboard_button = KeyboardButton(
            texts.get("location_button", language), request_location=True
        )
        location = ReplyKeyboardMarkup(
            [[keyboard_button]], resize_keyboard=True, one_time_keyboard=True
        )
        if parts and parts[-1].markup is None:
            parts[-1] = _with_markup(parts[-1], location)
        else:
            parts.append(TextPart(texts.get("location_prompt", language), location))
    return Rendered(tuple(parts), tokens)


def _inline_keyboard(buttons: tuple[Button, ...], tokens: dict[str, str]) -> InlineKeyboardMarkup:
    rows = []
    for button in buttons:
        data = callback_data(button.payload)
        if data != button.payload:
            tokens[data] = button.payload
        title = button.title.strip() or button.payload.strip()
        rows.append([InlineKeyboardButton(title, callback_data=data)])
    return InlineKeyboardMarkup(rows)


def _with_markup(part: Part, markup: Markup) -> Part:
    if isinstance(part, TextPart):
        return TextPart(part.text, markup)
    return PhotoPart(part.url, markup)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 code units, cut after the last line
    break (else space) in the second half of a piece, else hard; whitespace-only pieces are
    dropped (Telegram refuses empty messages). Nothing else is lost or reordered."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end = max(_fit(rest, limit), 1)
        cut = rest.rfind("\n", end // 2, end) + 1 or rest.rfind(" ", end // 2, end) + 1 or end
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _fit(text: str, limit: int) -> int:
    """The longest prefix (in code points) of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)
