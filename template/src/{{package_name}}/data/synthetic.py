"""Synthetic rows that honour the data contract, with a target the features explain.

Two users, one generator: `make data` writes these rows as the clearly labelled
synthetic sample (while [data] sample = true), and the tests build their data from
them. Both follow whatever contract is in config/contract.yaml — the sample's columns
or the team's own — so the tests stay green when the team switches to its own data.

The target is planted: a random linear signal over the feature columns plus noise.
The noise is the largest that still lets the signal itself beat the gate's threshold
with room to spare, so a fresh project passes its own gate whatever threshold was
answered, and the gate keeps its full strength on real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import GateSettings, Settings
from ..model.features import feature_columns
from ..model.metrics import score_predictions
from .contract import ColumnSpec, Contract

# From most to least noisy; the first level whose oracle beats the gate is used.
NOISE_LEVELS = (1.5, 1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05, 0.02, 0.01)
# The oracle must cover this share of the way from the threshold to a perfect score.
HEADROOM = 0.5
POSITIVE_SHARE = 0.3
NULL_SHARE = 0.02
PYTHON_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool}


def make_frame(
    contract: Contract,
    rows: int,
    seed: int,
    problem_type: str,
    gate: GateSettings,
    personal_data: list[str] | None = None,
) -> pd.DataFrame:
    """`rows` rows in contract order; the same arguments always give the same table."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            name: _column(name, spec, rows, seed, rng, is_id=name == contract.id_column)
            for name, spec in contract.columns.items()
            if name != contract.target
        }
    )
    signal = _signal(frame, contract, personal_data or [], np.random.default_rng(0))
    noise = rng.normal(0, 1, rows)
    frame[contract.target] = _target(contract, problem_type, gate, signal, noise)
    return frame[list(contract.columns)]


def project_frame(settings: Settings, contract: Contract, rows: int, seed: int) -> pd.DataFrame:
    """`make_frame` with this project's problem type, gate and personal-data columns."""
    return make_frame(
        contract,
        rows,
        seed,
        settings.project.problem_type,
        settings.gate,
        settings.data.not_features,
    )


def _bounds(spec: ColumnSpec, width: float) -> tuple[float, float]:
    low = spec.min if spec.min is not None else (spec.max - width if spec.max is not None else 0)
    high = spec.max if spec.max is not None else low + width
    return float(low), float(high)


def _column(
    name: str, spec: ColumnSpec, rows: int, seed: int, rng: np.random.Generator, *, is_id: bool
) -> pd.Series:
    """Values that honour every rule of `spec` exactly: a table made here always passes
    the contract, whatever precision, ranges and levels the team's data has."""
    if is_id:
        return _ids(name, spec, rows, seed, rng)
    if spec.allowed:
        values: pd.Series = pd.Series(rng.choice(np.array(spec.allowed, dtype=object), size=rows))
        if spec.dtype in ("int", "float", "bool"):
            values = values.astype(PYTHON_TYPES[spec.dtype])
    elif spec.dtype == "int":
        first, last = _int_bounds(name, spec)
        values = pd.Series(rng.integers(first, last + 1, size=rows))
    elif spec.dtype == "float":
        low, high = _bounds(spec, 100.0)
        # Full precision, never rounded: a real contract's bounds (0.037076) are the
        # observed extremes, and a rounded value can fall just outside them.
        values = pd.Series(np.clip(rng.uniform(low, high, size=rows), low, high))
    elif spec.dtype == "bool":
        values = pd.Series(rng.random(rows) < 0.5)
    elif spec.dtype == "date":
        days = rng.integers(0, 3 * 365, size=rows)
        start = pd.Timestamp(year=2023, month=1, day=1)
        values = pd.Series(start + pd.to_timedelta(days, unit="D"))
    elif spec.dtype == "category":
        values = pd.Series(rng.choice([f"{name}_a", f"{name}_b", f"{name}_c"], size=rows))
    else:  # free text
        values = pd.Series([f"{name} {seed}-{i}" for i in range(rows)])
    if spec.nullable and spec.dtype in ("float", "str", "category"):
        values = values.astype(object if spec.dtype != "float" else float)
        values[rng.random(rows) < NULL_SHARE] = None
    return values


def _int_bounds(name: str, spec: ColumnSpec, width: int = 100) -> tuple[int, int]:
    low, high = _bounds(spec, width)
    first, last = int(np.ceil(low)), int(np.floor(high))
    if first > last:
        raise ValueError(
            f"contract: column `{name}` is an int between {spec.min} and {spec.max}, "
            "a range with no whole number in it"
        )
    return first, last


def _ids(name: str, spec: ColumnSpec, rows: int, seed: int, rng: np.random.Generator) -> pd.Series:
    """Unique ids; each seed draws its own, inside the contract's range if it has one."""
    if spec.dtype not in ("int", "float"):
        return pd.Series([f"{name}-{seed:03d}-{i:07d}" for i in range(rows)])
    if spec.min is None and spec.max is None:
        ids = seed * 10_000_000 + np.arange(rows)
    else:
        low, high = _int_bounds(name, spec, width=10 * rows + 10_000_000)
        if high - low + 1 < rows:
            raise ValueError(
                f"contract: the id column `{name}` allows {high - low + 1} distinct values "
                f"between {spec.min} and {spec.max}; {rows} rows need as many"
            )
        ids = low + rng.choice(high - low + 1, size=rows, replace=False)
    return pd.Series(ids.astype(PYTHON_TYPES[spec.dtype]))


def _signal(
    frame: pd.DataFrame, contract: Contract, personal_data: list[str], rng: np.random.Generator
) -> np.ndarray:
    """A standardised random linear combination of the feature columns."""
    try:
        numeric, categorical = feature_columns(contract, personal_data)
    except ValueError:
        numeric, categorical = [], []
    signal = np.zeros(len(frame))
    for name in numeric:
        values = frame[name].astype(float)
        spread = values.std() or 1.0
        signal += rng.normal(0, 1) * ((values - values.mean()) / spread).fillna(0).to_numpy()
    for name in categorical:
        levels = sorted(frame[name].dropna().astype(str).unique())
        effects = dict(zip(levels, rng.normal(0, 1, len(levels)), strict=True))
        signal += frame[name].astype(str).map(effects).fillna(0).to_numpy()
    spread = signal.std()
    return (signal - signal.mean()) / spread if spread > 0 else signal


def _target(
    contract: Contract,
    problem_type: str,
    gate: GateSettings,
    signal: np.ndarray,
    noise: np.ndarray,
) -> pd.Series:
    """The noisiest target whose planted signal still clears the gate with headroom."""
    oracle = _values(problem_type, contract, gate, signal)
    target = oracle
    for level in NOISE_LEVELS:
        target = _values(problem_type, contract, gate, signal + level * noise)
        if _clears_gate(gate, problem_type, target, oracle, signal, contract.positive_label):
            break
    dtype = contract.columns[contract.target].dtype
    # Labels picked from a list are objects; an int or bool target must be one again.
    labels = pd.Series(target)
    return labels.astype(PYTHON_TYPES[dtype]) if dtype in PYTHON_TYPES else labels


def _values(
    problem_type: str, contract: Contract, gate: GateSettings, latent: np.ndarray
) -> np.ndarray:
    """Turn a latent score into target values the contract allows."""
    spec = contract.columns[contract.target]
    if problem_type == "binary":
        positive = contract.positive_label
        negative = next(c for c in _classes(spec, 2, positive) if c != positive)
        cut = np.quantile(latent, 1 - POSITIVE_SHARE)
        labels: np.ndarray = np.where(latent > cut, positive, negative)
        return labels
    if problem_type == "multiclass":
        classes = _classes(spec, 3, None)
        cuts = np.quantile(latent, np.linspace(0, 1, len(classes) + 1)[1:-1])
        # An array of the classes' own type: sklearn cannot tell the kind of an object array.
        return np.asarray(classes)[np.searchsorted(cuts, latent)]
    return _regression_values(spec, gate, latent)


def _classes(spec: ColumnSpec, count: int, positive: Any) -> list[Any]:
    """The target's classes: the contract's, else `count` of the target's own type."""
    if spec.allowed:
        return list(spec.allowed)
    if spec.dtype == "bool":
        return [False, True]
    if spec.dtype in ("int", "float"):
        return list(range(count))
    named = [f"class_{letter}" for letter in "abcdefgh"[:count]]
    return named if positive is None else [f"not {positive}", str(positive)]


def _regression_values(spec: ColumnSpec, gate: GateSettings, latent: np.ndarray) -> np.ndarray:
    """Scale a standardised score into the target's range.

    For errors in target units (RMSE, MAE) the spread follows the threshold and the
    baseline margin, so the mean baseline misses by more than the margin; for MAPE
    the spread is a share of a level far from zero.
    """
    low, high = spec.min, spec.max
    if gate.metric in ("rmse", "mae"):
        unit = 2 * (gate.threshold + gate.baseline_margin)
    elif low is not None and high is not None:
        unit = (high - low) / 8
    else:
        unit = 100.0
    if low is not None and high is not None:
        centre = (low + high) / 2
        unit = min(unit, (high - low) / 8)
    else:
        centre = (low if low is not None else 0.0) + 10 * unit
    if gate.metric == "mape":
        centre = centre or 1000.0
        unit = 0.3 * abs(centre)
    values = centre + unit * latent
    if spec.dtype == "int":
        values = np.round(values)
        low = None if low is None else float(np.ceil(low))
        high = None if high is None else float(np.floor(high))
    clipped = np.clip(values, low, high) if low is not None or high is not None else values
    return clipped.astype(int) if spec.dtype == "int" else clipped


def _clears_gate(
    gate: GateSettings,
    problem_type: str,
    target: np.ndarray,
    oracle: np.ndarray,
    signal: np.ndarray,
    positive: Any,
) -> bool:
    """Would a model that found the planted signal exactly beat the threshold with room?"""
    if problem_type == "binary":
        labels = (target == positive).astype(int)
        flagged = (signal > np.quantile(signal, 1 - POSITIVE_SHARE)).astype(int)
        value = score_predictions(gate.metric, labels, flagged, signal)
    else:
        value = score_predictions(gate.metric, target, oracle, None)
    if np.isnan(value):
        return False
    if gate.direction == "maximize":
        return bool(value >= gate.threshold + HEADROOM * max(1.0 - gate.threshold, 0.0))
    return bool(value <= gate.threshold * (1 - HEADROOM))
