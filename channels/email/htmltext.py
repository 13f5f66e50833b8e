"""HTML mail bodies to plain text, without the quoted conversation (ARCHITECTURE.md §6.4).

Dropped: ``<head>``, ``<style>``, ``<script>``; Gmail's ``div.gmail_quote``, Apple Mail's and
Thunderbird's ``blockquote type=cite``, Yahoo's ``div.yahoo_quoted``; and everything from
Outlook's reply header on (``#appendonsend``, ``#divRplyFwdMsg``, ``div.OutlookMessageHeader``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_SKIP_TAGS = frozenset({"head", "style", "script", "title", "template"})
_QUOTE_CLASSES = frozenset({"gmail_quote", "yahoo_quoted", "moz-cite-prefix"})
_STOP_IDS = frozenset({"appendonsend", "divrplyfwdmsg"})
_STOP_CLASSES = frozenset({"outlookmessageheader"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"})
_BLOCK = frozenset(
    {"p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "li", "h1",
     "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "address", "dl", "dt", "dd"}
)  # fmt: skip


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a skipped subtree)
        self.skipping = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        values = {name: (value or "") for name, value in attrs}
        classes = set(values.get("class", "").lower().split())
        if values.get("id", "").lower() in _STOP_IDS or classes & _STOP_CLASSES:
            self.stopped = True
            return
        skip = (
            tag in _SKIP_TAGS
            or bool(classes & _QUOTE_CLASSES)
            or (tag == "blockquote" and values.get("type", "").lower() == "cite")
        )
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._break()
        if tag == "li" and not self.skipping:
            self.parts.append("- ")
        if tag in _VOID:
            return
        self.stack.append((tag, skip))
        if skip:
            self.skipping += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.handle_starttag(tag, attrs)
        else:  # <div/> opens and closes at once
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag in _VOID:
            return
        # Pop to the matching open tag (browsers forgive unclosed <p>, <li>, <td> ...).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _, skipped in self.stack[index:]:
                    self.skipping -= skipped
                del self.stack[index:]
                break
        if tag in _BLOCK:
            self._break()
        if tag in _PARAGRAPH:
            self.parts.append("\n")

    def _break(self) -> None:
        """One line break between blocks, however many block tags meet there."""
        tail = "".join(self.parts[-4:]).rstrip(" \t\u00a0")
        if tail and not tail.endswith("\n"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and not self.skipping:
            # Source line breaks are spaces in HTML (no <pre> in citizens' mails worth keeping).
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """The visible text of an HTML body, quotes dropped, blank runs collapsed."""
    extractor = _Extractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError):  # pathological markup: keep what was read
        pass
    text = "".join(extractor.parts)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
