"""OutboundMessage → the X API requests that carry it (pure).

Public (a reply to a citizen's mention, ``public`` and an ``in_reply_to_tweet_id``): one
reply post, text only, never personal data — a text that may hold some (an e-mail address,
six or more digits: phones, ticket numbers) or that is over 280 weighted characters is
replaced by the safe invitation of texts.yml; buttons and images are never posted; a DM
deep link (a "send a message" button) is attached when configured. A public reply without
a post to answer is sent as a DM instead: we never post unprompted.

Private: DMs of at most 10,000 characters (longer texts are split); an image is sent as its
link. Buttons become quick-reply options (≤ 20, labels ≤ 36 characters, payload as
metadata ≤ 1,000) — an X feature of the v1.1 DM endpoint only, the v2 one has none — or,
when quick replies are off or do not fit, a numbered list the citizen answers with a
number (see ``channels.x.choices``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.model import Button, OutboundMessage
from channels.x.limits import MAX_DM_CHARS, MAX_TWEET_WEIGHT, looks_private, split_text
from channels.x.limits import weighted_length as weighted
from channels.x.texts import text as local_text

MAX_OPTIONS = 20
MAX_LABEL = 36
MAX_METADATA = 1000
DEEP_LINK = "https://twitter.com/messages/compose?recipient_id={}"


@dataclass(frozen=True, slots=True)
class PublicReply:
    """``POST /2/tweets`` answering a post."""

    in_reply_to_tweet_id: str
    text: str
    dm_deep_link: str | None = None


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """``POST /2/dm_conversations/with/:participant_id/messages``."""

    participant_id: str
    text: str


@dataclass(frozen=True, slots=True)
class QuickReplyMessage:
    """``POST /1.1/direct_messages/events/new.json`` with quick-reply options
    (``options``: label, metadata pairs)."""

    recipient_id: str
    text: str
    options: tuple[tuple[str, str], ...]

    def body(self) -> dict[str, Any]:
        return {
            "event": {
                "type": "message_create",
                "message_create": {
                    "target": {"recipient_id": self.recipient_id},
                    "message_data": {
                        "text": self.text,
                        "quick_reply": {
                            "type": "options",
                            "options": [
                                {"label": label, "metadata": metadata}
                                for label, metadata in self.options
                            ],
                        },
                    },
                },
            }
        }


XRequest = PublicReply | DirectMessage | QuickReplyMessage


@dataclass(frozen=True, slots=True)
class RenderOptions:
    user_id: str
    quick_replies: bool = True
    dm_deep_link: bool = True


def render(message: OutboundMessage, options: RenderOptions) -> list[XRequest]:
    """The requests for one reply, in order (empty when there is nothing to send)."""
    tweet_id = message.reply_context.get("in_reply_to_tweet_id")
    if message.public and tweet_id:
        return _public(message, tweet_id, options)
    return _private(message, options)


def public_text(text: str, language: str) -> str:
    """``text`` if it may be posted publicly, else the safe invitation to DM."""
    if looks_private(text) or weighted(text) > MAX_TWEET_WEIGHT:
        return local_text("public_safe", language)
    return text


def _public(message: OutboundMessage, tweet_id: str, options: RenderOptions) -> list[XRequest]:
    text = message.text.strip()
    if not text:
        return []
    link = DEEP_LINK.format(options.user_id) if options.dm_deep_link else None
    return [PublicReply(tweet_id, public_text(text, message.language), link)]


def _label(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1].rstrip() + "…"


def numbered(buttons: tuple[Button, ...], language: str) -> str:
    lines = [f"{n}. {button.title}" for n, button in enumerate(buttons, 1)]
    return "\n".join([*lines, "", local_text("choices_hint", language)])


def _private(message: OutboundMessage, options: RenderOptions) -> list[XRequest]:
    text = message.text.strip()
    if message.image_url:
        text = f"{text}\n{message.image_url}".strip()
    buttons = message.buttons
    as_options = (
        options.quick_replies
        and 0 < len(buttons) <= MAX_OPTIONS
        and all(0 < len(b.payload) <= MAX_METADATA and b.title.strip() for b in buttons)
    )
    if buttons and not as_options:
        text = f"{text}\n\n{numbered(buttons, message.language)}".strip()
    if not text and not buttons:
        return []
    if as_options and not text:
        text = local_text("choose", message.language)
    pieces = split_text(text, MAX_DM_CHARS)
    requests: list[XRequest] = [DirectMessage(message.recipient_id, p) for p in pieces[:-1]]
    if as_options:
        choices = tuple((_label(b.title), b.payload) for b in buttons)
        requests.append(QuickReplyMessage(message.recipient_id, pieces[-1], choices))
    else:
        requests.append(DirectMessage(message.recipient_id, pieces[-1]))
    return requests
