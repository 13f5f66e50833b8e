"""The callbacks' state in Redis: one record per update, a schedule, and the atomic steps.

| key | type | what |
|---|---|---|
| ``tawasul:voice:cb:<id>`` | hash, EX 7 d | one callback (fields below) |
| ``tawasul:voice:cb-key:<message key>`` | string, EX 7 d | the callback of an update key |
| ``tawasul:voice:cb-due`` | sorted set | id → when to act next (UTC s): dial, retry, check |

A record holds the update (``m``), its ``key``, ``state``, ``attempt`` (calls placed or being
placed), the current call's ``sid``, the ``history`` of unanswered attempts and ``machine``
(the sid an answering machine took).

States: ``new`` → ``dialing`` (a process holds it and is placing attempt N) → ``calling`` (Twilio
has the call) → ``done`` (answered) | ``waiting`` (busy / no answer: the next attempt is due) |
``failed`` (attempts used up, or Twilio refused the call). Every step is a compare-and-set
script, so a late, repeated or forged-but-signed status callback changes nothing, and only the
process that wins the schedule's claim dials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot.lua import Script

__all__ = ["DUE", "CallbackRecord", "CallbackStore"]

PREFIX = "tawasul:voice:cb"
DUE = f"{PREFIX}-due"
TTL = 7 * 24 * 3600


def record_key(callback_id: str) -> str:
    return f"{PREFIX}:{callback_id}"


def index_key(message_key: str) -> str:
    return f"{PREFIX}-key:{message_key}"


# KEYS: index, record, due. ARGV: id, message JSON, message key, ttl, first due (s).
# Returns {id, 1} when created, {existing id, 0} when the key already has a callback.
CREATE = Script(
    "voice_cb_create",
    """
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('HSET', KEYS[2], 'm', ARGV[2], 'key', ARGV[3], 'state', 'new', 'attempt', 0)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return {ARGV[1], 1}
""",
)

# KEYS: due. ARGV: id, now, lease until. 1 when the entry was due and is now ours until the
# lease ends (a process that dies holding it loses it then).
CLAIM = Script(
    "voice_cb_claim",
    """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
""",
)

# KEYS: record. The attempt number to dial now (a re-claimed ``dialing`` keeps its number:
# whether that call went out is unknown), or 0 when there is nothing to dial.
BEGIN = Script(
    "voice_cb_begin",
    """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'new' or state == 'waiting' then
  redis.call('HSET', KEYS[1], 'state', 'dialing', 'sid', '')
  return redis.call('HINCRBY', KEYS[1], 'attempt', 1)
end
if state == 'dialing' then return tonumber(redis.call('HGET', KEYS[1], 'attempt')) end
return 0
""",
)

# KEYS: record, due. ARGV: id, sid, check at (s). The call is Twilio's now; 0 when a status
# callback already finished it (a very fast busy).
PLACED = Script(
    "voice_cb_placed",
    """
if redis.call('HGET', KEYS[1], 'state') ~= 'dialing' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'calling', 'sid', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
""",
)

# KEYS: record, due. ARGV: id, retry at (s). Placing failed for a reason worth retrying: the
# attempt does not count.
UNPLACED = Script(
    "voice_cb_unplaced",
    """
if redis.call('HGET', KEYS[1], 'state') ~= 'dialing' then return 0 end
redis.call('HINCRBY', KEYS[1], 'attempt', -1)
redis.call('HSET', KEYS[1], 'state', 'waiting')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
""",
)

# KEYS: record, due. ARGV: id, sid ('' = the call Twilio never took), new state, next due
# ('' = none), what happened (appended to ``history`` unless ''). Only the current call
# (``calling`` with that sid, or ``dialing`` not yet told its sid) moves the state: 1 if it did.
FINISH = Script(
    "voice_cb_finish",
    """
local state = redis.call('HGET', KEYS[1], 'state')
local sid = redis.call('HGET', KEYS[1], 'sid') or ''
local current = (state == 'calling' and sid == ARGV[2])
  or (state == 'dialing' and (sid == '' or sid == ARGV[2]))
if not current then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'sid', ARGV[2])
if ARGV[5] ~= '' then
  local past = redis.call('HGET', KEYS[1], 'history')
  if past and past ~= '' then past = past .. ',' .. ARGV[5] else past = ARGV[5] end
  redis.call('HSET', KEYS[1], 'history', past)
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
""",
)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class CallbackRecord:
    """One callback as stored."""

    id: str
    message: str
    key: str
    state: str
    attempt: int
    sid: str
    history: tuple[str, ...]
    fields: dict[str, str]

    @classmethod
    def from_hash(cls, callback_id: str, raw: dict[Any, Any]) -> CallbackRecord | None:
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if "m" not in fields:
            return None
        history = tuple(h for h in fields.get("history", "").split(",") if h)
        return cls(
            id=callback_id,
            message=fields["m"],
            key=fields.get("key", ""),
            state=fields.get("state", ""),
            attempt=int(fields.get("attempt") or 0),
            sid=fields.get("sid", ""),
            history=history,
            fields=fields,
        )


class CallbackStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def create(
        self, callback_id: str, message_json: str, message_key: str, first_due: float
    ) -> tuple[str, bool]:
        """The callback of ``message_key`` (created and scheduled at ``first_due`` if new)."""
        found, created = await CREATE(
            self.redis,
            [index_key(message_key), record_key(callback_id), DUE],
            [callback_id, message_json, message_key, TTL, first_due],
        )
        return _text(found), bool(created)

    async def get(self, callback_id: str) -> CallbackRecord | None:
        return CallbackRecord.from_hash(
            callback_id, await self.redis.hgetall(record_key(callback_id))
        )

    async def claim(self, callback_id: str, now: float, lease: float) -> bool:
        return bool(await CLAIM(self.redis, [DUE], [callback_id, now, now + lease]))

    async def due(self, now: float, limit: int = 20) -> list[str]:
        found = await self.redis.zrangebyscore(DUE, "-inf", now, start=0, num=limit)
        return [_text(item) for item in found]

    async def begin(self, callback_id: str) -> int:
        return int(await BEGIN(self.redis, [record_key(callback_id)], []))

    async def placed(self, callback_id: str, sid: str, check_at: float) -> bool:
        return bool(
            await PLACED(self.redis, [record_key(callback_id), DUE], [callback_id, sid, check_at])
        )

    async def unplaced(self, callback_id: str, retry_at: float) -> bool:
        return bool(
            await UNPLACED(self.redis, [record_key(callback_id), DUE], [callback_id, retry_at])
        )

    async def finish(
        self, callback_id: str, sid: str, state: str, next_due: float | None, what: str
    ) -> bool:
        """Move the current call's callback to ``state``; False for any other call."""
        due = "" if next_due is None else repr(next_due)
        return bool(
            await FINISH(
                self.redis,
                [record_key(callback_id), DUE],
                [callback_id, sid, state, due, what],
            )
        )

    async def reschedule(self, callback_id: str, at: float) -> None:
        """Act on the callback again at ``at`` (only while it is scheduled)."""
        await self.redis.zadd(DUE, {callback_id: at}, xx=True)

    async def drop(self, callback_id: str) -> None:
        await self.redis.zrem(DUE, callback_id)

    async def note(self, callback_id: str, **values: str) -> None:
        """Remember something about the current call (machine answer, survey answers)."""
        await self.redis.hset(record_key(callback_id), mapping=values)  # type: ignore[arg-type]
