"""Where `draft-contract` reads from, and the [data] lines that point training there.

Every source the project trains from can be drafted from: a CSV or Parquet file, local
or on object storage (s3://…), a SQL table or query through SQLAlchemy, or, with no
source named, whatever [data] points at now. The closing hint is the exact settings to
change for that source, so the team edits config/settings.toml once and correctly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy

from ..config import DataSettings
from .contract import Contract
from .sources import load_training_frame, read_table

SQL_FILE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass
class DraftSource:
    """A table to draft from, and the [data] settings that make training read it."""

    frame: pd.DataFrame
    settings: dict[str, object] = field(default_factory=dict)
    # Settings the team must still fill in (a scoring table named like the training one).
    to_fill: dict[str, str] = field(default_factory=dict)


def read_draft_source(
    source: str | None, table: str | None, query: str | None, data: DataSettings
) -> DraftSource:
    """Read the table `draft-contract` was pointed at (see the module docstring)."""
    if source is None:
        return _configured(data, table, query)
    if table or query or _is_database_url(source):
        return _sql(source, table, query)
    if source.lower().endswith(SQL_FILE_SUFFIXES):
        raise ValueError(
            f"{source} looks like a SQLite database: pass its URL and a table, e.g. "
            f"`draft-contract sqlite:///{source} --table <name>` (or --query)"
        )
    frame = read_table(source)
    kind = "parquet" if source.endswith(".parquet") else "csv"
    scoring = _scoring_name(source)
    return DraftSource(
        frame,
        {"source": kind, "path": source, "scoring_path": scoring},
        {"scoring_path": "the rows to score: the same columns, without the target"},
    )


def _is_database_url(text: str) -> bool:
    scheme = text.split("://", 1)[0] if "://" in text else ""
    return scheme.split("+")[0] in {"sqlite", "postgresql", "mysql", "mssql", "oracle"}


def _sql(url: str, table: str | None, query: str | None) -> DraftSource:
    if not _is_database_url(url):
        raise ValueError(f"--table and --query read a database: {url} is not a SQLAlchemy URL")
    if (table is None) == (query is None):
        raise ValueError("a database source needs exactly one of --table or --query")
    data = DataSettings(
        sample=False,
        source="sql",
        url=url,
        table=table,
        query=query,
        scoring_table=table,
        scoring_query=query,
    )
    frame = _read_sql(data)
    settings: dict[str, object] = {"source": "sql", "url": url}
    notes = {"scoring_table": "the rows to score: the same columns, without the target"}
    if table:
        settings.update(table=table, scoring_table=f"{table}_scoring")
    else:
        settings["query"] = query
        notes = {"scoring_query": "set it (or scoring_table): the rows to score"}
    return DraftSource(frame, settings, notes)


def _without_password(url: str) -> str:
    """The URL as settings.toml must hold it: a password only as ${NAME}."""
    parsed = sqlalchemy.engine.make_url(url)
    if not parsed.password or str(parsed.password).startswith("${"):
        return url
    hidden = parsed.render_as_string(hide_password=True)  # user:***@host
    return hidden.replace(":***@", ":${DB_PASSWORD}@", 1)


def _configured(data: DataSettings, table: str | None, query: str | None) -> DraftSource:
    """The team's configured source, even while the sample is still on."""
    if table or query:
        raise ValueError("--table and --query need the database URL as the source argument")
    own = data.model_copy(update={"sample": False})
    frame = _read_sql(own) if own.source == "sql" else load_training_frame(own)
    return DraftSource(frame, {})


def _read_sql(data: DataSettings) -> pd.DataFrame:
    try:
        return load_training_frame(data)
    except sqlalchemy.exc.SQLAlchemyError as error:
        origin = getattr(error, "orig", None) or error
        raise ValueError(f"cannot read the drafting table from the database: {origin}") from None


def _scoring_name(path: str) -> str:
    """`mine.csv` -> `mine_scoring.csv`, on text: a URL (s3://bucket/x.csv) keeps its //."""
    folder, _, name = path.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    scoring = f"{stem}_scoring{dot}{suffix}" if dot else f"{name}_scoring"
    return f"{folder}/{scoring}" if folder else scoring


def settings_hint(drafted: DraftSource, data: DataSettings, contract: Contract) -> list[str]:
    """The [data] lines to set in config/settings.toml, each as it must be written."""
    lines: dict[str, object] = {"sample": False, **drafted.settings}
    notes = dict(drafted.to_fill)
    if isinstance(lines.get("url"), str) and _without_password(str(lines["url"])) != lines["url"]:
        # settings.toml is committed: a password in it would be in git for good.
        lines["url"] = _without_password(str(lines["url"]))
        notes["url"] = "the password comes from the environment variable DB_PASSWORD"
    for key in ("personal_data", "sensitive_attributes", "sensitive_features"):
        current: list[str] = getattr(data, key)
        kept = [name for name in current if name in contract.columns]
        if kept != current:
            lines[key] = kept
            gone = ", ".join(name for name in current if name not in contract.columns)
            notes[key] = f"{gone}: not a column of this contract"
    if data.time_column and data.time_column not in contract.columns:
        notes["time_column"] = f"remove it: {data.time_column} is not a column of this contract"
    result = []
    for key, value in lines.items():
        line = f"{key} = {_toml(value)}"
        result.append(f"{line}  # {notes.pop(key)}" if key in notes else line)
    result.extend(f"# {key}: {note}" for key, note in notes.items())
    return result


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # A JSON string or list of strings is valid TOML, quotes and escapes included.
    return json.dumps(value, ensure_ascii=False)
