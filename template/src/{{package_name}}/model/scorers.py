"""Scoring the champion fast: the pipeline compiled to ONNX, or scikit-learn as it is.

scikit-learn spends milliseconds per call on input checks and DataFrame handling, so a
one-row request costs about as much as a thousand-row one. The same fitted pipeline
converted to ONNX (skl2onnx) and run by onnxruntime answers a row in tens of
microseconds, from plain column arrays, with no pandas on the way. A compiled model is
used only when it predicts the same labels as the pipeline and probabilities (or
values) within TOLERANCE on check rows; otherwise, or when a step has no ONNX
converter (the date features, a custom estimator), scikit-learn scores, and
`Compiled.note` says why.

ONNX computes in 32-bit floats, hence the tolerance; a binary decision (`act`) at the
operating point can differ only for a probability within that tolerance of it.

`make export-model` compiles once and ships the graph beside the model, with what scoring
needs besides it (OnnxModel: model.onnx and onnx_model.json), so the image needs
onnxruntime but not the converter. An image with scikit-learn checks the graph against
the pipeline again when the service starts; the online image of a model whose graph was
accepted has no scikit-learn, pandas or scipy at all and serves the OnnxModel alone,
as checked at export (Dockerfile).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

# Largest difference accepted between the compiled model and the pipeline: in
# probabilities, or relative to the size of a regression's values.
TOLERANCE = 1e-5
# A missing category reaches ONNX as this string (ONNX strings cannot be missing).
MISSING = ""
# A model loaded from an export carries its compiled graph (ONNX bytes) here.
GRAPH_ATTRIBUTE = "onnx_graph_"
# The operating point of a model that makes no binary decision.
UNSET = "unset"


@dataclass(frozen=True)
class OnnxModel:
    """A pipeline compiled to ONNX, with everything else scoring needs from it."""

    graph: bytes
    numeric: list[str]
    categorical: list[str]
    problem_type: str
    # Binary: which probability column is the positive class.
    positive_index: int | None
    # Binary: the probability to act at; None: never act; UNSET: no decision.
    operating_point: float | str | None
    # Bins of numeric sensitive attributes, from training (prediction log slices).
    slice_edges: dict[str, list[float]] | None

    @classmethod
    def from_pipeline(
        cls, graph: bytes, model: Pipeline, problem_type: str, positive: Any
    ) -> OnnxModel:
        from .metrics import positive_column

        numeric, categorical = _inputs(model)
        binary = problem_type == "binary"
        return cls(
            graph,
            numeric,
            categorical,
            problem_type,
            positive_column(model, positive) if binary else None,
            getattr(model, "operating_point_", UNSET),
            slice_edges(model),
        )

    def description(self) -> str:
        """Everything but the graph, as JSON (onnx_model.json beside model.onnx)."""
        fields = {key: value for key, value in asdict(self).items() if key != "graph"}
        return json.dumps(fields, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_description(cls, graph: bytes, description: str) -> OnnxModel:
        return cls(graph=graph, **json.loads(description))

    def check(self) -> None:
        """Raise unless onnxruntime can load the graph."""
        OnnxScorer(self)


# What the service scores: the fitted pipeline, or (an online image without
# scikit-learn) its compiled form alone.
Servable: TypeAlias = "Pipeline | OnnxModel"


def slice_edges(model: Servable) -> dict[str, list[float]] | None:
    if isinstance(model, OnnxModel):
        return model.slice_edges
    edges: dict[str, list[float]] | None = getattr(model, "slice_edges_", None)
    return edges


@dataclass(frozen=True)
class Scores:
    """Predictions as plain lists, in the rows' order."""

    prediction: list[Any]
    # Binary: the positive class's probability; multiclass: the predicted class's.
    probability: list[float] | None = None
    # Binary with an operating point: act on this case?
    act: list[bool] | None = None

    def score_list(self) -> list[Any] | None:
        """What the prediction log stores as `score`: a probability, or the value."""
        if self.probability is not None:
            return self.probability
        numeric = all(isinstance(value, int | float) for value in self.prediction)
        return self.prediction if numeric else None


class Scorer(Protocol):
    kind: str  # "onnx" or "scikit-learn"

    def score_rows(self, rows: Sequence[Mapping[str, Any]]) -> Scores: ...

    def score_frame(self, frame: pd.DataFrame) -> Scores: ...


class PipelineScorer:
    """The fitted pipeline itself."""

    kind = "scikit-learn"

    def __init__(self, model: Pipeline, problem_type: str, positive: Any) -> None:
        self.model = model
        self.problem_type = problem_type
        self.positive = positive

    def score_rows(self, rows: Sequence[Mapping[str, Any]]) -> Scores:
        import pandas as pd

        return self.score_frame(pd.DataFrame.from_records(list(rows)))

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        from .predictions import predict_frame

        result = predict_frame(self.model, frame, self.problem_type, self.positive)
        return Scores(
            result["prediction"].tolist(),
            result["probability"].tolist() if "probability" in result else None,
            [bool(act) for act in result["act"]] if "act" in result else None,
        )


class OnnxScorer:
    """The pipeline compiled to ONNX, fed one array per input column."""

    kind = "onnx"

    def __init__(self, model: OnnxModel) -> None:
        import onnxruntime

        self.model = model
        self.session = onnxruntime.InferenceSession(model.graph, providers=["CPUExecutionProvider"])
        self.numeric, self.categorical = model.numeric, model.categorical
        self.problem_type = model.problem_type
        self.positive_index = model.positive_index
        self.operating_point = model.operating_point

    def score_rows(self, rows: Sequence[Mapping[str, Any]]) -> Scores:
        feed = {
            name: np.array([_number(row.get(name)) for row in rows], dtype=np.float32)
            for name in self.numeric
        }
        feed |= {
            name: np.array([_category(row.get(name)) for row in rows], dtype=object)
            for name in self.categorical
        }
        return self._run(feed)

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        import pandas as pd

        feed = {
            name: pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float32, na_value=np.nan)
            for name in self.numeric
        }
        feed |= {
            name: frame[name].astype(object).where(frame[name].notna(), MISSING).astype(str)
            .to_numpy(dtype=object)
            for name in self.categorical
        }  # fmt: skip
        return self._run(feed)

    def _run(self, feed: dict[str, np.ndarray]) -> Scores:
        outputs = self.session.run(
            None, {name: value.reshape(-1, 1) for name, value in feed.items()}
        )
        if self.problem_type == "regression":
            return Scores([float(value) for value in outputs[0].ravel()])
        labels, probabilities = outputs[0], outputs[1]
        prediction = [_plain(label) for label in labels]
        if self.problem_type == "binary":
            probability = probabilities[:, self.positive_index].astype(float)
            act = None
            point = self.operating_point
            if point is None:
                act = [False] * len(prediction)
            elif not isinstance(point, str):  # UNSET: no decision
                act = (probability >= point).tolist()
            return Scores(prediction, probability.tolist(), act)
        return Scores(prediction, probabilities.max(axis=1).astype(float).tolist())


@dataclass(frozen=True)
class Compiled:
    scorer: Scorer
    note: str


def compile_pipeline(
    model: Servable,
    problem_type: str,
    positive: Any,
    check_rows: Callable[[], pd.DataFrame],
) -> Compiled:
    """The ONNX scorer when it agrees with the pipeline on `check_rows()`; else the
    pipeline. A model that comes compiled alone was checked at export."""
    if isinstance(model, OnnxModel):
        return Compiled(OnnxScorer(model), "ONNX (checked against the pipeline at export)")
    fallback = PipelineScorer(model, problem_type, positive)
    try:
        graph = getattr(model, GRAPH_ATTRIBUTE, None) or _convert(model, problem_type)
        onnx = OnnxScorer(OnnxModel.from_pipeline(graph, model, problem_type, positive))
        rows = check_rows()
        gap = _gap(onnx, fallback, rows, problem_type)
    except Exception as error:  # no converter for a step, or onnxruntime refuses it
        return Compiled(fallback, f"scikit-learn (no ONNX form: {type(error).__name__}: {error})")
    if gap > TOLERANCE:
        return Compiled(
            fallback,
            f"scikit-learn (ONNX differs by {gap:.1e} on check rows, over {TOLERANCE:.0e})",
        )
    return Compiled(onnx, f"ONNX (agrees within {gap:.1e} on {len(rows)} rows)")


def shipped_model(compiled: Compiled) -> OnnxModel | None:
    """What an export ships for the service: the compiled model, or None (scikit-learn)."""
    return compiled.scorer.model if isinstance(compiled.scorer, OnnxScorer) else None


def _inputs(model: Pipeline) -> tuple[list[str], list[str]]:
    """The graph's inputs: one per numeric and per categorical column, in that order."""
    numeric: list[str] = []
    categorical: list[str] = []
    for name, transformer, columns in model[0].transformers_:
        if transformer == "drop":
            continue
        if name not in ("numeric", "categorical") or not isinstance(columns, list):
            raise ValueError(f"the '{name}' features have no ONNX form here")
        (numeric if name == "numeric" else categorical).extend(columns)
    return numeric, categorical


def _convert(model: Pipeline, problem_type: str) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.impute import SimpleImputer

    numeric, categorical = _inputs(model)
    converted = copy.deepcopy(model)
    for name, transformer, _ in converted[0].transformers_:
        for _, step in getattr(transformer, "steps", []):
            # ONNX strings cannot be missing: a missing category arrives as MISSING.
            if isinstance(step, SimpleImputer) and name == "categorical":
                step.missing_values = MISSING
    inputs = [(name, FloatTensorType([None, 1])) for name in numeric]
    inputs += [(name, StringTensorType([None, 1])) for name in categorical]
    options = {id(converted[-1]): {"zipmap": False}} if problem_type != "regression" else None
    graph: bytes = to_onnx(converted, initial_types=inputs, options=options).SerializeToString()
    return graph


def _gap(
    onnx: OnnxScorer, reference: PipelineScorer, rows: pd.DataFrame, problem_type: str
) -> float:
    """The largest disagreement on `rows`; infinite when a label differs."""
    got, expected = onnx.score_frame(rows), reference.score_frame(rows)
    if problem_type == "regression":
        values = np.asarray(expected.prediction, dtype=float)
        scale = np.maximum(1.0, np.abs(values))
        return float(np.max(np.abs(np.asarray(got.prediction) - values) / scale))
    if [str(label) for label in got.prediction] != [str(label) for label in expected.prediction]:
        return float("inf")
    return float(np.max(np.abs(np.asarray(got.probability) - np.asarray(expected.probability))))


def _number(value: Any) -> float:
    return np.nan if value is None else float(value)


def _category(value: Any) -> str:
    return MISSING if value is None else str(value)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
