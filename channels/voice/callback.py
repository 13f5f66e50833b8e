"""Automatic callbacks (issue 6 item 2): a proactive update for a ``voice`` recipient becomes an
outbound call that speaks it and, after a closure, takes the survey by keypad.

The voice channel hands every reply whose key starts with ``event:`` (bot/events) to
:meth:`Callbacks.deliver`; :meth:`Callbacks.setup` mounts the callbacks' webhooks and runs the
retry schedule in the app's ``cleanup_ctx``. The parts:

| module | job |
|---|---|
| ``calls_api`` | the Calls API client (errors → ``bot.errors``) |
| ``callback_settings`` | attempts, delays, ring time, machine detection, quiet hours |
| ``callback_store`` | Redis records, schedule and atomic steps |
| ``callback_dialer`` | placing calls, outcomes, retries, reporting the final failure |
| ``callback_twiml``, ``callback_prompts`` | what the call says (voice_prompts.yml) |
| ``survey_keypad`` | the keypad survey's steps |
| ``callback_routes`` | the signed webhooks |

The ticket history shows ``sent`` when the call was placed (the sender's outcome); when every
attempt went unanswered it then shows ``failed`` ("busy ×3") and the ``fallback`` to the
contact's next verified channel (``fallback_order`` of settings/notifications.yml).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from aiohttp import web

from bot.events import outcome_hook
from bot.model import OutboundMessage
from bot.tasks import stoppable_task
from channels.base import HubServices
from channels.voice.callback_dialer import CallbackDialer
from channels.voice.callback_prompts import load_callback_prompts
from channels.voice.callback_routes import add_callback_routes
from channels.voice.callback_settings import CallbackSettings
from channels.voice.callback_store import CallbackStore
from channels.voice.callback_twiml import CallbackTwiml
from channels.voice.calls_api import CallsApi
from channels.voice.config import VoiceConfig
from channels.voice.prompts import DEFAULT_PATH, Prompts
from ticket_service.clock import Clock, SystemClock

__all__ = ["EVENT_PREFIX", "Callbacks"]

#: Reply keys of proactive updates (``bot.events.render.message_key``).
EVENT_PREFIX = "event:"


class Callbacks:
    """The callbacks of one voice channel."""

    def __init__(
        self,
        config: VoiceConfig,
        settings: CallbackSettings,
        *,
        prompts: Prompts | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.prompts = prompts or load_callback_prompts()
        self.clock: Clock = clock or SystemClock()
        self.dialer: CallbackDialer | None = None

    @classmethod
    def from_env(
        cls, config: VoiceConfig, env: Mapping[str, str], *, clock: Clock | None = None
    ) -> Callbacks:
        """Settings from ``TAWASUL_VOICE_CALLBACK_*``, the prompts' ``callback`` section of
        ``TAWASUL_VOICE_PROMPTS`` (default ``settings/voice_prompts.yml``) and the hub's
        ticket service as the hub reaches it (``HubServices.tickets``)."""
        path = env.get("TAWASUL_VOICE_PROMPTS", "").strip()
        prompts = load_callback_prompts(Path(path) if path else DEFAULT_PATH)
        return cls(config, CallbackSettings.from_env(env), prompts=prompts, clock=clock)

    def setup(self, app: web.Application, hub: HubServices) -> None:
        """The webhooks under ``/webhooks/voice/callback`` and the schedule loop."""
        session_calls: dict[str, CallsApi] = {}

        def calls() -> CallsApi:
            if "api" not in session_calls:  # the hub's session exists once the app runs
                session_calls["api"] = CallsApi(
                    hub.session, self.config.api_url, self.config.account_sid,
                    self.config.auth_token,
                )  # fmt: skip
            return session_calls["api"]

        dialer = CallbackDialer(
            config=self.config, settings=self.settings, store=CallbackStore(hub.redis),
            calls=calls, clock=self.clock, report=outcome_hook(hub.redis), tickets=hub.tickets,
        )  # fmt: skip
        self.dialer = dialer
        add_callback_routes(app, self.config, dialer, CallbackTwiml(self.config, self.prompts),
                            hub.tickets)  # fmt: skip

        async def schedule(_app: web.Application) -> AsyncIterator[None]:
            try:
                async with stoppable_task(dialer.run, "voice-callbacks"):
                    yield
            finally:
                session_calls.clear()

        app.cleanup_ctx.append(schedule)

    async def deliver(self, message: OutboundMessage) -> None:
        """Place (or schedule) the update's callback; see :class:`CallbackDialer`."""
        if self.dialer is None:
            raise RuntimeError("Callbacks.setup was not called")
        await self.dialer.deliver(message)
