"""Messenger configuration: off without credentials, refused half-configured, tag checks."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from channels.messenger import MessengerChannel, from_env
from tests.channels.fakes.graph import FakeGraph
from tests.channels.messenger.conftest import env_for


def test_off_without_credentials() -> None:
    assert from_env({}) is None


@pytest.mark.parametrize(
    "missing",
    [
        "TAWASUL_MESSENGER_PAGE_ACCESS_TOKEN",
        "TAWASUL_MESSENGER_APP_SECRET",
        "TAWASUL_MESSENGER_VERIFY_TOKEN",
    ],
)
def test_half_configured_is_an_error(graph: FakeGraph, missing: str) -> None:
    env = env_for(graph)
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        from_env(env)


def test_full_configuration(graph: FakeGraph) -> None:
    channel = from_env(env_for(graph))
    assert isinstance(channel, MessengerChannel)
    assert channel.name == "messenger"
    assert channel.config.page_id == graph.page_id
    assert channel.config.outside_window_tag is None
    assert graph.page_token not in repr(channel.config)


def test_page_id_is_optional(graph: FakeGraph) -> None:
    env = env_for(graph)
    del env["TAWASUL_MESSENGER_PAGE_ID"]
    channel = from_env(env)
    assert isinstance(channel, MessengerChannel)
    assert channel.config.page_id is None


@pytest.mark.parametrize("tag", ["HUMAN_AGENT", "MARKETING", "yes"])
def test_only_automated_tags_are_allowed(graph: FakeGraph, tag: str) -> None:
    with pytest.raises(ConfigError, match="ACCOUNT_UPDATE"):
        from_env(env_for(graph, TAWASUL_MESSENGER_OUTSIDE_WINDOW_TAG=tag))


def test_page_id_must_be_numeric(graph: FakeGraph) -> None:
    with pytest.raises(ConfigError):
        from_env(env_for(graph, TAWASUL_MESSENGER_PAGE_ID="tawasul940"))
