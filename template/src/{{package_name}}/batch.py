"""Batch scoring: read the input in chunks, check the contract, write Parquet.

Output is written to a temporary file and renamed at the end, so a failed run
(bad data, no champion) never leaves a partial file behind.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .config import Settings
from .contract import ContractError, load_contract
from .data import iter_scoring_chunks
from .model import predict_frame
from .registry import load_champion, open_registry

logger = logging.getLogger(__name__)


def score_batch(settings: Settings, source: Path | None = None, output: Path | None = None) -> int:
    """Score every row of the scoring input; return the number of rows written."""
    contract = load_contract(settings.data.contract)
    model, version = load_champion(open_registry(settings.registry))
    output = output or settings.scoring.output_path
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        chunks = iter_scoring_chunks(settings.data, settings.scoring.chunk_size, source)
        for number, chunk in enumerate(chunks, start=1):
            try:
                chunk = contract.validate(chunk, with_target=False)
            except ContractError as error:
                raise ContractError(f"chunk {number} (rows from {rows}): {error}") from None
            scored = _scored_rows(chunk, model, version, settings, contract.id_column)
            table = pa.Table.from_pandas(scored, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
            rows += len(scored)
            logger.info("scored chunk %d: %d rows so far", number, rows)
        if writer is None:
            raise ContractError("contract: the scoring input has no rows")
        writer.close()
        writer = None
        os.replace(partial, output)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return rows


def _scored_rows(
    chunk: pd.DataFrame, model: object, version: str, settings: Settings, id_column: str | None
) -> pd.DataFrame:
    predictions = predict_frame(model, chunk, settings.project.problem_type)  # type: ignore[arg-type]
    if id_column is not None and id_column in chunk:
        predictions.insert(0, id_column, chunk[id_column].to_numpy())
    predictions["model_version"] = version
    return predictions.reset_index(drop=True)
