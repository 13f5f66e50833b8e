"""Rasa 3.6 NLU component: ``ticket_id`` entities by regex, independent of DIET.

Finds ticket numbers with :func:`nlu_components.arabic_text.find_ticket_numbers` (6+ digits,
optional leading ``#``) in the message text, which the ``ArabicNormaliser`` earlier in the
pipeline has already normalised (Arabic-Indic / Persian digits are converted here again, so
the component also works without it). Each entity's ``value`` is the number in ASCII digits;
``start``/``end`` cover the match in the message text (including a ``#``).

Any ``ticket_id`` entity a statistical extractor (DIET) predicted is dropped, and so is any
other entity overlapping a ticket number found here: the ticket number is this component's
alone. So put it after DIET (and after ``EntitySynonymMapper``).

Config (``config.yml``)::

    - name: nlu_components.ticket_number_extractor.TicketNumberExtractor
      entity_name: ticket_id
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.extractors.extractor import EntityExtractorMixin  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.constants import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.arabic_text import find_ticket_numbers
from nlu_components.stateless import StatelessComponent


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class TicketNumberExtractor(StatelessComponent, EntityExtractorMixin):  # type: ignore[misc]
    """Adds ``ticket_id`` entities (ASCII digits) found by regex in the normalised text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: the entity name to emit."""
        return {"entity_name": "ticket_id"}

    def __init__(self, config: dict[str, Any]) -> None:
        name = config.get("entity_name", "ticket_id")
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"TicketNumberExtractor: entity_name must be a non-empty string, not {name!r}"
            )
        self._entity_name: str = name

    def process(self, messages: list[Message]) -> list[Message]:
        """Replaces ``ticket_id`` entities with the ones the regex finds."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            found: list[dict[str, Any]] = [
                {
                    ENTITY_ATTRIBUTE_TYPE: self._entity_name,
                    ENTITY_ATTRIBUTE_START: start,
                    ENTITY_ATTRIBUTE_END: end,
                    ENTITY_ATTRIBUTE_VALUE: number,
                    ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                }
                for start, end, number in find_ticket_numbers(text)
            ]
            spans = [(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]) for e in found]
            kept = [
                entity
                for entity in message.get(ENTITIES, []) or []
                if entity.get(ENTITY_ATTRIBUTE_TYPE) != self._entity_name
                and not _overlaps(entity, spans)
            ]
            entities = kept + self.add_extractor_name(found)
            entities.sort(
                key=lambda e: (e.get(ENTITY_ATTRIBUTE_START, 0), e.get(ENTITY_ATTRIBUTE_END, 0))
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


def _overlaps(entity: dict[str, Any], spans: list[tuple[int, int]]) -> bool:
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    if not isinstance(start, int) or not isinstance(end, int):
        return False
    return any(start < span_end and span_start < end for span_start, span_end in spans)
