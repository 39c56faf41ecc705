"""Feature preparation, shared by training, batch scoring and the online API.

Personal data, the target and the id column never become features. Date columns
become numbers (year, month, day of week) inside the same pipeline, so training,
batch and the API derive them identically. scikit-learn and pandas load only to build
or run the pipeline: the online image serves the compiled model without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.contract import Contract, date_columns

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.compose import ColumnTransformer


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
    if not numeric and not categorical and not date_columns(contract, personal_data):
        raise ValueError("the contract leaves no feature columns: add numeric or category columns")
    return numeric, categorical


def date_parts(frame: pd.DataFrame) -> np.ndarray:
    """Year, month and day of week of each date column; unparseable dates are missing.

    Each value is parsed on its own terms: pandas otherwise infers one format from the
    first value, and a batch mixing dates with and without a time of day would lose the
    ones spelled otherwise, so a row's score would depend on the rows beside it.
    """
    import pandas as pd

    parts = []
    for name in frame.columns:
        column = frame[name]
        values = pd.to_datetime(column, errors="coerce", format="ISO8601")  # fast, most data
        retry = values.isna() & column.notna()
        if retry.any():  # other spellings ("11/26/2023"), one value at a time
            values[retry] = pd.to_datetime(column[retry], errors="coerce", format="mixed")
        parts += [values.dt.year, values.dt.month, values.dt.dayofweek]
    return np.column_stack([part.to_numpy(dtype=float) for part in parts])


def build_preprocessor(contract: Contract, personal_data: list[str]) -> ColumnTransformer:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric, categorical = feature_columns(contract, personal_data)
    dates = date_columns(contract, personal_data)
    numeric_steps = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    date_steps = Pipeline(
        [
            ("parts", FunctionTransformer(date_parts)),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    steps = [("numeric", numeric_steps, numeric), ("categorical", categorical_steps, categorical)]
    if dates:
        steps.append(("date", date_steps, dates))
    return ColumnTransformer(steps, remainder="drop")
