"""Base class of the custom components that have nothing to train or persist."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found, import-untyped, unused-ignore]
from rasa.engine.storage.storage import ModelStorage  # type: ignore[import-not-found, import-untyped, unused-ignore]

C = TypeVar("C", bound="StatelessComponent")


class StatelessComponent(GraphComponent):  # type: ignore[misc]
    """Built from its configuration alone; needs no third-party packages."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        """Creates the component (it has nothing to train or persist)."""
        return cls(config)

    @staticmethod
    def required_packages() -> list[str]:
        """No third-party packages."""
        return []
