"""Rasa 3.6 NLU component: ``service`` entities as service codes, also when DIET found none.

DIET extracts ``service`` spans in citizens' own words ("the lamp on our corner", "المويه
تهدر"); ``EntitySynonymMapper`` maps only the spellings listed as synonyms. This component,
placed after them, learns a :class:`nlu_components.service_model.ServiceModel` from the
training data's service annotations and synonyms, and at prediction time:

* scores the whole (normalised) message; when the intent is one of ``detect_intents`` and the
  best code reaches that intent's threshold, that code is the message's service (DIET's span
  for it is kept when it has one, otherwise the span is the words that voted for it);
* maps every other DIET ``service`` value to a code (kept only if it reaches
  ``resolve_threshold``, or ``keep_threshold`` when the message already has a service, or it
  is an exact code / known surface form for intents outside ``detect_intents``);
* drops values it cannot map and duplicates of a code already found.

Every ``service`` entity it outputs has a service code as value.

Config (``config.yml``)::

    - name: nlu_components.service_resolver.ServiceResolver
      detect_intents: {report_issue: 0.5, inform: 0.5}
      resolve_threshold: 0.2
      keep_threshold: 1.0
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.storage import ModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.extractors.extractor import EntityExtractorMixin  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.constants import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.shared.nlu.training_data.training_data import TrainingData  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.arabic_text import normalise
from nlu_components.service_model import ServiceModel

_FILE = "service_model.json"


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class ServiceResolver(GraphComponent, EntityExtractorMixin):  # type: ignore[misc]
    """Maps ``service`` entities to service codes and detects a service DIET missed."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config (see the module docstring)."""
        return {
            "entity_name": "service",
            "detect_intents": {"report_issue": 0.5, "inform": 0.5},
            "resolve_threshold": 0.2,
            "keep_threshold": 1.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: ServiceModel | None = None,
    ) -> None:
        self._entity: str = str(config.get("entity_name", "service"))
        self._detect: dict[str, float] = {
            str(k): float(v) for k, v in dict(config.get("detect_intents") or {}).items()
        }
        self._resolve_threshold = float(config.get("resolve_threshold", 0.2))
        self._keep_threshold = float(config.get("keep_threshold", 1.0))
        self._storage = model_storage
        self._resource = resource
        self._model = model or ServiceModel()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ServiceResolver:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ServiceResolver:
        """The component with the model :meth:`train` persisted (untrained if none)."""
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / _FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, ServiceModel.from_json(data))

    @staticmethod
    def required_packages() -> list[str]:
        """No third-party packages."""
        return []

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the service model from annotations and synonyms, and persists it."""
        spans: list[tuple[str, str]] = []
        others: list[str] = []
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            rest = text
            found = [
                e
                for e in example.get(ENTITIES) or []
                if e.get(ENTITY_ATTRIBUTE_TYPE) == self._entity
            ]
            for e in sorted(found, key=lambda e: -int(e.get(ENTITY_ATTRIBUTE_START, 0))):
                start, end = int(e[ENTITY_ATTRIBUTE_START]), int(e[ENTITY_ATTRIBUTE_END])
                spans.append((normalise(text[start:end]), str(e[ENTITY_ATTRIBUTE_VALUE])))
                rest = rest[:start] + " " + rest[end:]
            others.append(normalise(rest))
        synonyms = {
            normalise(str(k)): str(v) for k, v in dict(training_data.entity_synonyms).items()
        }
        self._model = ServiceModel.train(spans, synonyms, others)
        with self._storage.write_to(self._resource) as directory:
            (directory / _FILE).write_text(
                json.dumps(self._model.to_json(), ensure_ascii=False), "utf-8"
            )
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Rewrites each message's ``service`` entities (see the module docstring)."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                self._process(message, text)
        return messages

    def _process(self, message: Message, text: str) -> None:
        entities: list[dict[str, Any]] = list(message.get(ENTITIES) or [])
        services = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) == self._entity]
        if not services and not self._model.codes:
            return
        kept = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) != self._entity]
        intent = (message.get(INTENT) or {}).get("name")
        threshold = self._detect.get(str(intent))
        detected = self._model.detect(text, threshold) if threshold is not None else None
        chosen: list[dict[str, Any]] = []
        codes: set[str] = set()
        if detected is not None:
            own = next((e for e in services if self._code(e, 0.0) == detected), None)
            new = self._located(text, detected) if own is None else own
            if new is not None:
                new[ENTITY_ATTRIBUTE_VALUE] = detected
                chosen.append(new)
                codes.add(detected)
        for e in services:
            if threshold is None:
                code = self._exact(e)
            elif codes:
                code = self._code(e, self._keep_threshold)
            else:
                code = self._code(e, self._resolve_threshold)
            if code is None or code in codes:
                continue
            codes.add(code)
            e[ENTITY_ATTRIBUTE_VALUE] = code
            chosen.append(e)
        entities = kept + [self.add_processor_name(e) for e in chosen]
        entities.sort(
            key=lambda e: (e.get(ENTITY_ATTRIBUTE_START, 0), e.get(ENTITY_ATTRIBUTE_END, 0))
        )
        message.set(ENTITIES, entities, add_to_output=True)

    def _code(self, entity: dict[str, Any], threshold: float) -> str | None:
        return self._model.resolve(str(entity.get(ENTITY_ATTRIBUTE_VALUE, "")), threshold)

    def _exact(self, entity: dict[str, Any]) -> str | None:
        value = str(entity.get(ENTITY_ATTRIBUTE_VALUE, "")).lower().strip()
        if value in self._model.codes:
            return value
        return self._model.exact.get(value)

    def _located(self, text: str, code: str) -> dict[str, Any] | None:
        span = self._model.locate(text, code)
        if span is None:
            return None
        entity: dict[str, Any] = {
            ENTITY_ATTRIBUTE_TYPE: self._entity,
            ENTITY_ATTRIBUTE_START: span[0],
            ENTITY_ATTRIBUTE_END: span[1],
            ENTITY_ATTRIBUTE_VALUE: code,
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        }
        return self.add_extractor_name([entity])[0]  # type: ignore[no-any-return]
