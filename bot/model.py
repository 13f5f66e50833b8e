"""The one message model every channel speaks (ARCHITECTURE.md "examples to follow").

Adapters turn provider payloads into :class:`InboundMessage` (pure parsing) and turn
:class:`OutboundMessage` into provider requests (pure rendering). Both are frozen and
serialise to plain JSON (``to_json`` / ``from_json``) because they travel through Redis
Streams between the ingest, the conversation workers and the senders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AttachmentType = Literal["image", "audio", "video", "document", "sticker"]
DeliveryState = Literal["sent", "delivered", "read", "failed"]

__all__ = [
    "Attachment",
    "AttachmentType",
    "Button",
    "Contact",
    "DeliveryState",
    "DeliveryStatus",
    "InboundEvent",
    "InboundMessage",
    "Location",
    "OutboundMessage",
    "conversation_id",
]


def _plain(value: Any) -> Any:
    """JSON-ready form of the model's values: ``dataclasses.asdict`` without its deep copies
    (the ingest serialises every webhook message; asdict was 40 % of its CPU)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def conversation_id(channel: str, user_id: str) -> str:
    """The conversation (and Rasa ``sender_id``) of a channel user: ``"<channel>:<user_id>"``."""
    return f"{channel}:{user_id}"


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    long: float
    address: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the citizen sent. Adapters fill ``media_id`` and/or ``source_url`` (provider
    side); the hub downloads it and sets ``url`` to where it stored it."""

    type: AttachmentType
    media_id: str | None = None
    source_url: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None
    #: Bytes carried in the message itself (an e-mail attachment), base64; None otherwise.
    inline_b64: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """What the channel knows about the sender. ``ids`` keeps every provider identifier
    (``wa_id``, ``user_id``, ``psid``, ``telegram_id``, ``x_id``, ``email`` ...)."""

    phone: str | None = None
    email: str | None = None
    name: str | None = None
    phone_verified: bool = False
    email_verified: bool = False
    ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One citizen message. ``provider_message_id`` is unique per channel (the dedup key);
    ``user_id`` is the channel's stable id of the sender. ``payload`` is a button/quick-reply
    payload (a Rasa intent such as ``/inform{"service":"pothole"}``) and wins over ``text``.
    ``reply_context`` carries what the adapter needs to answer in the right place (a chat id,
    the tweet to answer, e-mail threading headers, a callback query to acknowledge)."""

    channel: str
    provider_message_id: str
    user_id: str
    timestamp: float
    text: str | None = None
    payload: str | None = None
    location: Location | None = None
    attachments: tuple[Attachment, ...] = ()
    contact: Contact = field(default_factory=Contact)
    public: bool = False
    language_hint: str | None = None
    reply_context: Mapping[str, str] = field(default_factory=dict)
    #: Recorded but never answered (auto-replies, bounces, list mail, no-reply senders).
    no_reply_reason: str | None = None
    #: Set only by the hub itself for a message it injects into a conversation (``"survey"``,
    #: ``"survey_reminder"``: bot/events); never by an adapter (ingest refuses it from them).
    #: Rasa gets it as metadata ``proactive``; it does not move the messaging window.
    system: str | None = None

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.channel, self.user_id)

    def to_json(self) -> str:
        return _dumps(self)

    @classmethod
    def from_json(cls, raw: str | bytes) -> InboundMessage:
        data = json.loads(raw)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InboundMessage:
        values = dict(data)
        location = values.get("location")
        values["location"] = Location(**location) if location else None
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments") or ())
        values["contact"] = Contact(**(values.get("contact") or {}))
        values["reply_context"] = dict(values.get("reply_context") or {})
        return cls(**values)


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A provider's report on a message we sent (WhatsApp ``statuses[]``, Messenger
    ``delivery``/``read``). Recorded for metrics; failures of ours are logged."""

    channel: str
    provider_message_id: str
    recipient_id: str
    state: DeliveryState
    timestamp: float
    error: str | None = None


InboundEvent = InboundMessage | DeliveryStatus


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One bot reply to one recipient, channel-neutral. Rasa's ``text``, ``buttons`` and
    ``image`` map here; ``request_location`` asks the channel's location picker where it has
    one. ``key`` is unique per reply (the inbound message id + the reply's index) so a sender
    retry never sends it twice. ``template`` names a configured template for channels with a
    messaging window (WhatsApp outside 24 h)."""

    channel: str
    recipient_id: str
    key: str
    text: str = ""
    buttons: tuple[Button, ...] = ()
    image_url: str | None = None
    request_location: bool = False
    language: str = "ar"
    public: bool = False
    reply_context: Mapping[str, str] = field(default_factory=dict)
    template: str | None = None
    template_params: tuple[str, ...] = ()

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.channel, self.recipient_id)

    def to_json(self) -> str:
        return _dumps(self)

    @classmethod
    def from_json(cls, raw: str | bytes) -> OutboundMessage:
        values = dict(json.loads(raw))
        values["buttons"] = tuple(Button(**b) for b in values.get("buttons") or ())
        values["reply_context"] = dict(values.get("reply_context") or {})
        values["template_params"] = tuple(values.get("template_params") or ())
        return cls(**values)
