"""Rasa 3.6 NLU component: Rasa's ``LogisticRegressionClassifier`` with a configurable ``C``.

On the held-out sets (docs/nlu-eval.md) a logistic regression over the word and character
n-gram counts classified the short messages of this domain (one-word answers, ticket
questions) better than DIET's intent head, and trains in seconds. Rasa's own component fixes
the inverse regularisation strength at scikit-learn's default (``C=1``), which leaves most
predictions under the FallbackClassifier's threshold; this subclass only makes it a setting.

Config (``config.yml``)::

    - name: nlu_components.intent_classifier.TunedLogisticRegressionClassifier
      C: 10.0
      max_iter: 1000
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.storage import ModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.nlu.classifiers.logistic_regression_classifier import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
    LogisticRegressionClassifier,
)
from sklearn.linear_model import LogisticRegression  # type: ignore[import-not-found, import-untyped, unused-ignore]


@DefaultV1Recipe.register(  # type: ignore[misc, unused-ignore]
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):  # type: ignore[misc]
    """``LogisticRegressionClassifier`` whose ``C`` comes from the config."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults plus ``C`` (10) and a higher ``max_iter`` (1000)."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0, "max_iter": 1000}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
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
