"""The channel registry: which adapters are on in this process.

``channels.<name>.from_env(env)`` builds a channel from its environment variables, or returns
None when its credentials are not configured (the channel is off). While the adapters are being
written, a package that does not exist yet (``ModuleNotFoundError`` for exactly
``channels.<name>``), or one without ``from_env`` yet, is skipped with a log line; any other
import error is a bug and raised.

``TAWASUL_EXTRA_CHANNELS`` (comma-separated module paths, each with the same ``from_env``) adds
channels that live outside this package — a deployment's own, or the tests' loop-back channel.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any, cast

from bot.errors import ConfigError
from channels.base import Channel

__all__ = ["CHANNEL_NAMES", "load_channels"]

log = logging.getLogger("bot.channels")

CHANNEL_NAMES = ("whatsapp", "messenger", "x", "telegram", "email", "web", "voice")


def _factory(module_name: str, *, optional: bool) -> Any:
    try:
        module: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        if not optional:
            raise ConfigError(f"TAWASUL_EXTRA_CHANNELS: no module {module_name}") from exc
        log.warning("no package %s yet: channel skipped", module_name)
        return None
    factory = getattr(module, "from_env", None)
    if not callable(factory):
        if not optional:
            raise ConfigError(f"TAWASUL_EXTRA_CHANNELS: {module_name} has no from_env")
        log.warning("%s has no from_env yet: channel skipped", module_name)
        return None
    return factory


def load_channels(
    env: Mapping[str, str], names: tuple[str, ...] = CHANNEL_NAMES
) -> dict[str, Channel]:
    """The configured channels by name: ``names`` in order, then the extra ones."""
    modules = [(f"channels.{name}", True) for name in names]
    extra = env.get("TAWASUL_EXTRA_CHANNELS", "")
    modules += [(m.strip(), False) for m in extra.split(",") if m.strip()]
    loaded: dict[str, Channel] = {}
    for module_name, optional in modules:
        factory = _factory(module_name, optional=optional)
        if factory is None:
            continue
        channel = factory(env)
        if channel is None:
            log.info("channel %s: off (not configured)", module_name)
            continue
        name = str(channel.name)
        if name in loaded:
            raise ConfigError(f"two channels are called {name!r}")
        loaded[name] = cast(Channel, channel)
    log.info("channels on: %s", ", ".join(loaded) or "none")
    return loaded
