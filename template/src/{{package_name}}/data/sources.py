"""Reading training and scoring data from the configured source.

One place decides where data comes from: the synthetic sample in data/sample/ while
[data] sample = true, otherwise the team's source — a CSV or Parquet file, local or
behind an fsspec URL (s3://…), or SQL through SQLAlchemy (a table or a query).
Scoring input is read in chunks so large tables never sit in memory at once.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import sqlalchemy

from ..config import DataSettings
from .sample import sample_source

logger = logging.getLogger(__name__)

# Object stores whose credentials must be in the environment, by URL scheme.
REQUIRED_CREDENTIALS = {"s3": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]}


def uses_sample(data: DataSettings) -> bool:
    """Whether every step reads the synthetic sample rather than the configured source.

    A project made before [data] sample existed (groundwork 0.2.0) has no such line: it
    keeps the old behaviour, the sample while its configured source is absent, and says
    so on every run; `make template-standard` asks for the line.
    """
    if data.sample is not None:
        return data.sample
    return _sample_for_unset(data.model_dump_json())


@functools.lru_cache
def _sample_for_unset(data_json: str) -> bool:
    """Decide once per process (one look at the source, one warning), however many
    steps ask; keyed by the settings so a changed source is looked at again."""
    data = DataSettings.model_validate_json(data_json)
    try:
        _check_file_or_table(data)
    except (FileNotFoundError, ValueError):
        logger.warning(
            "[data] sample is not set and the configured source is missing: using the "
            "synthetic sample. Add `sample = true` or `sample = false` to [data] in "
            "config/settings.toml."
        )
        return True
    logger.warning(
        "[data] sample is not set: using the configured source. Add `sample = false` to "
        "[data] in config/settings.toml to make that explicit."
    )
    return False


def active_source(data: DataSettings) -> DataSettings:
    """The source every step reads: the sample's folder, or the team's configured source."""
    if data.sample is None:
        data = data.model_copy(update={"sample": uses_sample(data)})
    return sample_source(data) if data.sample else data


def describe_source(data: DataSettings) -> str:
    """Where the data comes from, in words, without credentials (for reports and lineage)."""
    active = active_source(data)
    if active.source == "sql":
        url = sqlalchemy.engine.make_url(active.url or "").render_as_string(hide_password=True)
        what = f"table {active.table}" if active.table else "a query"
        origin = f"{what} at {url}"
    else:
        origin = str(active.path)
    return f"synthetic sample ({origin})" if active.sample else origin


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, local or remote, chosen by its suffix."""
    text = str(path)
    _check_file(text)
    with fsspec.open(text, "rb", **storage_options(text)) as handle:
        content = handle.read()
    if not content.strip():
        raise ValueError(f"{text} is empty ({len(content)} bytes): there is nothing to read")
    if text.endswith(".parquet"):
        try:
            return pd.read_parquet(io.BytesIO(content))
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(f"{text} is not a readable Parquet file: {error}") from None
    return read_csv_bytes(content, text)


def read_csv_bytes(content: bytes, name: str) -> pd.DataFrame:
    """A CSV file's rows, or an error that says what is wrong with the file and where."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{name} is not UTF-8 text: byte {content[error.start : error.start + 1]!r} on "
            f"line {line} (row {line - 2} of the table); save the file as UTF-8"
        ) from None
    header = next(csv.reader(io.StringIO(text)), [])
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        shown = ", ".join(f"`{column}`" for column in repeated)
        raise ValueError(f"{name}: the header names column(s) {shown} more than once")
    return pd.read_csv(io.StringIO(text))


@contextmanager
def _connected(active: DataSettings) -> Iterator[sqlalchemy.Connection]:
    """A connection to the database of [data] url; a server that cannot be reached (down,
    wrong host, refused login) is a clear error, never a driver's traceback."""
    engine = sqlalchemy.create_engine(active.database_url)
    try:
        with engine.connect() as connection:
            yield connection
    except sqlalchemy.exc.OperationalError as error:
        raise ValueError(
            f"cannot reach the database of [data] url: {str(error.orig).strip()}. Check that "
            "the server is up and the URL (or DATABASE_URL) is right, then run again"
        ) from None
    finally:
        engine.dispose()


def load_training_frame(data: DataSettings) -> pd.DataFrame:
    active = active_source(data)
    if active.source == "sql":
        with _connected(active) as connection:
            if active.query:
                frame = pd.read_sql_query(sqlalchemy.text(active.query), connection)
            else:
                frame = pd.read_sql_table(str(active.table), connection)
            return _plain_names(frame)
    assert active.path is not None  # guaranteed by DataSettings validation
    return read_table(active.path)


def _plain_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names as plain str: SQLAlchemy hands pandas 2 its own str subclass
    (quoted_name), and scikit-learn then records no feature names, so fitting fails."""
    frame.columns = [str(name) for name in frame.columns]
    return frame


def iter_scoring_chunks(
    data: DataSettings, chunk_size: int, source: Path | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the scoring input in chunks so large tables never sit in memory at once."""
    active = active_source(data)
    if source is None and active.source == "sql":
        with _connected(active) as connection:
            if active.scoring_query:
                query = sqlalchemy.text(active.scoring_query)
                chunks = pd.read_sql_query(query, connection, chunksize=chunk_size)
            else:
                table = str(active.scoring_table)
                chunks = pd.read_sql_table(table, connection, chunksize=chunk_size)
            yield from (_plain_names(chunk) for chunk in chunks)
        return
    text = str(source or active.scoring_path)
    _check_file(text, nothing_to="score")
    with fsspec.open(text, "rb", **storage_options(text)) as handle:
        if text.endswith(".parquet"):
            import pyarrow.parquet as pq  # here: an online image has no pyarrow

            for batch in pq.ParquetFile(handle).iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
        else:
            yield from _csv_chunks(handle, text, chunk_size)


def _csv_chunks(handle: Any, name: str, chunk_size: int) -> Iterator[pd.DataFrame]:
    """A CSV file's rows in chunks, with the same clear errors as a training table gets:
    an empty file, a header naming a column twice, text that is not UTF-8."""
    header = handle.readline()
    if not header.strip():
        raise ValueError(f"{name} is empty: no header row, nothing to score")
    try:
        names = next(csv.reader([header.decode("utf-8")]), [])
    except UnicodeDecodeError:
        raise ValueError(
            f"{name} is not UTF-8 text (its header row); save the file as UTF-8"
        ) from None
    repeated = sorted({column for column in names if names.count(column) > 1})
    if repeated:
        shown = ", ".join(f"`{column}`" for column in repeated)
        raise ValueError(f"{name}: the header names column(s) {shown} more than once")
    handle.seek(0)
    rows = 0
    try:
        for chunk in pd.read_csv(handle, chunksize=chunk_size, encoding="utf-8"):
            rows += len(chunk)
            yield chunk
    except UnicodeDecodeError:
        raise ValueError(
            f"{name} is not UTF-8 text: a byte after row {rows} of the table cannot be read; "
            "save the file as UTF-8"
        ) from None


def check_reachable(data: DataSettings) -> str:
    """Fail with a clear message unless training and scoring data can be read."""
    _check_file_or_table(active_source(data))
    return describe_source(data)


def _check_file_or_table(active: DataSettings) -> None:
    if active.source == "sql":
        with _connected(active) as connection:
            names = sqlalchemy.inspect(connection).get_table_names()
        for table in [active.table, active.scoring_table]:
            if table and table not in names:
                raise FileNotFoundError(f"table {table} not found in the database of [data] url")
    else:
        for path in [active.path, active.scoring_path]:
            _check_file(str(path))


def _check_file(path: str, nothing_to: str = "") -> None:
    suffix = Path(path.split("?")[0]).suffix
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    filesystem, location = fsspec.core.url_to_fs(path, **storage_options(path))
    if not filesystem.exists(location):
        hint = (
            f"nothing to {nothing_to}"
            if nothing_to
            else "set [data] path in config/settings.toml, or `sample = true` for the sample"
        )
        raise FileNotFoundError(f"{path} not found: {hint}")


def storage_options(path: str) -> dict[str, Any]:
    """Credentials come from the environment; a missing one is named, never guessed."""
    scheme = re.match(r"^([a-z0-9+]+)://", path)
    if scheme is None:
        return {}
    missing = [
        name for name in REQUIRED_CREDENTIALS.get(scheme.group(1), []) if not os.environ.get(name)
    ]
    if missing:
        raise ValueError(
            f"{path} needs the environment variable(s) {', '.join(missing)}: set them (in CI, "
            "from the secret store)"
        )
    if scheme.group(1) == "s3" and os.environ.get("AWS_ENDPOINT_URL"):
        # S3-compatible stores (MinIO, SeaweedFS, Ceph…) are reached at their own address.
        return {"client_kwargs": {"endpoint_url": os.environ["AWS_ENDPOINT_URL"]}}
    return {}
