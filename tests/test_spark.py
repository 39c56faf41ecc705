"""Batch scoring on Apache Spark (local mode, a real JVM), against the pandas engine.

One batch project on SQL with [scoring] engine = "spark" scores a million generated
rows on Spark and with the pandas engine; the predictions must be the same row by row.
It also reads its SQL sample (SQLite) and a real PostgreSQL table over JDBC, with the
same answers as pandas. A table whose bad row only a later partition sees must fail
the job with the column and the rule, and write nothing: no output, no batch log, the
previous output untouched.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from .helpers import project_files, render, run
from .servers import postgres_server
from .test_render_matrix import expected_files

ROWS = 1_000_000
PANDAS = {"CUSTOMER_CHURN_SCORING__ENGINE": "pandas"}

# Run inside the project: the same rows its own generator makes, without the target.
GENERATE = """
import sys
from customer_churn.config import get_settings
from customer_churn.data.contract import load_contract
from customer_churn.data.synthetic import project_frame

settings = get_settings()
contract = load_contract(settings.data.contract)
frame = project_frame(settings, contract, int(sys.argv[1]), settings.project.seed + 11)
frame = frame.drop(columns=[contract.target])
if len(sys.argv) > 3:  # one impossible age, far from the rows Spark samples first
    frame.loc[len(frame) * 3 // 4, "age"] = 250
frame.to_parquet(sys.argv[2])
"""

# The SQL sample's tables (SQLite), as CSV (argv[1] a file) or into a database (a URL).
COPY_SAMPLE = """
import sys
import pandas as pd
import sqlalchemy

sample = sqlalchemy.create_engine("sqlite:///data/sample/sample.db")
if sys.argv[1].endswith(".csv"):
    pd.read_sql_table("training_data_scoring", sample).to_csv(sys.argv[1], index=False)
else:
    database = sqlalchemy.create_engine(sys.argv[1])
    for name in ("training_data", "training_data_scoring"):
        pd.read_sql_table(name, sample).to_sql(name, database, index=False)
"""

# Both outputs joined on the customer id: what differs, and how much.
COMPARE = """
import json, sys
import numpy as np
import pandas as pd

one, other = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
joined = one.merge(other, on="customer_id", suffixes=("_pandas", "_spark"), validate="1:1")
print(json.dumps({
    "rows": [len(one), len(other), len(joined)],
    "columns": [sorted(one.columns), sorted(other.columns)],
    "unique_ids": [bool(one.prediction_id.is_unique), bool(other.prediction_id.is_unique)],
    "shared_ids": len(set(one.prediction_id) & set(other.prediction_id)),
    "prediction_differs": int((joined.prediction_pandas != joined.prediction_spark).sum()),
    "probability_gap": float(np.abs(joined.probability_pandas - joined.probability_spark).max()),
    "versions": sorted(set(one.model_version) | set(other.model_version)),
    "acted": int((joined.prediction_spark == 1).sum()),
}))
"""


def _predict(project: Path, source: Path, output: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    run(["uv", "run", "customer_churn", "predict", "--source", str(source), "--output",
         str(output)], project, env=env)  # fmt: skip
    return time.perf_counter() - started


def _compare(project: Path, pandas_output: Path, spark_output: Path) -> dict[str, object]:
    result = run(["uv", "run", "python", "-c", COMPARE, str(pandas_output), str(spark_output)],
                 project)  # fmt: skip
    compared: dict[str, object] = json.loads(result.stdout)
    return compared


def _batch_runs(project: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(project / "data" / "monitoring" / "prediction_log.db") as database:
        return list(database.execute("SELECT rows, location FROM batch_runs ORDER BY logged_at"))


@pytest.mark.slow
def test_spark_scores_as_the_pandas_engine_and_fails_whole_on_a_bad_partition(
    tmp_path: Path,
) -> None:
    answers = {"serving_mode": "batch", "scoring_engine": "spark", "data_source": "sql"}
    project = render(tmp_path / "project", **answers)
    case = {"problem_type": "binary", "tracking": "mlflow", **answers}
    assert project_files(project) == expected_files(case)
    run(["make", "setup"], project)
    run(["make", "lint"], project)
    run(["make", "test"], project)  # the project's own Spark tests among them
    run(["make", "data", "validate", "train"], project)

    # The SQL sample (SQLite): Spark reads its scoring table over JDBC (Debian's driver),
    # typed as the contract says; pandas scores the same rows from a CSV copy of it.
    run(["make", "predict"], project)
    scored = project / "data" / "predictions" / "predictions.parquet"
    assert scored.is_dir() and list(scored.glob("part-*.parquet")), "Spark writes part files"
    sample = tmp_path / "scoring.csv"  # Spark reads text, typed per batch as pandas reads it
    run(["uv", "run", "python", "-c", COPY_SAMPLE, str(sample)], project)
    _predict(project, sample, tmp_path / "sample_pandas.parquet", PANDAS)
    compared = _compare(project, tmp_path / "sample_pandas.parquet", scored)
    sample_rows = sum(1 for _ in sample.open()) - 1
    assert compared["rows"] == [sample_rows] * 3, compared
    assert compared["prediction_differs"] == 0, compared
    # Through spark-submit, as on a cluster: its master, not [scoring] spark_master.
    submitted = run(["uv", "run", "spark-submit", "--master", "local[2]",
                     "scripts/spark_predict.py", "--source", str(sample), "--output",
                     str(tmp_path / "submitted.parquet")], project,
                    env={"SPARK_LOCAL_IP": "127.0.0.1"})  # fmt: skip
    # spark-submit hands the driver's stderr on as its stdout.
    assert "on Spark (local[2])" in submitted.stdout + submitted.stderr, submitted.stdout[-3000:]
    compared = _compare(project, tmp_path / "sample_pandas.parquet", tmp_path / "submitted.parquet")
    assert compared["rows"] == [sample_rows] * 3, compared
    assert compared["prediction_differs"] == 0, compared

    # A million rows, both engines, the same rows.
    big = tmp_path / "rows.parquet"
    run(["uv", "run", "python", "-c", GENERATE, str(ROWS), str(big)], project)
    pandas_seconds = _predict(project, big, tmp_path / "pandas.parquet", PANDAS)
    spark_output = tmp_path / "spark.parquet"
    spark_seconds = _predict(project, big, spark_output)
    compared = _compare(project, tmp_path / "pandas.parquet", spark_output)
    assert compared["rows"] == [ROWS] * 3, compared
    columns = compared["columns"]
    assert isinstance(columns, list) and columns[0] == columns[1], compared
    assert compared["unique_ids"] == [True, True] and compared["shared_ids"] == 0, compared
    assert compared["prediction_differs"] == 0, compared
    assert isinstance(compared["probability_gap"], float) and compared["probability_gap"] < 1e-9
    assert compared["versions"] == ["1"], compared
    assert isinstance(compared["acted"], int) and 0 < compared["acted"] < ROWS, compared
    # Both runs are in the prediction log, the Spark one as a folder of part files.
    runs = _batch_runs(project)
    assert [rows for rows, _ in runs] == [sample_rows] * 3 + [ROWS, ROWS], runs
    assert (project / runs[-1][1]).is_dir() and list((project / runs[-1][1]).glob("part-*"))
    print(  # the note's figure: -s shows it
        f"\n1M rows: pandas {ROWS / pandas_seconds:,.0f} rows/s, Spark {ROWS / spark_seconds:,.0f} "
        f"rows/s (Spark/pandas {pandas_seconds / spark_seconds:.2f}x)"
    )

    # One impossible value, three quarters down the table: a later partition finds it.
    bad = tmp_path / "bad.parquet"
    run(["uv", "run", "python", "-c", GENERATE, "200000", str(bad), "break"], project)
    before = sorted(path.name for path in spark_output.iterdir())
    logs = project / "data" / "monitoring" / "batches"
    logs_before = sorted(path.name for path in logs.iterdir())
    failed = run(["uv", "run", "customer_churn", "predict", "--source", str(bad), "--output",
                  str(spark_output)], project, check=False)  # fmt: skip
    assert failed.returncode == 2, failed.stderr[-3000:]
    message = failed.stderr.strip().splitlines()
    assert any("partition" in line for line in message), failed.stderr[-3000:]
    assert any("`age`" in line and "<= 100" in line for line in message), failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
    assert sorted(path.name for path in spark_output.iterdir()) == before
    assert sorted(path.name for path in logs.iterdir()) == logs_before
    assert len(_batch_runs(project)) == len(runs)
    assert not list(tmp_path.glob("*.partial")), "no scratch output is left behind"

    # The team's warehouse: Spark reads the scoring table over JDBC (PostgreSQL's driver
    # from Debian's libpostgresql-jdbc-java), pandas through SQLAlchemy; the same answers.
    with postgres_server() as database:
        run(["uv", "run", "python", "-c", COPY_SAMPLE, database.url()], project)
        warehouse = {"CUSTOMER_CHURN_DATA__SAMPLE": "false", "CUSTOMER_CHURN_DATA__SOURCE": "sql",
                     "CUSTOMER_CHURN_DATA__URL": database.url(),
                     "CUSTOMER_CHURN_DATA__TABLE": "training_data",
                     "CUSTOMER_CHURN_DATA__SCORING_TABLE": "training_data_scoring"}  # fmt: skip
        for engine, output in [("spark", "jdbc_spark.parquet"), ("pandas", "sql_pandas.parquet")]:
            env = {**warehouse, "CUSTOMER_CHURN_SCORING__ENGINE": engine}
            scored_sql = run(["uv", "run", "customer_churn", "predict", "--output",
                              str(tmp_path / output)], project, env=env)  # fmt: skip
            assert f"scored {sample_rows} rows" in scored_sql.stdout, scored_sql.stdout
        compared = _compare(
            project, tmp_path / "sql_pandas.parquet", tmp_path / "jdbc_spark.parquet"
        )
        assert compared["rows"] == [sample_rows] * 3, compared
        assert compared["prediction_differs"] == 0, compared
        # A database Spark has no JDBC mapping for is named, with the way out.
        oracle = {**warehouse, "CUSTOMER_CHURN_DATA__URL": "oracle://reader@db/warehouse"}
        refused = run(["uv", "run", "customer_churn", "predict"], project, env=oracle, check=False)
        assert refused.returncode == 2 and "reads SQL over JDBC" in refused.stderr, refused.stderr
    shutil.rmtree(tmp_path / "project" / ".venv", ignore_errors=True)  # 1 GB, not needed now
