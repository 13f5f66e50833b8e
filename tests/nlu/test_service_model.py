"""ServiceModel: word/char-gram votes for service codes (pure Python, runs in the app venv)."""

from __future__ import annotations

from nlu_components.arabic_text import normalise
from nlu_components.service_model import ServiceModel, keys

SPANS = [
    ("street light", "streetlight"),
    ("street lights", "streetlight"),
    ("lamp post", "streetlight"),
    ("pothole", "pothole"),
    ("hole in the road", "pothole"),
    ("garbage", "waste"),
    ("trash bins", "waste"),
    (normalise("عمود الإنارة"), "streetlight"),
    (normalise("حفرة"), "pothole"),
    (normalise("الزبالة"), "waste"),
]
SYNONYMS = {"streetlamp": "streetlight", "litter": "waste", "5": "5"}
OTHERS = [
    "there is a problem on the road",
    "the road near my house",
    "on the street near the mosque",
    "hello",
    "the team came to the house",
    "thanks for the help",
    normalise("في الشارع عند المسجد"),
]


def model() -> ServiceModel:
    return ServiceModel.train(SPANS, SYNONYMS, OTHERS)


def test_codes_come_from_annotations_and_matching_synonyms_only() -> None:
    assert model().codes == ["pothole", "streetlight", "waste"]


def test_resolve_maps_codes_known_forms_and_unseen_wordings() -> None:
    m = model()
    assert m.resolve("pothole", 0.2) == "pothole"
    assert m.resolve("Streetlamp", 0.2) == "streetlight"
    assert m.resolve("the lamp", 0.2) == "streetlight"
    assert m.resolve("overflowing garbage bins", 0.2) == "waste"
    assert m.resolve(normalise("حفره كبيرة"), 0.2) == "pothole"


def test_resolve_drops_context_words_and_noise() -> None:
    m = model()
    assert m.resolve("the", 0.2) is None
    assert m.resolve("xyzzy", 0.2) is None


def test_context_words_weigh_less_than_service_words() -> None:
    m = model()
    assert m.scores("road").get("pothole", 0.0) < m.scores("pothole").get("pothole", 0.0)


def test_detect_finds_the_service_of_a_whole_message_above_the_threshold() -> None:
    m = model()
    assert m.detect("the street light in front of my house is out", 0.5) == "streetlight"
    assert m.detect(normalise("عمود الانارة قدام بيتي طافي"), 0.5) == "streetlight"
    assert m.detect("hello there, how are you", 0.5) is None


def test_locate_gives_the_span_of_the_voting_words() -> None:
    text = "the street light in front of my house is out"
    span = model().locate(text, "streetlight")
    assert span is not None
    assert text[span[0] : span[1]] == "street light"


def test_arabic_prefixes_are_stripped_for_a_second_key() -> None:
    assert keys("والحفرة") == ["والحفرة", "حفرة"]
    assert keys("lights") == ["lights", "light"]
    assert keys("ال") == ["ال"]


def test_json_round_trip_keeps_predictions() -> None:
    m = model()
    again = ServiceModel.from_json(m.to_json())
    assert again == m
    assert again.detect("garbage everywhere", 0.5) == "waste"
