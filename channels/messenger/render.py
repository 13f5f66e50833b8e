"""An :class:`OutboundMessage` → Messenger Send API ``message`` objects (§2.3, §2.5). Pure.

- Text: at most 2000 characters per message, longer text split at paragraph/line/word
  boundaries.
- Buttons: quick replies (≤ 13, ``content_type`` text, titles ≤ 20 shortened on grapheme
  boundaries, payload = the Rasa payload ≤ 1000) on the last message. More than 13: the
  first 13 as quick replies and the rest as numbered text; payloads too long: every option
  as numbered text (``Rendered.menu``; typed numbers are mapped back at ingest).
- ``image_url``: an image attachment by URL, sent first.
- ``request_location``: Messenger has no location picker any more (removed 2019), so the
  question is sent with a line asking for the address as text (``texts.yml``).
- Templates (``OutboundMessage.template``) are a WhatsApp notion: ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.model import Button, OutboundMessage
from channels.meta import texts
from channels.meta.menus import numbered_text
from channels.meta.textcut import split_text, truncate

__all__ = ["Rendered", "envelope", "render"]

TEXT_MAX = 2000
QUICK_REPLIES_MAX = 13
QUICK_REPLY_TITLE_MAX = 20
QUICK_REPLY_PAYLOAD_MAX = 1000

Part = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The ``message`` objects to send in order (each still needs :func:`envelope`), and the
    payloads of numbered options (1-based) when some options went out as numbered text."""

    parts: tuple[Part, ...]
    menu: tuple[str, ...] | None = None


def envelope(
    part: Part, recipient_id: str, messaging_type: str, tag: str | None = None
) -> dict[str, Any]:
    """A full Send API body for one ``message`` object."""
    body: dict[str, Any] = {
        "recipient": {"id": recipient_id},
        "messaging_type": messaging_type,
        "message": part,
    }
    if tag is not None:
        body["tag"] = tag
    return body


def _quick_replies(buttons: tuple[Button, ...]) -> list[dict[str, str]] | None:
    payloads = [b.payload for b in buttons[:QUICK_REPLIES_MAX]]
    if not all(0 < len(p) <= QUICK_REPLY_PAYLOAD_MAX for p in payloads):
        return None
    return [
        {
            "content_type": "text",
            "title": truncate(b.title.strip() or b.payload, QUICK_REPLY_TITLE_MAX),
            "payload": b.payload,
        }
        for b in buttons[:QUICK_REPLIES_MAX]
    ]


def render(message: OutboundMessage) -> Rendered:
    """The ``message`` objects of ``message`` in sending order."""
    language = message.language
    text = message.text.strip()
    if message.request_location:
        fallback = texts.text("location_fallback", language)
        text = f"{text}\n\n{fallback}" if text else fallback
    buttons = message.buttons
    quick_replies = _quick_replies(buttons) if buttons else None
    menu: tuple[str, ...] | None = None
    titles = [b.title.strip() or b.payload for b in buttons]
    if buttons and quick_replies is None:
        text = "\n\n".join(
            t for t in (text, numbered_text(texts.text("numbered_all", language), titles)) if t
        )
        menu = tuple(b.payload for b in buttons)
    elif len(buttons) > QUICK_REPLIES_MAX:
        rest = numbered_text(
            texts.text("numbered_more", language),
            titles[QUICK_REPLIES_MAX:],
            QUICK_REPLIES_MAX + 1,
        )
        text = f"{text}\n\n{rest}" if text else rest
        menu = tuple(b.payload for b in buttons)
    if quick_replies and not text:
        text = texts.text("choose_option", language)
    parts: list[Part] = []
    if message.image_url:
        parts.append(
            {
                "attachment": {
                    "type": "image",
                    "payload": {"url": message.image_url, "is_reusable": True},
                }
            }
        )
    parts.extend({"text": chunk} for chunk in split_text(text, TEXT_MAX))
    if quick_replies:
        parts[-1] = {**parts[-1], "quick_replies": quick_replies}
    return Rendered(tuple(parts), menu)
