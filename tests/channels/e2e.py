"""What the channel end-to-end tests share: reading the citizen's Rasa tracker, waiting until
the bot finished answering one message, checking a reply's language, answering the report form
question by question and reading the filed ticket's number."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

import aiohttp

from tests.bot.support import digits_in, has_arabic, has_english

TURN_TIMEOUT = 90.0
MAX_QUESTIONS = 12

Reply = TypeVar("Reply")


async def tracker(http: aiohttp.ClientSession, rasa_url: str, conversation: str) -> dict[str, Any]:
    url = f"{rasa_url}/conversations/{conversation}/tracker"
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        found: dict[str, Any] = await response.json()
    return found


async def form(
    http: aiohttp.ClientSession, rasa_url: str, conversation: str
) -> tuple[str | None, str | None]:
    """(active form, the slot it asks for), (None, None) when no form is active."""
    state = await tracker(http, rasa_url, conversation)
    loop = (state.get("active_loop") or {}).get("name")
    requested = (state.get("slots") or {}).get("requested_slot")
    return (loop, requested) if loop else (None, None)


async def user_turns(http: aiohttp.ClientSession, rasa_url: str, conversation: str) -> int:
    """How many user messages Rasa has received in the conversation."""
    events = (await tracker(http, rasa_url, conversation))["events"]
    return sum(1 for e in events if e["event"] == "user")


async def wait_for_answer(
    http: aiohttp.ClientSession,
    rasa_url: str,
    conversation: str,
    *,
    before: int,
    users_before: int,
    received: Callable[[], list[dict[str, Any]]],
    said: str,
    failure: Callable[[str], str],
) -> list[dict[str, Any]]:
    """After a message went to the hub (``before`` messages received and ``users_before``
    user turns counted before it was sent): wait until Rasa finished its turn and the fake
    provider got as many messages as Rasa uttered; the messages the bot sent since."""
    deadline = time.monotonic() + TURN_TIMEOUT
    while True:
        events = (await tracker(http, rasa_url, conversation))["events"]
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        listening = bool(events) and events[-1].get("name") == "action_listen"
        if len(users) > users_before and listening:
            replies = sum(1 for e in events[users[-1] :] if e["event"] == "bot")
            if len(received()) - before >= replies:
                break
        if time.monotonic() > deadline:
            tail = [
                (e["event"], str(e.get("name") or e.get("text") or "")[:30], e.get("data"))
                for e in events[users[-1] if users else 0 :]
            ]
            state = (users_before, len(users), before, len(received()))
            raise AssertionError(failure(f"no answer to {said!r}; {state} {tail}"))
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # one Rasa reply can be several provider messages
    return received()[before:]


def in_language(text: str, language: str) -> bool:
    """``text`` is all Arabic (``ar``) or all English, ignoring ``[button ids]``."""
    text = re.sub(r"\[.*?\]", "", text)  # button ids are ASCII payloads
    if language == "ar":
        return has_arabic(text) and not has_english(text)
    return has_english(text) and not has_arabic(text)


class FormChat(Protocol):
    async def form(self) -> tuple[str | None, str | None]: ...


async def fill_report(
    chat: FormChat,
    answers: Mapping[str, Callable[[], Awaitable[Reply]]],
    failure: Callable[[str], str],
    *,
    required: Iterable[str] = (),
    questions: list[str] | None = None,
    form_name: str | None = None,
) -> Reply:
    """Answer the active report form question by question (``answers`` by requested slot)
    until it closes; the reply to the ``confirmed`` answer. Fails when a question comes twice
    or has no answer, or when the form did not end by confirming or skipped a ``required``
    question. ``questions`` (when given) receives the questions in the order asked; with
    ``form_name``, every question must come from that form."""
    seen = [] if questions is None else questions
    filed: Reply | None = None
    for _ in range(MAX_QUESTIONS):
        loop, requested = await chat.form()
        if loop is None:
            break
        assert form_name in (None, loop), failure(f"the active form is {loop!r}")
        assert requested not in seen, failure(f"asked {requested!r} twice")
        seen.append(requested or "")
        answer = answers.get(requested or "")
        if answer is None:
            raise AssertionError(failure(f"unexpected question {requested!r}"))
        reply = await answer()
        if requested == "confirmed":
            filed = reply
    complete = seen[-1:] == ["confirmed"] and all(q in seen for q in required)
    assert complete and filed is not None, failure(f"questions: {seen}")
    return filed


def filed_number(reply_texts: str, language: str, failure: Callable[[str], str]) -> str:
    """The one 9-digit ticket number in the reply that filed the report, which must be all
    in the citizen's ``language``."""
    assert in_language(reply_texts, language), failure("filed reply language")
    numbers = set(digits_in(reply_texts, 9))
    assert len(numbers) == 1, failure("no ticket number")
    return numbers.pop()
