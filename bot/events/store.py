"""The Redis side of ticket events: keys, and the atomic steps (one script each).

| key | type | what |
|---|---|---|
| ``tawasul:event-seen:<event_id>`` | string, EX 7 d | dedup of events |
| ``tawasul:event:<event_id>`` | string, EX 7 d | the event's JSON (for holds and fallbacks) |
| ``tawasul:events`` | stream, group ``hub`` | events to process |
| ``tawasul:events:held`` | sorted set (score: release time) | events held by quiet hours |
| ``tawasul:events:outcomes`` | stream, group ``hub`` | what the senders did with updates |
| ``tawasul:event:<event_id>:<index>:tried`` | set, EX 7 d | channels tried for a recipient |
| ``tawasul:event:<event_id>:<index>:<kind>:tried`` | set, EX 7 d | the same, survey / reminder |
| ``tawasul:events:reminders`` | sorted set (score: due) | survey reminders ``<event_id>:<index>`` |
| ``tawasul:event:<event_id>:<index>:reminder`` | string, EX 7 d | the reminder was scheduled |
| ``tawasul:event:<event_id>:<index>:survey-place`` | string, EX 7 d | where the survey started |
"""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis

from bot import keys
from bot.errors import MalformedPayload
from bot.events.model import TicketEvent
from bot.lua import Script
from bot.model import OutboundMessage

__all__ = ["EVENTS", "GROUP", "HELD", "OUTCOMES", "REMINDERS", "TTL", "EventStore"]

EVENTS = "tawasul:events"
HELD = "tawasul:events:held"
OUTCOMES = "tawasul:events:outcomes"
REMINDERS = "tawasul:events:reminders"
GROUP = "hub"
TTL = keys.DEDUP_SECONDS
OUTCOMES_MAXLEN = 100_000


def seen_key(event_id: str) -> str:
    return f"tawasul:event-seen:{event_id}"


def body_key(event_id: str) -> str:
    return f"tawasul:event:{event_id}"


def tried_key(event_id: str, index: int, kind: str = "event") -> str:
    suffix = "tried" if kind == "event" else f"{kind}:tried"
    return f"tawasul:event:{event_id}:{index}:{suffix}"


def reminder_key(event_id: str, index: int) -> str:
    return f"tawasul:event:{event_id}:{index}:reminder"


def place_key(event_id: str, index: int) -> str:
    return f"tawasul:event:{event_id}:{index}:survey-place"


# KEYS: seen, body, events stream. ARGV: ttl s, body, event id. 1 new, 0 seen before.
STORE = Script(
    "events_store",
    """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[1])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return 1
""",
)

# KEYS: conversation out stream, send-work. ARGV: reply JSON, conversation, time ms.
ENQUEUE = Script(
    "events_enqueue",
    """
redis.call('XADD', KEYS[1], '*', 'm', ARGV[1], 't', ARGV[3])
redis.call('XADD', KEYS[2], '*', 'c', ARGV[2])
return 1
""",
)

# KEYS: held, events stream, the event's stream entry's stream (same). ARGV: event id, release
# score, entry id to ack. Hold an event and drop it from the stream, in one step.
HOLD = Script(
    "events_hold",
    """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
""",
)

# KEYS: held, events stream. ARGV: now score, limit. Due held events back into the stream.
RELEASE = Script(
    "events_release",
    """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'e', id)
end
return #due
""",
)

# KEYS: reminders, the once-marker. ARGV: due score, member, ttl s. 1 scheduled, 0 it was before
# (a re-processed event never schedules a second reminder, even after the first was sent).
SCHEDULE = Script(
    "events_schedule_reminder",
    """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return 1
""",
)


class EventStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def store(self, event_id: str, body: bytes) -> bool:
        """Durable and deduplicated: True when new (queued), False when seen before."""
        return bool(
            await STORE(self.redis, [seen_key(event_id), body_key(event_id), EVENTS],
                        [TTL, body, event_id])
        )  # fmt: skip

    async def body(self, event_id: str) -> bytes | None:
        raw = await self.redis.get(body_key(event_id))
        return raw if isinstance(raw, bytes) else None

    async def event(self, event_id: str) -> TicketEvent | None:
        """The stored event; None when it expired or cannot be read."""
        raw = await self.body(event_id)
        if raw is None:
            return None
        try:
            return TicketEvent.parse(raw)
        except MalformedPayload:
            return None

    async def enqueue(self, message: OutboundMessage) -> None:
        """Hand an update to the hub's outbound queue (the send workers), like a turn's reply."""
        conversation = message.conversation_id
        await ENQUEUE(
            self.redis,
            [keys.conv_out(conversation), keys.SEND_WORK],
            [message.to_json(), conversation, int(time.time() * 1000)],
        )

    async def hold(self, event_id: str, until: float, entry_id: str) -> None:
        await HOLD(self.redis, [HELD, EVENTS], [event_id, until, entry_id, GROUP])

    async def release_due(self, now: float, limit: int = 100) -> int:
        return int(await RELEASE(self.redis, [HELD, EVENTS], [now, limit]))

    async def schedule_reminder(self, event_id: str, index: int, due: float) -> bool:
        """The survey reminder of this recipient at ``due`` (epoch s), once ever."""
        member = f"{event_id}:{index}"
        return bool(
            await SCHEDULE(self.redis, [REMINDERS, reminder_key(event_id, index)],
                           [due, member, TTL])
        )  # fmt: skip

    async def due_reminders(self, now: float, limit: int = 100) -> list[str]:
        raw = await self.redis.zrangebyscore(REMINDERS, "-inf", now, start=0, num=limit)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in raw]

    async def claim_reminder(self, member: str) -> bool:
        """True for exactly one caller (ZREM): that process alone sends the reminder."""
        return bool(await self.redis.zrem(REMINDERS, member))

    async def postpone_reminder(self, member: str, due: float) -> None:
        """Put a claimed reminder back for later (quiet hours, the ticket service away)."""
        await self.redis.zadd(REMINDERS, {member: due})

    async def note_survey_place(
        self, event_id: str, index: int, channel: str, user_id: str
    ) -> None:
        """Where this recipient's survey first started (kept: later starts do not move it)."""
        place = json.dumps([channel, user_id])
        await self.redis.set(place_key(event_id, index), place, nx=True, ex=TTL)

    async def survey_place(self, event_id: str, index: int) -> tuple[str, str] | None:
        """``(channel, user id)`` of :meth:`note_survey_place`; None when not noted."""
        raw = await self.redis.get(place_key(event_id, index))
        if raw is None:
            return None
        channel, user_id = json.loads(raw)
        return str(channel), str(user_id)

    async def try_channel(
        self, event_id: str, index: int, channel: str, kind: str = "event"
    ) -> bool:
        """Remember ``channel`` as tried for this recipient; False when it was already."""
        key = tried_key(event_id, index, kind)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, channel)
            pipe.expire(key, TTL)
            added, _ = await pipe.execute()
        return bool(added)
