"""WhatsApp Cloud API settings from the environment (table in README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError
from channels.meta.config import GraphConfig, required
from channels.whatsapp.templates import Template, load_templates

__all__ = ["DEFAULT_TEMPLATES", "WhatsAppConfig"]

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "settings" / "whatsapp_templates.yml"
_REQUIRED = (
    "TAWASUL_WHATSAPP_ACCESS_TOKEN",
    "TAWASUL_WHATSAPP_APP_SECRET",
    "TAWASUL_WHATSAPP_VERIFY_TOKEN",
    "TAWASUL_WHATSAPP_PHONE_NUMBER_ID",
)


@dataclass(frozen=True, slots=True)
class WhatsAppConfig:
    """One business phone number of a WhatsApp Business Account."""

    access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    phone_number_id: str
    graph: GraphConfig = field(default_factory=GraphConfig)
    templates: Mapping[str, Template] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WhatsAppConfig | None:
        """The settings, or None when no ``TAWASUL_WHATSAPP_*`` credential is set.

        :class:`ConfigError` when only some are set or a value is malformed."""
        values = required(env, _REQUIRED)
        if values is None:
            return None
        phone_number_id = values["TAWASUL_WHATSAPP_PHONE_NUMBER_ID"]
        if not phone_number_id.isdigit():
            raise ConfigError("TAWASUL_WHATSAPP_PHONE_NUMBER_ID must be the numeric id")
        templates_path = (env.get("TAWASUL_WHATSAPP_TEMPLATES") or "").strip()
        templates = load_templates(
            Path(templates_path) if templates_path else DEFAULT_TEMPLATES,
            required=bool(templates_path),
        )
        return cls(
            access_token=values["TAWASUL_WHATSAPP_ACCESS_TOKEN"],
            app_secret=values["TAWASUL_WHATSAPP_APP_SECRET"],
            verify_token=values["TAWASUL_WHATSAPP_VERIFY_TOKEN"],
            phone_number_id=phone_number_id,
            graph=GraphConfig.from_env(env),
            templates=templates,
        )
