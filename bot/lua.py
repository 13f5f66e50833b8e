"""The Lua scripts that make the hub's multi-key steps atomic in Redis, and how to call them.

Each script runs as one command, so what it checks and what it writes cannot interleave with
another hub process: dedup + enqueue + announce (ingest), "is the lock still mine" + delete the
input + append the output (fencing), "is the stream still empty" + unlock (no stranded message).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

__all__ = ["SCRIPTS", "Script", "load_all"]

Arg = str | bytes | int | float


@dataclass(frozen=True)
class Script:
    name: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode()).hexdigest()

    async def __call__(self, redis: Redis, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA, loading the script first when Redis does not know it (restarted)."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


# A batch of webhook events, each handled on its own (dedup, then enqueue only if new), all in
# one atomic call. Per event i: KEYS[4i-3..4i] = seen key, stream to append to, work stream,
# the conversation's last-inbound key; ARGV[1] = dedup ttl s, then per event: kind ("m"
# message, "n" no-reply record, "s" status), body, conversation, maxlen of the appended
# stream, the message's provider timestamp (s). A message keeps the latest timestamp in its
# last-inbound key (messaging windows read it) for the dedup ttl; the hub's own message
# (bot.ingest.inject) passes 0, so it never opens a window. Returns 1 (new) / 0 (duplicate)
# per event.
INGEST = Script(
    "ingest",
    """
local out = {}
local n = (#ARGV - 1) / 5
for i = 1, n do
  local k, a = 4 * i - 3, 5 * i - 3
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[1]) then
    local kind = ARGV[a]
    if kind == 'm' then
      redis.call('XADD', KEYS[k + 1], '*', 'm', ARGV[a + 1])
      redis.call('XADD', KEYS[k + 2], '*', 'c', ARGV[a + 2])
      local ts = tonumber(ARGV[a + 4])
      if ts > tonumber(redis.call('GET', KEYS[k + 3]) or '0') then
        redis.call('SET', KEYS[k + 3], ARGV[a + 4], 'EX', ARGV[1])
      end
    elseif kind == 'n' then
      redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', ARGV[a + 3], '*', 'm', ARGV[a + 1])
    end
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
""",
)

# KEYS: lock, work stream. ARGV: token, ttl ms, group, consumer, work entry id.
HEARTBEAT = Script(
    "heartbeat",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('XCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, ARGV[5], 'JUSTID')
return 1
""",
)

# KEYS: lock, stream. ARGV: token. 1 released, 0 the stream has entries (keep going),
# -1 the lock is not ours any more.
RELEASE_IF_EMPTY = Script(
    "release_if_empty",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1])
return 1
""",
)

# KEYS: lock. ARGV: token.
UNLOCK = Script(
    "unlock",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
""",
)

# Give the conversation back (shutdown, an unexpected error): unlock and, when input is left,
# announce it again so another worker picks it up at once.
# KEYS: lock, stream, work stream. ARGV: token, conversation.
HAND_OFF = Script(
    "hand_off",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
if redis.call('XLEN', KEYS[2]) > 0 then
  redis.call('XADD', KEYS[3], '*', 'c', ARGV[2])
  return 1
end
return 0
""",
)

# A turn is done: drop its input, queue its replies, announce them — only if still the holder.
# KEYS: lock, in stream, out stream, send-work stream.
# ARGV: token, in entry id, conversation, ingest time ms, reply JSON...
COMMIT_TURN = Script(
    "commit_turn",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XDEL', KEYS[2], ARGV[2])
if #ARGV > 4 then
  for i = 5, #ARGV do
    redis.call('XADD', KEYS[3], '*', 'm', ARGV[i], 't', ARGV[4])
  end
  redis.call('XADD', KEYS[4], '*', 'c', ARGV[3])
end
return 1
""",
)

# A reply is done (sent, or known sent): drop it, remember its key.
# KEYS: lock, out stream, sent key. ARGV: token, entry id, sent ttl s.
COMMIT_SENT = Script(
    "commit_sent",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XDEL', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
return 1
""",
)

# Move one entry of a conversation stream to a side stream (dead letters, poison).
# KEYS: lock, stream, side stream. ARGV: token, entry id, maxlen (0: uncapped), field, value...
MOVE_ASIDE = Script(
    "move_aside",
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XDEL', KEYS[2], ARGV[2])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
if ARGV[3] ~= '0' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
else
  redis.call('XADD', KEYS[3], '*', unpack(fields))
end
return 1
""",
)

# Admin replay of a dead letter. KEYS: dead, out stream, send-work.
# ARGV: entry id, reply JSON, conversation, time ms.
REPLAY = Script(
    "replay",
    """
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'm', ARGV[2], 't', ARGV[4])
redis.call('XADD', KEYS[3], '*', 'c', ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
""",
)

SCRIPTS = (
    INGEST,
    HEARTBEAT,
    RELEASE_IF_EMPTY,
    HAND_OFF,
    UNLOCK,
    COMMIT_TURN,
    COMMIT_SENT,
    MOVE_ASIDE,
    REPLAY,
)


async def load_all(redis: Redis) -> None:
    """SCRIPT LOAD every script (at start-up, and again after Redis lost them)."""
    for script in SCRIPTS:
        await redis.script_load(script.source)
