"""Messenger settings from the environment (table in README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError
from channels.meta.config import GraphConfig, required

__all__ = ["OUTSIDE_WINDOW_TAGS", "MessengerConfig"]

_REQUIRED = (
    "TAWASUL_MESSENGER_PAGE_ACCESS_TOKEN",
    "TAWASUL_MESSENGER_APP_SECRET",
    "TAWASUL_MESSENGER_VERIFY_TOKEN",
)
#: Message tags an automated reply may use outside the 24 h window (protocols.md §2.4).
#: HUMAN_AGENT is for people, never for the bot.
OUTSIDE_WINDOW_TAGS = frozenset(
    {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}
)


@dataclass(frozen=True, slots=True)
class MessengerConfig:
    """One Facebook Page."""

    page_access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    #: Only this Page's events are taken (None: every Page the app is subscribed to).
    page_id: str | None = None
    #: Tag for replies outside the 24 h window; None refuses them.
    outside_window_tag: str | None = None
    graph: GraphConfig = field(default_factory=GraphConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MessengerConfig | None:
        """The settings, or None when no ``TAWASUL_MESSENGER_*`` credential is set.

        :class:`ConfigError` when only some are set or a value is malformed."""
        values = required(env, _REQUIRED)
        if values is None:
            return None
        page_id = (env.get("TAWASUL_MESSENGER_PAGE_ID") or "").strip() or None
        if page_id is not None and not page_id.isdigit():
            raise ConfigError("TAWASUL_MESSENGER_PAGE_ID must be the numeric Page id")
        tag = (env.get("TAWASUL_MESSENGER_OUTSIDE_WINDOW_TAG") or "").strip().upper() or None
        if tag is not None and tag not in OUTSIDE_WINDOW_TAGS:
            raise ConfigError(
                "TAWASUL_MESSENGER_OUTSIDE_WINDOW_TAG must be one of "
                + ", ".join(sorted(OUTSIDE_WINDOW_TAGS))
            )
        return cls(
            page_access_token=values["TAWASUL_MESSENGER_PAGE_ACCESS_TOKEN"],
            app_secret=values["TAWASUL_MESSENGER_APP_SECRET"],
            verify_token=values["TAWASUL_MESSENGER_VERIFY_TOKEN"],
            page_id=page_id,
            outside_window_tag=tag,
            graph=GraphConfig.from_env(env),
        )
