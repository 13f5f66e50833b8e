"""The channel as the hub sees it: registered as "voice", replies kept for the call,
proactive updates refused until the callback dialer takes them, no attachments."""

from __future__ import annotations

import pytest

from bot.channels import CHANNEL_NAMES, load_channels
from bot.errors import MediaError, PermanentSendError
from bot.model import Attachment, OutboundMessage
from channels.voice import VoiceChannel
from tests.channels.voice.conftest import VoiceHub, voice_env


def test_the_registry_loads_it_when_configured() -> None:
    assert "voice" in CHANNEL_NAMES
    loaded = load_channels(voice_env("https://ivr.example.org"), ("voice",))
    assert isinstance(loaded["voice"], VoiceChannel)
    assert load_channels({}, ("voice",)) == {}


async def test_replies_are_kept_per_turn_in_order_and_once(voice_hub: VoiceHub) -> None:
    channel = voice_hub.channel

    def reply(index: int, text: str) -> OutboundMessage:
        return OutboundMessage(channel="voice", recipient_id="+966500000401",
                               key=f"CA{'0' * 32}:3:{index}", text=text)  # fmt: skip

    for message in (reply(1, "second"), reply(0, "first"), reply(1, "second")):
        await channel.deliver(message)
    kept = await channel.parts.store.replies(f"CA{'0' * 32}:3")
    assert [m.text for m in kept] == ["first", "second"]
    assert await channel.parts.store.replies(f"CA{'0' * 32}:4") == []


async def test_proactive_updates_are_refused_for_now(voice_hub: VoiceHub) -> None:
    update = OutboundMessage(channel="voice", recipient_id="+966500000402",
                             key="event:ev1:0", text="Your report is closed")  # fmt: skip
    with pytest.raises(PermanentSendError):
        await voice_hub.channel.deliver(update)


async def test_calls_carry_no_files(voice_hub: VoiceHub) -> None:
    with pytest.raises(MediaError):
        await voice_hub.channel.download(Attachment(type="audio", media_id="x"), 1000)
