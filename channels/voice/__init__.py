"""Voice channel: the 940 IVR over TwiML (Twilio or any TwiML-compatible provider;
README.md beside this file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.errors import ConfigError
from nlu_components.language import switch_request

from .callback import Callbacks
from .channel import VoiceChannel
from .config import VoiceConfig
from .prompts import DEFAULT_PATH, LANGUAGES, Prompts, load_prompts

__all__ = ["VoiceChannel", "VoiceConfig", "from_env", "load_checked_prompts"]


def load_checked_prompts(path: Path = DEFAULT_PATH) -> Prompts:
    """The inbound prompts, with ``switch_language`` checked to be a phrase the bot takes as
    a request for that language."""
    prompts = load_prompts(path)
    for language in LANGUAGES:
        if switch_request(prompts.text("switch_language", language)) != language:
            raise ConfigError(f"{path}: switch_language.{language} is no switch phrase")
    return prompts


def from_env(env: Mapping[str, str] = os.environ) -> VoiceChannel | None:
    """The channel when ``TAWASUL_VOICE_AUTH_TOKEN`` is set, else None (off). Raises
    ``bot.errors.ConfigError`` on invalid values and on a prompt file that lacks a prompt
    (``TAWASUL_VOICE_PROMPTS``, default ``settings/voice_prompts.yml``)."""
    config = VoiceConfig.from_env(env)
    if config is None:
        return None
    path = env.get("TAWASUL_VOICE_PROMPTS", "").strip()
    prompts = load_checked_prompts(Path(path) if path else DEFAULT_PATH)
    return VoiceChannel(config, prompts, callbacks=Callbacks.from_env(config, env))
