"""The steps of issue 5's story, the same on every channel: the report filed as the bot files
it, staff changing its status, the update the citizen must get (its words from
settings/notifications.yml), the closure survey and the KPIs it moves."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.spots import random_pin
from tests.stack import ROOT, stored_surveys
from ticket_client import HistoryEntry

from .citizens import Citizen, Seen
from .harness import E2E

DESCRIPTION = {
    "ar": "فيه حفرة كبيرة وعميقة في الشارع قدام بيتنا وخربت كفر سيارتي",
    "en": "There is a big deep pothole in the road in front of our house, it damaged my tyre",
}
CREW_NOTE = {"ar": "الفريق في الموقع ويبدأ الإصلاح اليوم",
             "en": "The crew is on site and starts the repair today"}  # fmt: skip
FIXED_NOTE = {"ar": "ردمنا الحفرة وأعدنا سفلتة الموقع",
              "en": "The pothole was filled and the road resurfaced"}  # fmt: skip
TEXTS: dict[str, dict[str, str]] = yaml.safe_load(
    (ROOT / "settings" / "notifications.yml").read_text(encoding="utf-8")
)["texts"]
SURVEY_FORM = "survey_form"  # the bot's survey form (docs/bot.md)
SURVEY_WAIT = 60.0


def text(name: str, language: str, **values: str) -> str:
    return TEXTS[name][language].format(**values)


@dataclass(frozen=True)
class Update:
    """What the citizen must read: the full text, and its short status line (WhatsApp
    template parameter {{2}})."""

    text: str
    status: str


async def file_as_bot(
    e2e: E2E, citizen: Citizen, pin: dict[str, float] | None = None
) -> tuple[str, bool]:
    """The report filed with the ticket client exactly as actions/submit_report.py files it
    for this citizen: channel, conversation id ``<channel>:<user>``, language, the reporter as
    actions/context.py builds it. (Filing by conversation is what tests/channels/*/test_e2e.py
    prove; here it would cost ten Rasa turns per channel and prove nothing more about updates.)
    Returns the number and whether it joined an open report nearby (as a follower)."""
    where = pin or random_pin()
    created = await e2e.client("hub").create(
        kind="report",
        service_code="pothole",
        description=DESCRIPTION[citizen.language],
        lat=where["lat"],
        long=where["long"],
        channel=citizen.channel,
        conversation_id=citizen.conversation,
        language=citizen.language,
        reporter=citizen.contact(),
    )
    return created.ticket.service_request_id, created.duplicate


async def service_name(e2e: E2E, number: str, language: str) -> str:
    ticket = await e2e.client("admin").ticket(number, language=language)
    return ticket.service_name or ""


async def in_progress(e2e: E2E, number: str, language: str, note: str | None) -> Update:
    values = {"number": number, "service": await service_name(e2e, number, language)}
    said = text("in_progress", language, **values)
    if note:
        said += "\n" + text("note", language, note=note)
    return Update(said, text("status_in_progress", language))


async def closed_fixed(e2e: E2E, number: str, language: str) -> Update:
    fixed = text("resolution_fixed", language)
    values = {"number": number, "service": await service_name(e2e, number, language)}
    note = text("note", language, note=FIXED_NOTE[language])
    return Update(f"{text('closed', language, resolution=fixed, **values)}\n{note}", fixed)


async def start_work(e2e: E2E, number: str, note: str | None) -> None:
    await e2e.client("agent").change_status(number, "in_progress", note=note)


async def close_fixed(e2e: E2E, number: str, language: str) -> None:
    await e2e.client("agent").change_status(
        number, "closed", resolution="fixed", note=FIXED_NOTE[language]
    )


async def expect_update(citizen: Citizen, after: int, update: Update, number: str) -> Seen:
    """Wait for ``update`` among the messages since ``after``; check its language and the
    provider's rules for proactive messages."""

    def found(new: list[Seen]) -> Seen | None:
        return next((s for s in new if citizen.shows(s, update.text, update.status, number)), None)

    seen = await citizen.wait_for(found, after=after, what=f"the update {update.text!r}")
    assert citizen.in_language(seen), citizen.failure(f"not in {citizen.language}: {seen.text}")
    await citizen.check_update(seen, number)
    return seen


async def notifications(e2e: E2E, number: str) -> list[HistoryEntry]:
    rows = await e2e.client("agent").history(number)
    return [r for r in rows if r.kind == "notification"]


# --- the closure survey ----------------------------------------------------------------------


@dataclass(frozen=True)
class Satisfaction:
    """The survey KPIs of one channel's reports filed around today."""

    responses: int
    rate: float | None

    @property
    def satisfied(self) -> int:
        return round((self.rate or 0.0) * self.responses)

    def after(self, satisfied: bool) -> Satisfaction:
        """The KPIs once one more survey is answered."""
        n = self.responses + 1
        return Satisfaction(n, (self.satisfied + int(satisfied)) / n)


async def satisfaction(e2e: E2E, channel: str) -> Satisfaction:
    today = date.today()
    report = await e2e.client("admin").kpis(
        today - timedelta(days=1), today + timedelta(days=1), group_by="channel"
    )
    group = next((g for g in report.groups if g.key == channel), None)
    if group is None:
        return Satisfaction(0, None)
    return Satisfaction(group.metrics.survey_responses, group.metrics.satisfaction_rate)


def stored_survey(db_path: Path, number: str) -> dict[str, Any] | None:
    """The survey row of a ticket (the API shows the scores in the history, not the comment)."""
    surveys = stored_surveys(db_path, number)
    return surveys[0] if surveys else None


async def survey_asks(citizen: Citizen, slot: str) -> None:
    """Wait until the survey form asks ``slot`` and its question reached the citizen."""

    async def asking() -> bool:
        loop, requested, listening = await citizen.form()
        return loop == SURVEY_FORM and requested == slot and listening

    deadline = time.monotonic() + SURVEY_WAIT
    while not await asking():
        assert time.monotonic() < deadline, citizen.failure(f"the survey never asked {slot}")
        await asyncio.sleep(0.1)
    await citizen.e2e.hub.wait_idle(citizen.conversation)


async def wait_for_sent(e2e: E2E, number: str, expected: list[tuple[str, str]]) -> None:
    """Wait until the ticket's history records each (event type, channel) as sent."""

    async def sent() -> list[tuple[str, str]]:
        rows = await notifications(e2e, number)
        return sorted((str(r.data.get("event_type")), str(r.data.get("channel")))
                      for r in rows if r.data.get("outcome") == "sent")  # fmt: skip

    deadline = time.monotonic() + SURVEY_WAIT
    while not set(expected) <= set(await sent()):
        assert time.monotonic() < deadline, (expected, await notifications(e2e, number))
        await asyncio.sleep(0.2)


async def closure_then_survey(e2e: E2E, citizen: Citizen, number: str) -> list[Seen]:
    """Staff closes the report: the closure message reaches the citizen, then the survey's
    first question (how good was the fix) in their language. Returns what they got since."""
    mark = len(citizen.seen())
    await close_fixed(e2e, number, citizen.language)
    closure = await expect_update(
        citizen, mark, await closed_fixed(e2e, number, citizen.language), number
    )
    await citizen.accept_survey(number, mark)
    await survey_asks(citizen, "survey_quality")
    new = citizen.seen()[mark:]
    question = new[-1]
    assert new.index(closure) < len(new) - 1, citizen.failure("no question after the closure")
    assert citizen.in_language(question), citizen.failure(f"question: {question.text!r}")
    return new
