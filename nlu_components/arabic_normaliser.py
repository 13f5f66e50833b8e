"""Rasa 3.6 NLU component: Arabic text normaliser (runs first, before the tokenizer).

Rewrites the message ``text`` with :func:`nlu_components.arabic_text.normalise` so that every
later component (tokenizer, featurizers, DIET, regexes, synonyms) sees one spelling of each
word: no diacritics or tatweel, one alef, ``ى`` → ``ي``, ``ة`` → ``ه`` (option ``taa_marbuta``,
default on), ASCII digits.

Registered as a ``MESSAGE_FEATURIZER``: in Rasa's default recipe that is the component type
whose ``process_training_data`` runs on the training data before the trainable components see
it, and whose ``process`` runs on every message before the classifiers (``MESSAGE_TOKENIZER``
would be the only other such type, but a pipeline must have exactly one tokenizer).

Training data is kept consistent with the rewritten text: entity ``start``/``end`` offsets are
moved (dropping diacritics shortens the text), an entity value equal to its span text becomes
the normalised span, and entity-synonym keys, lookup-table elements and regex patterns are
normalised too.

The original text stays available: under ``text_original`` in the parse result (so in
``tracker.latest_message``); the ``UserUttered`` event's own ``text`` is untouched by Rasa.
``ArabicTextRestorer`` (also here; put it last in the pipeline) goes further: it puts the
original text back as ``text``, moves entity spans onto it and gives entities whose value was
their span text (a ``location``) the span as the citizen wrote it.

Config (``config.yml``)::

    - name: nlu_components.arabic_normaliser.ArabicNormaliser
      taa_marbuta: true
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.constants import TOKENS_NAMES  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.constants import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    ACTION_TEXT,
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.training_data.training_data import TrainingData  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.arabic_text import normalise, normalise_with_offsets, original_span
from nlu_components.stateless import StatelessComponent

#: Message attribute (and parse-result key) holding the text as the user wrote it.
TEXT_ORIGINAL = "text_original"
#: Parse-result key of the normalised text once ``ArabicTextRestorer`` put the original back.
TEXT_NORMALISED = "text_normalised"
#: Message attribute (not in the parse result): offsets from normalise_with_offsets.
_OFFSETS = "tawasul_normalisation_offsets"
TEXT_TOKENS = TOKENS_NAMES[TEXT]


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class ArabicNormaliser(StatelessComponent):
    """Normalises Arabic spelling and digits in the message text (see module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: ``taa_marbuta`` turns ``ة`` into ``ه``."""
        return {"taa_marbuta": True}

    def __init__(self, config: dict[str, Any]) -> None:
        value = config.get("taa_marbuta", True)
        if not isinstance(value, bool):
            raise ValueError(f"ArabicNormaliser: taa_marbuta must be true or false, not {value!r}")
        self._taa_marbuta: bool = value

    def _normalise(self, text: str) -> str:
        return normalise(text, taa_marbuta=self._taa_marbuta)

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalises incoming messages (prediction time)."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                normalised, offsets = normalise_with_offsets(text, taa_marbuta=self._taa_marbuta)
                message.set(TEXT_ORIGINAL, text, add_to_output=True)
                message.set(_OFFSETS, offsets)
                message.set(TEXT, normalised)
            action_text = message.get(ACTION_TEXT)
            if isinstance(action_text, str) and action_text:
                message.set(ACTION_TEXT, self._normalise(action_text))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises the training examples, their entity spans, synonyms, lookups, regexes."""
        for example in training_data.training_examples:
            self._normalise_example(example)
        synonyms: dict[str, Any] = training_data.entity_synonyms
        for key in list(synonyms):
            new_key = self._normalise(key)
            if new_key != key:
                synonyms.setdefault(new_key, synonyms[key])
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                table["elements"] = _unique(self._normalise(str(e)) for e in elements)
        for regex in training_data.regex_features:
            pattern = regex.get("pattern")
            if isinstance(pattern, str):
                # Arabic letters, marks and digits are not regex metacharacters; [٠-٩] → [0-9].
                regex["pattern"] = self._normalise(pattern)
        return training_data

    def _normalise_example(self, example: Message) -> None:
        action_text = example.get(ACTION_TEXT)
        if isinstance(action_text, str) and action_text:
            example.set(ACTION_TEXT, self._normalise(action_text))
        text = example.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        new_text, offsets = normalise_with_offsets(text, taa_marbuta=self._taa_marbuta)
        if new_text == text:
            return
        entities: list[dict[str, Any]] | None = example.get(ENTITIES)
        for entity in entities or []:
            start = entity.get(ENTITY_ATTRIBUTE_START)
            end = entity.get(ENTITY_ATTRIBUTE_END)
            if not (
                isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(text)
            ):
                continue
            new_start, new_end = offsets[start], offsets[end]
            if entity.get(ENTITY_ATTRIBUTE_VALUE) == text[start:end]:
                entity[ENTITY_ATTRIBUTE_VALUE] = new_text[new_start:new_end]
            entity[ENTITY_ATTRIBUTE_START] = new_start
            entity[ENTITY_ATTRIBUTE_END] = new_end
        example.set(TEXT, new_text)


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class ArabicTextRestorer(StatelessComponent):
    """Puts the text as the user wrote it back into the message, after the extractors.

    Put it last in the pipeline. Entities found in the normalised text get ``start``/``end``
    in the original text. For the free-text entity types listed in ``restore_values``
    (default: ``location``), a value that was its span's text becomes the span as written
    (``حي الفيصلية`` rather than ``حي الفيصليه``); every other value stays as the pipeline
    made it (service codes from synonyms, ``ticket_id`` and ``rating`` in ASCII digits).
    The parse result's ``text`` is then the original and ``text_normalised`` holds the
    normalised text. It does nothing for a message the ``ArabicNormaliser`` did not process,
    and nothing at training time.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: entity types whose span-text values are restored."""
        return {"restore_values": ["location"]}

    def __init__(self, config: dict[str, Any]) -> None:
        types = config.get("restore_values", ["location"])
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValueError(
                f"ArabicTextRestorer: restore_values must be a list of entity names, not {types!r}"
            )
        self._restore_values: frozenset[str] = frozenset(types)

    def process(self, messages: list[Message]) -> list[Message]:
        """Restores the original text and moves entity spans onto it."""
        for message in messages:
            original = message.get(TEXT_ORIGINAL)
            offsets = message.get(_OFFSETS)
            normalised = message.get(TEXT)
            if not (
                isinstance(original, str)
                and isinstance(normalised, str)
                and isinstance(offsets, list)
                and len(offsets) == len(original) + 1
            ):
                continue
            for entity in message.get(ENTITIES) or []:
                start = entity.get(ENTITY_ATTRIBUTE_START)
                end = entity.get(ENTITY_ATTRIBUTE_END)
                if not (isinstance(start, int) and isinstance(end, int)):
                    continue
                new_start, new_end = original_span(original, offsets, start, end)
                if (
                    entity.get(ENTITY_ATTRIBUTE_TYPE) in self._restore_values
                    and entity.get(ENTITY_ATTRIBUTE_VALUE) == normalised[start:end]
                ):
                    entity[ENTITY_ATTRIBUTE_VALUE] = original[new_start:new_end]
                entity[ENTITY_ATTRIBUTE_START] = new_start
                entity[ENTITY_ATTRIBUTE_END] = new_end
            # Token offsets too (the parse API lists them); their text stays normalised.
            for token in message.get(TEXT_TOKENS) or []:
                token.start, token.end = original_span(original, offsets, token.start, token.end)
            message.set(TEXT_NORMALISED, normalised, add_to_output=True)
            message.set(TEXT, original)
            message.data.pop(TEXT_ORIGINAL, None)
            message.output_properties.discard(TEXT_ORIGINAL)
            message.data.pop(_OFFSETS, None)
        return messages


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))
