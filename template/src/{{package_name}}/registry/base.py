"""What every registry backend offers: store, promote, roll back and load models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sklearn.pipeline import Pipeline


class NoChampionError(RuntimeError):
    """There is no champion model yet."""


class Registry(Protocol):
    # Where the registry lives (a tracking URI or a folder), to tell registries apart.
    location: str

    def record(
        self,
        model: Pipeline,
        metrics: dict[str, float],
        params: dict[str, Any],
        lineage: dict[str, Any],
        *,
        register: bool,
    ) -> str | None:
        """Log a training run; store the model as a new version when `register` is true."""

    def promote(self, version: str) -> None:
        """Make `version` the champion, remembering the previous one."""

    def rollback(self) -> str:
        """Restore the previous champion and return its version."""

    def champion_version(self) -> str | None: ...

    def load(self, version: str) -> Pipeline: ...

    def trained_at(self, version: str) -> datetime | None:
        """When `version` was stored (naive UTC), for monitoring its age."""


def load_champion(registry: Registry) -> tuple[Pipeline, str]:
    version = registry.champion_version()
    if version is None:
        raise NoChampionError(
            "no champion model in the registry: run `make train` and pass the quality gate first"
        )
    return registry.load(version), version
