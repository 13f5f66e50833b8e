"""Unit and property tests for nlu_components.language (pure, dependency-free)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from nlu_components.language import LANGUAGES, WORDS_FILE, detect, switch_request

MODULE = Path(__file__).resolve().parents[2] / "nlu_components" / "language.py"


@pytest.mark.parametrize(
    "text",
    [
        "السلام عليكم عندي بلاغ عن حفرة في الشارع",
        "ابي ابلغ عن لمبة طافية",
        "الشارع غرقان مويه من أمس",
        "عربي",
        "رقم البلاغ ٤٨٢٩١٣٧٥٦",
        "الچاي بارد",  # Gulf spelling with one چ is still Arabic
        "شلونچ",
        "وين وصل بلاغي؟",
        "salam 3ndi mushkila fi alshari3",  # Arabizi
        "Assalamu alaikum",
    ],
)
def test_arabic(text: str) -> None:
    assert detect(text) == "ar"


@pytest.mark.parametrize(
    "text",
    [
        "The street light in front of my house is broken",
        "pothole",
        "hello",
        "ok",
        "There's a water leak near the mosque",
        "What is the status of ticket 482913756?",
        "English please",
        "my ticket 482913756 رقم",  # mostly Latin letters
        "Thanks, bye",
    ],
)
def test_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "میری گلی میں پانی کا پائپ ٹوٹ گیا ہے",  # Urdu
        "شکریہ",  # Urdu "thank you"
        "لطفا به انگلیسی صحبت کنید",  # Persian
        "इस सड़क पर बहुत गड्ढे हैं",  # Hindi (Devanagari)
        "আমাদের রাস্তায় আলো নেই",  # Bengali
        "Magandang umaga po, sira ang ilaw sa kalsada namin",  # Tagalog
        "Salamat po",
        "Terima kasih, lampu jalan rusak",  # Indonesian / Malay
        "mera pani nahi aa raha hai bhai",  # Roman Urdu
        "Bonjour, la rue est cassée",  # French
        "Здравствуйте, на улице яма",  # Russian
        "路灯坏了",  # Chinese
    ],
)
def test_other_languages(text: str) -> None:
    assert detect(text) == "other"


@pytest.mark.parametrize("text", ["", "   ", "123456", "٤٨٢٩١٣", "😀👍", "!!! ???", "#482913"])
def test_no_signal(text: str) -> None:
    assert detect(text) is None


@given(st.text())
@example("ٹ" * 3)
@example("a" * 5000)
def test_detect_never_raises_and_returns_a_known_value(text: str) -> None:
    assert detect(text) in (*LANGUAGES, None)


@given(
    st.text(alphabet=st.sampled_from(list("0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ #+-.,\n")), max_size=40)
)
def test_digits_only_is_no_signal(text: str) -> None:
    assert detect(text) is None


@given(st.text(alphabet=st.characters(whitelist_categories=["So", "Sk", "Zs", "Nd", "Po"])))
def test_symbols_emoji_and_digits_are_no_signal(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("English please", "en"),
        ("in english", "en"),
        ("can you speak English?", "en"),
        ("انجليزي", "en"),
        ("بالانجليزي لو سمحت", "en"),
        ("باللغة الإنجليزية", "en"),
        ("عربي", "ar"),
        ("بالعربي", "ar"),
        ("Arabic please", "ar"),
        ("in Arabic", "ar"),
        ("كلمني عربي", "ar"),
        ("the street light is broken", None),
        ("عندي بلاغ عن حفرة", None),
        ("I speak English not Arabic", None),  # names both: no decision
        # A long message that happens to mention a language is not a request to switch.
        ("the english school on king fahd road has a broken street light since monday", None),
        ("", None),
        ("123", None),
    ],
)
def test_switch_request(text: str, expected: str | None) -> None:
    assert switch_request(text) == expected


@given(st.text())
def test_switch_request_never_raises(text: str) -> None:
    assert switch_request(text) in ("ar", "en", None)


def test_word_file_is_valid_json_with_every_group() -> None:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    assert {"latin", "latin_target", "arabic_script", "switch"} <= set(data)
    assert data["latin"]["en"] and data["switch"]["en"] and data["switch"]["ar"]
    assert set(data["latin_target"]) <= set(data["latin"])


# --- the module stays importable by Rasa's Python 3.10 and has no dependencies ---------------


def test_module_uses_only_the_standard_library_and_arabic_text() -> None:
    tree = ast.parse(MODULE.read_text(encoding="utf-8"), feature_version=(3, 10))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
    imported.discard("nlu_components.arabic_text")  # itself standard-library only
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {
        "__future__"
    }


def test_module_runs_on_the_rasa_python() -> None:
    python = MODULE.parents[1] / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.fail(".venv-rasa not created: run make rasa-venv (make test does)")
    code = (
        "import sys; from nlu_components.language import detect, switch_request;"
        "assert sys.version_info[:2] == (3, 10), sys.version;"
        "assert detect('عندي بلاغ') == 'ar' and detect('hello there') == 'en';"
        "assert switch_request('English please') == 'en'"
    )
    subprocess.run(
        [str(python), "-E", "-s", "-c", code], cwd=MODULE.parents[1], check=True, timeout=60
    )
