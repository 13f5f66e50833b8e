"""Talking to the bot by voice: the caller's words go to the hub's queue like any channel's
message; the webhook waits (bounded) until the conversation's turn is done and speaks the
replies, then gathers the next answer.

A turn is done when the conversation's inbound and outbound streams are both empty
(:mod:`bot.keys`): the hub turned every message and handed every reply to
:meth:`VoiceChannel.deliver`, which keeps them per inbound message
(:meth:`CallStore.add_reply`). A slow bot gets "one moment" and a ``<Redirect>`` to
``report-wait`` (at most ``max_waits`` times), well inside Twilio's 15 s per request.
"""

from __future__ import annotations

import asyncio
import time

from bot import keys
from bot.model import Button, InboundMessage
from channels.voice.flow import MAX_MISSES, Call, goodbye, main_menu, understood_speech
from channels.voice.menus import pressed
from channels.voice.speech import SKIP_PAYLOAD, photo_question, press_lines, spoken_replies

__all__ = ["keypad_step", "report_step", "start_report", "wait_step"]

POLL_SECONDS = 0.1
SKIP_SUFFIX = ":skip"
#: The bot's latest texts kept to repeat when the caller was not understood.
REPEATED = 3


async def start_report(call: Call) -> None:
    """Menu option 1: the bot listens. When the conversation last spoke another language
    than the one chosen now, the bot is first asked to switch (its answer is spoken with
    the replies to the caller's first words)."""
    state = call.state
    state.buttons, state.pending, state.misses, state.waits = [], [], 0, 0
    redis = call.parts.hub.redis
    raw = await redis.get(keys.language(call.conversation_id))
    previous = raw.decode() if isinstance(raw, bytes) else raw
    if previous is not None and previous != call.language:
        turn_id = f"{call.params.call_sid}:{call.answer.n}:lang"
        text = call.answer.text("switch_language")
        await call.parts.hub.submit([call.inbound(turn_id, text=text)])
        state.pending.append(turn_id)
    state.last_prompt = [call.answer.text("report_intro")]
    _listen(call)


def _listen(call: Call, *, repeat: bool = False, invalid: bool = False) -> None:
    """Speak the latest prompt and gather the next answer (speech or a key)."""
    answer = call.answer
    buttons = call.state.buttons
    gather = answer.gather(
        "report",
        num_digits=1 if buttons else None,
        hints=[title for _, title, _ in buttons],
        timeout=8,
    )
    if repeat:
        answer.say("not_understood", gather)
    elif invalid:
        answer.say("invalid_choice", gather)
    for text in call.state.last_prompt:
        answer.say_text(text, gather)


def _keypad_offer(call: Call, *, invalid: bool = False) -> None:
    answer = call.answer
    gather = answer.gather("report-keypad", speech=False, num_digits=1)
    answer.say("invalid_choice" if invalid else "use_keypad", gather)
    buttons = call.state.buttons
    if buttons:
        keys = [(key, Button(title, payload)) for key, title, payload in buttons]
        for line in press_lines(keys, call.parts.prompts, call.language):
            answer.say_text(line, gather)
        answer.say("press_star", gather)
    else:
        answer.say("speak_again_offer", gather)


async def _menu_or_button(call: Call) -> bool:
    """``*`` (back to the menu) or a button's key (said to the bot): True when it was one."""
    if call.params.digits == "*":
        _back_to_menu(call)
        return True
    chosen = pressed(call.params.digits, call.state.buttons)
    if chosen is not None:
        await _say_to_bot(call, text=chosen[0], payload=chosen[1])
        return True
    return False


async def report_step(call: Call) -> None:
    """The caller answered the bot: a button's key, typed digits, or speech."""
    if await _menu_or_button(call):
        return
    params, state = call.params, call.state
    typed = (params.digits or "").strip("*#")
    if typed and state.buttons:  # one key, none of the buttons'
        if not _gave_up(call):
            _listen(call, invalid=True)
        return
    text = typed or understood_speech(call)
    if text:
        await _say_to_bot(call, text=text)
    elif not _gave_up(call):
        if state.misses == 1:
            _listen(call, repeat=True)  # once more by voice
        else:
            _keypad_offer(call)


async def keypad_step(call: Call) -> None:
    """The keypad offer after speech failed twice: a button, 1 to speak again, * for the
    menu."""
    if await _menu_or_button(call):
        return
    params, state = call.params, call.state
    if params.digits == "1" and not state.buttons:
        state.misses = 0
        _listen(call)
    elif not _gave_up(call):
        _keypad_offer(call, invalid=bool(params.digits))


async def wait_step(call: Call) -> None:
    """The redirect while the bot was slow: wait again."""
    if not call.state.pending:
        main_menu(call)
        return
    await _converse(call)


def _gave_up(call: Call) -> bool:
    """Count a miss; after :data:`MAX_MISSES` say goodbye (True)."""
    call.state.misses += 1
    if call.state.misses < MAX_MISSES:
        return False
    call.answer.say("too_many_tries")
    goodbye(call)
    return True


def _back_to_menu(call: Call) -> None:
    state = call.state
    state.buttons, state.pending, state.misses = [], [], 0
    main_menu(call)


async def _say_to_bot(call: Call, *, text: str | None, payload: str | None = None) -> None:
    turn_id = f"{call.params.call_sid}:{call.state.n}"
    await call.parts.hub.submit([call.inbound(turn_id, text=text, payload=payload)])
    call.state.pending.append(turn_id)
    call.state.misses = 0
    call.state.waits = 0
    await _converse(call)


async def _idle(call: Call, deadline: float) -> bool:
    """Wait until the conversation has nothing in flight; False at ``deadline``."""
    redis = call.parts.hub.redis
    conversation = call.conversation_id
    while True:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.xlen(keys.conv_in(conversation))
            pipe.xlen(keys.conv_out(conversation))
            waiting = await pipe.execute()
        if not any(int(n) for n in waiting):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)


async def _skip_photo(call: Call) -> bool:
    """Answer the photo question with Skip for every turn that asked it (once)."""
    store = call.parts.store
    skipped = False
    for turn_id in list(call.state.pending):
        if turn_id.endswith(SKIP_SUFFIX) or turn_id + SKIP_SUFFIX in call.state.pending:
            continue
        if any(photo_question(r) for r in await store.replies(turn_id)):
            skip_id = turn_id + SKIP_SUFFIX
            message: InboundMessage = call.inbound(skip_id, payload=SKIP_PAYLOAD)
            await call.parts.hub.submit([message])
            call.state.pending.append(skip_id)
            skipped = True
    return skipped


async def _converse(call: Call) -> None:
    parts, state, answer = call.parts, call.state, call.answer
    deadline = time.monotonic() + parts.config.turn_wait
    while True:
        if not await _idle(call, deadline):
            state.waits += 1
            if state.waits > parts.config.max_waits:
                answer.say("bot_slow")
                _back_to_menu(call)
                return
            answer.say("one_moment")
            answer.pause(1)
            answer.redirect("report-wait")
            return
        if not await _skip_photo(call):
            break
    replies = [r for turn_id in state.pending for r in await parts.store.replies(turn_id)]
    spoken = spoken_replies(replies, parts.prompts, call.language)
    state.pending, state.waits = [], 0
    state.buttons = [[key, b.title, b.payload] for key, b in spoken.keys]
    if spoken.texts:
        state.last_prompt = list(spoken.texts[-REPEATED:])
        for text in spoken.texts[: -REPEATED or None]:
            answer.say_text(text)
    _listen(call)
