"""The champion exported to a folder, for the container image to serve.

`make export-model` writes <export_path>/model.joblib and VERSION from the real
registry; the image sets the registry backend to "exported" and reads them. The
folder is read-only from the project's point of view: train and promote elsewhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from ..config import RegistrySettings
from .base import Registry, load_champion


class ExportedRegistry:
    def __init__(self, settings: RegistrySettings) -> None:
        self.root = settings.export_path
        self.location = str(settings.export_path)

    def _read_only(self, *_: Any, **__: Any) -> Any:
        raise ValueError(
            f"{self.root} holds an exported model and is read-only: train and promote with "
            "the project's registry, then `make export-model`"
        )

    record = promote = rollback = _read_only

    def champion_version(self) -> str | None:
        version_file = self.root / "VERSION"
        return version_file.read_text().strip() if version_file.exists() else None

    def report(self, version: str) -> dict[str, Any] | None:
        return None  # the image carries the model, not its training report

    def load(self, version: str) -> Pipeline:
        model: Pipeline = joblib.load(self.root / "model.joblib")
        return model

    def trained_at(self, version: str) -> datetime | None:
        stamp = self.root / "TRAINED_AT"
        return datetime.fromisoformat(stamp.read_text().strip()) if stamp.exists() else None


def export_champion(registry: Registry, destination: Path) -> str:
    """Copy the champion into `destination` (replaced whole, never half-written)."""
    model, version = load_champion(registry)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".export-"))
    try:
        joblib.dump(model, staging / "model.joblib")
        (staging / "VERSION").write_text(version + "\n")
        trained_at = registry.trained_at(version)
        if trained_at is not None:
            (staging / "TRAINED_AT").write_text(trained_at.isoformat() + "\n")
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return version
