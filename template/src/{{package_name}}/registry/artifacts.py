"""Models on disk in skops format: loading one runs no pickled code.

The registry backends and the exported model (the image's) store pipelines this way;
MLflow's own sklearn flavour uses skops too, with the same trusted types.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.pipeline import Pipeline

# Types skops does not trust by default that every pipeline here may hold: numpy
# dtypes and the project's own date_parts.
PACKAGE = __name__.split(".")[0]
SKOPS_TRUSTED_TYPES = ["numpy.dtype", f"{PACKAGE}.model.features.date_parts"]
MODEL_FILE = "model.skops"
# Probabilities may differ by float rounding and no more.
TOLERANCE = 1e-9


class ExportMismatchError(RuntimeError):
    """A stored copy of a model does not predict what the original predicts."""


def save_model(model: Pipeline, path: Path) -> None:
    sio.dump(model, path)


def load_model(path: Path) -> Pipeline:
    """Load a pipeline saved by save_model; anything but the trusted types is refused."""
    model: Pipeline = sio.load(path, trusted=SKOPS_TRUSTED_TYPES)
    return model


def check_same_predictions(original: Pipeline, copy: Pipeline, rows: pd.DataFrame) -> None:
    """Raise unless `copy` predicts exactly what `original` does on `rows` (and gives the
    same probabilities, to TOLERANCE)."""
    expected, got = original.predict(rows), copy.predict(rows)
    differ = int(np.sum(np.asarray(expected) != np.asarray(got)))
    if differ:
        raise ExportMismatchError(
            f"the exported model predicts differently from the registry's on {differ} of "
            f"{len(rows)} holdout rows: nothing was exported"
        )
    if hasattr(original, "predict_proba"):
        gap = float(np.max(np.abs(original.predict_proba(rows) - copy.predict_proba(rows))))
        if gap > TOLERANCE:
            raise ExportMismatchError(
                f"the exported model's probabilities differ from the registry's by up to "
                f"{gap:.2e} on the holdout (tolerance {TOLERANCE:.0e}): nothing was exported"
            )
