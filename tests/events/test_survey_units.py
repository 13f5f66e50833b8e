"""The survey's pieces on their own: keys, settings, the system message's way through ingest
(only the hub may make one), what the senders' outcomes are noted for, the template file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot import keys
from bot.errors import ConfigError, MalformedPayload
from bot.events import NotifySettings, outcome_hook
from bot.events.model import Recipient, TicketEvent
from bot.events.render import acknowledged, outbound, update_for
from bot.events.store import OUTCOMES
from bot.events.survey import REMINDER, SURVEY, ProactiveKey, key_of, system_message
from bot.ingest import Ingest, inject
from bot.metrics import HubMetrics
from bot.model import InboundMessage, OutboundMessage
from bot.turn import rasa_message, rasa_metadata
from channels.whatsapp.templates import load_templates

from .conftest import event

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "settings" / "notifications.yml"


def settings(**env: str) -> NotifySettings:
    made = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": "s", **env})
    assert made is not None
    return made


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("event:e-1:0:whatsapp", ProactiveKey("event", "e-1", 0, "whatsapp")),
        ("survey:e-1:2:telegram", ProactiveKey("survey", "e-1", 2, "telegram")),
        ("survey:e-1:0:telegram:0", ProactiveKey("survey", "e-1", 0, "telegram", 0)),
        ("survey-reminder:e:1:0:web:3", ProactiveKey("survey-reminder", "e:1", 0, "web", 3)),
        ("wamid.HBgM:0", None),  # a reply to a citizen's message
        ("survey:e-1:x:telegram", None),
        ("survey::0:telegram", None),
        ("event:e-1:0", None),
    ],
)
def test_keys_tie_outcomes_to_an_event_and_a_recipient(
    key: str, parsed: ProactiveKey | None
) -> None:
    assert ProactiveKey.parse(key) == parsed
    if parsed is not None and parsed.reply is None:
        assert key_of(parsed.kind, parsed.event_id, parsed.index, parsed.channel) == key


def test_survey_settings_from_the_file_and_refused_values(tmp_path: Path) -> None:
    survey = settings().survey
    assert survey.payload_for("482913657") == '/start_survey{"ticket_id":"482913657"}'
    assert survey.reminder_hours == 24 and survey.whatsapp_template == "closure_survey"
    assert survey.skip_channels == frozenset({"voice"})
    assert "telegram" in settings().followup_ack_skip_channels
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    for bad in ("  payload: '/start_survey'", "  reminder_hours: 0", "  reminder_hours: soon"):
        field = bad.split(":")[0]
        broken = tmp_path / "n.yml"
        lines = [bad if line.startswith(field + ":") else line for line in text.splitlines()]
        broken.write_text("\n".join(lines), encoding="utf-8")
        with pytest.raises(ConfigError):
            settings(TAWASUL_NOTIFICATIONS=str(broken))


def test_the_survey_template_is_configured_with_both_quick_replies() -> None:
    templates = load_templates(SETTINGS_FILE.with_name("whatsapp_templates.yml"), required=True)
    survey = templates[settings().survey.whatsapp_template or ""]
    assert survey.body_params == 1 and set(survey.languages) == {"ar", "en"}
    assert survey.quick_replies == ('/start_survey{"ticket_id":"$1"}',
                                    '/follow_up{"ticket_id":"$1"}')  # fmt: skip


def test_system_message_reaches_rasa_with_proactive_and_survives_json() -> None:
    body = event("ticket.survey_requested", data={"update_id": "3"})
    parsed = TicketEvent.parse(json.dumps(body))
    message = system_message(settings(), parsed, REMINDER, 0, "telegram", "70001", "en")
    assert message.provider_message_id == f"survey-reminder:{body['event_id']}:0:telegram"
    again = InboundMessage.from_json(message.to_json())
    assert again == message and again.system == "survey_reminder"
    assert rasa_message(again) == '/start_survey{"ticket_id":"482913657"}'
    assert rasa_metadata(again, "en", []) == {"channel": "telegram", "public": False,
                                              "language": "en",
                                              "proactive": "survey_reminder"}  # fmt: skip
    assert again.reply_context == {"ticket_number": "482913657",
                                   "event_type": "ticket.survey_requested",
                                   "service_code": "pothole"}  # fmt: skip
    older = InboundMessage.from_dict({k: v for k, v in json.loads(
        message.to_json()).items() if k != "system"})  # fmt: skip
    assert older.system is None and "proactive" not in rasa_metadata(older, "en", [])


def test_every_update_carries_the_ticket_for_the_channels() -> None:
    parsed = TicketEvent.parse(json.dumps(event()))
    update = update_for(settings(), parsed, "ar")
    assert update is not None
    reply = outbound(settings(), update, parsed, 0, "email", "a@b.test", "ar")
    assert reply.reply_context == {"ticket_number": "482913657",
                                   "event_type": "ticket.status_changed",
                                   "service_code": "pothole"}  # fmt: skip
    assert "message_id" not in reply.reply_context  # e-mail threads by the conversation


def test_only_the_filer_of_a_chat_followup_is_spared_the_acknowledgement() -> None:
    def created(channel: str) -> TicketEvent:
        body = event("ticket.followup_created", data={"reference": "5512", "channel": channel})
        return TicketEvent.parse(json.dumps(body))

    filer = Recipient("filer", "telegram", "telegram:70001", "en")
    reporter = Recipient("reporter", "telegram", "telegram:70001", "en")
    s = settings()
    assert acknowledged(s, created("telegram"), filer)
    assert not acknowledged(s, created("agent"), filer)  # filed by staff: tell them
    assert not acknowledged(s, created("whatsapp"), filer)  # filed on another channel
    assert not acknowledged(s, created("voice"), reporter)  # nobody known filed it


async def test_ingest_takes_system_messages_only_from_the_hub(
    redis_db: tuple[str, Redis],
) -> None:
    redis = redis_db[1]
    body = TicketEvent.parse(json.dumps(event("ticket.survey_requested")))
    message = system_message(settings(), body, SURVEY, 0, "telegram", "70002", "ar")
    ingest = Ingest(redis, HubMetrics())
    with pytest.raises(MalformedPayload):
        await ingest.submit([message])  # the adapters' door
    assert await redis.xlen(keys.conv_in("telegram:70002")) == 0
    with pytest.raises(ValueError, match="system"):
        await inject(redis, InboundMessage("telegram", "m1", "70002", 1.0, text="hi"))
    assert await inject(redis, message) is True
    assert await inject(redis, message) is False  # its provider id is deduplicated
    assert await redis.xlen(keys.conv_in("telegram:70002")) == 1
    assert await redis.get(keys.last_inbound("telegram:70002")) is None


async def test_outcomes_are_noted_for_the_first_reply_to_a_survey_only(
    redis_db: tuple[str, Redis],
) -> None:
    redis = redis_db[1]
    hook = outcome_hook(redis)
    for key in ("survey:e1:0:telegram:0", "survey:e1:0:telegram:1", "wamid.X:0",
                "survey:e1:0:whatsapp", "event:e1:1:email"):  # fmt: skip
        await hook(OutboundMessage("telegram", "70003", key, "hi"), "sent", None)
    noted = [f[b"k"].decode() for _, f in await redis.xrange(OUTCOMES)]
    assert noted == ["survey:e1:0:telegram:0", "survey:e1:0:whatsapp", "event:e1:1:email"]
