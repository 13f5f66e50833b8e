"""A citizen talking to the real bot through a hub process and the loop channel (the
end-to-end counterpart of tests/bot/support.Citizen, which talks to Rasa directly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.bot.support import Domain, Turn
from tests.channels.e2e import form, tracker
from tests.hub.fake_loop import FakeLoop
from tests.hub.support import message, post_webhook
from tests.hubstack import HubProcess

#: What to answer a form's question: a text, or (text or None, message fields) — a bare map pin
#: is ``(None, {"location": {...}})``.
Answer = str | tuple[str | None, Mapping[str, Any]]


@dataclass
class LoopCitizen:
    hub: HubProcess
    http: aiohttp.ClientSession
    provider: FakeLoop
    rasa_url: str
    domain: Domain
    user: str
    #: fields every message carries (phone, lang ...)
    fields: dict[str, Any] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        return f"loop:{self.user}"

    async def send(self, text: str | None = None, **fields: Any) -> str:
        """Post one message (200 = durable); its id. Does not wait for the answer."""
        body = message(self.user, text, **{**self.fields, **fields})
        status, answer = await post_webhook(self.http, self.hub.url, [body])
        assert status == 200, answer
        self.ids.append(body["id"])
        return str(body["id"])

    def replies_to(self, message_id: str) -> list[dict[str, Any]]:
        return [b for b in self.provider.to(self.user) if b["key"].split(":")[0] == message_id]

    async def say(self, text: str | None = None, **fields: Any) -> Turn:
        message_id = await self.send(text, **fields)
        await self.hub.wait_idle(self.conversation)
        turn = Turn(text or "", self.replies_to(message_id))
        self.turns.append(turn)
        return turn

    async def tracker(self) -> dict[str, Any]:
        return await tracker(self.http, self.rasa_url, self.conversation)

    async def form(self) -> tuple[str | None, str | None]:
        return await form(self.http, self.rasa_url, self.conversation)

    async def user_texts(self) -> list[str]:
        """What Rasa received from this conversation, in its order."""
        return [e.get("text") for e in (await self.tracker())["events"] if e["event"] == "user"]

    async def answer(self, answers: Mapping[str, Answer], *, until: str | None = None) -> Turn:
        """Answer the active form slot by slot (like tests/bot/support.Citizen.answer)."""
        last = self.turns[-1] if self.turns else Turn("", [])
        for _ in range(20):
            loop, requested = await self.form()
            if loop is None or requested is None or requested == until:
                return last
            assert requested in answers, f"{loop} asks {requested}\n{self.transcript()}"
            answer = answers[requested]
            if isinstance(answer, tuple):
                last = await self.say(answer[0], **dict(answer[1]))
            else:
                last = await self.say(answer)
        raise AssertionError("the form never finished\n" + self.transcript())

    def transcript(self) -> str:
        return f"--- {self.conversation} ---\n" + "\n".join(str(t) for t in self.turns)
