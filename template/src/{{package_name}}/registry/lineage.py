"""Where a model came from: code version, data source and fingerprint, template version.

The three fingerprints (data, code, config) say whether a new training run could
differ from the champion at all: when all three match, training records the run
but registers no new, identical version.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..config import Settings

ANSWERS_FILE = Path(".copier-answers.yml")
PACKAGE = Path(__file__).resolve().parent.parent
# The settings that shape the model and its gate; paths of logs, reports and registries
# do not.
MODEL_SETTINGS = ("project", "data", "gate", "model", "decision")
FINGERPRINTS = ("data_fingerprint", "code_fingerprint", "config_fingerprint")


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A stable hash of the table's content (values and column names)."""
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def code_fingerprint() -> str:
    """A hash of the package's source, so a revision is known in a container or a dirty tree."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def config_fingerprint(settings: Settings) -> str:
    """A hash of the settings that shape the model (environment overrides included)."""
    shaping = settings.model_dump(mode="json", include=set(MODEL_SETTINGS))
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def same_inputs(lineage: dict[str, Any], other: dict[str, Any] | None) -> bool:
    """True when both runs trained on the same data, code and config."""
    if other is None:
        return False
    return all(
        lineage.get(key) is not None and lineage.get(key) == other.get(key) for key in FINGERPRINTS
    )


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    if result.returncode != 0:  # not a git repository (yet)
        return None
    return result.stdout.strip() or None


def git_tree_dirty() -> bool | None:
    """True when the working tree has uncommitted changes: the commit alone can't rebuild it."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if result.returncode != 0:
        return None
    return bool(result.stdout.strip())


def template_version() -> str | None:
    if not ANSWERS_FILE.exists():
        return None
    answers = yaml.safe_load(ANSWERS_FILE.read_text()) or {}
    commit = answers.get("_commit")
    return str(commit) if commit else None


def collect(frame: pd.DataFrame, source: str, settings: Settings) -> dict[str, Any]:
    """`source` says where the data came from, without credentials."""
    return {
        "data_source": source,
        "git_commit": git_commit(),
        "git_tree_dirty": git_tree_dirty(),
        "data_fingerprint": data_fingerprint(frame),
        "code_fingerprint": code_fingerprint(),
        "config_fingerprint": config_fingerprint(settings),
        "data_rows": len(frame),
        "template_version": template_version(),
    }
