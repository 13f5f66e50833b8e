"""Every Redis key and stream the hub uses, in one place.

| key | type | what |
|---|---|---|
| ``tawasul:seen:<channel>:<provider_message_id>`` | string, EX 7 d | dedup of inbound messages |
| ``tawasul:seen-status:<channel>:<id>:<state>`` | string, EX 7 d | dedup of delivery statuses |
| ``tawasul:conv:<conversation>:in`` | stream | a conversation's messages waiting for their turn |
| ``tawasul:conv:<conversation>:out`` | stream | its replies waiting to be sent, in order |
| ``tawasul:conv:<conversation>:lock`` / ``:sendlock`` | string, PX | who drains ``in`` / ``out`` |
| ``tawasul:conv:<conversation>:lang`` | string, EX 30 d | the conversation's language |
| ``tawasul:conv:<conversation>:pace`` | string, PX | per-recipient pacing |
| ``tawasul:work`` / ``tawasul:send-work`` | stream, group ``hub`` | "this conversation has input" |
| ``tawasul:noreply`` | capped stream | messages recorded and never answered |
| ``tawasul:dead`` | stream | undeliverable replies (admin API) |
| ``tawasul:poison`` | capped stream | inbound messages that failed the turn repeatedly |
| ``tawasul:sent:<reply key>`` | string, EX 7 d | a reply that was sent (no double send) |
| ``tawasul:pause:<channel>`` | string, PX | the provider rate-limited us: no sends meanwhile |
| ``tawasul:contact:<conversation>`` | hash | what the channels told us about the citizen |
| ``tawasul:contact-synced:<conversation>:<sha>`` | string | verified identity sent to tickets |
"""

from __future__ import annotations

__all__ = [
    "DEAD",
    "GROUP",
    "NOREPLY",
    "POISON",
    "SEND_WORK",
    "WORK",
    "contact",
    "contact_synced",
    "conv_in",
    "conv_out",
    "language",
    "lock",
    "pace",
    "pause",
    "seen",
    "seen_status",
    "send_lock",
    "sent",
]

PREFIX = "tawasul"
WORK = f"{PREFIX}:work"
SEND_WORK = f"{PREFIX}:send-work"
GROUP = "hub"
NOREPLY = f"{PREFIX}:noreply"
DEAD = f"{PREFIX}:dead"
POISON = f"{PREFIX}:poison"
DEDUP_SECONDS = 7 * 24 * 3600


def seen(channel: str, provider_message_id: str) -> str:
    return f"{PREFIX}:seen:{channel}:{provider_message_id}"


def seen_status(channel: str, provider_message_id: str, state: str) -> str:
    return f"{PREFIX}:seen-status:{channel}:{provider_message_id}:{state}"


def conv_in(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:in"


def conv_out(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:out"


def lock(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:lock"


def send_lock(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:sendlock"


def last_inbound(conversation_id: str) -> str:
    """The provider time (epoch s) of the conversation's latest citizen message (messaging
    windows: WhatsApp, Messenger); set by the ingest script."""
    return f"{PREFIX}:conv:{conversation_id}:last-in"


def language(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:lang"


def pace(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{conversation_id}:pace"


def sent(reply_key: str) -> str:
    return f"{PREFIX}:sent:{reply_key}"


def pause(channel: str) -> str:
    return f"{PREFIX}:pause:{channel}"


def contact(conversation_id: str) -> str:
    return f"{PREFIX}:contact:{conversation_id}"


def contact_synced(conversation_id: str, digest: str) -> str:
    return f"{PREFIX}:contact-synced:{conversation_id}:{digest}"
