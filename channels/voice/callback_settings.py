"""Settings of the automatic callbacks (issue 6 item 2), from the environment.

| variable | default | meaning |
|---|---|---|
| ``TAWASUL_VOICE_CALLBACK_ATTEMPTS`` | 3 | calls per update (then the fallback) |
| ``TAWASUL_VOICE_CALLBACK_RETRY_SECONDS`` | 600 | wait between two attempts (then quiet hours) |
| ``TAWASUL_VOICE_CALLBACK_RING_SECONDS`` | 30 | how long the phone rings (``Timeout``) |
| ``TAWASUL_VOICE_MACHINE_DETECTION`` | ``Enable`` | ``Enable`` / ``DetectMessageEnd`` / ``off`` |
| ``TAWASUL_VOICE_CALLBACK_POLL_SECONDS`` | 2 | how often the schedule is read |
| ``TAWASUL_VOICE_CALLBACK_CHECK_SECONDS`` | 3600 | no final status by then: ask the API |

Quiet hours are those of the proactive updates (``settings/notifications.yml``,
``TAWASUL_QUIET_HOURS``, ``TAWASUL_TIMEZONE``; ``bot.events.quiet``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.events.settings import NotifySettings, QuietHours
from channels.env import bounded_number

__all__ = ["CallbackSettings"]

PREFIX = "TAWASUL_VOICE_"
MACHINE_DETECTION = ("Enable", "DetectMessageEnd")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return bounded_number(env.get(PREFIX + name, ""), PREFIX + name, default, low, high)


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """How callbacks are placed and retried (module table)."""

    attempts: int = 3
    retry_seconds: float = 600.0
    ring_seconds: int = 30
    machine_detection: str | None = "Enable"
    poll_seconds: float = 2.0
    check_seconds: float = 3600.0
    quiet: QuietHours | None = None
    #: Wait before trying again when the Calls API failed for a reason worth retrying.
    api_retry_seconds: float = 30.0
    #: How long a process may take to place one call before another may take it over.
    lease_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CallbackSettings:
        """Raises :class:`ConfigError` for a value that is present but invalid."""
        detection = env.get(PREFIX + "MACHINE_DETECTION", "").strip() or "Enable"
        if detection.lower() in ("off", "0", "false", "no"):
            machine: str | None = None
        elif detection in MACHINE_DETECTION:
            machine = detection
        else:
            raise ConfigError(f"{PREFIX}MACHINE_DETECTION must be Enable, DetectMessageEnd or off")
        # The quiet hours exactly as bot/events reads them (the secret plays no part in them).
        notify = NotifySettings.from_env({**env, "TAWASUL_EVENT_SECRET": "-"})
        return cls(
            attempts=int(_number(env, "CALLBACK_ATTEMPTS", 3, 1, 10)),
            retry_seconds=_number(env, "CALLBACK_RETRY_SECONDS", 600, 1, 7 * 24 * 3600),
            ring_seconds=int(_number(env, "CALLBACK_RING_SECONDS", 30, 5, 600)),
            machine_detection=machine,
            poll_seconds=_number(env, "CALLBACK_POLL_SECONDS", 2, 0.05, 60),
            check_seconds=_number(env, "CALLBACK_CHECK_SECONDS", 3600, 60, 24 * 3600),
            quiet=notify.quiet if notify is not None else None,
        )
