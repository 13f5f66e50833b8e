"""What the X tests share: the account the fake knows, recorded payloads, signing as X does,
and ``TinyHub`` — what the real hub lends an adapter (``channels.base.HubServices``): the one
client session, the real Redis and a real durable ``submit`` (dedup by provider message id
with ``SET NX``, then ``XADD`` to a stream of its own)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from bot.model import InboundMessage
from tests.channels.standin import HubStandIn

PAYLOADS = Path(__file__).with_name("payloads")
USER_ID = "1590000000000000001"  # our account, @Amanat940
SARA = "1234567890"  # an Arabic-speaking citizen
JOHN = "2244994945"  # an English-speaking citizen
CREDENTIALS = {
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "consumer_secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "access_token": f"{USER_ID}-AAAAAAAAAAAAAAAAAAAAABtawasulTESTtoken",
    "access_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    "bearer_token": "AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForTawasulTests",
}


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def payload_json(name: str) -> Any:
    return json.loads(payload(name))


def signature(body: bytes, secret: str = CREDENTIALS["consumer_secret"]) -> str:
    """``x-twitter-webhooks-signature`` of ``body``, as X computes it."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def x_env(fake_url: str, **extra: str) -> dict[str, str]:
    """The channel's environment with every X host pointed at the fake."""
    env = {
        "TAWASUL_X_CONSUMER_KEY": CREDENTIALS["consumer_key"],
        "TAWASUL_X_CONSUMER_SECRET": CREDENTIALS["consumer_secret"],
        "TAWASUL_X_ACCESS_TOKEN": CREDENTIALS["access_token"],
        "TAWASUL_X_ACCESS_TOKEN_SECRET": CREDENTIALS["access_token_secret"],
        "TAWASUL_X_API_BASE_URL": fake_url,
        "TAWASUL_X_TON_BASE_URL": fake_url,
        "TAWASUL_X_PBS_BASE_URL": fake_url,
        "TAWASUL_X_VIDEO_BASE_URL": fake_url,
        "TAWASUL_X_TIMEOUT": "5",
    }
    env.update({f"TAWASUL_X_{key.upper()}": value for key, value in extra.items()})
    return env


class TinyHub(HubStandIn):
    """The stand-in hub (X reports no delivery statuses: only messages)."""

    async def stored(self) -> list[InboundMessage]:
        """The messages made durable, oldest first."""
        return self.messages()
