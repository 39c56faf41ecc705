"""The data contract: config/contract.yaml turned into a pandera schema.

The YAML file is the human-readable source; pandera does the checking. The same
column specs also give the online API its request model (see api_schema.py), which is
why pandas and pandera load only when a table is checked: the online image has neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

DType = Literal["int", "float", "str", "category", "bool", "date"]
# Labels that name the positive class of a binary target when the contract does not.
POSITIVE_NAMES: tuple[Any, ...] = (1, True, "1", "yes", "Yes", "true", "True")
PANDAS_DTYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "category": str,
    "bool": bool,
    "date": "datetime64[ns]",
}


class ContractError(ValueError):
    """Raised when data breaks the contract; the message names columns and rules."""


class ColumnSpec(BaseModel):
    dtype: DType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[Any] | None = None
    description: str = ""


class Contract(BaseModel):
    target: str
    id_column: str | None = None
    # Binary problems: the class the probability is about (a churner, a fraud, a
    # malignant case). Unset: 1, True, or else the last class in sort order.
    positive_class: Any = None
    columns: dict[str, ColumnSpec] = Field(min_length=1)

    def model_post_init(self, __context: Any) -> None:
        for name in [self.target, self.id_column]:
            if name is not None and name not in self.columns:
                raise ValueError(f"contract names `{name}` but does not describe it under columns")

    @property
    def positive_label(self) -> Any:
        """The binary positive class, as recorded or by the documented default."""
        if self.positive_class is not None:
            return self.positive_class
        allowed = self.columns[self.target].allowed
        if not allowed:
            return 1
        for candidate in POSITIVE_NAMES:
            if candidate in allowed:
                return candidate
        return sorted(allowed, key=str)[-1]

    @property
    def input_columns(self) -> list[str]:
        """Columns a scoring table must have: everything but the target."""
        return [name for name in self.columns if name != self.target]

    def pandera_schema(self, *, with_target: bool) -> pa.DataFrameSchema:
        import pandera.pandas as pa

        columns = {
            name: _pandera_column(spec, unique=name == self.id_column)
            for name, spec in self.columns.items()
            if with_target or name != self.target
        }
        not_empty = pa.Check(lambda df: len(df) > 0, error="table has no rows", name="not_empty")
        return pa.DataFrameSchema(columns, checks=[not_empty], strict=False)

    def check(self, frame: pd.DataFrame, *, with_target: bool = True) -> pd.DataFrame:
        """Return the frame if it honours the contract, else raise ContractError."""
        import pandera.pandas as pa

        if frame.empty:
            raise ContractError("contract: the input has no rows")
        try:
            return self.pandera_schema(with_target=with_target).validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            raise ContractError(format_failures(exc.failure_cases)) from None

    def failure_cases(self, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """Every broken rule in `columns`, one row each (column, check, index, failure_case).

        For monitoring, which measures how much of the live data breaks the contract
        rather than stopping at the first bad table. A whole-column failure (missing,
        wrong type) has no row index.
        """
        import pandas as pd
        import pandera.pandas as pa

        schema = pa.DataFrameSchema({name: _pandera_column(self.columns[name]) for name in columns})
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            failures: pd.DataFrame = exc.failure_cases
            return failures
        return pd.DataFrame(columns=["column", "check", "index", "failure_case"])

    def check_training_table(self, frame: pd.DataFrame, max_duplicate_share: float) -> None:
        """What a column-by-column check cannot see: repeated rows, a target with one value.

        Runs before the column checks: a repeated export is best named as such, not as
        the duplicated ids it also causes.
        """
        import pandas as pd

        if frame.empty:
            return  # the column checks say "no rows"
        repeated = frame.duplicated(keep="first")
        if repeated.mean() > max_duplicate_share:
            keys = pd.util.hash_pandas_object(frame, index=False)
            position = int(repeated.to_numpy().argmax())
            original = int((keys.to_numpy() == keys.to_numpy()[position]).argmax())
            raise ContractError(
                f"data contract violated:\n  table: {int(repeated.sum())} row(s) "
                f"({100 * repeated.mean():.1f}%) repeat an earlier row, above the limit of "
                f"{100 * max_duplicate_share:.1f}% ([data] max_duplicate_share); e.g. row "
                f"{frame.index[position]} repeats row {frame.index[original]}"
            )
        if self.target not in frame:
            return  # the column checks say it is missing
        values = frame[self.target].dropna().unique()
        if len(values) < 2:
            shown = repr(values[0]) if len(values) else "nothing"
            raise ContractError(
                f"data contract violated:\n  column `{self.target}` (the target): has one "
                f"value ({shown}) in all {len(frame)} rows; there is nothing to learn"
            )


def date_columns(contract: Contract, personal_data: list[str]) -> list[str]:
    """Date columns the model uses, through their parts (features.date_parts)."""
    excluded = {contract.target, contract.id_column, *personal_data}
    return [n for n, s in contract.columns.items() if s.dtype == "date" and n not in excluded]


def _pandera_column(spec: ColumnSpec, *, unique: bool = False) -> pa.Column:
    import pandera.pandas as pa

    checks = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max))
    if spec.allowed is not None:
        checks.append(pa.Check.isin(spec.allowed))
    # Dates arrive as text (CSV, JSON): parsed here, and a value that is not a date is named.
    return pa.Column(
        PANDAS_DTYPES[spec.dtype],
        checks=checks,
        nullable=spec.nullable,
        unique=unique,
        coerce=spec.dtype == "date",
    )


def _describe_rule(check: str) -> str:
    check = str(check)
    if check.startswith("greater_than_or_equal_to("):
        return f"must be >= {check[len('greater_than_or_equal_to(') : -1]}"
    if check.startswith("less_than_or_equal_to("):
        return f"must be <= {check[len('less_than_or_equal_to(') : -1]}"
    if check.startswith("isin("):
        return f"must be one of {check[len('isin(') : -1]}"
    if check == "not_nullable":
        return "must not be null"
    if check.startswith("dtype("):
        return f"has the wrong type; expected {check[len('dtype(') : -1]}"
    if check == "column_in_dataframe":
        return "is missing"
    if check == "field_uniqueness":
        return "must be unique (it identifies a row)"
    return check


def format_failures(failures: pd.DataFrame, examples: int = 3) -> str:
    """One line per broken (column, rule), with a few offending values and rows."""
    lines = []
    # A column of the wrong type also fails its range checks with a TypeError; the type
    # is the one thing to say.
    wrong_type = set(failures.loc[failures["check"].astype(str).str.startswith("dtype("), "column"])
    consequence = failures["column"].isin(wrong_type) & failures["failure_case"].astype(
        str
    ).str.startswith("TypeError(")
    failures = failures[~consequence]
    for (column, check), group in failures.groupby(["column", "check"], dropna=False, sort=False):
        if check == "column_in_dataframe":
            missing = ", ".join(f"`{value}`" for value in group["failure_case"])
            lines.append(f"column {missing}: is missing (contract)")
            continue
        if not isinstance(column, str):  # a table-level check has no column
            lines.append(f"table: {check} (contract)")
            continue
        rule = _describe_rule(str(check))
        shown = _examples(group, examples)
        count = len(group)
        detail = f"; {count} row(s), e.g. {shown}"
        if str(check).startswith("dtype(") and group["index"].isna().all():
            detail = f"; got {group['failure_case'].iloc[0]}"
        lines.append(f"column `{column}`: {rule}{detail} (contract)")
    return "data contract violated:\n  " + "\n  ".join(lines)


def _examples(group: pd.DataFrame, limit: int) -> str:
    pairs: Iterable[tuple[Any, Any]] = zip(group["failure_case"], group["index"], strict=True)
    shown = [f"{value!r} at row {row}" for value, row in list(pairs)[:limit]]
    return ", ".join(shown)


def load_contract(path: Path) -> Contract:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the data contract is required (draft one with `draft-contract`)"
        )
    try:
        parsed = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ContractError(
            f"{path} is not valid YAML{line}: {problem}. Fix that line (indent with spaces, "
            "`key: value`, quote text holding ':' or '#')"
        ) from None
    return Contract.model_validate(parsed)
