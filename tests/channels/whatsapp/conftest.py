"""WhatsApp fixtures: the channel configured against the fake Graph API."""

from __future__ import annotations

from pathlib import Path

from channels.whatsapp import WhatsAppChannel, from_env
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.graph_fixtures import (  # noqa: F401 (fixtures)
    channel_fixtures,
    graph,
    graph_env,
    graph_server,
    psid,
    redis,
    session,
    small_hub,
    wa_user,
)

PAYLOADS = Path(__file__).with_name("payloads")
APP_SECRET = "wa-app-secret-for-tests"
VERIFY_TOKEN = "wa-verify-token-for-tests"


def env_for(graph: FakeGraph, **extra: str) -> dict[str, str]:  # noqa: F811
    """The environment that configures the channel against ``graph``."""
    return {
        "TAWASUL_WHATSAPP_ACCESS_TOKEN": graph.wa_token,
        "TAWASUL_WHATSAPP_APP_SECRET": APP_SECRET,
        "TAWASUL_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "TAWASUL_WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        **graph_env(graph),
        **extra,
    }


channel, wired = channel_fixtures(WhatsAppChannel, from_env, env_for)
