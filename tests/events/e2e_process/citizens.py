"""A citizen on each channel, as its provider carries them: what they write goes through the
channel's real inbound path (the signed webhook, the IMAP mailbox, the web chat API) and what
the hub sends them is read back at the fake provider. Each class is a thin layer over the chat
helper of that channel's own end-to-end test (tests/channels/<name>/test_e2e.py); the story
(story.py) is the same for all of them.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

import aiohttp

from tests.channels.e2e import in_language, tracker
from tests.channels.email.test_e2e import Citizen as MailCitizen
from tests.channels.email.test_e2e import EmailHub, plain_of
from tests.channels.fakes.graph_hub import MetaHub
from tests.channels.messenger.conftest import APP_SECRET as MESSENGER_SECRET
from tests.channels.messenger.test_e2e import Chat as MessengerChat
from tests.channels.telegram.fake_telegram import User
from tests.channels.telegram.test_e2e import Chat as TelegramChat
from tests.channels.telegram.test_e2e import TelegramHub
from tests.channels.web.citizen import WebCitizen
from tests.channels.whatsapp.conftest import APP_SECRET as WHATSAPP_SECRET
from tests.channels.whatsapp.test_e2e import Chat as WhatsAppChat
from tests.channels.whatsapp.test_e2e import describe
from tests.channels.x.fake_x import Call
from tests.channels.x.test_e2e import XCitizen, _text
from ticket_client import Contact

from .harness import E2E

__all__ = ["CITIZENS", "Citizen", "Seen"]

T = TypeVar("T")

GREETING = {"ar": "السلام عليكم", "en": "Hello"}
NAMES = {"ar": ("سارة", "سارة الدوسري"), "en": ("John", "John Smith")}
#: What a citizen's tap on a template's quick reply says (the labels are approved at Meta).
TAP_LABEL = {"ar": "قيّم الإغلاق", "en": "Rate the closure"}
WAIT = 60.0


@dataclass(frozen=True)
class Seen:
    """One message the citizen got: the words they read (a WhatsApp template: its body
    parameters), the payloads offered with it, and what the provider was sent."""

    text: str
    raw: Any
    payloads: tuple[str, ...] = ()
    template: str | None = None  # the template's name, when it is one


def words(text: str) -> str:
    return " ".join(text.split())


class Citizen(ABC):
    """One person on one channel; ``say`` returns once the bot's answer reached them."""

    channel: ClassVar[str]

    def __init__(self, e2e: E2E, language: str) -> None:
        self.e2e = e2e
        self.language = language
        self.first_name, self.name = NAMES[language]
        self.wrote = False

    @classmethod
    async def create(cls, e2e: E2E, language: str) -> Citizen:
        return cls(e2e, language)

    @property
    @abstractmethod
    def conversation(self) -> str:
        """``<channel>:<user>``: the conversation id the bot files the citizen's report with."""

    @abstractmethod
    def seen(self) -> list[Seen]:
        """Everything the hub sent this citizen, in order."""

    @abstractmethod
    async def _say(self, text: str) -> None:
        """Write ``text`` through the channel; return once the bot's turn reached the fake."""

    def log(self) -> str:
        return ""

    async def say(self, text: str) -> list[Seen]:
        before = len(self.seen())
        await self._say(text)
        self.wrote = True
        return self.seen()[before:]

    async def open(self) -> list[Seen]:
        """A greeting: the conversation exists (and a 24 h window is open) from now on."""
        return await self.say(GREETING[self.language])

    async def accept_survey(self, number: str, after: int) -> None:
        """What the citizen does to begin the survey (the base: nothing, the hub starts it in
        the conversation)."""
        return None

    def contact(self) -> Contact:
        """The reporter as the bot's action files it (actions/context.py ``reporter``)."""
        return Contact(channel=self.channel, channel_user_id=self.conversation,
                       name=self.name, language=self.language)  # fmt: skip

    async def check_update(self, seen: Seen, number: str) -> None:
        """The provider's rules for a proactive message (the base: none beyond the text)."""
        return None

    def shows(self, seen: Seen, text: str, status: str, number: str) -> bool:
        """``seen`` is the update whose full text is ``text`` (status line ``status``)."""
        return words(text) in words(seen.text)

    async def close(self) -> None:
        """Let go of what the citizen holds open (a web socket)."""
        return None

    async def wait_for(
        self, found: Callable[[list[Seen]], T | None], *, after: int, what: str
    ) -> T:
        """The first non-None ``found(messages since after)``; fails after a minute."""
        deadline = time.monotonic() + WAIT
        while True:
            result = found(self.seen()[after:])
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(self.failure(f"waited {WAIT:g} s for {what}"))
            await asyncio.sleep(0.1)

    async def form(self) -> tuple[str | None, str | None, bool]:
        """(active form, the slot it asks for, whether Rasa waits for the citizen)."""
        state = await tracker(self.e2e.http, self.e2e.rasa_url, self.conversation)
        events = state.get("events") or []
        listening = bool(events) and events[-1].get("name") == "action_listen"
        loop = (state.get("active_loop") or {}).get("name")
        return loop, (state.get("slots") or {}).get("requested_slot") if loop else None, listening

    def failure(self, what: str) -> str:
        sent = "\n".join(f"  {s.template or ''} {s.text[:200]!r}" for s in self.seen())
        return (
            f"{self.channel} citizen {self.conversation} ({self.language}): {what}\n"
            f"--- received ---\n{sent}\n{self.log()}\n--- hub ---\n" + self.e2e.hub.log_tail(40)
        )

    def in_language(self, seen: Seen) -> bool:
        return in_language(seen.text, self.language)


# --- WhatsApp --------------------------------------------------------------------------------


def _wa_seen(body: dict[str, Any]) -> Seen:
    if body.get("type") == "template":
        template = body["template"]
        params: list[str] = []
        payloads: list[str] = []
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                if parameter["type"] == "text":
                    params.append(parameter["text"])
                elif parameter["type"] == "payload":
                    payloads.append(parameter["payload"])
        return Seen(" | ".join(params), body, tuple(payloads), template["name"])
    interactive = body.get("interactive") or {}
    ids = [b["reply"]["id"] for b in (interactive.get("action") or {}).get("buttons", [])]
    for section in (interactive.get("action") or {}).get("sections", []):
        ids += [row["id"] for row in section["rows"]]
    text = body["text"]["body"] if body.get("type") == "text" else describe(body)
    return Seen(text, body, tuple(ids))


class WhatsAppCitizen(Citizen):
    """Outside the 24 h window until the citizen writes: then only templates reach them."""

    channel = "whatsapp"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        self.wa_id = "9665" + "".join(secrets.choice("0123456789") for _ in range(8))
        hub = MetaHub(e2e.providers.graph, e2e.hub, e2e.rasa_url, "whatsapp", WHATSAPP_SECRET)
        self.chat = WhatsAppChat(self.wa_id, self.first_name, hub, e2e.http)

    @property
    def conversation(self) -> str:
        return f"whatsapp:{self.wa_id}"

    def seen(self) -> list[Seen]:
        return [_wa_seen(body) for body in self.chat.received()]

    async def _say(self, text: str) -> None:
        await self.chat.say(text)

    async def tap(self, payload: str) -> list[Seen]:
        """A quick reply of a template arrives as a ``button`` message (it re-opens the
        window); an interactive button or list row as Chat.tap sends it."""
        before = len(self.seen())
        if any(s.template and payload in s.payloads for s in self.seen()):
            button = {"payload": payload, "text": TAP_LABEL[self.language]}
            await self.chat.send({"type": "button", "button": button}, f"<tap {payload}>")
        else:
            await self.chat.tap(payload)
        self.wrote = True
        return self.seen()[before:]

    async def accept_survey(self, number: str, after: int) -> None:
        """Outside the window the survey comes as the approved template: tap its quick reply
        that starts the survey (a citizen message: it re-opens the window)."""
        if self.wrote:
            return
        start = f'/start_survey{{"ticket_id":"{number}"}}'

        def offered(new: list[Seen]) -> Seen | None:
            return next((s for s in new if s.template and start in s.payloads), None)

        seen = await self.wait_for(offered, after=after, what="the survey template")
        assert seen.template in {t.name for t in self.e2e.providers.templates.values()}
        assert seen.raw["template"]["language"]["code"] == self.language, seen.raw
        assert seen.text == number, self.failure(f"template parameters {seen.text!r}")
        await self.tap(start)

    def contact(self) -> Contact:
        return replace(super().contact(), phone=f"+{self.wa_id}", phone_verified=True)

    def shows(self, seen: Seen, text: str, status: str, number: str) -> bool:
        if seen.template is not None:
            return seen.template == self.template("ticket_update") and seen.text == (
                f"{number} | {status}"
            )
        return super().shows(seen, text, status, number)

    def template(self, key: str) -> str:
        return self.e2e.providers.templates[key].name

    def in_language(self, seen: Seen) -> bool:
        if seen.template is None:
            return super().in_language(seen)
        code = seen.raw["template"]["language"]["code"]
        status = seen.text.split(" | ")[-1]
        return bool(code == self.language and in_language(status, self.language))

    async def check_update(self, seen: Seen, number: str) -> None:
        # Meta refuses free-form messages outside the window: the fake enforces it as well.
        assert (seen.template is not None) == (not self.wrote), self.failure(
            f"{'a template' if not self.wrote else 'free text'} expected: {seen.raw}"
        )


# --- Messenger -------------------------------------------------------------------------------


class MessengerCitizen(Citizen):
    """Inside the window (the citizen wrote): updates go as ``UPDATE``, never tagged."""

    channel = "messenger"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        self.psid = "2" + "".join(secrets.choice("0123456789") for _ in range(15))
        hub = MetaHub(e2e.providers.graph, e2e.hub, e2e.rasa_url, "messenger", MESSENGER_SECRET)
        self.chat = MessengerChat(self.psid, hub, e2e.http)

    @property
    def conversation(self) -> str:
        return f"messenger:{self.psid}"

    def seen(self) -> list[Seen]:
        return [
            Seen(call["message"].get("text", ""), call,
                 tuple(q["payload"] for q in call["message"].get("quick_replies", [])))
            for call in self.chat.calls()
        ]  # fmt: skip

    async def _say(self, text: str) -> None:
        await self.chat.say(text)

    async def check_update(self, seen: Seen, number: str) -> None:
        assert seen.raw["messaging_type"] == "UPDATE", self.failure(str(seen.raw))
        assert "tag" not in seen.raw, self.failure(str(seen.raw))


# --- X ---------------------------------------------------------------------------------------


def _dm(call: Call) -> bool:
    return call.path != "/2/tweets"


class XDmCitizen(Citizen):
    """Talks to us by DM; nothing about their report may ever be posted in public."""

    channel = "x"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        user_id = str(random.randrange(10**9, 10**10))
        self.who = XCitizen(e2e.providers.x, e2e.hub, e2e.http, e2e.rasa_url, user_id,
                            f"citizen{user_id[-4:]}", self.name)  # fmt: skip

    @property
    def conversation(self) -> str:
        return self.who.conversation

    def seen(self) -> list[Seen]:
        found = []
        for call in self.who.replies():
            options: tuple[str, ...] = ()
            if call.path.startswith("/1.1/"):
                data = call.body["event"]["message_create"]["message_data"]
                offered = data.get("quick_reply", {}).get("options", [])
                options = tuple(o["metadata"] for o in offered)
            found.append(Seen(_text(call), call, options))
        return found

    def log(self) -> str:
        return "\n".join(self.who.transcript)

    async def _say(self, text: str) -> None:
        await self.who.dm(text)

    def in_language(self, seen: Seen) -> bool:
        return in_language(_text_only(seen), self.language)

    async def check_update(self, seen: Seen, number: str) -> None:
        assert _dm(seen.raw), self.failure(f"posted in public: {seen.raw.body}")
        public = [c.body for c in self.who.replies() if not _dm(c)]
        assert public == [], self.failure(f"public posts about the report: {public}")


def _text_only(seen: Seen) -> str:
    """An X DM's words without the labels of its quick-reply options (``_text`` adds them)."""
    call: Call = seen.raw
    if call.path.startswith("/1.1/"):
        return str(call.body["event"]["message_create"]["message_data"]["text"])
    return seen.text


# --- Telegram --------------------------------------------------------------------------------


class TelegramCitizen(Citizen):
    channel = "telegram"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        fake = e2e.providers.telegram
        user = fake.add_user(User(random.randrange(7 * 10**9, 8 * 10**9), self.first_name,
                                  None, None, language))  # fmt: skip
        self.chat = TelegramChat(user, TelegramHub(fake, e2e.hub, e2e.rasa_url), e2e.http)

    @property
    def conversation(self) -> str:
        return self.chat.sender

    def seen(self) -> list[Seen]:
        return [
            Seen(str(m.get("text") or m.get("caption") or ""), m,
                 tuple(b["callback_data"]
                       for row in m.get("reply_markup", {}).get("inline_keyboard", [])
                       for b in row))
            for m in self.chat.received()
        ]  # fmt: skip

    def log(self) -> str:
        return "\n".join(self.chat.transcript)

    async def _say(self, text: str) -> None:
        await self.chat.say(text)


# --- e-mail ----------------------------------------------------------------------------------

SUBJECT = {"ar": "حفرة أمام البيت", "en": "Pothole in front of our house"}


class MailCitizenOnline(Citizen):
    """Writes to the hub's address (each mail answering the bot's latest); updates come as
    replies in that thread, marked as automatic, with the ticket's token in the subject."""

    channel = "email"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        p = e2e.providers
        address = f"citizen-{secrets.token_hex(4)}@example.com"
        hub = EmailHub(e2e.hub, p.mailbox, p.smtp, e2e.rasa_url)
        self.mail = MailCitizen(self.first_name, address, SUBJECT[language], hub, e2e.http,
                                language)  # fmt: skip

    @property
    def conversation(self) -> str:
        return self.mail.sender

    def seen(self) -> list[Seen]:
        return [Seen(plain_of(m).split("\n-- \n")[0], m) for m in self.mail.received()]

    def log(self) -> str:
        return "\n".join(self.mail.transcript)

    async def _say(self, text: str) -> None:
        await self.mail.send(text)

    def contact(self) -> Contact:
        return replace(super().contact(), email=self.mail.address, email_verified=True)

    async def check_update(self, seen: Seen, number: str) -> None:
        mail = seen.raw
        assert mail["Auto-Submitted"] == "auto-generated", self.failure(str(mail))
        assert f"[#{number}]" in str(mail["Subject"]), self.failure(str(mail["Subject"]))
        if self.mail.sent_ids:  # a reply in the citizen's thread
            last = self.mail.sent_ids[-1]
            assert str(mail["In-Reply-To"]).strip() == last, self.failure(str(mail))
            assert last in str(mail["References"]).split(), self.failure(str(mail))
        else:  # they never wrote: a thread of its own
            assert mail["In-Reply-To"] is None, self.failure(str(mail))
        assert self.e2e.providers.smtp.problems == [], self.e2e.providers.smtp.problems


# --- web chat --------------------------------------------------------------------------------


class WebChatCitizen(Citizen):
    """A browser with the chat open: every bot message is pushed over the web socket, and
    stays in the conversation's history for when the citizen comes back."""

    channel = "web"

    def __init__(self, e2e: E2E, language: str) -> None:
        super().__init__(e2e, language)
        self.who = WebCitizen(e2e.hub, e2e.http, e2e.rasa_url, e2e.domain)
        self.pushed: list[dict[str, Any]] = []
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.listener: asyncio.Task[None] | None = None

    @classmethod
    async def create(cls, e2e: E2E, language: str) -> Citizen:
        citizen = cls(e2e, language)
        await citizen.who.start(language)
        citizen.socket = await e2e.http.ws_connect(f"{citizen.who.api}/ws")
        citizen.listener = asyncio.create_task(citizen.listen(citizen.socket))
        return citizen

    async def listen(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                body = json.loads(frame.data)
                if body.get("type") == "message" and body["message"].get("role") == "bot":
                    self.pushed.append(body["message"])

    @property
    def conversation(self) -> str:
        return self.who.conversation

    def seen(self) -> list[Seen]:
        return [
            Seen(str(m.get("text") or ""), m,
                 tuple(str(b.get("payload")) for b in m.get("buttons") or []))
            for m in self.pushed
        ]  # fmt: skip

    def log(self) -> str:
        return self.who.transcript()

    async def _say(self, text: str) -> None:
        await self.who.say(text)
        stored = len(await self.who.replies_after(0))
        await self.wait_for(lambda _: True if len(self.pushed) >= stored else None,
                            after=0, what="the pushes of the stored replies")  # fmt: skip

    async def check_update(self, seen: Seen, number: str) -> None:
        stored = [m.get("text") for m in await self.who.replies_after(0)]
        assert seen.raw.get("text") in stored, self.failure("pushed but not kept in the history")

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.listener is not None:
            self.listener.cancel()


CITIZENS: dict[str, type[Citizen]] = {
    c.channel: c
    for c in (WhatsAppCitizen, MessengerCitizen, XDmCitizen, TelegramCitizen,
              MailCitizenOnline, WebChatCitizen)
}  # fmt: skip
