"""Draft a data contract from a team's own CSV or Parquet file.

The draft records what the data looks like today (types, observed ranges, categories,
nulls); review it, tighten or widen the ranges to what the business allows, commit it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .contract import Contract

MAX_CATEGORIES = 20


def _number(value: Any) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def draft_column(series: pd.Series) -> dict[str, Any]:
    spec: dict[str, Any]
    if pd.api.types.is_bool_dtype(series):
        spec = {"dtype": "bool"}
    elif pd.api.types.is_numeric_dtype(series):
        kind = "int" if pd.api.types.is_integer_dtype(series) else "float"
        spec = {"dtype": kind}
        if series.notna().any():
            spec["min"] = _number(series.min())
            spec["max"] = _number(series.max())
    elif series.nunique(dropna=True) <= MAX_CATEGORIES:
        spec = {"dtype": "category", "allowed": sorted(str(v) for v in series.dropna().unique())}
    else:
        spec = {"dtype": "str"}
    if series.isna().any():
        spec["nullable"] = True
    return spec


def draft_contract(frame: pd.DataFrame, target: str, id_column: str | None = None) -> Contract:
    for name, role in [(target, "target"), (id_column, "id column")]:
        if name is not None and name not in frame.columns:
            raise ValueError(f"{role} `{name}` is not a column; columns are: {list(frame.columns)}")
    if frame.empty:
        raise ValueError("the file has no rows: a contract cannot be drafted from it")
    columns = {str(name): draft_column(frame[name]) for name in frame.columns}
    return Contract.model_validate({"target": target, "id_column": id_column, "columns": columns})


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
