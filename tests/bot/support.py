"""Talking to the bot as a channel does, and recognising its answers.

``Citizen`` is one conversation (one sender id) over Rasa's REST channel; ``Turn`` is what the
bot answered to one message. Assertions are about what a citizen notices: a 9-digit ticket
number, the language of the reply, which of the domain's responses it is (the wording is read
from domain.yml, never copied here).
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from nlu_components.arabic_text import to_ascii_digits
from ticket_client import Contact, TawasulClient, Ticket

ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u0671-\u06D3]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
URL = re.compile(r"https?://\S+")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def digits_in(text: str, count: int) -> list[str]:
    """Runs of exactly ``count`` digits (Arabic-Indic ones converted) in ``text``."""
    return re.findall(rf"(?<![0-9]){'[0-9]' * count}(?![0-9])", to_ascii_digits(text))


def has_arabic(text: str) -> bool:
    return ARABIC_LETTER.search(text) is not None


def has_english(text: str) -> bool:
    return LATIN_WORD.search(URL.sub("", text)) is not None


@dataclass(frozen=True)
class Turn:
    """The bot's messages in answer to one message of the citizen."""

    said: str
    messages: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(str(m["text"]) for m in self.messages if m.get("text"))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    @property
    def payloads(self) -> list[str]:
        return [str(b.get("payload", "")) for b in self.buttons]

    def ticket_numbers(self) -> list[str]:
        return digits_in(self.text, 9)

    def references(self) -> list[str]:
        """Follow-up references: 10 digits."""
        return digits_in(self.text, 10)

    @property
    def arabic(self) -> bool:
        """Written in Arabic: Arabic letters and no English words."""
        return has_arabic(self.text) and not has_english(self.text)

    @property
    def english(self) -> bool:
        return has_english(self.text) and not has_arabic(self.text)

    def in_language(self, language: str) -> bool:
        return self.arabic if language == "ar" else self.english

    def __str__(self) -> str:
        buttons = " ".join(f"[{b.get('title')}|{b.get('payload')}]" for b in self.buttons)
        return f"citizen: {self.said!r}\nbot: {self.text!r} {buttons}".rstrip()


class Domain:
    """The responses of domain.yml: which one a message is, in which language."""

    def __init__(self, responses: Mapping[str, list[Mapping[str, Any]]]) -> None:
        self.responses = responses

    @classmethod
    def load(cls, path: Path) -> Domain:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(data.get("responses") or {})

    def variations(self, name: str) -> dict[str, str]:
        """``{"ar": text, "en": text}`` of a response (the default variation is Arabic)."""
        if name not in self.responses:
            raise KeyError(f"domain.yml has no response {name}")
        found: dict[str, str] = {}
        for variation in self.responses[name]:
            language = "ar"
            for condition in variation.get("condition") or []:
                if condition.get("name") == "language":
                    language = str(condition.get("value"))
            if "text" in variation:
                found.setdefault(language, str(variation["text"]))
        return found

    def pattern(self, name: str, language: str) -> re.Pattern[str]:
        """A regex of the response's text: placeholders match anything, spaces are loose."""
        text = self.variations(name)[language].strip()
        parts: list[str] = []
        seen: set[str] = set()
        position = 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(_loose(text[position : match.start()]))
            slot = match.group(1)
            parts.append(f"(?P={slot})" if slot in seen else f"(?P<{slot}>.+?)")
            seen.add(slot)
            position = match.end()
        parts.append(_loose(text[position:]))
        return re.compile("".join(parts), re.DOTALL)

    def match(self, turn: Turn, name: str, language: str) -> dict[str, str] | None:
        """The placeholder values when one of the turn's messages is this response."""
        pattern = self.pattern(name, language)
        for message in turn.messages:
            found = pattern.fullmatch(str(message.get("text") or "").strip())
            if found:
                return found.groupdict()
        return None

    def count(self, turn: Turn, name: str, language: str) -> int:
        """How many of the turn's messages are this response."""
        pattern = self.pattern(name, language)
        return sum(1 for m in turn.messages if pattern.fullmatch(str(m.get("text") or "").strip()))

    def sent(self, turn: Turn, name: str) -> str | None:
        """The language of the variation of ``name`` in the turn, or None when absent."""
        for language in ("ar", "en"):
            if language in self.variations(name) and self.match(turn, name, language) is not None:
                return language
        return None


def _loose(literal: str) -> str:
    """A literal part of a response as a regex: any run of whitespace matches any other."""
    words = literal.split()
    if not words:
        return r"\s*" if literal else ""
    lead = r"\s*" if literal[0].isspace() else ""
    trail = r"\s*" if literal[-1].isspace() else ""
    return lead + r"\s+".join(re.escape(word) for word in words) + trail


Say = Callable[[str, str, dict[str, Any] | None], Awaitable[list[dict[str, Any]]]]
Answer = str | tuple[str, Mapping[str, Any]]


@dataclass
class Citizen:
    """One conversation over the REST channel; every message carries ``metadata``."""

    sender: str
    channel: str
    metadata: dict[str, Any]
    say_: Say
    http: aiohttp.ClientSession
    rasa_url: str
    domain: Domain
    turns: list[Turn] = field(default_factory=list)

    async def say(self, text: str, **metadata: Any) -> Turn:
        """Send ``text`` with the citizen's metadata plus ``metadata`` (this message only)."""
        replies = await self.say_(self.sender, text, {**self.metadata, **metadata})
        turn = Turn(text, replies)
        self.turns.append(turn)
        return turn

    async def tracker(self) -> dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{self.sender}/tracker"
        async with self.http.get(url) as response:
            assert response.status == 200, await response.text()
            tracker: dict[str, Any] = await response.json()
        return tracker

    async def slots(self) -> dict[str, Any]:
        slots: dict[str, Any] = (await self.tracker()).get("slots") or {}
        return slots

    async def form(self) -> tuple[str | None, str | None]:
        """(active form, the slot it asks for), (None, None) when no form is active."""
        tracker = await self.tracker()
        loop = (tracker.get("active_loop") or {}).get("name")
        requested = (tracker.get("slots") or {}).get("requested_slot")
        return (loop, requested) if loop else (None, None)

    async def answer(self, answers: Mapping[str, Answer], *, until: str | None = None) -> Turn:
        """Answer what the active form asks, slot by slot, from ``answers``, until the form is
        done or asks for ``until`` (not answered). Returns the last turn."""
        last = self.turns[-1] if self.turns else Turn("", [])
        previous: str | None = None
        for _ in range(20):
            loop, requested = await self.form()
            if loop is None or requested is None or requested == until:
                return last
            if requested not in answers:
                raise AssertionError(
                    f"{loop} asks for {requested!r}, which this test does not answer\n"
                    + self.transcript()
                )
            if requested == previous:
                raise AssertionError(
                    f"{loop} asks for {requested!r} again after the answer\n" + self.transcript()
                )
            previous = requested
            answer = answers[requested]
            if isinstance(answer, tuple):
                last = await self.say(answer[0], **dict(answer[1]))
            else:
                last = await self.say(answer)
        raise AssertionError("the form never finished\n" + self.transcript())

    def transcript(self) -> str:
        return f"--- conversation {self.sender} ---\n" + "\n".join(str(t) for t in self.turns)


def random_phone() -> str:
    """A Saudi mobile number no other test uses (verified numbers link identities)."""
    return f"+9665{random.randrange(10**8):08d}"


async def tickets_of(hub: TawasulClient, who: Citizen) -> list[Ticket]:
    """What the ticket service holds for this citizen (reports, complaints, callbacks)."""
    return await hub.contact_tickets(who.channel, who.sender)


async def own_ticket(
    hub: TawasulClient,
    who: Citizen,
    *,
    service: str = "streetlight",
    language: str = "ar",
    description: str = "عمود الإنارة مطفأ منذ أسبوع",
) -> str:
    """A report this citizen filed earlier (on their channel), made through the hub API."""
    created = await hub.create(
        kind="report",
        service_code=service,
        description=description,
        address="حي الشاطئ، شارع الخليج",
        channel=who.channel,
        language=language,
        reporter=Contact(who.channel, who.sender, language=language),
    )
    return created.ticket.service_request_id
