"""Bot API ``Update`` JSON → :class:`InboundMessage` (pure; README.md "What is read").

Read: ``message`` (text, caption, location, venue, photo, document, voice, audio, video, the
sender's own contact; ``/start`` and ``/help`` become the payload ``/greet``) and
``callback_query`` (an inline-keyboard tap). Skipped (``[]``):
anything outside private chats, messages from bots, ``edited_message`` (an edit of a text the
bot already answered would be answered twice; live-location updates arrive here too),
channel posts, membership changes and every other update type, and messages with nothing the
bot can read (stickers, polls, dice ...).
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.errors import MalformedPayload
from bot.model import (
    Attachment,
    AttachmentType,
    Contact,
    InboundEvent,
    InboundMessage,
    Location,
)

from .fields import (
    JSONObject,
    integer,
    number,
    obj,
    objects,
    opt_int,
    opt_obj,
    opt_str,
    string,
)

CHANNEL = "telegram"
LANGUAGES = frozenset({"ar", "en"})
#: Telegram re-encodes every photo as JPEG.
PHOTO_MIME = "image/jpeg"
#: Telegram's standard bot commands as the Rasa intents they mean. Every chat with a bot begins
#: with "/start" (which Rasa would otherwise read as an unknown intent "start").
COMMANDS = {"start": "/greet", "help": "/greet"}
#: Message fields holding one file: (field, attachment type, MIME type when none is given).
_MEDIA: tuple[tuple[str, AttachmentType, str | None], ...] = (
    ("voice", "audio", "audio/ogg"),
    ("audio", "audio", None),
    ("video", "video", None),
)


def parse(raw: bytes, received_at: float | None = None) -> list[InboundEvent]:
    """The citizen messages in one webhook body (at most one: Telegram sends one update per
    request). ``received_at`` stamps callback queries, which carry no date of their own
    (default: now). Raises :class:`MalformedPayload` when the body is not an Update."""
    try:
        update: Any = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedPayload(f"body is not JSON: {type(exc).__name__}") from None
    if not isinstance(update, dict):
        raise MalformedPayload("an Update is a JSON object")
    update_id = str(integer(update, "update_id"))
    message = opt_obj(update, "message")
    if message is not None:
        return _message(update_id, message)
    query = opt_obj(update, "callback_query")
    if query is not None:
        return _callback(update_id, query, time.time() if received_at is None else received_at)
    return []


def _message(update_id: str, msg: JSONObject) -> list[InboundEvent]:
    chat = obj(msg, "chat")
    if string(chat, "type") != "private":
        return []
    sender = obj(msg, "from")
    if sender.get("is_bot") is True:
        return []
    user_id = str(integer(sender, "id"))
    text = opt_str(msg, "text") or opt_str(msg, "caption") or None
    location = _location(msg)
    attachments = _attachments(msg)
    phone = _own_phone(msg, user_id)
    if text is None and location is None and not attachments and phone is None:
        return []
    return [
        InboundMessage(
            channel=CHANNEL,
            provider_message_id=update_id,
            user_id=user_id,
            timestamp=number(msg, "date"),
            text=text,
            payload=_command(text),
            location=location,
            attachments=attachments,
            contact=_contact(sender, phone),
            language_hint=_language(sender),
            reply_context={
                "chat_id": str(integer(chat, "id")),
                "message_id": str(integer(msg, "message_id")),
            },
        )
    ]


def _callback(update_id: str, query: JSONObject, received_at: float) -> list[InboundEvent]:
    query_id = string(query, "id")
    sender = obj(query, "from")
    data = opt_str(query, "data")
    msg = opt_obj(query, "message")
    # No data: a game button; no message: a button under an inline-mode message.
    if not data or msg is None or sender.get("is_bot") is True:
        return []
    chat = obj(msg, "chat")
    if string(chat, "type") != "private":
        return []
    return [
        InboundMessage(
            channel=CHANNEL,
            provider_message_id=update_id,
            user_id=str(integer(sender, "id")),
            timestamp=received_at,
            # The tapped button's label: what the citizen "said" if the payload is lost.
            text=_button_title(msg, data),
            payload=data,
            contact=_contact(sender, None),
            language_hint=_language(sender),
            reply_context={
                "chat_id": str(integer(chat, "id")),
                "message_id": str(integer(msg, "message_id")),
                "callback_query_id": query_id,
            },
        )
    ]


def _command(text: str | None) -> str | None:
    """The intent of ``/start``, ``/start <deep-link parameter>``, ``/help@<bot>`` ..."""
    if not text or not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:].strip() else ""
    return COMMANDS.get(name)


def _location(msg: JSONObject) -> Location | None:
    venue = opt_obj(msg, "venue")
    if venue is not None:
        point = obj(venue, "location")
        return Location(
            lat=_latitude(point),
            long=_longitude(point),
            address=opt_str(venue, "address"),
            name=opt_str(venue, "title"),
        )
    pin = opt_obj(msg, "location")
    if pin is None:
        return None
    return Location(lat=_latitude(pin), long=_longitude(pin))


def _latitude(point: JSONObject) -> float:
    value = number(point, "latitude")
    if not -90.0 <= value <= 90.0:
        raise MalformedPayload("latitude out of range")
    return value


def _longitude(point: JSONObject) -> float:
    value = number(point, "longitude")
    if not -180.0 <= value <= 180.0:
        raise MalformedPayload("longitude out of range")
    return value


def _attachments(msg: JSONObject) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    sizes = objects(msg, "photo")
    if sizes:
        # Several resolutions of one picture: keep the largest.
        best = max(sizes, key=lambda s: (_area(s), opt_int(s, "file_size") or 0))
        found.append(_file("image", best, PHOTO_MIME))
    document = opt_obj(msg, "document")
    if document is not None:
        mime = opt_str(document, "mime_type")
        # A photo sent "as a file" (full quality) is still the citizen's photo.
        kind: AttachmentType = "image" if mime and mime.startswith("image/") else "document"
        found.append(_file(kind, document, mime))
    for key, media_kind, default_mime in _MEDIA:
        media = opt_obj(msg, key)
        if media is not None:
            found.append(_file(media_kind, media, opt_str(media, "mime_type") or default_mime))
    return tuple(found)


def _area(size: JSONObject) -> int:
    return (opt_int(size, "width") or 0) * (opt_int(size, "height") or 0)


def _file(kind: AttachmentType, media: JSONObject, mime: str | None) -> Attachment:
    return Attachment(
        type=kind,
        media_id=string(media, "file_id"),
        mime_type=mime,
        filename=opt_str(media, "file_name"),
        size=opt_int(media, "file_size"),
    )


def _own_phone(msg: JSONObject, user_id: str) -> str | None:
    """The phone of a shared contact when it is the sender's own (the "share my number"
    button): Telegram vouches for it. Someone else's contact card is not read."""
    card = opt_obj(msg, "contact")
    if card is None or str(opt_int(card, "user_id")) != user_id:
        return None
    digits = "".join(c for c in string(card, "phone_number") if c in "0123456789")
    return f"+{digits}" if digits else None


def _contact(sender: JSONObject, phone: str | None) -> Contact:
    names = (opt_str(sender, "first_name"), opt_str(sender, "last_name"))
    name = " ".join(n for n in names if n) or None
    return Contact(
        phone=phone,
        phone_verified=phone is not None,
        name=name,
        ids={"telegram_id": str(integer(sender, "id"))},
    )


def _language(sender: JSONObject) -> str | None:
    code = opt_str(sender, "language_code")
    base = code.split("-")[0].lower() if code else None
    return base if base in LANGUAGES else None


def _button_title(msg: JSONObject, data: str) -> str | None:
    markup = opt_obj(msg, "reply_markup")
    rows = markup.get("inline_keyboard") if markup is not None else None
    if not isinstance(rows, list):
        return None
    for row in rows:
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                title = button.get("text")
                return title if isinstance(title, str) and title else None
    return None
