"""Approved WhatsApp message templates the hub may send outside the 24 h window.

Read from a YAML file (``TAWASUL_WHATSAPP_TEMPLATES``, default
``settings/whatsapp_templates.yml``)::

    templates:
      ticket_update:                  # OutboundMessage.template
        name: tawasul_ticket_update   # the template's name in WhatsApp Manager
        languages: {ar: ar, en: en}   # our language → the template's language code
        body_params: 2                # {{1}}, {{2}} ... filled from template_params in order
        quick_replies:                # payloads of its quick-reply buttons, in order;
          - "/thank"                  # $1, $2 ... stand for template_params
          - '/follow_up{"ticket_id":"$1"}'

The template's words are approved at Meta, not kept here; a tap on a quick reply arrives as a
``button`` message with the payload and re-opens the window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

__all__ = ["Template", "load_templates"]

_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


@dataclass(frozen=True, slots=True)
class Template:
    """One approved template and how to fill it."""

    name: str
    languages: Mapping[str, str]
    body_params: int = 0
    quick_replies: tuple[str, ...] = ()

    def language_code(self, language: str) -> str:
        """The template language for our ``ar``/``en`` (the first configured otherwise)."""
        return self.languages.get(language) or next(iter(self.languages.values()))


def _template(key: str, raw: Any, source: Path) -> Template:
    where = f"{source}: templates.{key}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is not a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}.name must be a template name (a-z, 0-9, _)")
    languages = raw.get("languages")
    if not isinstance(languages, dict) or not languages:
        raise ConfigError(f"{where}.languages must map ar/en to language codes")
    codes = {str(k): str(v) for k, v in languages.items()}
    if not all(_LANGUAGE.match(v) for v in codes.values()):
        raise ConfigError(f"{where}.languages: codes look like ar, en or en_US")
    params = raw.get("body_params", 0)
    if not isinstance(params, int) or isinstance(params, bool) or not 0 <= params <= 20:
        raise ConfigError(f"{where}.body_params must be a number 0-20")
    replies = raw.get("quick_replies") or []
    if not isinstance(replies, list) or len(replies) > 10:
        raise ConfigError(f"{where}.quick_replies must be a list of at most 10 payloads")
    payloads = tuple(str(p) for p in replies)
    if any(not p or len(p) > 128 for p in payloads):
        raise ConfigError(f"{where}.quick_replies: payloads are 1-128 characters")
    return Template(name, codes, params, payloads)


def load_templates(path: Path, *, required: bool) -> dict[str, Template]:
    """The templates in ``path``; ``{}`` when it does not exist and is not ``required``."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such templates file")
        return {}
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: unreadable: {exc}") from exc
    templates = data.get("templates") if isinstance(data, dict) else None
    if templates is None:
        return {}
    if not isinstance(templates, dict):
        raise ConfigError(f"{path}: templates must be a mapping")
    return {str(key): _template(str(key), raw, path) for key, raw in templates.items()}
