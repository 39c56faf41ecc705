"""The champion exported to a folder, for the container image to serve.

`make export-model` writes <export_path>/model.skops and VERSION from the real
registry's champion, after checking that the copy predicts exactly what the
registry's model predicts on the holdout; the image sets the registry backend to
"exported" and reads them. A service's model is also compiled there (model.onnx and
onnx_model.json, when it agrees with the pipeline on the holdout: model/scorers.py), so
the image carries no converter. A challenger in [shadow] version is exported beside it
(<export_path>/shadow/), checked the same way, so the image can run it in shadow.
RUNTIME says what the image must install to serve: "onnx" when every exported model
has its compiled form (no scikit-learn, pandas or scipy: Dockerfile), else
"scikit-learn".
Loading a skops file runs no pickled code. The folder is read-only from the
project's point of view: train and promote elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import RegistrySettings
from ..model.scorers import GRAPH_ATTRIBUTE, OnnxModel
from .base import Registry, load_champion
from .challenger import load_challenger

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from ..model.scorers import Servable

SHADOW = "shadow"  # the challenger's folder inside the export
GRAPH_FILE = "model.onnx"
GRAPH_DESCRIPTION = "onnx_model.json"
RUNTIME = "RUNTIME"
# Compiles a model for the service: its ONNX form, or None to score with scikit-learn.
Compile = Callable[["Pipeline", str], OnnxModel | None]


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
        return _load(self._folder(version))

    def load_for_serving(self, version: str) -> Servable:
        """The pipeline where scikit-learn is installed; else (the online image of a
        compiled model) the compiled form alone."""
        folder = self._folder(version)
        if importlib.util.find_spec("sklearn") is not None:
            return _load(folder)
        if not (folder / GRAPH_FILE).exists():
            raise ValueError(
                f"model v{version} has no compiled (ONNX) form in {folder}, and this image has "
                "no scikit-learn to score it: rebuild the image from this export (`make "
                "image` installs scikit-learn when the export says so in RUNTIME)"
            )
        model = OnnxModel.from_description(
            (folder / GRAPH_FILE).read_bytes(), (folder / GRAPH_DESCRIPTION).read_text()
        )
        model.check()  # a corrupt graph is a model fault here, not a crash at first use
        return model

    def _folder(self, version: str) -> Path:
        if version == self.champion_version():
            return self.root
        shadow = self.root / SHADOW
        if (shadow / "VERSION").exists() and (shadow / "VERSION").read_text().strip() == version:
            return shadow
        raise ValueError(
            f"{self.root} holds version {self.champion_version()} (and its exported challenger, "
            f"if any), not version {version}: export it with `make export-model`"
        )

    def trained_at(self, version: str) -> datetime | None:
        stamp = self.root / "TRAINED_AT"
        return datetime.fromisoformat(stamp.read_text().strip()) if stamp.exists() else None


def _load(folder: Path) -> Pipeline:
    from .artifacts import MODEL_FILE, load_model

    model = load_model(folder / MODEL_FILE)
    if (folder / GRAPH_FILE).exists():
        setattr(model, GRAPH_ATTRIBUTE, (folder / GRAPH_FILE).read_bytes())
    return model


def _write(
    model: Pipeline,
    version: str,
    folder: Path,
    holdout: pd.DataFrame,
    compile_model: Compile | None,
) -> bool:
    """Write one model; True when it has a compiled form."""
    from .artifacts import MODEL_FILE, check_same_predictions, load_model, save_model

    save_model(model, folder / MODEL_FILE)
    check_same_predictions(model, load_model(folder / MODEL_FILE), holdout)
    compiled = compile_model(model, version) if compile_model is not None else None
    if compiled is not None:
        (folder / GRAPH_FILE).write_bytes(compiled.graph)
        (folder / GRAPH_DESCRIPTION).write_text(compiled.description())
    (folder / "VERSION").write_text(version + "\n")
    return compiled is not None


def export_champion(
    registry: Registry,
    destination: Path,
    holdout: pd.DataFrame,
    version: str | None = None,
    challenger: str = "",
    compile_model: Compile | None = None,
    files: Mapping[str, str] | None = None,
) -> str:
    """Copy the champion into `destination` (replaced whole, never half-written), once
    the copy predicts the holdout exactly as the registry's model does.

    `version`, when given, must be the champion: what ships is what was approved (or
    rolled back to), never another version. `challenger` ([shadow] version) is
    exported beside it, to run in shadow only. `compile_model`, for a service, adds
    each model's ONNX graph. `files` (name: text) are written beside the model.
    """
    model, champion = load_champion(registry)
    if version is not None and version != champion:
        raise ValueError(
            f"model version {version} is not the champion (version {champion} is): only "
            "the champion ships. Promote it, or `make rollback` to it, first"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".export-"))
    try:
        compiled = _write(model, champion, staging, holdout, compile_model)
        shadow = load_challenger(registry, challenger, registry.load)
        if shadow is not None:
            (staging / SHADOW).mkdir()
            compiled &= _write(shadow, challenger, staging / SHADOW, holdout, compile_model)
        (staging / RUNTIME).write_text(("onnx" if compiled else "scikit-learn") + "\n")
        for name, text in (files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        trained_at = registry.trained_at(champion)
        if trained_at is not None:
            (staging / "TRAINED_AT").write_text(trained_at.isoformat() + "\n")
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return champion
