"""What every registry backend offers: store, promote, roll back and load models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from ..model.scorers import Servable

# Shown instead of a personal-data value in anything the registry stores.
REDACTED = "<personal data>"


@dataclass(frozen=True)
class TrainingData:
    """What a registered model records about its data, so the registry describes itself:
    the training rows (personal data redacted) and where they came from."""

    features: pd.DataFrame
    target: pd.Series
    source: str
    # The columns the model reads (evaluate.used_columns); none given: every column.
    inputs: tuple[str, ...] = ()

    @classmethod
    def redacted(
        cls,
        features: pd.DataFrame,
        target: pd.Series,
        personal: list[str],
        source: str,
        inputs: list[str] | None = None,
    ) -> TrainingData:
        hidden = {name: REDACTED for name in personal if name in features}
        return cls(features.assign(**hidden), target, source, tuple(inputs or ()))

    def example(self, rows: int = 5) -> pd.DataFrame:
        """A few rows of the model's inputs only, for its input example and signature: no
        id, personal data or sensitive attribute, which are never inputs."""
        columns = list(self.inputs) or list(self.features.columns)
        return self.features[columns].head(rows)


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
        data: TrainingData | None = None,
        report: dict[str, Any] | None = None,
    ) -> str | None:
        """Log a training run; store the model as a new version when `register` is true,
        with its input signature, an input example, its training data's description and
        its evaluation report (the gate's verdict included)."""

    def promote(self, version: str) -> None:
        """Make `version` the champion, remembering the previous one."""

    def rollback(self) -> str:
        """Restore the previous champion and return its version."""

    def champion_version(self) -> str | None: ...

    def load(self, version: str) -> Pipeline: ...

    def load_for_serving(self, version: str) -> Servable:
        """What the service scores: the pipeline, or its compiled form alone where that
        is all there is (the exported model in an image without scikit-learn)."""

    def report(self, version: str) -> dict[str, Any] | None:
        """The evaluation report recorded with `version` at training (None if absent)."""

    def trained_at(self, version: str) -> datetime | None:
        """When `version` was stored (naive UTC), for monitoring its age."""


def required_champion(registry: Registry) -> str:
    """The champion's version; NoChampionError, saying what to do, when there is none."""
    version = registry.champion_version()
    if version is None:
        raise NoChampionError(
            "no champion model in the registry: run `make train` and pass the quality gate first"
        )
    return version


def load_champion(registry: Registry) -> tuple[Pipeline, str]:
    version = required_champion(registry)
    return registry.load(version), version
