"""WhatsApp configuration: off without credentials, refused half-configured, templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from channels.whatsapp import WhatsAppChannel, from_env
from channels.whatsapp.config import WhatsAppConfig
from tests.channels.fakes.graph import FakeGraph
from tests.channels.whatsapp.conftest import env_for


def test_off_without_credentials() -> None:
    assert from_env({}) is None
    assert from_env({"TAWASUL_META_GRAPH_URL": "http://127.0.0.1:1"}) is None


@pytest.mark.parametrize(
    "missing",
    [
        "TAWASUL_WHATSAPP_APP_SECRET",
        "TAWASUL_WHATSAPP_VERIFY_TOKEN",
        "TAWASUL_WHATSAPP_ACCESS_TOKEN",
        "TAWASUL_WHATSAPP_PHONE_NUMBER_ID",
    ],
)
def test_half_configured_is_an_error_never_an_unsigned_channel(
    graph: FakeGraph, missing: str
) -> None:
    env = env_for(graph)
    env[missing] = ""
    with pytest.raises(ConfigError, match=missing):
        from_env(env)


def test_full_configuration(graph: FakeGraph) -> None:
    channel = from_env(env_for(graph))
    assert isinstance(channel, WhatsAppChannel)
    assert channel.name == "whatsapp"
    config = channel.config
    assert config.phone_number_id == graph.phone_number_id
    assert config.graph.base_url == graph.base_url
    assert config.graph.timeout == 2.0
    assert "ticket_update" in config.templates  # settings/whatsapp_templates.yml
    assert config.templates["ticket_update"].body_params == 2
    assert graph.wa_token not in repr(config)


def test_phone_number_id_must_be_numeric(graph: FakeGraph) -> None:
    with pytest.raises(ConfigError):
        from_env(env_for(graph, TAWASUL_WHATSAPP_PHONE_NUMBER_ID="+966138940940"))


def test_templates_file_from_the_environment(graph: FakeGraph, tmp_path: Path) -> None:
    path = tmp_path / "templates.yml"
    path.write_text(
        "templates:\n"
        "  closed:\n"
        "    name: tawasul_closed\n"
        "    languages: {ar: ar, en: en_US}\n"
        "    body_params: 1\n",
        encoding="utf-8",
    )
    config = WhatsAppConfig.from_env(env_for(graph, TAWASUL_WHATSAPP_TEMPLATES=str(path)))
    assert config is not None
    assert set(config.templates) == {"closed"}
    assert config.templates["closed"].language_code("en") == "en_US"
    assert config.templates["closed"].language_code("fr") == "ar"


@pytest.mark.parametrize(
    "text",
    [
        "templates:\n  x:\n    name: Bad Name\n    languages: {ar: ar}\n",
        "templates:\n  x:\n    name: ok\n    languages: {}\n",
        "templates:\n  x:\n    name: ok\n    languages: {ar: arabic}\n",
        "templates:\n  x:\n    name: ok\n    languages: {ar: ar}\n    body_params: many\n",
        "templates:\n  x:\n    name: ok\n    languages: {ar: ar}\n    quick_replies: ['']\n",
        "templates: [1, 2]\n",
        "templates: {x: [\n",
    ],
)
def test_bad_templates_are_refused_at_start(graph: FakeGraph, tmp_path: Path, text: str) -> None:
    path = tmp_path / "templates.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        WhatsAppConfig.from_env(env_for(graph, TAWASUL_WHATSAPP_TEMPLATES=str(path)))


def test_named_templates_file_must_exist(graph: FakeGraph, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such"):
        WhatsAppConfig.from_env(
            env_for(graph, TAWASUL_WHATSAPP_TEMPLATES=str(tmp_path / "missing.yml"))
        )
