"""Reading training and scoring data from the configured source (file or SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy

from .config import DataSettings


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, chosen by its suffix."""
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make data` or point [data] at your file")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")


def load_training_frame(settings: DataSettings) -> pd.DataFrame:
    if settings.source == "sql":
        engine = sqlalchemy.create_engine(settings.database_url)
        with engine.connect() as connection:
            return pd.read_sql_table(str(settings.table), connection)
    assert settings.path is not None  # guaranteed by DataSettings validation
    return read_table(settings.path)


def iter_scoring_chunks(
    settings: DataSettings, chunk_size: int, source: Path | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the scoring input in chunks so large tables never sit in memory at once."""
    if source is None and settings.source == "sql":
        engine = sqlalchemy.create_engine(settings.database_url)
        with engine.connect() as connection:
            yield from pd.read_sql_table(
                str(settings.scoring_table), connection, chunksize=chunk_size
            )
        return
    path = source or settings.scoring_path
    assert path is not None
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: nothing to score")
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    elif path.suffix == ".csv":
        yield from pd.read_csv(path, chunksize=chunk_size)
    else:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")
