"""The prediction log: every prediction and every known outcome, append-only.

Tables in any SQLAlchemy database ([monitoring] log_url, or PREDICTION_LOG_URL):
`predictions` (id, time, source, model version, input features as JSON, output: what
was answered), `feedback` (prediction id, outcome, time received) and
`shadow_predictions` (what another model version said about the same prediction id,
never answered: a challenger in shadow, or the champion beside a canary). Batch runs
log in bulk instead: one Parquet file per run, listed in `batch_runs`
(monitoring/batch_log.py); reading, both are one log. Rows are only ever inserted; a
corrected outcome is a new feedback row, and the latest one wins when joined.

Personal-data columns are never written: they are dropped from the logged
features, and a personal id column is stored as a one-way hash.

Writing needs SQLAlchemy alone (the online image has no pandas); reading loads pandas.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import uuid
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from .spool import Spool

if TYPE_CHECKING:  # pyarrow reads batch runs' files only: online images leave it out
    import fsspec
    import pandas as pd
    import pyarrow as pa

logger = logging.getLogger(__name__)


metadata = sa.MetaData()
predictions_table = sa.Table(
    "predictions",
    metadata,
    sa.Column("prediction_id", sa.String(64), primary_key=True),
    sa.Column("logged_at", sa.DateTime, nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(128)),
    sa.Column("features", sa.Text, nullable=False),
    sa.Column("prediction", sa.Text, nullable=False),
    sa.Column("score", sa.Float),
)
feedback_table = sa.Table(
    "feedback",
    metadata,
    sa.Column("prediction_id", sa.String(64), nullable=False, index=True),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
)

shadow_table = sa.Table(
    "shadow_predictions",
    metadata,
    sa.Column("prediction_id", sa.String(64), primary_key=True),
    sa.Column("model_version", sa.String(64), primary_key=True),
    sa.Column("logged_at", sa.DateTime, nullable=False, index=True),
    sa.Column("prediction", sa.Text, nullable=False),
    sa.Column("score", sa.Float),
)

batch_runs_table = sa.Table(
    "batch_runs",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("logged_at", sa.DateTime, nullable=False, index=True),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("shadow_version", sa.String(64)),
    sa.Column("rows", sa.Integer, nullable=False),
    # The run's Parquet file: a path (relative to the project) or an fsspec URL.
    sa.Column("location", sa.Text, nullable=False),
)
# A batch file's logged features are its columns with this prefix.
FEATURE_PREFIX = "feature:"


def utc_now() -> datetime:
    """Naive UTC: portable across databases that drop the time zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_prediction_id() -> str:
    return uuid.uuid4().hex


def new_prediction_ids(count: int) -> list[str]:
    """`count` random ids (128 bits each, like uuid4) from one read of the OS's source."""
    text = os.urandom(16 * count).hex()
    return [text[start : start + 32] for start in range(0, len(text), 32)]


def pseudonym(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    """numpy scalars, NaN/NaT and timestamps to JSON-friendly Python values."""
    # NaN and NaT (a datetime, pandas' Timestamp too) are the values unequal to themselves.
    if value is None or (isinstance(value, float | datetime) and value != value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


SLICE_PREFIX = "slice:"


def slice_label_column(values: pd.Series, edges: list[float] | None) -> pd.Series | None:
    """Slice labels fit to log for a personal attribute; None when a number has no bins
    (a model trained before bins were stored): its value is never logged raw."""
    import pandas as pd

    from ..model.metrics import binned_labels

    if pd.api.types.is_numeric_dtype(values):
        return None if not edges else binned_labels(values, edges)
    return values.astype(str).where(values.notna(), "missing")


def slice_labels_of(values: Sequence[Any], edges: list[float] | None) -> list[str] | None:
    """slice_label_column for a request's few values, in plain Python: the same labels
    (pandas' intervals, "(low, high]") without pandas."""
    present = [value for value in values if value is not None and value == value]
    if present and all(isinstance(value, int | float) for value in present):
        if not edges:
            return None
        bounds = [-math.inf, *map(float, edges), math.inf]
        return [
            "missing" if value is None or value != value
            else f"({bounds[bisect_left(edges, value)]}, {bounds[bisect_left(edges, value) + 1]}]"
            for value in values
        ]  # fmt: skip
    return ["missing" if value is None or value != value else str(value) for value in values]


def prediction_records(
    frame: pd.DataFrame,
    result: pd.DataFrame,
    *,
    prediction_ids: list[str],
    model_version: str,
    source: str,
    feature_names: list[str],
    id_column: str | None,
    personal_data: list[str],
    sensitive_attributes: Sequence[str] = (),
    slice_edges: Mapping[str, list[float]] | None = None,
) -> list[dict[str, Any]]:
    """`row_records` for a scored table (`result` from model/predictions.py)."""
    wanted = [*feature_names, *sensitive_attributes, *([id_column] if id_column else [])]
    columns = [name for name in dict.fromkeys(wanted) if name in frame]
    # pandas 2 gives no records at all for no columns, not one empty record per row.
    rows = (
        cast(list[dict[str, Any]], frame[columns].to_dict("records"))
        if columns
        else [{} for _ in range(len(frame))]
    )
    return row_records(
        rows,
        result["prediction"].tolist(),
        logged_scores(result),
        prediction_ids=prediction_ids,
        model_version=model_version,
        source=source,
        feature_names=feature_names,
        id_column=id_column,
        personal_data=personal_data,
        sensitive_attributes=sensitive_attributes,
        slice_edges=slice_edges,
    )


def row_records(
    rows: Sequence[Mapping[str, Any]],
    predictions: Sequence[Any],
    scores: Sequence[Any] | None,
    *,
    prediction_ids: list[str],
    model_version: str,
    source: str,
    feature_names: list[str],
    id_column: str | None,
    personal_data: list[str],
    sensitive_attributes: Sequence[str] = (),
    slice_edges: Mapping[str, list[float]] | None = None,
) -> list[dict[str, Any]]:
    """Rows for the `predictions` table; only model features are logged, never personal data.

    A sensitive attribute that is personal data is logged as its slice label only
    (`slice:<name>`: the category, or the bin of a number from training), so live
    monitoring can still judge the model slice by slice. Plain Python per row: the
    online service logs each request without building a DataFrame.
    """
    logged = [name for name in feature_names if name not in personal_data]
    slices: dict[str, list[Any]] = {}
    for name in sensitive_attributes:
        if name in personal_data and rows and name in rows[0]:
            labels = slice_labels_of([row.get(name) for row in rows], (slice_edges or {}).get(name))
            if labels is not None:
                slices[SLICE_PREFIX + name] = labels
    hide_id = id_column in personal_data
    now = utc_now()
    records = []
    for position, row in enumerate(rows):
        features = {name: _plain(row[name]) for name in logged if name in row}
        features |= {name: labels[position] for name, labels in slices.items()}
        raw_id = row.get(id_column) if id_column is not None else None
        entity_id = None if _plain(raw_id) is None else (
            pseudonym(raw_id) if hide_id else str(_plain(raw_id))
        )  # fmt: skip
        records.append(
            {
                "prediction_id": prediction_ids[position],
                "logged_at": now,
                "source": source,
                "model_version": model_version,
                "entity_id": entity_id,
                "features": json.dumps(features),
                "prediction": json.dumps(_plain(predictions[position])),
                "score": None if scores is None else _plain(scores[position]),
            }
        )
    return records


def logged_scores(result: pd.DataFrame) -> list[Any] | None:
    """The positive-class probability, or a regression's value; None for labels only."""
    import pandas as pd

    if "probability" in result:
        return list(result["probability"].tolist())
    if pd.api.types.is_numeric_dtype(result["prediction"]):
        return list(result["prediction"].tolist())
    return None


def shadow_records(
    predictions: Sequence[Any],
    scores: Sequence[Any] | None,
    *,
    prediction_ids: list[str],
    model_version: str,
) -> list[dict[str, Any]]:
    """Rows for `shadow_predictions`: another version's output for answered ids."""
    now = utc_now()
    return [
        {
            "prediction_id": prediction_id,
            "model_version": model_version,
            "logged_at": now,
            "prediction": json.dumps(_plain(predictions[position])),
            "score": None if scores is None else _plain(scores[position]),
        }
        for position, prediction_id in enumerate(prediction_ids)
    ]


def _bounded(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    """Ids in parts small enough for one SQL `IN` list on any database."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class ConflictingFeedback(ValueError):
    """One submission gave two different outcomes for the same prediction."""


@dataclass(frozen=True)
class FeedbackReceipt:
    """What a submission of outcomes did: written (new or corrected), of which
    corrections of a different earlier outcome, and repeats left as they were."""

    recorded: int
    corrected: int
    unchanged: int


class PredictionLog:
    """Append to and read from the prediction log."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url)
        metadata.create_all(self.engine)

    def append(
        self, records: list[dict[str, Any]], connection: sa.Connection | None = None
    ) -> None:
        """Insert predictions, in their own transaction unless `connection` is given."""
        self._insert(predictions_table, records, connection)

    def append_shadow(
        self, records: list[dict[str, Any]], connection: sa.Connection | None = None
    ) -> None:
        """Insert shadow predictions (shadow_records), like `append`."""
        self._insert(shadow_table, records, connection)

    def _insert(
        self, table: sa.Table, records: list[dict[str, Any]], connection: sa.Connection | None
    ) -> None:
        if not records:
            return
        if connection is not None:
            connection.execute(table.insert(), records)
            return
        with self.engine.begin() as own:
            own.execute(table.insert(), records)

    def read_shadow(self, since: datetime, until: datetime) -> pd.DataFrame:
        """Shadow predictions logged in [since, until)."""
        import pandas as pd

        query = sa.select(shadow_table).where(
            shadow_table.c.logged_at >= since, shadow_table.c.logged_at < until
        )
        with self.engine.connect() as connection:
            rows = pd.read_sql(query, connection)
        rows["prediction"] = [json.loads(text) for text in rows["prediction"]]
        parts = [rows]
        for run in self._batch_runs(since, until):
            if run.shadow_version is None:
                continue
            columns = ["prediction_id", "shadow_prediction", "shadow_score"]
            shadow = _read_batch_file(run.location, columns).rename(
                columns={"shadow_prediction": "prediction", "shadow_score": "score"}
            )
            parts.append(shadow.assign(model_version=run.shadow_version, logged_at=run.logged_at))
        return _concat(parts)

    def known_ids(self, prediction_ids: Iterable[str]) -> set[str]:
        """Which of these prediction ids the log holds (online rows and batch files)."""
        wanted = list(dict.fromkeys(prediction_ids))
        found = self.online_ids(wanted)
        missing = [prediction_id for prediction_id in wanted if prediction_id not in found]
        for run in self._batch_runs() if missing else []:
            table = _batch_table(
                run.location, ["prediction_id"], [("prediction_id", "in", missing)]
            )
            found.update(str(value) for value in table.column("prediction_id").to_pylist())
        return found

    def online_ids(self, prediction_ids: Iterable[str]) -> set[str]:
        """Which of these prediction ids the `predictions` table holds."""
        wanted = list(dict.fromkeys(prediction_ids))
        found: set[str] = set()
        column = predictions_table.c.prediction_id
        with self.engine.connect() as connection:
            for part in _bounded(wanted):
                query = sa.select(column).where(column.in_(part))
                found.update(str(value) for value in connection.execute(query).scalars())
        return found

    def served_versions(self) -> list[str]:
        """The model versions with predictions in the log, in numeric order."""
        found: set[str] = set()
        with self.engine.connect() as connection:
            for column in (predictions_table.c.model_version, batch_runs_table.c.model_version):
                query = sa.select(column).distinct()
                found.update(str(v) for v in connection.execute(query).scalars())
        return sorted(found, key=lambda version: (len(version), version))

    def batch_run_versions(self) -> list[tuple[str, str | None]]:
        """Each indexed batch run's deciding and shadow versions, oldest first."""
        return [(str(run.model_version), run.shadow_version) for run in self._batch_runs()]

    def _batch_runs(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[sa.Row[Any]]:
        """Indexed batch runs logged in [since, until) (all of them without bounds)."""
        query = sa.select(batch_runs_table).order_by(batch_runs_table.c.logged_at)
        if since is not None:
            query = query.where(batch_runs_table.c.logged_at >= since)
        if until is not None:
            query = query.where(batch_runs_table.c.logged_at < until)
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def _batch_predictions(
        self, since: datetime, until: datetime, features: list[str] | None
    ) -> list[pd.DataFrame]:
        """Batch runs' logged rows in the shape of `read_predictions`."""
        parts = []
        for run in self._batch_runs(since, until):
            frame = _read_batch_file(run.location)
            if features is not None and any(FEATURE_PREFIX + f not in frame for f in features):
                logger.info(
                    "left out %d batch predictions made on other columns (another contract)",
                    len(frame),
                )
                continue
            frame = frame.drop(columns=["shadow_prediction", "shadow_score"], errors="ignore")
            frame = frame.rename(columns=lambda name: name.removeprefix(FEATURE_PREFIX))
            frame.insert(1, "logged_at", run.logged_at)
            frame.insert(2, "source", "batch")
            frame.insert(3, "model_version", run.model_version)
            parts.append(frame)
        return parts

    def append_feedback(self, outcomes: Iterable[tuple[str, Any]]) -> FeedbackReceipt:
        """Record (prediction_id, outcome) pairs. The outcome already recorded for an id
        is not written again; a different one is a correction (the latest wins) and is
        counted as such. Two different outcomes for one id in the same submission are
        refused (ConflictingFeedback), nothing written."""
        given: dict[str, Any] = {}
        for pid, out in outcomes:
            key, value = str(pid), _plain(out)
            if key in given and given[key] != value:
                raise ConflictingFeedback(
                    f"prediction_id {key!r} has two different outcomes in one submission "
                    f"({given[key]!r} and {value!r}): send one; nothing was recorded"
                )
            given[key] = value
        latest = self._latest_outcomes(list(given))
        new = {pid: value for pid, value in given.items() if pid not in latest
               or latest[pid] != value}  # fmt: skip
        if new:
            now = utc_now()
            rows = [{"prediction_id": pid, "outcome": json.dumps(value), "received_at": now}
                    for pid, value in new.items()]  # fmt: skip
            with self.engine.begin() as connection:
                connection.execute(feedback_table.insert(), rows)
        corrected = sum(pid in latest for pid in new)
        return FeedbackReceipt(len(new), corrected, len(given) - len(new))

    def _latest_outcomes(self, prediction_ids: list[str]) -> dict[str, Any]:
        """The latest recorded outcome of each of these ids that has one."""
        latest: dict[str, Any] = {}
        table = feedback_table
        with self.engine.connect() as connection:
            for part in _bounded(prediction_ids):
                query = (
                    sa.select(table.c.prediction_id, table.c.outcome)
                    .where(table.c.prediction_id.in_(part))
                    .order_by(table.c.received_at)
                )
                for pid, outcome in connection.execute(query):
                    latest[str(pid)] = json.loads(outcome)
        return latest

    def read_predictions(
        self, since: datetime, until: datetime, features: list[str] | None = None
    ) -> pd.DataFrame:
        """Predictions logged in [since, until): features expanded into columns.

        With `features`, only predictions logged with all of them: rows from a model
        trained on another contract (the sample, before the team's own data) are left out.
        """
        import pandas as pd

        query = sa.select(predictions_table).where(
            predictions_table.c.logged_at >= since, predictions_table.c.logged_at < until
        )
        with self.engine.connect() as connection:
            rows = pd.read_sql(query, connection)
        return _concat([_expand_features(rows, features), *self._batch_predictions(
            since, until, features
        )])  # fmt: skip

    def read_feedback(self, until: datetime) -> pd.DataFrame:
        """The latest outcome per prediction received before `until`."""
        import pandas as pd

        query = sa.select(feedback_table).where(feedback_table.c.received_at < until)
        with self.engine.connect() as connection:
            rows = pd.read_sql(query, connection)
        rows["outcome"] = [json.loads(text) for text in rows["outcome"]]
        latest = rows.sort_values("received_at").drop_duplicates("prediction_id", keep="last")
        return latest.reset_index(drop=True)


def _expand_features(rows: pd.DataFrame, features: list[str] | None) -> pd.DataFrame:
    """Logged online rows with their JSON features as columns (see `read_predictions`)."""
    import pandas as pd

    if rows.empty:
        return rows.drop(columns=["features"])
    parsed = [json.loads(text) for text in rows.pop("features")]
    if features is not None:
        keep = [all(name in row for name in features) for row in parsed]
        if not all(keep):
            logger.info(
                "left out %d logged predictions made on other columns (another contract)",
                keep.count(False),
            )
        rows = rows[keep].reset_index(drop=True)
        parsed = [row for row, kept in zip(parsed, keep, strict=True) if kept]
        if rows.empty:
            return rows
    features_frame = pd.json_normalize(parsed)
    rows["prediction"] = [json.loads(text) for text in rows["prediction"]]
    return pd.concat([rows.reset_index(drop=True), features_frame], axis=1)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Online and batch rows as one table (the first part's columns when all are empty)."""
    import pandas as pd

    filled = [part for part in parts if not part.empty]
    if not filled:
        return parts[0]
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]


def open_location(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and path of a batch file: a local path or an fsspec URL."""
    import fsspec

    from ..data.sources import storage_options

    filesystem, path = fsspec.core.url_to_fs(location, **storage_options(location))
    return filesystem, str(path)


def _batch_table(
    location: str, columns: list[str] | None = None, filters: list[Any] | None = None
) -> pa.Table:
    """A batch file, or a folder of part files (Spark's), each read whole in one request:
    ranged reads of an object store fail checksum validation on some S3-compatible
    servers, and the files are small."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    filesystem, path = open_location(location)
    paths = [path]
    if filesystem.isdir(path):
        paths = sorted(p for p in filesystem.ls(path, detail=False) if p.endswith(".parquet"))
    tables = []
    for part in paths:
        with filesystem.open(part, "rb") as handle:
            buffer = pa.BufferReader(handle.read())
        tables.append(pq.read_table(buffer, columns=columns, filters=filters))
    return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})


def _read_batch_file(location: str, columns: list[str] | None = None) -> pd.DataFrame:
    return cast("pd.DataFrame", _batch_table(location, columns).to_pandas())


class BackgroundLogWriter:
    """Moves answered predictions from the spool (monitoring/spool.py) into the log.

    `put` writes a request's records to the spool before the response leaves, so
    nothing answered is lost when the process dies; a background thread then inserts
    spooled batches every `interval_s`. A failing database never fails a prediction:
    batches stay in the spool and are retried; `unwritten` counts them and
    `on_failure` is told of each failed write. Records already in the log (a crash
    between inserting a batch and forgetting it, or a write that failed after the
    database stored it) are not inserted twice; only such batches are checked.
    """

    def __init__(
        self,
        log: PredictionLog,
        spool: Spool,
        interval_s: float = 0.2,
        on_failure: Callable[[int], None] | None = None,
    ):
        self.log = log
        self.spool = spool
        self.interval_s = interval_s
        self.on_failure = on_failure
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self.thread.start()

    @property
    def unwritten(self) -> int:
        return self.spool.waiting()

    def put(self, records: list[dict[str, Any]]) -> None:
        self.spool.append(records)

    def close(self) -> None:
        """Write what is spooled (when the log allows), then stop."""
        self.stopping.set()
        self.thread.join(timeout=30)
        self.spool.close()

    def _run(self) -> None:
        while True:
            stopping = self.stopping.wait(self.interval_s)
            try:
                self._drain()
            except Exception:  # a full disk, a log store gone: retried, never fatal
                logger.exception("moving spooled predictions to the log failed; retrying")
                if self.on_failure is not None:
                    self.on_failure(0)
            if stopping:
                return

    def _drain(self) -> None:
        for batch in self.spool.take():
            records = self.spool.records(batch)
            try:
                if self.spool.unsure(batch):
                    known = self.log.online_ids(r["prediction_id"] for r in records)
                    records = [r for r in records if r["prediction_id"] not in known]
                self.log.append(records)
            except sa.exc.SQLAlchemyError:
                self.spool.failed(batch)
                logger.exception(
                    "could not write %d predictions to the log; they wait in %s",
                    len(records),
                    batch,
                )
                if self.on_failure is not None:
                    self.on_failure(len(records))
                return
            self.spool.done(batch)
