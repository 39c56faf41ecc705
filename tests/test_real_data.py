"""Real data in: a team's own file, table, PostgreSQL server and S3-compatible store.

Each test follows a team through its first weeks on one rendered project: day one on
the synthetic sample with realistic (non-default) answers, then its own differently
shaped data and contract, every workflow's data step, `make clean`, and a real server.
The team's data must come out byte-for-byte (row-for-row) unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .helpers import (
    free_port,
    hinted_lines,
    http,
    paste_under_data,
    render,
    run,
    tool_env,
    workflow_steps,
)
from .servers import postgres_server, s3_server

WORKFLOWS = ["ci", "ct", "cd", "batch", "monitor"]


def team_accounts(rows: int, seed: int, *, first_id: int) -> pd.DataFrame:
    """A real-shaped binary table unlike the sample: other names, an integer id,
    a boolean, a nullable number, and a signal a simple model can find."""
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 40.0, rows).round(2)
    tickets = rng.poisson(1.2, rows)
    plan = rng.choice(["monthly", "annual", "two_year"], rows, p=[0.5, 0.3, 0.2])
    business = rng.random(rows) < 0.3
    tenure = rng.uniform(0, 10, rows).round(1)
    effect = pd.Series(plan).map({"monthly": 1.5, "annual": -0.5, "two_year": -2.0})
    latent = 0.02 * (spend - 80) + 0.9 * tickets + effect.to_numpy() - 0.3 * tenure - 0.8
    churned = (latent + 0.4 * rng.normal(0, 1, rows) > 0).astype(int)
    tenure[rng.random(rows) < 0.05] = np.nan  # missing values, as real tables have
    return pd.DataFrame(
        {
            "account_id": first_id + rng.permutation(rows),
            "monthly_spend": spend,
            "support_tickets": tickets,
            "contract_type": plan,
            "is_business": business,
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "tenure_years": tenure,
            "churned": churned,
        }
    )


def team_revenue(rows: int, seed: int) -> pd.DataFrame:
    """A real-shaped regression table for the SQL project."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(6, rows)
    basket = rng.gamma(3.0, 12.0, rows).round(2)
    store = rng.choice(["city", "mall", "outlet"], rows)
    effect = pd.Series(store).map({"city": 40.0, "mall": 80.0, "outlet": -30.0}).to_numpy()
    revenue = (20 * visits + 3 * basket + effect + rng.normal(0, 15, rows)).round(2)
    return pd.DataFrame(
        {
            "shopper_id": 5_000_000 + np.arange(rows),
            "visits": visits,
            "basket_eur": basket,
            "store_kind": store,
            "revenue_eur": revenue,
        }
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_data(project: Path, **values: object) -> None:
    """Edit [data] in config/settings.toml as a team would (by hand, keeping the rest)."""
    settings = project / "config/settings.toml"
    text = settings.read_text()
    for key, value in values.items():
        line = f"{key} = {_toml(value)}"
        pattern = re.compile(rf"^{key} = .*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(lambda _, line=line: line, text, count=1)
        else:
            text = text.replace("[data]\n", f"[data]\n{line}\n", 1)
    settings.write_text(text)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _data_steps_in_workflow_order(project: Path) -> None:
    """Run each GitHub workflow's data step, in workflow order; each must be `make data`."""
    for workflow in WORKFLOWS:
        steps = workflow_steps(project, workflow)
        if not steps:
            continue
        data_steps = [s for s in steps if "make data" in s]
        assert data_steps, f"{workflow}.yml reads data without the data step"
        first_reader = next(
            i for i, s in enumerate(steps)
            if re.search(r"make (data|validate|train|predict|monitor|all)\b", s)
        )  # fmt: skip
        assert "make data" in steps[first_reader], f"{workflow}.yml reads data before fetching"
        run(["make", "data"], project)


def _day_one(project: Path) -> None:
    """A fresh project with realistic answers is green on its synthetic sample."""
    run(["uv", "sync", "--quiet"], project)
    output = run(["make", "all"], project)
    text = output.stdout + output.stderr
    assert "synthetic sample" in text
    assert "quality gate passed" in text
    run(["make", "test"], project)
    report = (project / "reports/evaluation.md").read_text()
    assert "Data: synthetic sample" in report


@pytest.mark.slow
def test_team_file_survives_every_step_and_s3_sources_run_end_to_end(tmp_path: Path) -> None:
    project = render(
        tmp_path / "attrition",
        project_name="Account Attrition",
        problem_type="binary",
        success_metric="roc_auc",
        success_threshold=0.95,
        serving_mode="both",
        tracking="none",
    )
    _day_one(project)

    # The team's own file, where the README says to put it, and its own contract.
    raw = project / "data/raw"
    raw.mkdir(parents=True)
    team, scoring = raw / "accounts.csv", raw / "accounts_scoring.csv"
    team_accounts(3000, 1, first_id=100_000).to_csv(team, index=False)
    # New accounts: ids never seen in training must still be scored.
    fresh = team_accounts(400, 2, first_id=900_000).drop(columns=["churned"])
    fresh.to_csv(scoring, index=False)
    before = {path: _digest(path) for path in (team, scoring)}
    run(["uv", "run", "account_attrition", "draft-contract", str(team), "--target", "churned",
         "--id-column", "account_id", "--force"], project)  # fmt: skip
    contract = yaml.safe_load((project / "config/contract.yaml").read_text())
    assert "min" not in contract["columns"]["account_id"]  # ids are never range-limited
    assert contract["columns"]["account_id"]["dtype"] == "int"
    _set_data(project, sample=False, path="data/raw/accounts.csv",
              scoring_path="data/raw/accounts_scoring.csv", personal_data=[],
              sensitive_attributes=[])  # fmt: skip

    # The generator refuses to write over data it did not make, even when asked.
    sample_dir = project / "data/sample"
    shutil.copy(team, sample_dir / "training.csv")
    refused = run(["make", "data"], project, check=False,
                  env={"ACCOUNT_ATTRITION_DATA__SAMPLE": "true"})  # fmt: skip
    assert refused.returncode != 0
    assert "was not written by the sample generator" in refused.stderr
    assert _digest(sample_dir / "training.csv") == before[team]

    _data_steps_in_workflow_order(project)
    # Continuous training, as its workflow runs it: trains on the configured source, and
    # the job summary says so.
    summary = ""
    for command in workflow_steps(project, "ct", "retrain"):
        summary = run(["bash", "-c", command], project).stdout
    assert "Data: data/raw/accounts.csv" in summary
    output = run(["make", "all"], project)
    text = output.stdout + output.stderr
    assert "data source ready: data/raw/accounts.csv" in text
    assert "synthetic" not in text
    assert "serve smoke test passed" in text
    assert "monitoring verdict: ok" in text
    assert "Data: data/raw/accounts.csv" in (project / "docs/model_card.md").read_text()
    # The generated tests follow the team's contract, not the sample's.
    run(["make", "test"], project)
    run(["make", "clean"], project)
    assert {path: _digest(path) for path in (team, scoring)} == before
    assert (sample_dir / "training.csv").exists()  # the team's copy: not the sample's to delete

    # The same files behind a real S3 API: CSV for training, Parquet for scoring.
    bucket = tmp_path / "s3" / "team-data"
    bucket.mkdir(parents=True)
    shutil.copy(team, bucket / "accounts.csv")
    fresh.to_parquet(bucket / "accounts_scoring.parquet", index=False)
    _set_data(project, path="s3://team-data/accounts.csv",
              scoring_path="s3://team-data/accounts_scoring.parquet")  # fmt: skip
    with s3_server(tmp_path / "s3") as store:
        # draft-contract reads the object as training will, and drafts the same contract.
        drafted = run(["uv", "run", "account_attrition", "draft-contract",
                       "s3://team-data/accounts.csv", "--target", "churned", "--id-column",
                       "account_id", "--output", str(tmp_path / "from_s3.yaml")], project,
                      env=store.env()).stdout  # fmt: skip
        assert 'path = "s3://team-data/accounts.csv"' in hinted_lines(drafted)
        assert 'scoring_path = "s3://team-data/accounts_scoring.csv"' in drafted
        assert (tmp_path / "from_s3.yaml").read_text() == (
            project / "config/contract.yaml"
        ).read_text()
        missing = run(["make", "data"], project, check=False,
                      env={**store.env(), "AWS_ACCESS_KEY_ID": ""})  # fmt: skip
        assert missing.returncode == 2
        assert "AWS_ACCESS_KEY_ID" in missing.stderr
        # The batch run's bulk log goes to the store too, where monitoring reads it.
        shared = {**store.env(), "BATCH_LOG_PATH": "s3://team-data/prediction-log"}
        for step in ["data", "validate", "train", "evaluate", "predict", "monitor"]:
            result = run(["make", step], project, env=shared)
            if step == "data":
                assert "data source ready: s3://team-data/accounts.csv" in result.stdout
            if step == "monitor":
                assert "monitoring 400 live rows (prediction log)" in result.stdout + result.stderr
    (logged,) = (bucket / "prediction-log").glob("batch-*.parquet")
    assert len(pd.read_parquet(logged)) == 400
    assert not (project / "data/monitoring/batches").exists()
    report = yaml.safe_load((project / "reports/evaluation.json").read_text())
    assert report["lineage"]["data_source"] == "s3://team-data/accounts.csv"
    assert report["lineage"]["data_rows"] == 3000
    assert len(pd.read_parquet(project / "data/predictions/predictions.parquet")) == 400
    assert _digest(bucket / "accounts.csv") == before[team]


@pytest.mark.slow
def test_team_table_survives_every_step_and_postgres_sources_run_end_to_end(
    tmp_path: Path,
) -> None:
    project = render(
        tmp_path / "revenue",
        project_name="Shopper Revenue",
        problem_type="regression",
        success_metric="rmse",
        success_threshold=60.0,
        target_column="revenue_eur",
        data_source="sql",
        serving_mode="batch",
        tracking="none",
    )
    _day_one(project)

    # The team's own table in the configured SQLite warehouse, and a contract for it.
    training, scoring = team_revenue(3000, 3), team_revenue(400, 4)
    export = project / "data/raw/revenue.csv"
    export.parent.mkdir(parents=True)
    training.to_csv(export, index=False)
    scoring.drop(columns=["revenue_eur"]).to_csv(export.with_name("scoring.csv"), index=False)
    load = (
        "import pandas as pd, sqlalchemy as sa; e = sa.create_engine('{url}'); "
        "pd.read_csv('data/raw/revenue.csv').to_sql('{table}', e, index=False); "
        "pd.read_csv('data/raw/scoring.csv').to_sql('{table}_scoring', e, index=False)"
    )
    warehouse = "sqlite:///data/warehouse.db"
    run(["uv", "run", "python", "-c", load.format(url=warehouse, table="training_data")], project)
    dump = (
        "import pandas as pd, sqlalchemy as sa; e = sa.create_engine('sqlite:///data/warehouse.db');"
        " print(pd.read_sql_table('training_data', e).to_csv(index=False));"
        " print(pd.read_sql_table('training_data_scoring', e).to_csv(index=False))"
    )
    rows_before = run(["uv", "run", "python", "-c", dump], project).stdout
    run(["uv", "run", "shopper_revenue", "draft-contract", str(export), "--target", "revenue_eur",
         "--id-column", "shopper_id", "--force"], project)  # fmt: skip
    _set_data(project, sample=False, personal_data=[], sensitive_attributes=[])

    _data_steps_in_workflow_order(project)
    output = run(["make", "all"], project)
    assert "data source ready: table training_data at sqlite:///data/warehouse.db" in output.stdout
    run(["make", "test"], project)
    run(["make", "clean"], project)
    assert (project / "data/warehouse.db").exists()
    assert run(["uv", "run", "python", "-c", dump], project).stdout == rows_before

    # A real PostgreSQL server: a query for training, a table for scoring, and the
    # password only in the environment.
    with postgres_server() as server:
        url = server.url()
        run(["uv", "run", "python", "-c", load.format(url=url, table="sales")], project)
        query = "SELECT * FROM sales WHERE visits >= 0"
        _set_data(project, url=server.url(password="${SHOP_DB_PASSWORD}"), query=query,
                  scoring_table="sales_scoring")  # fmt: skip
        text = (project / "config/settings.toml").read_text()
        (project / "config/settings.toml").write_text(text.replace('table = "training_data"\n', ""))
        assert server.password not in (project / "config/settings.toml").read_text()
        missing = run(["make", "data"], project, check=False)
        assert missing.returncode == 2
        assert "SHOP_DB_PASSWORD" in missing.stderr
        secret = {"SHOP_DB_PASSWORD": server.password}
        for step in ["data", "validate", "train", "evaluate", "predict", "monitor"]:
            run(["make", step], project, env=secret)
    report = yaml.safe_load((project / "reports/evaluation.json").read_text())
    assert report["lineage"]["data_source"].startswith(
        "a query at postgresql+psycopg://groundwork:***@"
    )
    assert server.password not in (project / "reports/evaluation.md").read_text()
    assert len(pd.read_parquet(project / "data/predictions/predictions.parquet")) == 400


def messy_patients(rows: int, seed: int, *, first_id: int) -> pd.DataFrame:
    """A real-shaped table with everything that trips a template up: names with spaces,
    punctuation and non-ASCII letters, a text id, a date, free text, an e-mail address,
    yes/no answers, a string-labelled binary target, missing values, a rare level and a
    high-cardinality code."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 95, rows).astype(float)
    size = rng.gamma(2.0, 9.0, rows).round(1)
    smoker = rng.random(rows) < 0.25
    # A level seen in a handful of rows, as a real register has.
    region = rng.choice(["north", "south", "east", "west", "islands"], rows,
                        p=[0.3, 0.3, 0.2, 0.197, 0.003])  # fmt: skip
    latent = 0.04 * (age - 55) + 0.12 * (size - 18) + 1.2 * smoker + rng.normal(0, 0.7, rows)
    age[rng.random(rows) < 0.04] = np.nan
    visit = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1400, rows), unit="D")
    words = np.array(["pain", "lump", "follow-up", "routine", "urgent", "scan", "referral"])
    notes = [" ".join(rng.choice(words, 4)) + f" #{i}" for i in range(rows)]
    ids = first_id + rng.permutation(rows)
    return pd.DataFrame(
        {
            "Patient ID": [f"P-{number:07d}" for number in ids],
            "Visit date": visit.strftime("%Y-%m-%d"),
            "Age (years)": age,
            "Tumour size, mm": size,
            "Größe (cm)": rng.normal(170, 9, rows).round(4),
            "Smoker?": np.where(smoker, "yes", "no"),
            "Region": region,
            "Clinic code": [f"CL-{code:04d}" for code in rng.integers(0, 800, rows)],
            "Referral notes": notes,
            "E-mail": [f"patient{number}@example.org" for number in ids],
            "Diagnosis": np.where(latent > 1.0, "malignant", "benign"),
        }
    )


@pytest.mark.slow
def test_a_messy_real_shaped_table_goes_from_draft_to_monitoring(tmp_path: Path) -> None:
    project = render(
        tmp_path / "triage",
        project_name="Tumour Triage",
        problem_type="binary",
        success_metric="roc_auc",
        serving_mode="both",
        tracking="none",
    )
    run(["uv", "sync", "--quiet"], project)
    raw = project / "data/raw"
    raw.mkdir(parents=True)
    messy_patients(50_000, 5, first_id=1).to_csv(raw / "patients.csv", index=False)
    new = messy_patients(2_000, 6, first_id=900_000).drop(columns=["Diagnosis"])
    new.to_csv(raw / "new_patients.csv", index=False)

    drafted = run(["uv", "run", "tumour_triage", "draft-contract", "data/raw/patients.csv",
                   "--target", "Diagnosis", "--positive-class", "malignant", "--force"],
                  project).stdout  # fmt: skip
    contract = yaml.safe_load((project / "config/contract.yaml").read_text())
    columns = contract["columns"]
    assert contract["id_column"] == "Patient ID"  # detected: unique and named like an id
    assert columns["Patient ID"]["dtype"] == "str" and "max" not in columns["Patient ID"]
    assert columns["Visit date"]["dtype"] == "date"
    assert columns["Age (years)"]["nullable"] is True
    assert columns["Age (years)"]["max"] > 94  # a margin beyond the oldest patient seen
    assert columns["Smoker?"] == {"dtype": "category", "allowed": ["no", "yes"]}
    assert columns["Clinic code"]["dtype"] == columns["Referral notes"]["dtype"] == "str"
    assert columns["Diagnosis"]["allowed"] == ["benign", "malignant"]
    assert contract["positive_class"] == "malignant"
    assert "islands" in columns["Region"]["allowed"]  # the rare level is a level
    assert "Referral notes: str, NOT a feature" in drafted
    assert "E-mail: str, NOT a feature" in drafted
    assert (
        "features the model uses (6): Age (years), Tumour size, mm, Größe (cm), Smoker?, "
        "Region, Visit date" in drafted
    )
    # The README's step 3: the lines the draft printed, then the team's own personal data.
    lines = hinted_lines(drafted)
    assert 'path = "data/raw/patients.csv"' in lines
    paste_under_data(project, lines)
    _set_data(project, scoring_path="data/raw/new_patients.csv", personal_data=["E-mail"])

    output = run(["make", "all"], project)
    text = output.stdout + output.stderr
    assert "training data honours the contract (50000 rows)" in text
    assert "scored 2000 rows" in text
    assert "serve smoke test passed" in text
    assert "monitoring verdict: ok" in text
    report = yaml.safe_load((project / "reports/evaluation.json").read_text())
    assert report["evaluation"]["model"] > 0.9  # the probability is of malignant
    run(["make", "test"], project)

    # The service takes the team's own rows, and refuses NaN with a 422 naming the field.
    body = run(["uv", "run", "tumour_triage", "example-request", "--rows", "3"], project).stdout
    rows = json.loads(body)["rows"]
    assert set(rows[0]) == set(new.columns)
    port = free_port()
    server = subprocess.Popen(
        ["uv", "run", "tumour_triage", "serve", "--port", str(port)],
        cwd=project, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if http(f"{base}/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        status, answer = http(f"{base}/predict", {"rows": rows})
        assert status == 200, answer
        assert [p["id"] for p in json.loads(answer)["predictions"]] == [
            r["Patient ID"] for r in rows
        ]
        nan_body = json.dumps({"rows": [{**rows[0], "Tumour size, mm": float("nan")}]})
        request = urllib.request.Request(
            f"{base}/predict", data=nan_body.encode(), headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 422
        assert "Tumour size, mm" in refused.value.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
