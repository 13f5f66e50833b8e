"""Quoted-reply and signature stripping (Arabic, English), HTML to text, map links."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Location
from channels.email.htmltext import html_to_text
from channels.email.location import find_location
from channels.email.quotes import strip_reply


@pytest.mark.parametrize(
    "text, new",
    [
        # Gmail, English; the header wrapped over two lines
        ("Near the mosque.\n\nOn Mon, 5 Jan 2026 at 10:12, Tawasul 940 <r@t.test>\nwrote:\n> q",
         "Near the mosque."),
        ("Yes\n\nOn 5 Jan 2026, at 11:02, Tawasul <r@t.test> wrote:\n\n> Confirm?", "Yes"),
        # Arabic Gmail / Apple Mail headers, with the bidi marks clients put around dates
        ("نعم\n\nفي الاثنين، ٥ يناير ٢٠٢٦ في ١٠:١٢ ص، كتب Tawasul 940 <r@t.test>:\n> سؤال",
         "نعم"),
        ("تمام\n\nفي \u200f٥\u200f/١\u200f/٢٠٢٦، الساعة ١٠:٠٠ ص، كتب Tawasul\n<r@t.test>:\n> x",
         "تمام"),
        ("شكراً\n\nبتاريخ 2026/01/05 كتب مركز 940:\n> x", "شكراً"),
        # Outlook, English and Arabic
        ("Fixed?\n\n-----Original Message-----\nFrom: T\nSent: Monday\nTo: me", "Fixed?"),
        ("لا\n\n-----الرسالة الأصلية-----\nمن: T\nأرسلت: الاثنين", "لا"),
        ("OK\n________________________________\nFrom: Tawasul <r@t.test>\nSent: Monday\nTo: x",
         "OK"),
        ("حسناً\n\nمن: Tawasul <r@t.test>\nتاريخ الإرسال: الاثنين\nإلى: x\nالموضوع: y", "حسناً"),
        ("Fine\n\n*From:* Tawasul <r@t.test>\n*Date:* Monday\n*To:* x", "Fine"),
        # signatures and devices
        ("See photo.\n\n-- \nJohn Smith\nACME", "See photo."),
        ("See photo.\n\nSent from my iPhone", "See photo."),
        ("الصورة مرفقة\n\nأُرسلت من الـ iPhone الخاص بي", "الصورة مرفقة"),
        # inline answers keep the citizen's lines, drop the quoted ones
        ("> Where is it?\nOlaya street\n> Since when?\nTwo days", "Olaya street\nTwo days"),
        # nothing new: keep everything rather than nothing
        ("> only a quote", "> only a quote"),
        # a "From:" line that is not a header block stays
        ("From: the corner of King Fahd road, water everywhere",
         "From: the corner of King Fahd road, water everywhere"),
    ],
)  # fmt: skip
def test_strip_reply(text: str, new: str) -> None:
    assert strip_reply(text) == new


def test_forwarded_mail_is_kept_whole() -> None:
    text = "Please see below.\n\n---------- Forwarded message ---------\nFrom: x\nbody"
    assert strip_reply(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_strip_reply_never_loses_everything(text: str) -> None:
    new = strip_reply(text)
    assert isinstance(new, str)
    if text.strip() and any(c.isalnum() for c in text):
        assert new.strip()


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<div>a<br>b</div><div>c</div>", "a\nb\nc"),
        ("<div>new</div><div class='gmail_quote'>On ... wrote:<blockquote>old</blockquote></div>",
         "new"),
        ("<p>new</p><blockquote type='cite'>old</blockquote><p>after</p>", "new\n\nafter"),
        ("<div>new</div><div id='appendonsend'></div><hr><b>From:</b> x<div>old</div>", "new"),
        ("<div>new</div><div id='divRplyFwdMsg'><b>من:</b> x</div><div>old</div>", "new"),
        ("<style>p{x:y}</style><script>alert(1)</script><p>&amp;&lt;&#1575;&nbsp;x</p>",
         "&<ا x"),
        ("<ul><li>one<li>two</ul>", "- one\n- two"),
        ("<p>unclosed <b>bold <i>both</p><p>next", "unclosed bold both\n\nnext"),
        ("<div/>self<br/>closing", "self\nclosing"),
    ],
)  # fmt: skip
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_html_to_text_never_fails(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize(
    "text, where",
    [
        ("here geo:24.7136,46.6753 ok", Location(24.7136, 46.6753)),
        ("https://www.google.com/maps/@24.7136,46.6753,17z", Location(24.7136, 46.6753)),
        ("https://maps.google.com/?q=21.4858,39.1925", Location(21.4858, 39.1925)),
        ("https://maps.apple.com/?ll=26.4207,50.0888&q=Pin", Location(26.4207, 50.0888)),
        ("https://www.openstreetmap.org/?mlat=24.7&mlon=46.6#map=17/24.7/46.6",
         Location(24.7, 46.6)),
        ("https://www.openstreetmap.org/#map=17/24.71/46.67", Location(24.71, 46.67)),
        ("first geo:1.5,2.5 then https://maps.google.com/?q=3.5,4.5", Location(1.5, 2.5)),
        ("https://maps.app.goo.gl/AbCdEf", None),
        ("geo:95.0,46.0 is not on Earth", None),
        ("call 0501234567 or 24.7,46.6 in text", None),
    ],
)  # fmt: skip
def test_find_location(text: str, where: Location | None) -> None:
    assert find_location(text) == where


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_find_location_is_always_on_earth(text: str) -> None:
    found = find_location(text)
    assert found is None or (-90 <= found.lat <= 90 and -180 <= found.long <= 180)
