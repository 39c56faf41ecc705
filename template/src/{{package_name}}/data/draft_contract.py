"""Draft a data contract from a team's own CSV or Parquet file.

The draft records what the data looks like today (types, ranges with a margin beyond
what was observed, categories, nulls, the id column); review it, set the ranges to
what the business allows, commit it. `summarise` says what was decided, column by
column, and which features the model will use.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..model.features import feature_columns
from .contract import POSITIVE_NAMES, Contract, date_columns

MAX_CATEGORIES = 20
# Drafted numeric ranges reach this share of the observed span beyond each end, so the
# next month's oldest customer is not refused; a column never below 0 stays >= 0.
RANGE_MARGIN = 0.25
DATE_SHAPE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?"
CODE_NAME = re.compile(r"zip|postal|post_?code|_code$|^code$", re.IGNORECASE)
LOW_CARDINALITY = 10
ID_NAME = re.compile(r"(^|[^a-z])id$|_id$|^id_|identifier|uuid", re.IGNORECASE)


def _number(value: Any) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _widened(series: pd.Series) -> tuple[float | int, float | int]:
    low, high = float(series.min()), float(series.max())
    margin = RANGE_MARGIN * ((high - low) or max(abs(high), 1.0))
    widened_low = low - margin if low < 0 else max(low - margin, 0.0)
    widened_high = high + margin
    if pd.api.types.is_integer_dtype(series):
        return math.floor(widened_low), math.ceil(widened_high)
    return _number(round(widened_low, 6)), _number(round(widened_high, 6))


def looks_like_id(name: str, series: pd.Series) -> bool:
    """Unique on every row, and named like an identifier or a whole-number/string key."""
    values = series.dropna()
    if len(values) < 2 or values.nunique() != len(values):
        return False
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    return bool(ID_NAME.search(name)) or not pd.api.types.is_numeric_dtype(series)


def looks_like_dates(series: pd.Series) -> bool:
    """Text that reads as dates (year-month-day, day/month/year …) in nearly every row."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.dropna().astype(str).head(1000)
    if values.empty or values.str.fullmatch(DATE_SHAPE).mean() < 0.95:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def draft_column(series: pd.Series, *, is_id: bool = False) -> dict[str, Any]:
    spec: dict[str, Any]
    if is_id:
        # Typed as it is (an integer id stays an integer), never range-limited.
        kind = "int" if pd.api.types.is_integer_dtype(series) else "str"
        spec = {"dtype": kind, "description": "Row identifier; never a feature."}
    elif pd.api.types.is_bool_dtype(series):
        spec = {"dtype": "bool"}
    elif pd.api.types.is_datetime64_any_dtype(series) or looks_like_dates(series):
        spec = {"dtype": "date", "description": "A date: the model uses its year, month, weekday."}
    elif pd.api.types.is_numeric_dtype(series):
        kind = "int" if pd.api.types.is_integer_dtype(series) else "float"
        spec = {"dtype": kind}
        if series.notna().any():
            spec["min"], spec["max"] = _widened(series.dropna())
    elif series.nunique(dropna=True) <= MAX_CATEGORIES:
        spec = {"dtype": "category", "allowed": sorted(str(v) for v in series.dropna().unique())}
    else:
        spec = {
            "dtype": "str",
            "description": (
                f"Free text or a high-cardinality key ({series.nunique()} values): not a "
                "feature until someone designs one for it."
            ),
        }
    if series.isna().any():
        spec["nullable"] = True
    return spec


def draft_target(series: pd.Series, problem_type: str | None) -> dict[str, Any]:
    """A classification target lists its classes; a regression target gets a range."""
    if series.isna().any():
        raise ValueError(f"target `{series.name}` has missing values: label or drop those rows")
    if series.nunique() < 2:
        raise ValueError(f"target `{series.name}` is constant: there is nothing to learn")
    if problem_type not in ("binary", "multiclass"):
        return draft_column(series)
    classes = sorted(series.unique().tolist(), key=str)
    expected = "exactly 2" if problem_type == "binary" else "at least 3"
    if (problem_type == "binary") != (len(classes) == 2):
        raise ValueError(
            f"target `{series.name}` has {len(classes)} class(es) {classes[:5]}: a "
            f"{problem_type} problem needs {expected}"
        )
    if pd.api.types.is_bool_dtype(series):
        return {"dtype": "bool", "allowed": [False, True]}
    if pd.api.types.is_integer_dtype(series):
        return {"dtype": "int", "allowed": [int(c) for c in classes]}
    return {"dtype": "category", "allowed": [str(c) for c in classes]}


def positive_of(series: pd.Series, chosen: str | None) -> Any:
    """The binary positive class: the one chosen, else 1/True/yes, else the rarer class."""
    classes = series.dropna().unique().tolist()
    if chosen is not None:
        matches = [c for c in classes if str(c) == str(chosen)]
        if not matches:
            raise ValueError(
                f"positive class {chosen!r} is not a class of `{series.name}`: {classes}"
            )
        return matches[0]
    for candidate in POSITIVE_NAMES:
        if candidate in classes:
            return candidate
    return series.value_counts().idxmin()


def draft_contract(
    frame: pd.DataFrame,
    target: str,
    id_column: str | None = None,
    problem_type: str | None = None,
    positive_class: str | None = None,
) -> Contract:
    for name, role in [(target, "target"), (id_column, "id column")]:
        if name is not None and name not in frame.columns:
            raise ValueError(f"{role} `{name}` is not a column; columns are: {list(frame.columns)}")
    if frame.empty:
        raise ValueError("the file has no rows: a contract cannot be drafted from it")
    if id_column is None:
        found = [str(c) for c in frame.columns if c != target and looks_like_id(str(c), frame[c])]
        # A column named like an id wins over any other unique key.
        found.sort(key=lambda name: not ID_NAME.search(name))
        id_column = found[0] if found else None
    columns = {
        str(name): draft_column(frame[name], is_id=name == id_column) for name in frame.columns
    }
    columns[target] = draft_target(frame[target], problem_type)
    positive = positive_of(frame[target], positive_class) if problem_type == "binary" else None
    if isinstance(positive, np.generic):
        positive = positive.item()
    body = {"target": target, "id_column": id_column, "columns": columns}
    if positive is not None:
        body["positive_class"] = positive
    return Contract.model_validate(body)


def proposals(frame: pd.DataFrame, contract: Contract) -> list[str]:
    """Choices the draft cannot make alone, said out loud for the reviewer."""
    notes = []
    for name, spec in contract.columns.items():
        if name in (contract.target, contract.id_column) or spec.dtype not in ("int", "float"):
            continue
        values = frame[name].dropna()
        if CODE_NAME.search(name):
            notes.append(
                f"`{name}` is named like a code (zip, postal, code): drafted as a number; if "
                "its values are labels, not quantities, make it `dtype: category` or drop it"
            )
        elif 2 < values.nunique() <= LOW_CARDINALITY:
            shown = sorted(values.unique().tolist())
            notes.append(
                f"`{name}` has only {len(shown)} values {shown}: drafted as a number; if they "
                "are codes rather than amounts, make it `dtype: category`"
            )
    return notes


def summarise(contract: Contract, personal_data: list[str]) -> list[str]:
    """The draft's decisions in words, for the person who reviews it."""
    numeric, categorical = feature_columns(contract, personal_data)
    dates = date_columns(contract, personal_data)
    lines = []
    for name, spec in contract.columns.items():
        if name == contract.target:
            role = "target"
            if contract.positive_class is not None:
                role += f", positive class {contract.positive_class!r}"
        elif name == contract.id_column:
            role = "id (carried through scoring, never a feature, no range)"
        elif name in personal_data:
            role = "personal data (never a feature)"
        elif name in numeric:
            limits = f", {spec.min} to {spec.max}" if spec.max is not None else ""
            role = f"numeric feature{limits}"
        elif name in categorical:
            role = f"categorical feature, {len(spec.allowed or [])} values"
        elif name in dates:
            role = "date feature (year, month, day of week)"
        else:
            role = "NOT a feature: free text or a high-cardinality key"
        nulls = ", may be missing" if spec.nullable else ""
        lines.append(f"{name}: {spec.dtype}, {role}{nulls}")
    features = numeric + categorical + dates
    lines.append(f"features the model uses ({len(features)}): {', '.join(features)}")
    return lines


def write_contract(contract: Contract, path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to replace it (it is in git history)")
    body = contract.model_dump(exclude_defaults=True)
    body.setdefault("id_column", None)
    header = (
        "# Data contract drafted from data by `draft-contract`.\n"
        "# Review it: min/max are the observed range and `allowed` the observed categories.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))
