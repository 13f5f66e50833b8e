"""Unit and property tests for nlu_components.arabic_text (the pure, dependency-free module)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from nlu_components.arabic_text import (
    TICKET_MIN_DIGITS,
    extract_ticket_numbers,
    find_ticket_numbers,
    normalise,
    normalise_with_offsets,
    original_span,
    to_ascii_digits,
)

MODULE = Path(__file__).resolve().parents[2] / "nlu_components" / "arabic_text.py"

# Text made of characters from the Arabic block, Latin, digits, spaces and punctuation, so
# hypothesis spends its time where the normaliser acts.
ARABIC_BLOCK = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
MIXED_TEXT = st.text(
    alphabet=st.one_of(ARABIC_BLOCK, st.sampled_from(list("abcXYZ 0123456789#+.,\u0301"))),
    max_size=60,
)
NON_ARABIC_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters=[chr(c) for c in range(0x0600, 0x0700)],
    ),
    max_size=80,
)


# --- normalise: the rules one by one -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # harakat, tanween, shadda, sukun, superscript alef
        ("مَدْرَسَة", "مدرسه"),
        ("شُكْرًا", "شكرا"),
        ("كِتَابٌ", "كتاب"),
        ("مُحَمَّد", "محمد"),
        ("هٰذا", "هذا"),
        # tatweel
        ("شكـــــرا", "شكرا"),
        # alef forms
        ("أحمد", "احمد"),
        ("إنارة", "اناره"),
        ("آسف", "اسف"),
        ("ٱلله", "الله"),
        # alef maqsura
        ("على", "علي"),
        ("مستشفى", "مستشفي"),
        # taa marbuta (default on)
        ("البلدية", "البلديه"),
        # digits
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("بلاغ رقم ١٢٣٤٥٦", "بلاغ رقم 123456"),
        # everything at once
        ("إِنَارَةُ الشَّوَارِعِ مُطْفَأَةٌ فِى الحَىّ", "اناره الشوارع مطفاه في الحي"),
        # hamza on waw / yaa is kept (not an alef form)
        ("مسؤول", "مسؤول"),
        ("بيئة", "بيئه"),
        # empty and untouched
        ("", ""),
        ("pothole on Main St. 12", "pothole on Main St. 12"),
    ],
)
def test_normalise_examples(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_taa_marbuta_option() -> None:
    assert normalise("المدينة", taa_marbuta=True) == "المدينه"
    assert normalise("المدينة", taa_marbuta=False) == "المدينة"
    assert normalise("مَدِينَةٌ أُخْرَى", taa_marbuta=False) == "مدينة اخري"


def test_decomposed_hamza_forms_match_precomposed() -> None:
    # alef + combining hamza above / below / maddah, as some keyboards and OCR produce
    assert normalise("ا\u0654حمد") == normalise("أحمد") == "احمد"
    assert normalise("ا\u0655نارة") == normalise("إنارة")
    assert normalise("ا\u0653سف") == normalise("آسف")
    # waw / yaa + hamza above compose to the precomposed letter, harakat in between or not
    assert normalise("مسو\u0654ول") == "مسؤول"
    assert normalise("مسو\u064e\u0654ول") == "مسؤول"
    assert normalise("بي\u0654ة") == normalise("بئة") == "بئه"
    # a stray combining mark elsewhere just goes
    assert normalise("\u0654ب") == "ب"


def test_other_arabic_characters_are_kept() -> None:
    # Arabic comma, question mark, semicolon, letters outside the rules
    assert normalise("وين البلاغ؟ ، ؛") == "وين البلاغ؟ ، ؛"
    assert normalise("گچپژ") == "گچپژ"


# --- normalise: properties -----------------------------------------------------------------


@given(MIXED_TEXT)
@example("ى\u0654")  # alef maqsura + hamza: becomes yaa, then composes to ئ
@example("ا\u064e\u0654")
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    once_keep_taa = normalise(text, taa_marbuta=False)
    assert normalise(once_keep_taa, taa_marbuta=False) == once_keep_taa


@given(MIXED_TEXT)
def test_normalised_text_has_no_marks_variants_or_eastern_digits(text: str) -> None:
    out = normalise(text)
    forbidden = set("\u0640\u0670أإآٱىة٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")
    forbidden |= {chr(c) for c in range(0x064B, 0x0656)}
    assert not forbidden & set(out)


@given(NON_ARABIC_TEXT)
@example("pothole near 12 Main St.")
@example("e\u0301t\u00e9")  # decomposed and precomposed Latin accents are left as they are
def test_normalise_never_changes_non_arabic_text(text: str) -> None:
    assert normalise(text) == text
    assert normalise(text, taa_marbuta=False) == text


@given(st.text(alphabet=st.sampled_from(list("abc XYZ-_.,!?'\"0123456789")), max_size=80))
def test_normalise_never_changes_latin_text(text: str) -> None:
    assert normalise(text) == text


@given(MIXED_TEXT)
def test_normalise_never_lengthens(text: str) -> None:
    assert len(normalise(text)) <= len(text)


@given(MIXED_TEXT, st.data())
def test_offsets_map_spans(text: str, data: st.DataObject) -> None:
    normalised, offsets = normalise_with_offsets(text)
    assert normalised == normalise(text)
    assert len(offsets) == len(text) + 1
    assert offsets[0] == 0
    assert offsets[-1] == len(normalised)
    assert offsets == sorted(offsets)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    # A span normalised on its own equals the mapped span, unless it cuts a letter from the
    # hamza mark composed onto it (which the whole text sees and the span does not).
    if "\u0654" not in text:
        assert normalised[offsets[start] : offsets[end]] == normalise(text[start:end])


def test_offsets_follow_an_entity_span() -> None:
    text = "الإِنَارَة مُطْفَأَة في شارعِ المَلِك"
    start = text.index("شارعِ")
    end = len(text)
    normalised, offsets = normalise_with_offsets(text)
    assert normalised[offsets[start] : offsets[end]] == "شارع الملك"


@given(MIXED_TEXT, st.data())
def test_original_span_round_trips(text: str, data: st.DataObject) -> None:
    normalised, offsets = normalise_with_offsets(text)
    start = data.draw(st.integers(0, len(normalised)))
    end = data.draw(st.integers(start, len(normalised)))
    o_start, o_end = original_span(text, offsets, start, end)
    assert 0 <= o_start <= o_end <= len(text)
    # the original span covers exactly the normalised span
    assert offsets[o_start] == start
    assert offsets[o_end] == end


def test_original_span_of_an_entity() -> None:
    text = "الإِنَارَةُ طافية في حي الفَيْصَلِيَّةِ."
    normalised, offsets = normalise_with_offsets(text)
    assert normalised == "الاناره طافيه في حي الفيصليه."
    start = normalised.index("حي")
    end = normalised.index(".")
    o_start, o_end = original_span(text, offsets, start, end)
    assert text[o_start:o_end] == "حي الفَيْصَلِيَّةِ"  # the final kasra belongs to the word
    assert original_span(text, offsets, 0, 0) == (0, 0)
    assert original_span(text, offsets, len(normalised), len(normalised)) == (len(text), len(text))


# --- to_ascii_digits -----------------------------------------------------------------------


@given(st.lists(st.integers(0, 9), max_size=30), st.sampled_from([0x0030, 0x0660, 0x06F0]))
def test_to_ascii_digits_converts_every_digit_system(digits: list[int], zero: int) -> None:
    written = "".join(chr(zero + d) for d in digits)
    assert to_ascii_digits(written) == "".join(str(d) for d in digits)


@given(MIXED_TEXT)
def test_to_ascii_digits_changes_only_digits(text: str) -> None:
    out = to_ascii_digits(text)
    assert len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if before != after:
            assert before in "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"
            assert after == str(int(before))  # int() reads every Unicode decimal digit


@given(st.integers(0, 10**12))
def test_mixed_digit_systems(n: int) -> None:
    ascii_digits = str(n)
    mixed = "".join(
        chr(0x0660 + int(d)) if i % 3 == 0 else chr(0x06F0 + int(d)) if i % 3 == 1 else d
        for i, d in enumerate(ascii_digits)
    )
    assert to_ascii_digits(mixed) == ascii_digits
    assert normalise(mixed) == ascii_digits


# --- ticket numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("وين وصل بلاغي رقم 482913؟", ["482913"]),
        ("رقم البلاغ ٤٨٢٩١٣", ["482913"]),
        ("رقم البلاغ ۴۸۲۹۱۳", ["482913"]),
        ("my ticket is #48291377", ["48291377"]),
        ("ticket # 482913 please", ["482913"]),
        ("البلاغ #٤٨٢٩١٣ ما انحل", ["482913"]),
        ("بلاغ٤٨٢٩١٣", ["482913"]),  # glued to an Arabic word
        ("482913, 771234", ["482913", "771234"]),
        ("482913 and again 482913", ["482913"]),  # no duplicates
        ("(482913)", ["482913"]),
        ("482913.", ["482913"]),
        # not ticket numbers
        ("12345", []),  # too short
        ("call 940", []),
        ("+966501234567", []),  # international phone number
        ("price 1,234,567", []),
        ("3.1415926", []),
        ("ABC123456", []),  # glued to Latin letters
        ("123456abc", []),
        ("", []),
    ],
)
def test_extract_ticket_numbers(text: str, expected: list[str]) -> None:
    assert extract_ticket_numbers(text) == expected
    assert extract_ticket_numbers(normalise(text)) == expected


def test_find_ticket_numbers_spans_include_hash() -> None:
    text = "بلاغي #٤٨٢٩١٣ و 771234"
    found = find_ticket_numbers(text)
    assert found == [(6, 13, "482913"), (16, 22, "771234")]
    assert text[6:13] == "#٤٨٢٩١٣"


@given(
    st.integers(10 ** (TICKET_MIN_DIGITS - 1), 10**12),
    st.sampled_from([0x0030, 0x0660, 0x06F0]),
    st.sampled_from(["", "#", "# "]),
    st.sampled_from(["رقم البلاغ ", "my ticket ", "", "وين "]),
    st.sampled_from(["", " ؟", "?", " please", " لو سمحت"]),
)
def test_ticket_number_found_in_any_digit_system(
    number: int, zero: int, hash_prefix: str, before: str, after: str
) -> None:
    written = "".join(chr(zero + int(d)) for d in str(number))
    text = f"{before}{hash_prefix}{written}{after}"
    assert extract_ticket_numbers(text) == [str(number)]
    assert extract_ticket_numbers(normalise(text)) == [str(number)]


@given(MIXED_TEXT)
def test_extracted_ticket_numbers_are_ascii_digits(text: str) -> None:
    for number in extract_ticket_numbers(text):
        assert number.isascii()
        assert number.isdigit()
        assert len(number) >= TICKET_MIN_DIGITS


# --- the module stays importable by Rasa's Python 3.10 and has no dependencies ---------------


def test_module_uses_only_the_standard_library() -> None:
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_module_parses_as_python_3_10() -> None:
    ast.parse(MODULE.read_text(encoding="utf-8"), feature_version=(3, 10))


def test_module_runs_on_the_rasa_python() -> None:
    python = MODULE.parents[1] / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.fail(".venv-rasa not created: run make rasa-venv (make test does)")
    code = (
        "import sys; from nlu_components.arabic_text import normalise, extract_ticket_numbers;"
        "assert sys.version_info[:2] == (3, 10), sys.version;"
        "assert normalise('إنارة ١٢٣') == 'اناره 123';"
        "assert extract_ticket_numbers('#٤٨٢٩١٣') == ['482913']"
    )
    subprocess.run(
        [str(python), "-E", "-s", "-c", code], cwd=MODULE.parents[1], check=True, timeout=60
    )
