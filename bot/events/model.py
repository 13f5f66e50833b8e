"""A ticket event as the ticket service sends it (ticket_service/outbox.py), parsed strictly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import MalformedPayload

__all__ = ["Recipient", "TicketEvent", "user_id_of"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A reporter or follower, on the identity they used (``channel_user_id`` is what the bot
    filed with: the conversation id ``<channel>:<user>``, or the bare user id)."""

    role: str
    channel: str
    channel_user_id: str
    language: str | None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    event_id: str
    type: str
    occurred_at: str
    ticket: Mapping[str, Any]
    recipients: tuple[Recipient, ...]
    data: Mapping[str, Any]

    @property
    def number(self) -> str:
        return str(self.ticket.get("service_request_id") or "")

    def language_for(self, person: Recipient) -> str:
        """The language ``person`` is told in: theirs, else the report's."""
        return person.language or str(self.ticket.get("language") or "ar")

    @classmethod
    def parse(cls, raw: bytes | str) -> TicketEvent:
        """Raises :class:`MalformedPayload` for anything that is not an event."""
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedPayload("not JSON") from exc
        if not isinstance(body, Mapping):
            raise MalformedPayload("not a JSON object")
        event_id, kind = body.get("event_id"), body.get("type")
        ticket, data = body.get("ticket"), body.get("data") or {}
        people = body.get("recipients") or []
        if not (isinstance(event_id, str) and 0 < len(event_id) <= 100):
            raise MalformedPayload("event_id missing")
        if not isinstance(kind, str) or not isinstance(ticket, Mapping):
            raise MalformedPayload("type or ticket missing")
        if not isinstance(data, Mapping) or not isinstance(people, list):
            raise MalformedPayload("data or recipients malformed")
        recipients = []
        for person in people:
            if not isinstance(person, Mapping):
                raise MalformedPayload("recipient is not an object")
            channel, user = person.get("channel"), person.get("channel_user_id")
            language = person.get("language")
            if not (isinstance(channel, str) and isinstance(user, str) and channel and user):
                raise MalformedPayload("recipient without channel or channel_user_id")
            recipients.append(
                Recipient(
                    role=str(person.get("role") or "reporter"),
                    channel=channel,
                    channel_user_id=user,
                    language=language if isinstance(language, str) else None,
                )
            )
        return cls(
            event_id=event_id,
            type=kind,
            occurred_at=str(body.get("occurred_at") or ""),
            ticket=ticket,
            recipients=tuple(recipients),
            data=data,
        )


def user_id_of(channel: str, channel_user_id: str) -> str:
    """The channel's own user id (``whatsapp:9665…`` → ``9665…``)."""
    prefix = f"{channel}:"
    return channel_user_id[len(prefix) :] if channel_user_id.startswith(prefix) else channel_user_id
