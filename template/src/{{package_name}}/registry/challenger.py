"""The challenger named in [shadow] version, for shadow scoring and canaries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from .base import Registry

Loaded = TypeVar("Loaded")

logger = logging.getLogger(__name__)


class UnknownChallengerError(ValueError):
    """[shadow] version names no version the registry holds."""


def load_challenger(
    registry: Registry, version: str, load: Callable[[str], Loaded]
) -> Loaded | None:
    """The challenger, loaded with `load` (the registry's `load`, or `load_for_serving`);
    None when there is none to run beside the champion (no version set, or the
    challenger has become the champion)."""
    if not version:
        return None
    if version == registry.champion_version():
        logger.info("challenger v%s is the champion: nothing runs in shadow", version)
        return None
    try:
        return load(version)
    except Exception as error:
        raise UnknownChallengerError(
            f"[shadow] version {version} cannot be loaded from the registry ({error}): name "
            'a registered version, or set version = "" in config/settings.toml to run no shadow'
        ) from error
