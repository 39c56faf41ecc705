"""Your data fetch: the one place to bring data from wherever it lives. Yours to edit.

`make data` calls `fetch` in every workflow (CI, CT, CD, batch scoring, monitoring)
and in `make all`, before anything reads data, once [data] sample = false. Most
sources need no code here: [data] in config/settings.toml reads CSV or Parquet files
(local or s3://…) and SQL tables or queries in place. Use this function for anything
else — an API export, a warehouse unload, a file to decrypt — and write the result
where [data] points. Read secrets from the environment (in CI, from the secret store);
`require_env` fails with a message naming the variable.

Template updates never overwrite this file.
"""

from __future__ import annotations

import os

from ..config import DataSettings


def fetch(data: DataSettings) -> None:
    """Bring the training and scoring data to where [data] points; by default, nothing to do."""


def require_env(name: str) -> str:
    """The environment variable `name`, or a clear error naming it."""
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"the data fetch needs the environment variable {name}: set it")
    return value
