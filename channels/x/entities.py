"""Helpers both payload formats share (AAA webhooks, API v2 pages): message text without
the handles and links X adds, media as attachments, the sender as a contact."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.errors import MalformedPayload
from bot.model import Attachment, AttachmentType, Contact, InboundMessage, Location

CHANNEL = "x"
#: Languages the bot speaks; X's ``lang`` becomes a hint only for these.
LANGUAGES = frozenset({"ar", "en"})
#: The payload of a bare "@handle" mention (nothing else in it): the citizen says hello.
BARE_MENTION_PAYLOAD = "/greet"
LEADING_HANDLES = re.compile(r"^(?:\s*@\w{1,15}\b)+\s*")
SPACES = re.compile(r"[ \t]+")


def as_dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not an object")
    return value


def as_list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{what} is not a list")
    return value


def as_id(value: object, what: str) -> str:
    """A numeric X id given as a string or a number."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"{what} is missing or not an id")
    text = str(value)
    if not text.isdigit() or not text.isascii():
        raise MalformedPayload(f"{what} is not a numeric id")
    return text


def clean_text(
    text: str, *, own_handle: str | None, drop: Iterable[str] = (), is_reply: bool = False
) -> str | None:
    """The citizen's words: without the reply prefix X adds (``@a @b`` before a reply), our
    own ``@handle``, and the links of attached media (``drop``); HTML entities X escapes
    (``&amp;`` ``&lt;`` ``&gt;``) undone. None when nothing is left."""
    for link in drop:
        if link:
            text = text.replace(link, " ")
    if is_reply:
        text = LEADING_HANDLES.sub("", text, count=1)
    if own_handle:
        text = re.sub(rf"(?<!\w)@{re.escape(own_handle)}\b", " ", text, flags=re.IGNORECASE)
    text = html.unescape(text)
    lines = [SPACES.sub(" ", line).strip() for line in text.splitlines()]
    cleaned = "\n".join(line for line in lines if line)
    return cleaned or None


def point_location(point: object) -> Location | None:
    """A GeoJSON point (``{"type": "Point", "coordinates": [long, lat]}``) as a Location."""
    pair = point.get("coordinates") if isinstance(point, dict) else None
    if (
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
    ):
        return Location(lat=float(pair[1]), long=float(pair[0]))
    return None


def bare_mention(text: str | None, attachments: object, location: object) -> str | None:
    """The payload of a mention that says nothing else (``BARE_MENTION_PAYLOAD``), else None."""
    return BARE_MENTION_PAYLOAD if not (text or attachments or location) else None


def language_hint(lang: object) -> str | None:
    return lang if isinstance(lang, str) and lang in LANGUAGES else None


def best_video_url(variants: object) -> str | None:
    """The highest-bitrate MP4 of a video's variants (v1.1 ``video_info.variants`` and v2
    ``variants`` share the shape, with ``content_type``/``bitrate``/``url``)."""
    best: tuple[int, str] | None = None
    for variant in variants if isinstance(variants, list) else []:
        if not isinstance(variant, dict) or variant.get("content_type") != "video/mp4":
            continue
        url, bitrate = variant.get("url"), variant.get("bitrate", 0)
        if (
            isinstance(url, str)
            and isinstance(bitrate, int)
            and (best is None or bitrate > best[0])
        ):
            best = (bitrate, url)
    return best[1] if best else None


def media_attachment(
    kind: object, media_id: object, photo_url: object, variants: object
) -> Attachment | None:
    """An attachment for an X media object: photos by their image URL, videos and GIFs by
    their best MP4. None for a type we do not take or a media object without a URL."""
    media_key = str(media_id) if isinstance(media_id, str | int) else None
    if kind == "photo" and isinstance(photo_url, str):
        return Attachment(type="image", media_id=media_key, source_url=photo_url)
    if kind in ("video", "animated_gif"):
        url = best_video_url(variants)
        if url:
            video: AttachmentType = "video"
            return Attachment(type=video, media_id=media_key, source_url=url, mime_type="video/mp4")
    return None


def contact(user_id: str, user: Mapping[str, Any] | None, handle_key: str) -> Contact:
    """X gives no phone or e-mail: the contact is the account's id, handle and name."""
    ids = {"x_id": user_id}
    name: str | None = None
    if user:
        handle = user.get(handle_key)
        if isinstance(handle, str) and handle:
            ids["x_handle"] = handle
        if isinstance(user.get("name"), str) and user["name"]:
            name = user["name"]
    return Contact(name=name, ids=ids)


def public_message(
    *,
    tweet_id: str,
    author_id: str,
    timestamp: float,
    text: str | None,
    attachments: list[Attachment],
    location: Location | None,
    contact: Contact,
    lang: object,
    no_reply_reason: str | None = None,
) -> InboundMessage:
    """The message of a citizen's tweet, however it arrived (webhook or mention timeline):
    the same ``provider_message_id`` either way, so the hub's dedup drops the second."""
    return InboundMessage(
        channel=CHANNEL,
        provider_message_id=f"tweet:{tweet_id}",
        user_id=author_id,
        timestamp=timestamp,
        text=text,
        payload=bare_mention(text, attachments, location),
        location=location,
        attachments=tuple(attachments),
        contact=contact,
        public=True,
        language_hint=language_hint(lang),
        reply_context={"mode": "public", "in_reply_to_tweet_id": tweet_id},
        no_reply_reason=no_reply_reason,
    )
