"""Rasa 3.6 NLU component: messages in a language the bot does not speak become ``nlu_fallback``.

The intent classifier was trained on Arabic and English only, so an Urdu, Tagalog, Hindi or
Bengali message gets whichever intent its character n-grams happen to resemble, often with a
confidence above the fallback threshold. This gate sets the intent to ``nlu_fallback``
(confidence 1.0) whenever :func:`nlu_components.language.detect` says ``"other"``; the dialogue
then runs ``action_clarify``, which checks the language again and sends the bilingual
``utter_other_language`` (docs/bot.md). Anything else (Arabic, English, Arabizi, a message
without letters such as digits or emoji) is left exactly as the classifiers made it.

The intent ranking is kept: ``nlu_fallback`` is put first, as ``FallbackClassifier`` does, so
the classifiers' own guesses stay visible (and ``rasa test nlu`` can undo the fallback). When
``FallbackClassifier`` already chose ``nlu_fallback``, its entry is replaced, not duplicated.

Detection reads the text as the citizen wrote it (``text_original``, which the
``ArabicNormaliser`` keeps until ``ArabicTextRestorer`` puts it back), falling back to the
message text when there is none. Put it right after ``FallbackClassifier``. It does nothing at
training time.

Config (``config.yml``)::

    - name: nlu_components.language_gate.LanguageGate
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.constants import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.arabic_normaliser import TEXT_ORIGINAL
from nlu_components.language import detect
from nlu_components.stateless import StatelessComponent

#: What :func:`nlu_components.language.detect` returns for a language the bot does not speak.
OTHER = "other"


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class LanguageGate(StatelessComponent):
    """Sets the intent to ``nlu_fallback`` for messages in another language (see module)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options."""
        return {}

    def process(self, messages: list[Message]) -> list[Message]:
        """Gates messages whose original text is in another language."""
        for message in messages:
            original = message.get(TEXT_ORIGINAL)
            text = original if isinstance(original, str) else message.get(TEXT)
            if isinstance(text, str) and text and detect(text) == OTHER:
                _set_fallback(message)
        return messages


def _set_fallback(message: Message) -> None:
    fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if not (
            isinstance(entry, dict)
            and entry.get(INTENT_NAME_KEY) == DEFAULT_NLU_FALLBACK_INTENT_NAME
        )
    ]
    message.set(INTENT, fallback, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(fallback), *ranking], add_to_output=True)
