"""Where a model came from: code version, data source and fingerprint, template version."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ANSWERS_FILE = Path(".copier-answers.yml")


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A stable hash of the table's content (values and column names)."""
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


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


def collect(frame: pd.DataFrame, source: str) -> dict[str, Any]:
    """`source` says where the data came from, without credentials."""
    return {
        "data_source": source,
        "git_commit": git_commit(),
        "git_tree_dirty": git_tree_dirty(),
        "data_fingerprint": data_fingerprint(frame),
        "data_rows": len(frame),
        "template_version": template_version(),
    }
