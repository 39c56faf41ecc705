"""Property: the data a generated project makes for its own tests passes its own contract.

Run inside a rendered project's environment, with hypothesis added
(`uv run --with hypothesis python contract_properties.py <package> <examples>`):
this repository's tooling has neither pandas nor pandera. Hypothesis draws contracts a
team could write or draft (every dtype; bounds at any precision; unicode, YAML-special
and numeric-looking levels; nullable columns; int and text ids, ranged or not; each
problem type's target with its positive class) and the project's own generator
(data/synthetic.py) must honour every rule of each, after the contract's YAML round trip
and the project's own Parquet round trip. Exit 0 when every example holds.
"""

from __future__ import annotations

import importlib
import io
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

PACKAGE, EXAMPLES = sys.argv[1], int(sys.argv[2])
# A mutation test only needs to see the property fail, not the smallest failing case.
PHASES = [Phase.generate] if "--no-shrink" in sys.argv else list(Phase)
contract_module = importlib.import_module(f"{PACKAGE}.data.contract")
draft_module = importlib.import_module(f"{PACKAGE}.data.draft_contract")
synthetic = importlib.import_module(f"{PACKAGE}.data.synthetic")
config = importlib.import_module(f"{PACKAGE}.config")

# Strings YAML 1.1 would read as something else unless quoted, and numeric-looking text.
YAML_SPECIAL = ["yes", "no", "on", "off", "y", "n", "null", "~", "true", "False", "1.0",
                "0x1F", "2024-01-01", "1e3", ".inf", "-", "#", ": x", "'", '"']  # fmt: skip
LEVEL = st.one_of(
    st.sampled_from(YAML_SPECIAL),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
            max_size=12),
)  # fmt: skip
NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
               max_size=16).filter(lambda s: s.strip() == s and s)  # fmt: skip
GATES = {
    "binary": ("roc_auc", "maximize", 0.75),
    "multiclass": ("f1_macro", "maximize", 0.6),
    "regression": ("rmse", "minimize", 250.0),
}


@st.composite
def number_bounds(draw: st.DrawFn, dtype: str, kept: str | None = None) -> dict[str, Any]:
    if dtype == "int":
        low = draw(st.integers(-(10**6), 10**6))
        high = low + draw(st.integers(0, 10**6))
    else:
        # A measurement's range: spans from a millionth to a million, evenly by order of
        # magnitude, with one to six significant digits (0.0 to 0.037076, 2.64 to 58.92).
        magnitude = draw(st.integers(-6, 6))
        digits = draw(st.integers(1, 6)) - magnitude
        unit = st.floats(-1, 1, allow_nan=False)
        low = round(draw(unit) * 10.0**magnitude, digits)
        span = round(draw(st.floats(0.01, 10, allow_nan=False)) * 10.0**magnitude, digits)
        high = low + max(span, 10.0**-digits)
    spec: dict[str, Any] = {}
    kept = kept or draw(st.sampled_from(["both", "min", "max", "none"]))
    if kept in ("both", "min"):
        spec["min"] = low
    if kept in ("both", "max"):
        spec["max"] = high
    return spec


@st.composite
def feature_spec(draw: st.DrawFn) -> dict[str, Any]:
    dtype = draw(st.sampled_from(["int", "float", "str", "category", "bool", "date"]))
    spec: dict[str, Any] = {"dtype": dtype, "nullable": draw(st.booleans())}
    if dtype in ("int", "float"):
        spec.update(draw(number_bounds(dtype)))
    if dtype == "category" or (dtype == "str" and draw(st.booleans())):
        spec["allowed"] = draw(st.lists(LEVEL, min_size=1, max_size=6, unique=True))
    if dtype == "int" and draw(st.integers(0, 4)) == 0:
        spec = {"dtype": "int", "allowed": draw(st.lists(st.integers(-50, 50), min_size=1,
                                                         max_size=5, unique=True))}  # fmt: skip
    return spec


@st.composite
def target_spec(draw: st.DrawFn, problem_type: str) -> tuple[dict[str, Any], Any]:
    """The target's spec and, for binary problems, the positive class named (or None)."""
    if problem_type == "regression":
        dtype = draw(st.sampled_from(["float", "int"]))
        spec = {"dtype": dtype, **draw(number_bounds(dtype))}
        if "min" in spec and "max" in spec and spec["max"] - spec["min"] < 1:
            spec["max"] = spec["min"] + 1  # a target needs room to vary
        return spec, None
    count = 2 if problem_type == "binary" else draw(st.integers(3, 5))
    kind = draw(st.sampled_from(["int", "text", "bool"] if count == 2 else ["int", "text"]))
    if kind == "bool":
        return {"dtype": "bool"}, None
    if kind == "int":
        levels: list[Any] = list(range(count))
        return {"dtype": "int", "allowed": levels}, None
    levels = draw(st.lists(LEVEL, min_size=count, max_size=count, unique=True))
    dtype = draw(st.sampled_from(["str", "category"]))
    return {"dtype": dtype, "allowed": levels}, draw(st.sampled_from(levels))


@st.composite
def contracts(draw: st.DrawFn) -> tuple[Any, str]:
    problem_type = draw(st.sampled_from(list(GATES)))
    names = draw(st.lists(NAME, min_size=3, max_size=9, unique_by=str.casefold))
    target, id_name, features = names[0], names[1], names[2:]
    columns = {name: draw(feature_spec()) for name in features}
    # Every contract has at least one measurement with both bounds, as real tables do.
    columns[features[0]] = {"dtype": "float", **draw(number_bounds("float", "both"))}
    body: dict[str, Any] = {"target": target}
    if draw(st.booleans()):
        id_spec: dict[str, Any] = {"dtype": draw(st.sampled_from(["int", "str"]))}
        if id_spec["dtype"] == "int" and draw(st.booleans()):
            id_spec["min"] = draw(st.integers(0, 10**6))
            id_spec["max"] = id_spec["min"] + draw(st.integers(10**4, 10**7))
        columns[id_name] = id_spec
        body["id_column"] = id_name
    columns[target], positive = draw(target_spec(problem_type))
    if positive is not None:
        body["positive_class"] = positive
    body["columns"] = columns
    contract = contract_module.Contract.model_validate(body)
    return contract, problem_type


def yaml_round_trip(contract: Any) -> Any:
    """Written as draft-contract writes it, read as every step reads it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contract.yaml"
        draft_module.write_contract(contract, path, force=True)
        return contract_module.load_contract(path)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(contracts(), st.integers(0, 1000))
def test_generated_rows_honour_the_contract(drawn: tuple[Any, str], seed: int) -> None:
    contract, problem_type = drawn
    contract = yaml_round_trip(contract)
    metric, direction, threshold = GATES[problem_type]
    gate = config.GateSettings(metric=metric, direction=direction, threshold=threshold,
                               baseline_margin=0.05, champion_tolerance=0.01)  # fmt: skip
    frame = synthetic.make_frame(contract, 120, seed, problem_type, gate)
    contract.check(frame)
    contract.check(frame.drop(columns=[contract.target]), with_target=False)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    import pandas as pd

    contract.check(pd.read_parquet(io.BytesIO(buffer.getvalue())))


if __name__ == "__main__":
    test_generated_rows_honour_the_contract()
    print(f"{EXAMPLES} generated contracts: the project's test data honoured every one")
