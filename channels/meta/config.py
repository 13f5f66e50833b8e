"""Where the Graph API is (``TAWASUL_META_*``; table in channels/whatsapp/README.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import ConfigError

__all__ = ["GraphConfig", "required"]

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v24.0"
_VERSION = re.compile(r"^v\d{1,3}\.\d{1,3}$")


@dataclass(frozen=True, slots=True)
class GraphConfig:
    """The Graph API endpoint both Meta channels call."""

    base_url: str = DEFAULT_BASE_URL
    version: str = DEFAULT_VERSION
    #: Seconds one HTTP call may take in all (connect, send, read the answer).
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GraphConfig:
        """``TAWASUL_META_GRAPH_URL``, ``TAWASUL_META_GRAPH_VERSION``, ``TAWASUL_META_TIMEOUT``;
        :class:`bot.errors.ConfigError` for a malformed value."""
        base_url = (env.get("TAWASUL_META_GRAPH_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ConfigError("TAWASUL_META_GRAPH_URL must be an http(s) URL")
        version = (env.get("TAWASUL_META_GRAPH_VERSION") or DEFAULT_VERSION).strip()
        if not _VERSION.match(version):
            raise ConfigError("TAWASUL_META_GRAPH_VERSION must look like v24.0")
        raw_timeout = (env.get("TAWASUL_META_TIMEOUT") or "10").strip()
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ConfigError("TAWASUL_META_TIMEOUT must be a number of seconds") from None
        if not 0 < timeout <= 120:
            raise ConfigError("TAWASUL_META_TIMEOUT must be between 0 and 120 seconds")
        return cls(base_url=base_url, version=version, timeout=timeout)

    def url(self, *segments: str) -> str:
        """``<base>/<version>/<segments...>``."""
        return "/".join((self.base_url, self.version, *segments))


def required(env: Mapping[str, str], names: Sequence[str]) -> dict[str, str] | None:
    """The values of ``names`` (stripped); None when none is set (the channel is off).

    Some set and others missing is a mistake, not "off": :class:`ConfigError` naming the
    missing ones (a channel never runs half-configured, e.g. without its app secret)."""
    values = {name: (env.get(name) or "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if len(missing) == len(names):
        return None
    if missing:
        raise ConfigError("incomplete configuration, missing " + ", ".join(missing))
    return values
