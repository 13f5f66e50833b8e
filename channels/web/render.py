"""A bot reply as a web chat history entry (pure)."""

from __future__ import annotations

import time
from typing import Any

from bot.model import OutboundMessage

__all__ = ["bot_entry"]


def bot_entry(message: OutboundMessage, timestamp: float | None = None) -> dict[str, Any] | None:
    """The entry the page renders: text, buttons as chips (title shown, payload sent back),
    an image, the location button highlighted when the bot asks where. None when the reply
    carries nothing to show."""
    if not (message.text or message.buttons or message.image_url or message.request_location):
        return None
    entry: dict[str, Any] = {
        "role": "bot",
        "time": round(time.time() if timestamp is None else timestamp, 3),
        "text": message.text or None,
        "language": message.language,
    }
    if message.buttons:
        entry["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
    if message.image_url:
        entry["image_url"] = message.image_url
    if message.request_location:
        entry["request_location"] = True
    return entry
