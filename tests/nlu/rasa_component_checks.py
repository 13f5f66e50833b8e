"""Checks of the custom Rasa components, run by the Rasa environment's Python (3.10).

Not collected by pytest (the app venv has no Rasa): ``test_rasa_components.py`` runs this file
with ``.venv-rasa/bin/python`` and reports its failures. Each check builds real Rasa
``Message`` / ``TrainingData`` objects and calls the components the way Rasa's graph does,
without training a model (a few seconds, mostly importing Rasa).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.constants import ENTITIES, TEXT  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.training_data.training_data import TrainingData  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.arabic_normaliser import ArabicNormaliser, ArabicTextRestorer
from nlu_components.intent_classifier import TunedLogisticRegressionClassifier
from nlu_components.language_gate import LanguageGate
from nlu_components.service_resolver import ServiceResolver
from nlu_components.ticket_number_extractor import TicketNumberExtractor

CHECKS: list[Callable[[], None]] = []


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append(fn)
    return fn


def entity(kind: str, start: int, end: int, value: str) -> dict[str, Any]:
    return {"entity": kind, "start": start, "end": end, "value": value}


@check
def components_are_registered_with_the_right_types() -> None:
    types = DefaultV1Recipe.ComponentType
    registered = DefaultV1Recipe._registered_components
    normaliser = registered["ArabicNormaliser"]
    assert normaliser.types == {types.MESSAGE_FEATURIZER}, normaliser.types
    assert not normaliser.is_trainable
    resolver = registered["ServiceResolver"]
    assert resolver.types == {types.ENTITY_EXTRACTOR}, resolver.types
    assert resolver.is_trainable
    classifier = registered["TunedLogisticRegressionClassifier"]
    assert classifier.types == {types.INTENT_CLASSIFIER}, classifier.types
    assert classifier.is_trainable
    gate = registered["LanguageGate"]
    assert gate.types == {types.INTENT_CLASSIFIER}, gate.types
    assert not gate.is_trainable
    for name in ("TicketNumberExtractor", "ArabicTextRestorer"):
        assert registered[name].types == {types.ENTITY_EXTRACTOR}, registered[name].types
        assert not registered[name].is_trainable


@check
def normaliser_rewrites_training_examples_and_moves_entity_spans() -> None:
    text = "فيه حُفْرَة في شارعِ المَلِك فهد رقم ٤٨٢٩١٣"
    service = entity("service", text.index("حُفْرَة"), text.index("حُفْرَة") + 7, "pothole")
    loc_start = text.index("شارعِ")
    loc_end = loc_start + len("شارعِ المَلِك فهد")
    location = entity("location", loc_start, loc_end, text[loc_start:loc_end])
    ticket = entity("ticket_id", len(text) - 6, len(text), "482913")
    example = Message(data={TEXT: text, "intent": "report_issue"})
    example.set(ENTITIES, [service, location, ticket])
    data = TrainingData(
        training_examples=[example],
        entity_synonyms={"حُفْرَة": "pothole", "إنارة": "streetlight"},
        lookup_tables=[{"name": "location", "elements": ["حيّ الفيصلية", "حي الفيصليه"]}],
        regex_features=[{"name": "digits", "pattern": "[٠-٩]{6,}"}],
    )
    ArabicNormaliser({"taa_marbuta": True}).process_training_data(data)
    new_text = example.get(TEXT)
    assert new_text == "فيه حفره في شارع الملك فهد رقم 482913", new_text
    spans = {e["entity"]: new_text[e["start"] : e["end"]] for e in example.get(ENTITIES)}
    assert spans == {"service": "حفره", "location": "شارع الملك فهد", "ticket_id": "482913"}
    values = {e["entity"]: e["value"] for e in example.get(ENTITIES)}
    assert values == {"service": "pothole", "location": "شارع الملك فهد", "ticket_id": "482913"}
    assert data.entity_synonyms["حفره"] == "pothole"
    assert data.entity_synonyms["اناره"] == "streetlight"
    assert data.lookup_tables[0]["elements"] == ["حي الفيصليه"], data.lookup_tables
    assert data.regex_features[0]["pattern"] == "[0-9]{6,}"


@check
def taa_marbuta_option_is_honoured() -> None:
    message = Message(data={TEXT: "المدينة"})
    ArabicNormaliser({"taa_marbuta": False}).process([message])
    assert message.get(TEXT) == "المدينة"
    ArabicNormaliser({"taa_marbuta": True}).process([message])
    assert message.get(TEXT) == "المدينه"


@check
def ticket_extractor_replaces_diet_ticket_ids_and_overlaps() -> None:
    text = "بلاغي #٤٨٢٩١٣ و 771234 في حي النزهة"
    message = Message(data={TEXT: text})
    ArabicNormaliser({}).process([message])
    normalised = message.get(TEXT)
    start = normalised.index("482913")
    diet = [
        {**entity("ticket_id", 0, 5, "بلاغي"), "extractor": "DIETClassifier"},
        {**entity("location", start, start + 6, "482913"), "extractor": "DIETClassifier"},
        {**entity("location", normalised.index("حي"), len(normalised), "حي النزهه")},
    ]
    message.set(ENTITIES, diet, add_to_output=True)
    TicketNumberExtractor({}).process([message])
    got = [(e["entity"], e["value"]) for e in message.get(ENTITIES)]
    assert got == [("ticket_id", "482913"), ("ticket_id", "771234"), ("location", "حي النزهه")], got
    assert all(e.get("extractor") == "TicketNumberExtractor" for e in message.get(ENTITIES)[:2])


@check
def restorer_puts_the_original_text_back() -> None:
    text = "الإنارة طافية في حي الفيصلية، البلاغ ۴۸۲۹۱۳"
    message = Message(data={TEXT: text})
    ArabicNormaliser({}).process([message])
    normalised = message.get(TEXT)
    loc_start = normalised.index("حي")
    loc_end = normalised.index("،")
    message.set(
        ENTITIES,
        [
            entity("service", 0, 7, "streetlight"),
            entity("location", loc_start, loc_end, normalised[loc_start:loc_end]),
        ],
        add_to_output=True,
    )
    WhitespaceTokenizer({**WhitespaceTokenizer.get_default_config()}).process([message])
    TicketNumberExtractor({}).process([message])
    ArabicTextRestorer({"restore_values": ["location"]}).process([message])
    assert message.get(TEXT) == text
    tokens = [text[t.start : t.end] for t in message.get("text_tokens")]
    assert tokens[:3] == ["الإنارة", "طافية", "في"], tokens
    assert message.get("text_normalised") == normalised
    got = {e["entity"]: (text[e["start"] : e["end"]], e["value"]) for e in message.get(ENTITIES)}
    assert got == {
        "service": ("الإنارة", "streetlight"),
        "location": ("حي الفيصلية", "حي الفيصلية"),
        "ticket_id": ("۴۸۲۹۱۳", "482913"),
    }, got
    parse = message.as_dict(only_output_properties=True)
    assert parse[TEXT] == text and "text_original" not in parse, parse


@check
def tuned_logistic_regression_takes_c_from_the_config() -> None:
    from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]

    config = {**TunedLogisticRegressionClassifier.get_default_config(), "C": 3.0}
    classifier = TunedLogisticRegressionClassifier(config, "lr", None, Resource("lr"))
    assert classifier.clf.C == 3.0, classifier.clf.C
    assert classifier.clf.max_iter == 1000


def _featurised(text: str, vector: list[float], intent: str | None = None) -> Message:
    """A message with one sparse sentence feature vector, as the featurizers leave it."""
    from rasa.shared.nlu.training_data.features import Features  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from scipy.sparse import csr_matrix  # type: ignore[import-not-found, import-untyped, unused-ignore]

    message = Message(data={TEXT: text, **({"intent": intent} if intent else {})})
    message.add_features(Features(csr_matrix([vector]), "sentence", TEXT, "counts"))
    return message


@check
def tuned_logistic_regression_adds_number_features_and_blends_an_earlier_ranking() -> None:
    import tempfile

    from rasa.engine.storage.local_model_storage import LocalModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]

    examples = [
        _featurised("hello", [2.0, 0.0], "greet"),
        _featurised("hi there", [1.0, 0.0], "greet"),
        _featurised("bye", [0.0, 1.0], "goodbye"),
        _featurised("see you", [0.0, 3.0], "goodbye"),
    ]
    defaults = TunedLogisticRegressionClassifier.get_default_config()
    assert defaults["sublinear_tf"] is True and defaults["number_features"] is True
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        config = {**defaults, "ensemble_weight": 0.6}
        classifier = TunedLogisticRegressionClassifier(config, "lr", storage, Resource("lr"))
        classifier.train(TrainingData(examples))
        # Two count columns + phone, ticket, small_number, digits_only.
        assert classifier.clf.n_features_in_ == 6, classifier.clf.n_features_in_
        alone = _featurised("hey", [1.0, 0.0])
        blended = _featurised("hey", [1.0, 0.0])
        blended.set("intent_ranking", [{"name": "goodbye", "confidence": 1.0}])
        classifier.process([alone, blended])
        assert alone.get("intent")["name"] == "greet", alone.get("intent")
        assert blended.get("intent")["name"] == "goodbye", blended.get("intent_ranking")
        total = sum(e["confidence"] for e in blended.get("intent_ranking"))
        assert abs(total - 1.0) < 1e-6, total
        try:
            TunedLogisticRegressionClassifier(
                {**defaults, "ensemble_weight": 1.5}, "lr", storage, Resource("lr2")
            )
        except ValueError:
            pass
        else:
            raise AssertionError("ensemble_weight 1.5 accepted")


def _gated(text: str, intent: str = "report_issue", confidence: float = 0.9) -> Message:
    """A message as it reaches the gate: normalised, classified, after FallbackClassifier."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier  # type: ignore[import-not-found, import-untyped, unused-ignore]

    message = Message(data={TEXT: text})
    ArabicNormaliser({}).process([message])
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "inform", "confidence": round(1.0 - confidence, 3)},
    ]
    message.set("intent", dict(ranking[0]), add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)
    FallbackClassifier({"threshold": 0.4, "ambiguity_threshold": 0.1}).process([message])
    LanguageGate({}).process([message])
    ArabicTextRestorer({}).process([message])
    return message


@check
def language_gate_sends_other_languages_to_the_fallback() -> None:
    for text in (
        "میری گلی میں کئی دنوں سے کچرا پڑا ہے، براہ کرم مدد کریں",  # Urdu
        "Magandang araw po, may malaking butas sa kalsada sa harap ng bahay namin",  # Tagalog
        "मेरी गली में कई दिनों से कचरा पड़ा है",  # Hindi
        "আমার রাস্তায় অনেক দিন ধরে ময়লা পড়ে আছে",  # Bengali
    ):
        parse = _gated(text).as_dict(only_output_properties=True)
        assert parse["intent"] == {"name": "nlu_fallback", "confidence": 1.0}, (text, parse)
        names = [(r["name"], r["confidence"]) for r in parse["intent_ranking"]]
        assert names == [("nlu_fallback", 1.0), ("report_issue", 0.9), ("inform", 0.1)], names
        assert parse["text"] == text, parse["text"]
    # Already a fallback (low confidence): one nlu_fallback entry, at 1.0, the rest kept.
    parse = _gated("میری گلی میں کچرا ہے", confidence=0.3).as_dict(only_output_properties=True)
    names = [(r["name"], r["confidence"]) for r in parse["intent_ranking"]]
    assert names == [("nlu_fallback", 1.0), ("report_issue", 0.3), ("inform", 0.7)], names


@check
def language_gate_leaves_arabic_english_and_digits_alone() -> None:
    for text in (
        "نعم", "لا", "محمد", "محمد العتيبي", "حي الروضة، شارع الأمير سلطان", "تخطي", "شكراً",
        "yes", "no", "ok", "skip", "John Smith", "Sarah Ahmed", "Al Khobar",
        "salam 3ndi mushkila",  # Arabizi
        "4", "٤", "٠٥٥١٢٣٤٥٦٧", "#482913", "👍", "",
    ):  # fmt: skip
        message = _gated(text)
        intent = message.get("intent")
        assert intent == {"name": "report_issue", "confidence": 0.9}, (text, intent)
        ranking = [r["name"] for r in message.get("intent_ranking")]
        assert ranking == ["report_issue", "inform"], (text, ranking)
    # A fallback the FallbackClassifier chose stays its own (threshold confidence).
    message = _gated("نعم", confidence=0.3)
    intent = message.get("intent")
    assert intent == {"name": "nlu_fallback", "confidence": 0.4}, intent


def _example(text: str, intent: str, span: str | None = None, code: str = "") -> Message:
    entities = []
    if span is not None:
        start = text.index(span)
        entities = [entity("service", start, start + len(span), code)]
    return Message(data={TEXT: text, "intent": intent, ENTITIES: entities})


@check
def service_resolver_trains_persists_and_maps_values_to_codes() -> None:
    import tempfile

    from rasa.engine.graph import ExecutionContext, GraphSchema  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.engine.storage.local_model_storage import LocalModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]

    examples = [
        _example("the street light is out", "report_issue", "street light", "streetlight"),
        _example("a lamp post fell near the school", "report_issue", "lamp post", "streetlight"),
        _example("there is a pothole on the road", "report_issue", "pothole", "pothole"),
        _example("a big hole in the road by us", "report_issue", "hole in the road", "pothole"),
        _example("garbage all over the road", "report_issue", "garbage", "waste"),
        _example("hello there", "greet"),
        _example("the road near my house", "inform"),
    ]
    data = TrainingData(training_examples=examples, entity_synonyms={"streetlamp": "streetlight"})
    config = {**ServiceResolver.get_default_config()}
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("service_resolver")
        context = ExecutionContext(GraphSchema({}), "test")
        ServiceResolver.create(config, storage, resource, context).train(data)
        resolver = ServiceResolver.load(config, storage, resource, context)

    def run(text: str, intent: str, diet: list[dict[str, Any]]) -> list[tuple[str, str]]:
        message = Message(data={TEXT: text, "intent": {"name": intent, "confidence": 1.0}})
        message.set(ENTITIES, diet, add_to_output=True)
        resolver.process([message])
        return [(e["value"], text[e["start"] : e["end"]]) for e in message.get(ENTITIES)]

    # DIET's free-text span and its noise: mapped to a code, the noise dropped, no duplicates.
    text = "the streetlamp and the lamp are dark"
    diet = [
        entity("service", 4, 14, "streetlight"),
        entity("service", 19, 27, "the lamp"),
        entity("service", 0, 3, "the"),
    ]
    assert run(text, "report_issue", diet) == [("streetlight", "streetlamp")]
    # DIET found nothing: detected from the message text, span = the voting words.
    got = run("the street light in front of my house is out", "report_issue", [])
    assert got == [("streetlight", "street light")], got
    # Not for intents outside detect_intents; only exact codes / surface forms kept there.
    assert run("the street light in front of my house is out", "greet", []) == []
    assert run("hello pothole", "greet", [entity("service", 6, 13, "pothole")]) == [
        ("pothole", "pothole")
    ]
    assert run("hello the", "greet", [entity("service", 6, 9, "the")]) == []
    # Other entities are left alone.
    message = Message(data={TEXT: "at Al Fayha", "intent": {"name": "inform"}})
    message.set(ENTITIES, [entity("location", 3, 11, "Al Fayha")], add_to_output=True)
    resolver.process([message])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["location"]


def main() -> int:
    failed = 0
    for fn in CHECKS:
        try:
            fn()
        except Exception:  # report every failing check, not just the first
            failed += 1
            print(f"FAIL {fn.__name__}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"ok   {fn.__name__}", flush=True)
    print(f"{len(CHECKS) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
