"""A local append-only spool between the API and the prediction log.

Each answered prediction is written to the spool (and handed to the kernel) before its
response leaves, so killing the service, even with `kill -9`, loses nothing it
answered. The log writer (prediction_log.BackgroundLogWriter) moves spooled records
into the prediction log and, at start, replays what a stopped service left behind.
One service process per spool folder: a lock file makes a second one fail at start.
A machine crash can still lose what the kernel had not written to disk.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

CURRENT = "current.jsonl"


class SpoolBusyError(RuntimeError):
    """Another process holds the spool folder."""


class SpoolWriteError(OSError):
    """An answer could not be spooled (a full or read-only disk): it must not leave."""


# Below this much free space a spool that failed to write stays not ready.
ROOM_TO_RECOVER = 1 << 20


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def _encoded(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    raise TypeError(f"cannot spool a {type(value).__name__}")


def _decoded(item: dict[str, Any]) -> Any:
    if set(item) == {"__datetime__"}:
        return datetime.fromisoformat(item["__datetime__"])
    return item


class Spool:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._lock_file = (folder / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise SpoolBusyError(
                f"another service process uses the prediction spool {folder}; give each "
                "process its own folder ([serving] spool_path)"
            ) from None
        self._guard = threading.Lock()
        # Unbuffered: a write that fails (a full disk) leaves nothing behind in a buffer
        # for a later flush or close to fail on again.
        self._current = self._open_current()
        # Why the last append failed (None: it did not); the service is not ready while
        # it failed and the disk still has no room.
        self.write_error: str | None = None
        # Records appended since the last take (and what a stopped service left in the
        # current file): kept in memory too, so the writer does not parse its own
        # batches again. A batch whose write failed is read back from its file.
        self._appended: list[dict[str, Any]] = []
        self._held: dict[Path, list[dict[str, Any]]] = {}
        # Batch files waiting to be written, with their record counts (left over from a
        # stopped service, too: they are replayed).
        self._sealed = {path: len(self.read(path)) for path in folder.glob("batch-*.jsonl")}
        # Batches that may already be (partly) in the log: left by a stopped process, or
        # after a failed write. Only these are checked for ids already logged.
        self._unsure = set(self._sealed)
        if (folder / CURRENT).stat().st_size:
            self._appended = self.read(folder / CURRENT)

    def _open_current(self) -> int:
        """The current file, for appending; its size is kept here, as this process is
        its only writer (the lock), so an append costs no extra system call."""
        fd = os.open(self.folder / CURRENT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(fd).st_size
        return fd

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write records through to the kernel before returning: one line per call. A
        failed write is undone (no half line is left) and raises SpoolWriteError."""
        if not records:
            return
        line = (json.dumps(records, default=_encoded) + "\n").encode("utf-8")
        with self._guard:
            try:
                written = 0
                while written < len(line):
                    written += os.write(self._current, line[written:])
            except OSError as error:
                os.ftruncate(self._current, self._size)
                self.write_error = f"{error.strerror or error} in {self.folder}"
                raise SpoolWriteError(
                    error.errno, f"cannot spool the answer: {self.write_error}"
                ) from error
            self._size += len(line)
            self.write_error = None
            self._appended.extend(records)

    def can_write(self) -> bool:
        """False while the last append failed and the disk still has little room."""
        return self.write_error is None or free_bytes(self.folder) >= ROOM_TO_RECOVER

    def take(self) -> list[Path]:
        """Seal what was appended so far into a batch file; every batch file waiting to
        be written, oldest first."""
        with self._guard:
            if self._appended:
                os.close(self._current)
                batch = self.folder / f"batch-{time.time_ns()}.jsonl"
                os.replace(self.folder / CURRENT, batch)
                self._sealed[batch] = len(self._appended)
                self._held[batch] = self._appended
                self._current = self._open_current()
                self._appended = []
            return sorted(self._sealed)

    def done(self, batch: Path) -> None:
        """The batch is in the prediction log: forget it."""
        with self._guard:
            batch.unlink(missing_ok=True)
            self._sealed.pop(batch, None)
            self._held.pop(batch, None)
            self._unsure.discard(batch)

    def unsure(self, batch: Path) -> bool:
        """Could some of the batch be in the log already?"""
        with self._guard:
            return batch in self._unsure

    def failed(self, batch: Path) -> None:
        """Writing the batch failed, perhaps after the database had stored it."""
        with self._guard:
            self._unsure.add(batch)
            self._held.pop(batch, None)  # retried from its file: memory stays bounded

    def waiting(self) -> int:
        """Answered predictions not yet in the prediction log."""
        with self._guard:
            return sum(self._sealed.values()) + len(self._appended)

    def records(self, batch: Path) -> list[dict[str, Any]]:
        """A sealed batch's records: from memory when this process sealed it and no
        write has failed since, otherwise from its file."""
        with self._guard:
            held = self._held.get(batch)
        return self.read(batch) if held is None else held

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """The records of a batch file; a line cut short by a crash is skipped (its
        request was never answered). A line is one call's records (a record alone in
        files spooled by earlier releases)."""
        records: list[dict[str, Any]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                parsed = json.loads(line, object_hook=_decoded)
            except json.JSONDecodeError:
                continue
            records.extend(parsed if isinstance(parsed, list) else [parsed])
        return records

    def close(self) -> None:
        with self._guard:
            os.close(self._current)
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
