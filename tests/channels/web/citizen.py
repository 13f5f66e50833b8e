"""A citizen on the web chat API of a real hub process (the counterpart of
tests/hub/citizen.LoopCitizen for the web channel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.bot.support import Domain, Turn
from tests.channels.web.support import user_id
from tests.hubstack import HubProcess


@dataclass
class WebCitizen:
    hub: HubProcess
    http: aiohttp.ClientSession
    rasa_url: str
    domain: Domain
    token: str = ""
    turns: list[Turn] = field(default_factory=list)
    sent: int = 0

    @property
    def api(self) -> str:
        return f"{self.hub.url}/webchat/api/conversations/{self.token}"

    @property
    def conversation(self) -> str:
        return f"web:{user_id(self.token)}"

    async def start(self, language: str) -> WebCitizen:
        url = f"{self.hub.url}/webchat/api/conversations"
        async with self.http.post(url, json={"language": language}) as response:
            assert response.status == 201, await response.text()
            self.token = (await response.json())["token"]
        return self

    async def send(self, **body: Any) -> int:
        """Post a message (202 = the hub holds it); its seq. Does not wait for replies."""
        self.sent += 1
        body.setdefault("client_message_id", f"m{self.sent}")
        async with self.http.post(f"{self.api}/messages", json=body) as response:
            assert response.status == 202, await response.text()
            seq: int = (await response.json())["seq"]
        return seq

    async def send_photo(self, data: bytes, caption: str | None = None) -> int:
        self.sent += 1
        form = aiohttp.FormData()
        form.add_field("photo", data, filename="photo.png", content_type="image/png")
        form.add_field("client_message_id", f"m{self.sent}")
        if caption:
            form.add_field("text", caption)
        async with self.http.post(f"{self.api}/photos", data=form) as response:
            assert response.status == 202, await response.text()
            seq: int = (await response.json())["seq"]
        return seq

    async def replies_after(self, seq: int) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.api}/messages", params={"after": str(seq)}) as r:
            assert r.status == 200, await r.text()
            messages: list[dict[str, Any]] = (await r.json())["messages"]
        return [m for m in messages if m["role"] == "bot"]

    async def turn(self, said: str, seq: int) -> Turn:
        """The bot's replies to the message with this seq, once the hub is done with it."""
        await self.hub.wait_idle(self.conversation)
        turn = Turn(said, await self.replies_after(seq))
        self.turns.append(turn)
        return turn

    async def say(self, text: str | None = None, **body: Any) -> Turn:
        if text is not None:
            body["text"] = text
        return await self.turn(str(text or body), await self.send(**body))

    async def photo(self, data: bytes, caption: str | None = None) -> Turn:
        return await self.turn(f"[photo] {caption or ''}", await self.send_photo(data, caption))

    async def form(self) -> tuple[str | None, str | None]:
        url = f"{self.rasa_url}/conversations/{self.conversation}/tracker"
        async with self.http.get(url) as response:
            assert response.status == 200, await response.text()
            tracker: dict[str, Any] = await response.json()
        loop = (tracker.get("active_loop") or {}).get("name")
        requested = (tracker.get("slots") or {}).get("requested_slot")
        return (loop, requested) if loop else (None, None)

    def transcript(self) -> str:
        return f"--- {self.conversation} ---\n" + "\n".join(str(t) for t in self.turns)
