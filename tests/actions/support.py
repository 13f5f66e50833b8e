"""The JSON the Rasa server sends to the action server, and reading what comes back.

``Turn`` builds one ``POST /webhook`` body the way Rasa 3.6 does: the tracker's slots, the
user's latest message as ``latest_message`` (its parse data: text, intent, entities; Rasa keeps
the message id and the channel metadata on the ``user`` event only), every event so far, and the
domain. ``Reply`` is the action server's answer: the responses it asked for and its events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

JSON = dict[str, Any]


def user_event(
    text: str,
    intent: str | None,
    *,
    entities: Sequence[Mapping[str, Any]] = (),
    metadata: Mapping[str, Any] | None = None,
    message_id: str | None = None,
) -> JSON:
    named = {"name": intent, "confidence": 0.97} if intent else {"name": None, "confidence": 0.0}
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": named,
            "entities": [dict(e) for e in entities],
            "intent_ranking": [named],
        },
        "input_channel": "rest",
        "message_id": message_id or uuid.uuid4().hex,
        "metadata": dict(metadata or {}),
    }


def bot_event(response: str, **metadata: Any) -> JSON:
    return {
        "event": "bot",
        "timestamp": time.time(),
        "text": "…",
        "data": {},
        "metadata": {"utter_action": response, **metadata},
    }


def action_event(name: str) -> JSON:
    return {"event": "action", "timestamp": time.time(), "name": name}


def slot_event(name: str, value: Any) -> JSON:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}


def entity(name: str, value: str) -> JSON:
    return {"entity": name, "value": value, "start": 0, "end": 0, "extractor": "test"}


@dataclass
class Turn:
    """One action call. ``slots`` are the slots before the message; ``candidates`` are the
    slots Rasa's own mappings set from it (they follow the ``user`` event, as for
    ``action_validate_slot_mappings`` and form validation)."""

    sender: str
    text: str = ""
    intent: str | None = None
    entities: Sequence[Mapping[str, Any]] = ()
    metadata: Mapping[str, Any] | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)
    candidates: Mapping[str, Any] = field(default_factory=dict)
    history: Sequence[JSON] = ()
    active_loop: str | None = None
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: Also put metadata and message id into latest_message (as some clients do).
    rich_latest_message: bool = False

    def body(self, action: str, domain: Mapping[str, Any]) -> JSON:
        user = user_event(
            self.text,
            self.intent,
            entities=self.entities,
            metadata=self.metadata,
            message_id=self.message_id,
        )
        slots: JSON = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
        slots.update({"requested_slot": None, "session_started_metadata": None})
        slots.update(self.slots)
        slots.update(self.candidates)
        events = [
            action_event("action_session_start"),
            {"event": "session_started", "timestamp": time.time()},
            action_event("action_listen"),
            *[slot_event(k, v) for k, v in self.slots.items() if v is not None],
            *self.history,
            user,
            *[slot_event(k, v) for k, v in self.candidates.items()],
        ]
        latest = dict(user["parse_data"])
        if self.rich_latest_message:
            latest.update(message_id=self.message_id, metadata=dict(self.metadata or {}))
        return {
            "next_action": action,
            "sender_id": self.sender,
            "version": "3.6.21",
            "tracker": {
                "sender_id": self.sender,
                "slots": slots,
                "latest_message": latest,
                "latest_event_time": time.time(),
                "followup_action": None,
                "paused": False,
                "events": events,
                "latest_input_channel": "rest",
                "active_loop": {"name": self.active_loop} if self.active_loop else {},
                "latest_action": {"action_name": "action_listen"},
                "latest_action_name": "action_listen",
            },
            "domain": dict(domain),
        }


@dataclass(frozen=True)
class Reply:
    status: int
    body: JSON

    @property
    def responses(self) -> list[JSON]:
        return list(self.body.get("responses") or [])

    @property
    def names(self) -> list[str | None]:
        return [r.get("response") for r in self.responses]

    def response(self, name: str) -> JSON:
        """The one response called ``name`` (AssertionError otherwise)."""
        found = [r for r in self.responses if r.get("response") == name]
        assert len(found) == 1, f"expected one {name}, got {self.names}"
        return found[0]

    @property
    def events(self) -> list[JSON]:
        return list(self.body.get("events") or [])

    @property
    def slots(self) -> JSON:
        """The last value each slot is set to."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


class ActionServer:
    """A running ``python -m actions``: call an action as Rasa does."""

    def __init__(self, url: str, domain: Mapping[str, Any], http: aiohttp.ClientSession) -> None:
        self.url = url
        self.domain = domain
        self.http = http

    async def run(self, action: str, turn: Turn) -> Reply:
        async with self.http.post(f"{self.url}/webhook", json=turn.body(action, self.domain)) as r:
            return Reply(r.status, await r.json(content_type=None))

    async def ok(self, action: str, turn: Turn) -> Reply:
        reply = await self.run(action, turn)
        assert reply.status == 200, (reply.status, reply.body.get("error"))
        return reply
