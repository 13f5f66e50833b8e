"""Cutting text to a provider's limits without breaking what the reader sees.

Limits are counted in code points (what Meta counts for Arabic and Latin text). A cut never
falls inside a grapheme cluster: not between a letter and its Arabic harakat (combining
marks), not inside an emoji ZWJ sequence, a flag, a keycap or before a skin-tone modifier or
variation selector. This is a conservative approximation of Unicode's extended grapheme
clusters (UAX #29) for the scripts citizens write in, without a third-party library.
"""

from __future__ import annotations

import unicodedata

__all__ = ["split_text", "truncate"]

ELLIPSIS = "…"
_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    """True when ``ch`` belongs to the cluster before it (must not start a new piece)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in {"Mn", "Me", "Mc"}
        or ch == _ZWJ
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (subdivision flags)
        or cp == 0x20E3  # combining enclosing keycap
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, index: int) -> int:
    """The largest cut ``<= index`` that does not split a grapheme cluster."""
    index = min(index, len(text))
    while 0 < index < len(text):
        nxt, prev = text[index], text[index - 1]
        if _extends(nxt) or prev == _ZWJ:
            index -= 1
            continue
        if _is_regional(nxt) and _is_regional(prev):
            # Flags are pairs of regional indicators: cut only after an even run.
            run = 0
            while index - run - 1 >= 0 and _is_regional(text[index - run - 1]):
                run += 1
            if run % 2:
                index -= 1
                continue
        break
    return index


def truncate(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` code points, else its longest grapheme-safe prefix
    that fits with ``ellipsis`` appended (trailing spaces dropped)."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return text[: _safe_cut(text, limit)]
    head = text[: _safe_cut(text, room)].rstrip()
    return head + ellipsis if head else text[: _safe_cut(text, limit)]


def _break_at(text: str, limit: int) -> int:
    """Where to end the first piece of ``text`` (> limit long): the last paragraph break,
    else line break, else space in the second half of the window; else a safe hard cut."""
    window = text[: limit + 1]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep, 0, limit + 1)
        if at >= limit // 2:
            return at
    cut = _safe_cut(text, limit)
    return cut if cut > 0 else limit


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` code points, broken at paragraph, line or word
    boundaries where possible and never inside a grapheme cluster. Blank text → ``[]``."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        at = _break_at(rest, limit)
        piece = rest[:at].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[at:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
