"""Sending the requests of one reply in order, each at most once (see ``ledger``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import RedisError

from bot.errors import TransientSendError
from channels.meta.graph import GraphClient
from channels.meta.ledger import SentParts

__all__ = ["send_parts"]


async def send_parts(
    client: GraphClient,
    path: str,
    ledger: SentParts,
    reply_key: str,
    bodies: Sequence[dict[str, Any]],
    message_id: Callable[[dict[str, Any]], str],
) -> list[str]:
    """POST each body to ``path`` unless the ledger says it went out already; the provider
    ids of the parts sent now. A failing part stops the reply (the ``SendError`` propagates;
    the hub's retry resumes at that part)."""
    try:
        done = await ledger.done(reply_key)
    except (RedisError, OSError) as exc:
        raise TransientSendError(f"reply ledger unavailable: {exc}") from exc
    sent: list[str] = []
    for index, body in enumerate(bodies):
        if index in done:
            continue
        answer = await client.post_json(path, body)
        provider_id = message_id(answer)
        sent.append(provider_id)
        try:
            await ledger.mark(reply_key, index, provider_id)
        except (RedisError, OSError) as exc:
            raise TransientSendError(f"reply ledger unavailable: {exc}") from exc
    return sent
