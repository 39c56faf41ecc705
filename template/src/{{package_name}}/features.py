"""Feature preparation, shared by training, batch scoring and the online API.

Personal data, the target and the id column never become features.
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .contract import Contract


def feature_columns(contract: Contract, personal_data: list[str]) -> tuple[list[str], list[str]]:
    """Split usable columns into numeric and categorical ones, in contract order."""
    excluded = {contract.target, contract.id_column, *personal_data}
    numeric, categorical = [], []
    for name, spec in contract.columns.items():
        if name in excluded:
            continue
        if spec.dtype in ("int", "float", "bool"):
            numeric.append(name)
        elif spec.dtype == "category":
            categorical.append(name)
        # Free-text str columns are not features until someone designs them.
    if not numeric and not categorical:
        raise ValueError("the contract leaves no feature columns: add numeric or category columns")
    return numeric, categorical


def build_preprocessor(contract: Contract, personal_data: list[str]) -> ColumnTransformer:
    numeric, categorical = feature_columns(contract, personal_data)
    numeric_steps = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", categorical_steps, categorical)],
        remainder="drop",
    )
