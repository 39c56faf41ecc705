"""A reset registry must not reuse version numbers the prediction log already holds.

Deleting an embedded MLflow store, or pointing at an empty one, restarts versions at 1,
while the prediction log keeps answers labelled 1, 2, 3 by the old registry: monitoring
and feedback would then mix two models under one number. Training refuses until a
person acknowledges the reset (ACKNOWLEDGE_REGISTRY_RESET=1, once).
"""

from __future__ import annotations

from pathlib import Path

from ..monitoring.prediction_log import PredictionLog
from .base import Registry
from .faults import RegistryFault
from .promotion import public_location

ACKNOWLEDGE_ENV = "ACKNOWLEDGE_REGISTRY_RESET"


class RegistryResetError(RegistryFault):
    """The registry has forgotten versions the prediction log remembers (exit status 5)."""


def served_versions(log_url: str) -> list[str]:
    """Model versions that answered predictions in the log (none if there is no log)."""
    if log_url.startswith("sqlite:///"):
        path = log_url.removeprefix("sqlite:///")
        if path != ":memory:" and not Path(path).exists():
            return []
    return PredictionLog(log_url).served_versions()


def check_not_reset(registry: Registry, log_url: str, *, acknowledged: bool) -> None:
    """Refuse to train into a registry that has no champion and knows none of the
    versions that answered predictions in the log."""
    if acknowledged or registry.champion_version() is not None:
        return
    served = served_versions(log_url)
    if served and all(registry.trained_at(version) is None for version in served):
        raise RegistryResetError(
            f"the prediction log holds answers from model versions {', '.join(served)}, but "
            f"the registry at {public_location(registry.location)} has no champion: it was "
            "reset, or it is not this project's registry, and new versions would reuse those "
            "numbers. Restore it (or set MLFLOW_TRACKING_URI to the right one); to start "
            f"over on purpose, run `{ACKNOWLEDGE_ENV}=1 make train` once"
        )
