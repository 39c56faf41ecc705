"""One training of a registry at a time.

Two trainings at once (two terminals, a scheduled retrain beside a manual one) would
both compare themselves with the same champion, both register a version from identical
inputs, and one would report a champion that the other replaced. A file lock (filelock)
makes the second wait for the first, then see the first's champion: identical inputs
register nothing, and what it reports is true.

The lock is scoped to the registry: beside an embedded store (the MLflow SQLite file, the
local registry's folder), or, for a tracking server, in this machine's temporary folder
(TMPDIR; a writable emptyDir in the Kubernetes jobs) under a name taken from the
server's address. Runners on different machines are kept apart by CI's concurrency
groups (ct, promote); where no temporary folder is writable, a server's training goes
on without the lock and says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import RegistrySettings
from .faults import RegistryFault

if TYPE_CHECKING:
    from filelock import BaseFileLock

logger = logging.getLogger(__name__)
PACKAGE = __name__.split(".")[0]


class TrainingInProgress(RegistryFault):
    """Another training held the registry for longer than the configured wait (exit 5)."""


def lock_path(settings: RegistrySettings) -> Path:
    """Where the lock of this registry lives (see the module docstring)."""
    if settings.backend == "local":
        return settings.path / ".training.lock"
    uri = os.environ.get("MLFLOW_TRACKING_URI") or settings.tracking_uri
    if uri.startswith("sqlite:///"):
        store = Path(uri.removeprefix("sqlite:///"))
        return store.with_name(store.name + ".training.lock")
    name = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"{PACKAGE}-training-{name}.lock"


def _embedded(settings: RegistrySettings) -> bool:
    uri = os.environ.get("MLFLOW_TRACKING_URI") or settings.tracking_uri
    return settings.backend == "local" or uri.startswith("sqlite:///")


@contextmanager
def training_lock(settings: RegistrySettings) -> Iterator[None]:
    """Hold the registry's training lock; wait up to train_lock_timeout_seconds for it."""
    from filelock import FileLock, Timeout

    path = lock_path(settings)
    lock = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:  # held by another training (Timeout is an OSError: caught first)
        _wait_for(lock, path, settings.train_lock_timeout_seconds)
    except OSError as error:
        if _embedded(settings):
            raise  # beside the store, where training must write anyway
        logger.warning(
            "cannot take the training lock at %s (%s): training without it; CI's "
            "concurrency groups keep trainings of the server's registry apart",
            path,
            error.strerror or error,
        )
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _wait_for(lock: BaseFileLock, path: Path, wait: float) -> None:
    from filelock import Timeout

    logger.warning(
        "another training of this registry is running (lock %s): waiting up to %g s "
        "([registry] train_lock_timeout_seconds)",
        path,
        wait,
    )
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise TrainingInProgress(
            f"another training of this registry held {path} for more than {wait:g} s "
            "([registry] train_lock_timeout_seconds); nothing was trained. Run again when "
            "it has finished"
        ) from None
    logger.info("the other training has finished: training now")
