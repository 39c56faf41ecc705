"""The online API's request model, derived from the data contract.

Types, ranges and allowed categories come from config/contract.yaml, so a bad
request gets a 422 naming the field, before it reaches the model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .contract import ColumnSpec, Contract
from .features import feature_columns

PYTHON_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "category": str, "bool": bool}


def _field(spec: ColumnSpec) -> tuple[Any, Any]:
    kind: Any = PYTHON_TYPES[spec.dtype]
    if spec.allowed is not None:
        kind = Literal[tuple(spec.allowed)]
    if spec.nullable:
        kind = kind | None
    constraints: dict[str, Any] = {"description": spec.description or None}
    if spec.min is not None:
        constraints["ge"] = spec.min
    if spec.max is not None:
        constraints["le"] = spec.max
    default = None if spec.nullable else ...
    return kind, Field(default, **constraints)


def row_model(contract: Contract, personal_data: list[str]) -> type[BaseModel]:
    """One prediction row: the model's features, plus the optional id column."""
    numeric, categorical = feature_columns(contract, personal_data)
    fields: dict[str, Any] = {name: _field(contract.columns[name]) for name in numeric + categorical}
    if contract.id_column is not None:
        fields[contract.id_column] = (str | None, Field(None, description="Echoed back"))
    config = ConfigDict(extra="forbid")
    model: type[BaseModel] = create_model("PredictionRow", __config__=config, **fields)
    return model


def request_model(row: type[BaseModel], max_rows: int) -> type[BaseModel]:
    model: type[BaseModel] = create_model(
        "PredictionRequest",
        __config__=ConfigDict(extra="forbid"),
        rows=(list[row], Field(min_length=1, max_length=max_rows)),  # type: ignore[valid-type]
    )
    return model
