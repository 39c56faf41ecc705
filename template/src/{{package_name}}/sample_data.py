"""A small, deterministic, customer-like sample so the project trains with no download.

The target follows the problem type chosen at generation. Replace this data with your
own (see `draft-contract` in the README); nothing else in the project depends on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy

from .config import Settings
from .contract import Contract

TRAINING_ROWS = 2000
SCORING_ROWS = 500


def make_customers(rows: int, seed: int, contract: Contract, problem_type: str) -> pd.DataFrame:
    """Generate `rows` customers; the same seed always gives the same table."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "standard", "premium"], size=rows, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(0, 73, size=rows)
    charges = np.round(np.clip(rng.normal(70, 25, size=rows), 15, 200), 2)
    calls = np.clip(rng.poisson(1.5, size=rows), 0, 15)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{seed:03d}{i:06d}" for i in range(rows)],
            "email": [f"customer{seed:03d}{i:06d}@example.com" for i in range(rows)],
            "gender": rng.choice(["female", "male", "nonbinary"], size=rows, p=[0.48, 0.48, 0.04]),
            "age": rng.integers(18, 80, size=rows),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "plan": plan,
            "region": rng.choice(["north", "south", "east", "west"], size=rows),
            "support_calls": calls,
        }
    )
    plan_effect = pd.Series(plan).map({"basic": 0.6, "standard": 0.0, "premium": -0.6}).to_numpy()
    noise = rng.normal(0, 1, size=rows)
    if problem_type == "binary":
        logit = -0.8 - 0.05 * tenure + 0.02 * (charges - 70) + 0.45 * calls + plan_effect + noise
        target: np.ndarray = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    elif problem_type == "multiclass":
        value = 0.04 * tenure + 0.03 * (charges - 70) - plan_effect + 0.5 * noise
        target = np.select([value < 0.8, value < 2.2], ["low", "medium"], default="high")
    else:
        target = np.round(
            np.clip(20 * tenure + 8 * charges - 300 * plan_effect + 150 * noise, 0, None), 2
        )
    frame = _add_declared_columns(frame, contract, rng)
    frame[contract.target] = target
    return frame[list(contract.columns)]


def _add_declared_columns(
    frame: pd.DataFrame, contract: Contract, rng: np.random.Generator
) -> pd.DataFrame:
    """Fill columns the contract declares beyond the built-in sample (from the questionnaire)."""
    for name, spec in contract.columns.items():
        if name in frame or name == contract.target:
            continue
        if spec.allowed:
            frame[name] = rng.choice(spec.allowed, size=len(frame))
        else:
            frame[name] = [f"{name}-{i:06d}" for i in range(len(frame))]
    return frame


def write_sample(settings: Settings, contract: Contract) -> list[str]:
    """Write the training and scoring samples to the configured source; return what was written."""
    seed = settings.project.seed
    training = make_customers(TRAINING_ROWS, seed, contract, settings.project.problem_type)
    scoring = make_customers(SCORING_ROWS, seed + 1, contract, settings.project.problem_type)
    scoring = scoring.drop(columns=[contract.target])
    data = settings.data
    if data.source == "sql":
        engine = sqlalchemy.create_engine(data.database_url)
        _ensure_sqlite_folder(data.database_url)
        with engine.begin() as connection:
            training.to_sql(str(data.table), connection, if_exists="replace", index=False)
            scoring.to_sql(str(data.scoring_table), connection, if_exists="replace", index=False)
        return [
            f"{data.table} ({len(training)} rows)",
            f"{data.scoring_table} ({len(scoring)} rows)",
        ]
    assert data.path is not None and data.scoring_path is not None
    for frame, path in [(training, data.path), (scoring, data.scoring_path)]:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    return [f"{data.path} ({len(training)} rows)", f"{data.scoring_path} ({len(scoring)} rows)"]


def _ensure_sqlite_folder(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
