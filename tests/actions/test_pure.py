"""Unit tests of the actions' pure parts: phone numbers, values citizens type, FAQ matching,
language choice, the runtime's configuration, and the data files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from actions import data, faq
from actions.context import idempotency_key
from actions.phone import canonical_phone, saudi_mobile
from actions.responses import text_of
from actions.runtime import DEFAULT_TICKET_URL, config_from_env, hub_key
from actions.slots import choose_language
from actions.values import (
    correction_field,
    is_description,
    is_skip,
    long_enough,
    parse_rating,
    parse_service,
    parse_ticket_number,
    photo_from_attachments,
)

ROOT = Path(__file__).resolve().parents[2]

# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0551234567",
        "055 123 4567",
        "055-123-4567",
        "(055) 123 4567",
        "551234567",
        "+966551234567",
        "+966 55 123 4567",
        "00966551234567",
        "966551234567",
        "٠٥٥١٢٣٤٥٦٧",
        "۰۵۵۱۲۳۴۵۶۷",
        "\u200e+966 55 123 4567",
    ],
)
def test_saudi_mobile_formats(typed: str) -> None:
    assert saudi_mobile(typed) == "+966551234567"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "0112345678",
        "0451234567",
        "05512345678",
        "+966 11 234 5678",
        "055123456",
        "+971501234567",
        "abc0551234567",
        "05x1234567",
    ],
)
def test_not_a_saudi_mobile(typed: str) -> None:
    assert saudi_mobile(typed) is None


@given(st.text())
def test_saudi_mobile_never_raises_and_is_canonical(text: str) -> None:
    result = saudi_mobile(text)
    assert result is None or re.fullmatch(r"\+9665\d{8}", result)


@given(st.from_regex(r"5[0-9]{8}", fullmatch=True), st.sampled_from(["0", "+966", "966", "00966"]))
def test_every_prefix_gives_the_same_number(local: str, prefix: str) -> None:
    assert saudi_mobile(prefix + local) == "+966" + local


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("966501112233", "+966501112233"),
        ("+63 917 123 4567", "+639171234567"),
        ("not a phone", None),
        ("12", None),
    ],
)
def test_channel_phone(raw: str, expected: str | None) -> None:
    assert canonical_phone(raw) == expected


# --- values citizens type ------------------------------------------------------------------

DOMAIN: dict[str, Any] = {"slots": {"service": {"values": ["pothole", "streetlight", "other"]}}}


def test_services() -> None:
    assert parse_service(" Pothole ", DOMAIN) == "pothole"
    assert parse_service("spaceship", DOMAIN) is None
    assert parse_service(None, DOMAIN) is None
    assert parse_service("water_leak", {"slots": {}}) == "water_leak"  # no list: any code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("482913756", "482913756"),
        ("#482913756", "482913756"),
        ("٤٨٢٩١٣٧٥٦", "482913756"),
        (482913756, "482913756"),
        ("رقم البلاغ ٤٨٢٩١٣٧٥٦", "482913756"),
        ("12345", None),
        ("1234567890123", None),
        (None, None),
        (True, None),
    ],
)
def test_ticket_numbers(value: Any, expected: str | None) -> None:
    assert parse_ticket_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4", 4),
        ("٤", 4),
        (5, 5),
        ("3/5", 3),
        ("0", None),
        ("6", None),
        ("ten", None),
        (None, None),
        (True, None),
    ],
)
def test_ratings(value: Any, expected: int | None) -> None:
    assert parse_rating(value) == expected


def test_photo_from_attachments() -> None:
    attachments = [
        {"type": "audio", "url": "https://m/a.ogg"},
        {"type": "image", "url": "ftp://m/x.jpg"},
        {"type": "image", "url": "https://m/p.jpg"},
    ]
    assert photo_from_attachments(attachments) == "https://m/p.jpg"
    assert photo_from_attachments("https://m/p.jpg") is None
    assert photo_from_attachments([{"type": "image"}]) is None


@pytest.mark.parametrize(
    ("text", "intent", "skipped"),
    [
        ("skip", None, True),
        ("تخطي", None, True),
        ("لا", None, True),
        ("no photo", None, True),
        ("ما عندي صورة", None, True),
        ("anything", "deny", True),
        ("here it is", "inform", False),
        ("no I will not skip this very long sentence about the photo", None, False),
        ("الغاء البلاغ", "deny", False),
        ("cancel the report", "deny", False),
        ("/deny", "deny", True),
    ],
)
def test_skip(text: str, intent: str | None, skipped: bool) -> None:
    assert is_skip(text, intent) is skipped


FIELDS = ["service", "description", "location_text", "photo_url", "reporter_name"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("location_text", "location_text"),
        ("the location is wrong", "location_text"),
        ("الموقع غلط", "location_text"),
        ("غير الاسم", "reporter_name"),
        ("الوصف ناقص", "description"),
        ("change the photo", "photo_url"),
        ("everything", None),
        ("the location and the name", None),
    ],
)
def test_correction_field(text: str, field: str | None) -> None:
    assert correction_field(text, FIELDS) == field


def test_descriptions() -> None:
    assert not is_description("ابغى اقدم بلاغ")
    assert not is_description("I'd like to report a problem please")
    assert is_description("الشارع غرقان مويه من أمس والسيارات ما تقدر تمر")
    assert long_enough("حفرة كبيرة") and not long_enough("حفرة") and not long_enough("a b")


# --- FAQ -----------------------------------------------------------------------------------

# Natural questions, not copied from faq.yml: each must find its topic, in both languages.
NATURAL = {
    "working_hours": (
        "البلدية تداوم يوم الخميس لين كم؟",
        "until what time is the municipality open",
    ),
    "channels_940": ("ابي رقم التواصل مع البلدية او الواتس", "is there a whatsapp number for 940"),
    "building_permit": ("وش خطوات تصريح البناء عن طريق بلدي", "steps to get a construction permit"),
    "shop_licence": ("وش الاوراق المطلوبة لفتح بقالة", "documents needed to open a cafe"),
    "track_report": ("كيف اتابع البلاغ حقي", "how can I follow up on my ticket"),
    "report_duration": ("كم يوم ياخذ اصلاح الحفرة", "how long until the street light gets fixed"),
    "water_leak": ("ماسورة مكسورة والمويه تطلع مين المسؤول", "who fixes a burst water pipe"),
    "violations_objection": ("جتني مخالفة وابي اعترض عليها", "I want to appeal a fine"),
    "parks_booking": ("ابي احجز الحديقة لحفلة عيد ميلاد", "can I reserve a park for a party"),
    "stray_animals": ("الكلاب الضالة كثرت عندنا", "stray cats everywhere what should I do"),
    "waste_collection": ("متى تمر سيارة الزبالة", "what day is trash pickup"),
    "pest_control": ("عندنا بعوض كثير تقدرون ترشون", "mosquitoes everywhere can you spray"),
    "street_vendors": ("بياعين على الاشارة", "unlicensed hawkers near the mall"),
    "health_certificate": ("ابي شهادة صحية لعامل المطعم", "health card for my restaurant staff"),
}


def test_at_least_twelve_topics_each_with_both_languages() -> None:
    topics = data.load("faq.yml")["topics"]
    assert len(topics) >= 12
    assert {t["id"] for t in topics} == set(NATURAL)
    for topic in topics:
        for part in ("keywords", "questions", "answer"):
            assert topic[part]["ar"] and topic[part]["en"], (topic["id"], part)
        assert re.search(r"[\u0621-\u064a]", topic["answer"]["ar"]), topic["id"]
        assert re.search(r"[A-Za-z]{3}", topic["answer"]["en"]), topic["id"]


@pytest.mark.parametrize(("topic", "language"), [(t, lang) for t in NATURAL for lang in (0, 1)])
def test_faq_finds_the_topic_of_a_natural_question(topic: str, language: int) -> None:
    question = NATURAL[topic][language]
    found = faq.match(question)
    ranked = [(round(s, 1), t.id) for s, t in faq.scores(question)[:3]]
    assert found is not None and found.id == topic, ranked


def test_faq_sample_questions_find_their_own_topic() -> None:
    for topic in data.load("faq.yml")["topics"]:
        for language in ("ar", "en"):
            for question in topic["questions"][language]:
                found = faq.match(question)
                assert found is not None and found.id == topic["id"], question


@pytest.mark.parametrize(
    "question",
    [
        "what's the weather today",
        "من فاز بالمباراة امس",
        "hello",
        "شكرا",
        "السلام عليكم",
        "How much is a flight ticket from Dammam to Cairo?",
        "I want to report a pothole",
        "عندي حفرة في الشارع",
        "my name is Ahmed",
        "",
    ],
)
def test_faq_does_not_answer_what_it_does_not_know(question: str) -> None:
    assert faq.match(question) is None


@given(st.text(max_size=200))
def test_faq_never_raises(text: str) -> None:
    faq.match(text)


def test_service_times_in_the_faq_match_the_catalogue() -> None:
    with (ROOT / "settings" / "catalogue.yml").open(encoding="utf-8") as handle:
        catalogue = yaml.safe_load(handle)
    topic = next(t for t in data.load("faq.yml")["topics"] if t["id"] == "report_duration")
    for service in catalogue["services"]:
        hours = str(service["sla_hours"])
        for language in ("ar", "en"):
            assert re.search(rf"(?<!\d){hours}(?!\d)", topic["answer"][language]), (
                service["code"],
                language,
            )


def test_data_files_hold_only_strings() -> None:
    """YAML reads yes/no/on/off as booleans: such words must be quoted in the word lists."""

    def leaves(node: Any) -> list[Any]:
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in leaves(value)]
        if isinstance(node, list):
            return [leaf for value in node for leaf in leaves(value)]
        return [node]

    for name in ("faq.yml", "vocabulary.yml"):
        odd = [leaf for leaf in leaves(data.load(name)) if not isinstance(leaf, str)]
        assert odd == [], (name, odd)


# --- language, configuration, keys ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "current", "hint", "expected"),
    [
        ("English please", "ar", "ar", "en"),
        ("مرحبا", "en", None, "en"),
        ("مرحبا", None, "en", "en"),
        ("مرحبا", None, None, "ar"),
        ("123456", None, None, None),
        ("hello", None, "fr", "en"),
    ],
)
def test_choose_language(text: str, current: Any, hint: Any, expected: str | None) -> None:
    assert choose_language(text, current, hint) == expected


def test_text_of_picks_the_variation() -> None:
    domain = {
        "responses": {
            "utter_x": [
                {"text": "عربي"},
                {"condition": [{"type": "slot", "name": "language", "value": "en"}], "text": "en"},
            ]
        }
    }
    assert text_of(domain, "utter_x", "en") == "en"
    assert text_of(domain, "utter_x", "ar") == "عربي"
    assert text_of(domain, "utter_missing", "en") is None


def test_runtime_configuration() -> None:
    assert hub_key("admin=a, hub = h1 ,agent=x") == "h1"
    assert hub_key("admin=a") is None
    config = config_from_env({"TAWASUL_API_KEYS": "hub=k1,agent=k2"})
    assert (config.base_url, config.api_key) == (DEFAULT_TICKET_URL, "k1")
    config = config_from_env(
        {"TAWASUL_ACTIONS_API_KEY": "own", "TAWASUL_API_KEYS": "hub=k1", "TAWASUL_TICKET_URL": "u"}
    )
    assert (config.base_url, config.api_key) == ("u", "own")


def test_idempotency_keys() -> None:
    key = idempotency_key("report", "whatsapp:9665" + "0" * 300, "m1")
    assert key == idempotency_key("report", "whatsapp:9665" + "0" * 300, "m1")
    assert key != idempotency_key("report", "whatsapp:9665" + "0" * 300, "m2")
    assert key != idempotency_key("rating", "whatsapp:9665" + "0" * 300, "m1")
    assert len(key) <= 128 and key.isprintable()
    assert idempotency_key("report", "s", None) != idempotency_key("report", "s", None)
