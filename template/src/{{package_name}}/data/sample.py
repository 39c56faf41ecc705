"""The synthetic sample: written only to its own folder, never over anyone's data.

While [data] sample = true, `make data` writes the sample to data/sample/ in the
project's source format (CSV, Parquet or an SQLite database) and every step reads it
from there. A manifest records what the generator wrote, with a checksum per file:
the generator overwrites only files it wrote and nobody changed since, and
`make clean` deletes only those.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy

from ..config import SAMPLE_FOLDER, DataSettings, Settings
from .contract import Contract
from .synthetic import project_frame

TRAINING_ROWS = 2000
SCORING_ROWS = 500
MANIFEST = SAMPLE_FOLDER / "MANIFEST.json"
NOTICE = "synthetic sample generated from config/contract.yaml: not real data"


class SampleRefused(FileExistsError):
    """The sample would overwrite something it did not write."""


def sample_source(data: DataSettings) -> DataSettings:
    """Where the sample lives for this project's source format."""
    if data.source == "sql":
        return data.model_copy(
            update={
                "url": f"sqlite:///{SAMPLE_FOLDER / 'sample.db'}",
                "table": data.table or "training_data",
                "scoring_table": data.scoring_table or "training_data_scoring",
                "query": None,
                "scoring_query": None,
            }
        )
    suffix = f".{data.source}"
    return data.model_copy(
        update={
            "path": SAMPLE_FOLDER / f"training{suffix}",
            "scoring_path": SAMPLE_FOLDER / f"scoring{suffix}",
        }
    )


def write_sample(settings: Settings, contract: Contract) -> list[str]:
    """Write the training and scoring samples into data/sample/; return what was written."""
    if settings.data.sample is False:
        raise SampleRefused(
            "[data] sample is false: `make data` fetches your configured source instead; "
            "the synthetic sample never writes over real data"
        )
    seed = settings.project.seed
    training = project_frame(settings, contract, TRAINING_ROWS, seed)
    scoring = project_frame(settings, contract, SCORING_ROWS, seed + 1)
    scoring = scoring.drop(columns=[contract.target])
    target = sample_source(settings.data)
    files = _sample_files(target)
    _refuse_foreign(files)
    SAMPLE_FOLDER.mkdir(parents=True, exist_ok=True)
    if target.source == "sql":
        files[0].unlink(missing_ok=True)
        engine = sqlalchemy.create_engine(str(target.url))
        with engine.begin() as connection:
            training.to_sql(str(target.table), connection, index=False)
            scoring.to_sql(str(target.scoring_table), connection, index=False)
        engine.dispose()
        written = [
            f"{files[0]}: {target.table} ({len(training)} rows)",
            f"{files[0]}: {target.scoring_table} ({len(scoring)} rows)",
        ]
    else:
        for frame, path in [(training, target.path), (scoring, target.scoring_path)]:
            assert path is not None
            if target.source == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
        written = [
            f"{target.path} ({len(training)} rows)",
            f"{target.scoring_path} ({len(scoring)} rows)",
        ]
    _record(files)
    return [f"{line}, {NOTICE}" for line in written]


def clean_sample() -> list[Path]:
    """Delete the sample files the generator wrote and nobody changed; return them."""
    removed = []
    for path, checksum in _manifest().items():
        if path.exists() and _checksum(path) == checksum:
            path.unlink()
            removed.append(path)
    MANIFEST.unlink(missing_ok=True)
    return removed


def _sample_files(target: DataSettings) -> list[Path]:
    if target.source == "sql":
        return [SAMPLE_FOLDER / "sample.db"]
    return [Path(str(target.path)), Path(str(target.scoring_path))]


def _refuse_foreign(files: list[Path]) -> None:
    recorded = _manifest()
    for path in files:
        if path.exists() and recorded.get(path) != _checksum(path):
            raise SampleRefused(
                f"{path} exists and was not written by the sample generator (or was changed "
                "since): the sample never overwrites data it did not create. Move the file, "
                "or point [data] at it and set sample = false."
            )


def _manifest() -> dict[Path, str]:
    if not MANIFEST.exists():
        return {}
    recorded: dict[str, str] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {Path(name): checksum for name, checksum in recorded.items()}


def _record(files: list[Path]) -> None:
    entries = {str(path): _checksum(path) for path in files}
    MANIFEST.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
