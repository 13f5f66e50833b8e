"""Rasa 3.6 NLU component: Rasa's ``LogisticRegressionClassifier``, tuned for this domain.

On the held-out sets (docs/nlu-eval.md) a logistic regression over the word and character
n-gram counts classified the short messages of this domain (one-word answers, ticket
questions) better than DIET's intent head, and trains in seconds. This subclass changes four
things, each a setting:

* ``C``: the inverse regularisation strength (Rasa's class fixes scikit-learn's default 1,
  which leaves most predictions under the FallbackClassifier's threshold).
* ``sublinear_tf``: counts become ``log(1 + count)``, so a long message, or one character
  n-gram repeated in every word, does not outweigh the words that carry the intent.
* ``number_features``: four yes/no features of :mod:`nlu_components.number_shapes` (a phone
  number, a ticket number, a lone digit 1-5, digits only). The featurizers see every number as
  the same ``__NUMBER__`` token, so without them a ticket question looked like a rating.
* ``ensemble_weight``: when an intent classifier earlier in the pipeline (DIET with
  ``intent_classification: true`` and ``ranking_length: 0``) left its intent ranking on the
  message, the final probabilities are ``(1 - w) * logistic regression + w * that ranking``.
  0 ignores it. Put this component after that classifier.

Config (``config.yml``)::

    - name: nlu_components.intent_classifier.TunedLogisticRegressionClassifier
      C: 10.0
      max_iter: 1000
      sublinear_tf: true
      number_features: true
      ensemble_weight: 0.25
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.storage import ModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.classifiers.logistic_regression_classifier import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    LogisticRegressionClassifier,
)
from rasa.shared.nlu.constants import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.utils.tensorflow.constants import RANKING_LENGTH  # type: ignore[import-not-found, import-untyped, unused-ignore]
from scipy.sparse import csr_matrix, hstack  # type: ignore[import-not-found, import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-not-found, import-untyped, unused-ignore]

from nlu_components.number_shapes import number_shapes


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):  # type: ignore[misc]
    """``LogisticRegressionClassifier`` with the settings of the module docstring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults plus ``C`` 10, ``max_iter`` 1000, sublinear counts, number
        features, and no ensemble."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 10.0,
            "max_iter": 1000,
            "sublinear_tf": True,
            "number_features": True,
            "ensemble_weight": 0.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        weight = float(self.config["ensemble_weight"])
        if not 0.0 <= weight <= 1.0:
            raise ValueError(
                "TunedLogisticRegressionClassifier: ensemble_weight must be in [0, 1], "
                f"not {weight}"
            )
        self._ensemble_weight = weight
        self.clf = LogisticRegression(
            C=float(self.config["C"]),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            tol=self.config["tol"],
            random_state=self.config["random_state"],
            dual=False,
            fit_intercept=True,
            intercept_scaling=1,
            multi_class="auto",
        )

    def _create_X(self, messages: list[Message]) -> Any:
        """Rasa's sentence features, sublinear if configured, plus the number features."""
        features = super()._create_X(messages).tocsr()
        if self.config["sublinear_tf"]:
            features = features.log1p()
        if self.config["number_features"]:
            shapes = [[float(v) for v in number_shapes(_text(m))] for m in messages]
            features = hstack([features, csr_matrix(shapes)]).tocsr()
        return features

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets the most likely intent and the ranking, blended with an earlier classifier's
        ranking when ``ensemble_weight`` is above 0."""
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        intents = [str(name) for name in self.clf.classes_]
        weight = self._ensemble_weight
        for message, row in zip(messages, probabilities, strict=True):
            scores = {name: float(p) for name, p in zip(intents, row, strict=True)}
            earlier = _ranking(message) if weight > 0.0 else {}
            if earlier:
                scores = {
                    name: (1.0 - weight) * p + weight * earlier.get(name, 0.0)
                    for name, p in scores.items()
                }
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in sorted(scores.items(), key=lambda kv: -kv[1])
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            length = int(self.config[RANKING_LENGTH])
            message.set(
                INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True
            )
        return messages


def _text(message: Message) -> str:
    text = message.get(TEXT)
    return text if isinstance(text, str) else ""


def _ranking(message: Message) -> dict[str, float]:
    """The intent ranking an earlier classifier left on ``message``, as name → confidence."""
    scores: dict[str, float] = {}
    for entry in message.get(INTENT_RANKING_KEY) or []:
        if isinstance(entry, dict):
            name = entry.get(INTENT_NAME_KEY)
            confidence = entry.get(PREDICTED_CONFIDENCE_KEY)
            if isinstance(name, str) and isinstance(confidence, (int, float)):
                scores[name] = float(confidence)
    return scores
