"""Keep only the new part of a plain-text reply, for Arabic and English mail clients.

The text is cut at the first reply header — English ``On <date>, <name> wrote:`` (possibly
wrapped over two lines), Arabic ``في <date>، كتب <name> <<email>>:``, Outlook's
``-----Original Message-----`` / ``-----الرسالة الأصلية-----`` and its ``From: … Sent: …``
(``من: … تاريخ الإرسال: …``) block with the ``____`` rule above it — or at the signature
delimiter ``-- ``. Lines quoted with ``>`` are dropped wherever they are (inline answers keep
their own lines), and so are trailing "Sent from my iPhone" lines. Forwarded mails are kept
whole (the forwarded text is the report). If nothing is left, the whole text is kept.
"""

from __future__ import annotations

import re

__all__ = ["strip_reply"]

_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_ORIGINAL = re.compile(r"^-{3,}\s*(original message|الرسالة الأصلية)\s*-{3,}$", re.IGNORECASE)
_RULE = re.compile(r"^_{10,}$")
_FROM = re.compile(r"^\*?(from|من)\s*:\*?\s*\S", re.IGNORECASE)
_SENT = re.compile(
    r"^\*?(sent|date|تاريخ الإرسال|التاريخ|تم الإرسال|أرسلت|أُرسلت)\s*:", re.IGNORECASE
)
_ON = re.compile(r"^on\b", re.IGNORECASE)
_WROTE = re.compile(r"\bwrote\s*:$", re.IGNORECASE)
_AR_ON = re.compile(r"^(في|بتاريخ|بتاريخ:)\s")
_AR_WROTE = re.compile(r"كتب.*:$")
_SIGNATURE = re.compile(r"^--\s?$")
_DEVICE = re.compile(
    r"^(sent from my .+|sent from (mail|yahoo mail|outlook).*|get outlook for .+"
    r"|(أُ?رسلت|أرسلت|مرسلة|تم الإرسال) من .+)$",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"\n{3,}")
_HEADER_WINDOW = 5


def _is_reply_header(lines: list[str], i: int) -> bool:
    line = lines[i]
    following = lines[i + 1] if i + 1 < len(lines) else ""
    if _ORIGINAL.match(line):
        return True
    joined = f"{line} {following}".strip()  # clients wrap long headers over two lines
    if _ON.match(line) and (_WROTE.search(line) or _WROTE.search(joined)):
        return True
    if _AR_ON.match(line) and (_AR_WROTE.search(line) or _AR_WROTE.search(joined)):
        return True
    if _FROM.match(line):
        return any(_SENT.match(lines[j]) for j in range(i + 1, min(len(lines), i + _HEADER_WINDOW)))
    if _RULE.match(line):
        return any(_FROM.match(lines[j]) for j in range(i + 1, min(len(lines), i + 3)))
    return False


def _normalise(text: str) -> str:
    return _BLANKS.sub("\n\n", text).strip()


def strip_reply(text: str, *, keep_all_if_empty: bool = True) -> str:
    """The new part of ``text`` (see the module doc); the whole text when that is empty and
    ``keep_all_if_empty`` (a mail that only carries a photo has no new text: pass False)."""
    lines = [_BIDI.sub("", line).rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    clean = [line.strip() for line in lines]
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _is_reply_header(clean, i):
            break
        if clean[i].startswith(">"):
            continue
        kept.append(line)
    while kept and (not kept[-1].strip() or _DEVICE.match(kept[-1].strip())):
        kept.pop()
    new = _normalise("\n".join(kept))
    if new or not keep_all_if_empty:
        return new
    return _normalise("\n".join(lines))
