"""An :class:`OutboundMessage` → WhatsApp Cloud API message bodies (protocols.md §1.8). Pure.

- Text: ≤ 4096 characters per message, longer text split at paragraph/line/word boundaries.
- 1–3 buttons: reply buttons (titles ≤ 20, unique; ids = the Rasa payloads, ≤ 256).
- 4–10 buttons (or titles that collide once shortened): a list message (≤ 10 rows, row
  titles ≤ 24 with the full title as the row description, ids ≤ 200, body ≤ 1024).
- More than 10: the list holds the first 10 and a text message numbers the rest; payloads
  too long for an id: every option as numbered text. Typed numbers are mapped back to the
  payloads at ingest (``channels.meta.menus``); ``Rendered.menu`` lists them.
- ``request_location``: an ``interactive`` ``location_request_message``.
- ``image_url``: an image by link, with the text as its caption when it fits and nothing else
  has to follow.
- ``template``: :func:`render_template` (the channel decides when, by the 24 h window).

Titles are shortened on grapheme boundaries (``channels.meta.textcut``), so an Arabic letter
never loses its harakat and an emoji is never cut in half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.errors import PermanentSendError
from bot.model import Button, OutboundMessage
from channels.meta import texts
from channels.meta.menus import numbered_text
from channels.meta.textcut import split_text, truncate
from channels.whatsapp.templates import Template

__all__ = [
    "Rendered",
    "envelope",
    "render",
    "render_template",
]

TEXT_MAX = 4096
BODY_MAX = 1024  # interactive bodies and captions
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]+$")
_SPACES = re.compile(r"\s{4,}")

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The message contents to send in order (each still needs :func:`envelope`), and the
    payloads of numbered options (1-based) when some options went out as numbered text."""

    parts: tuple[Body, ...]
    menu: tuple[str, ...] | None = None


def envelope(part: Body, recipient_id: str) -> Body:
    """A full request body: a phone number (digits) goes in ``to``, a BSUID in ``recipient``."""
    target = "recipient" if _BSUID.match(recipient_id) else "to"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        target: recipient_id,
        **part,
    }


def _text(body: str) -> Body:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _id_ok(payload: str, limit: int) -> bool:
    return bool(payload) and payload == payload.strip() and len(payload) <= limit


def _reply_buttons(buttons: tuple[Button, ...]) -> dict[str, Any] | None:
    if len(buttons) > BUTTONS_MAX:
        return None
    titles = [truncate(b.title.strip(), BUTTON_TITLE_MAX) for b in buttons]
    ids = [b.payload for b in buttons]
    if len(set(titles)) != len(titles) or len(set(ids)) != len(ids) or not all(titles):
        return None
    if not all(_id_ok(i, BUTTON_ID_MAX) for i in ids):
        return None
    return {
        "type": "button",
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": i, "title": t}}
                for i, t in zip(ids, titles, strict=True)
            ]
        },
    }


def _list(buttons: tuple[Button, ...], language: str) -> dict[str, Any] | None:
    shown = buttons[:LIST_ROWS_MAX]
    ids = [b.payload for b in shown]
    if len(set(ids)) != len(ids) or not all(_id_ok(i, ROW_ID_MAX) for i in ids):
        return None
    rows: list[dict[str, str]] = []
    for button in shown:
        full = button.title.strip() or button.payload
        row = {"id": button.payload, "title": truncate(full, ROW_TITLE_MAX)}
        if row["title"] != full:
            row["description"] = truncate(full, ROW_DESCRIPTION_MAX)
        rows.append(row)
    label = truncate(texts.text("list_button", language), LIST_BUTTON_MAX)
    return {
        "type": "list",
        "action": {
            "button": label,
            "sections": [{"title": truncate(label, SECTION_TITLE_MAX), "rows": rows}],
        },
    }


def _choices(
    buttons: tuple[Button, ...], language: str
) -> tuple[dict[str, Any] | None, str | None, tuple[str, ...] | None]:
    """(interactive object without body, numbered text for what it cannot hold, menu)."""
    if not buttons:
        return None, None, None
    interactive = _reply_buttons(buttons) or _list(buttons, language)
    menu = tuple(b.payload for b in buttons)
    titles = [b.title.strip() or b.payload for b in buttons]
    if interactive is None:
        return None, numbered_text(texts.text("numbered_all", language), titles), menu
    if len(buttons) > LIST_ROWS_MAX:
        rest = titles[LIST_ROWS_MAX:]
        more = numbered_text(texts.text("numbered_more", language), rest, LIST_ROWS_MAX + 1)
        return interactive, more, menu
    return interactive, None, None


def _lead_and_tail(text: str, tail_max: int) -> tuple[list[str], str]:
    """``text`` as leading text messages and a last piece of at most ``tail_max``."""
    pieces = split_text(text, TEXT_MAX)
    if not pieces:
        return [], ""
    last = split_text(pieces[-1], tail_max)
    return pieces[:-1] + last[:-1], last[-1]


def render(message: OutboundMessage) -> Rendered:
    """The parts of ``message`` in sending order (image, text, then the interactive part)."""
    language = message.language
    text = message.text.strip()
    parts: list[Body] = []
    interactive, numbered, menu = _choices(message.buttons, language)
    if numbered is not None and interactive is None:
        text = f"{text}\n\n{numbered}" if text else numbered
        numbered = None
    if message.image_url:
        image: dict[str, Any] = {"link": message.image_url}
        alone = interactive is None and not message.request_location and numbered is None
        if alone and text and len(text) <= BODY_MAX:
            image["caption"] = text
            text = ""
        parts.append({"type": "image", "image": image})
    if message.request_location:
        lead, tail = _lead_and_tail(text, BODY_MAX)
        parts.extend(_text(t) for t in lead)
        parts.append(
            {
                "type": "interactive",
                "interactive": {
                    "type": "location_request_message",
                    "body": {"text": tail or texts.text("location_request", language)},
                    "action": {"name": "send_location"},
                },
            }
        )
        if interactive is not None:
            body = {"text": texts.text("choose_option", language)}
            parts.append({"type": "interactive", "interactive": {**interactive, "body": body}})
    elif interactive is not None:
        lead, tail = _lead_and_tail(text, BODY_MAX)
        parts.extend(_text(t) for t in lead)
        body = {"text": tail or texts.text("choose_option", language)}
        parts.append({"type": "interactive", "interactive": {**interactive, "body": body}})
    else:
        parts.extend(_text(t) for t in split_text(text, TEXT_MAX))
    if numbered is not None:
        parts.extend(_text(t) for t in split_text(numbered, TEXT_MAX))
    return Rendered(tuple(parts), menu)


def _param(value: str) -> str:
    """Template parameters may hold no newline or tab and no run of more than 3 spaces."""
    flat = " ".join(value.replace("\t", " ").splitlines()).strip()
    return _SPACES.sub("   ", flat) or "-"


def render_template(message: OutboundMessage, template: Template) -> Body:
    """The ``template`` message for ``message.template_params``; :class:`PermanentSendError`
    when their number differs from the approved template's (Meta would answer 132000)."""
    params = [_param(p) for p in message.template_params]
    if len(params) != template.body_params:
        raise PermanentSendError(
            f"template {template.name} takes {template.body_params} parameters, got {len(params)}"
        )
    components: list[dict[str, Any]] = []
    if params:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        )
    for index, payload in enumerate(template.quick_replies):
        for n in range(len(params), 0, -1):  # $10 before $1
            payload = payload.replace(f"${n}", params[n - 1])
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language_code(message.language)},
            "components": components,
        },
    }
