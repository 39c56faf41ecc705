"""The challenger named in [shadow] version, for shadow scoring and canaries."""

from __future__ import annotations

import logging

from sklearn.pipeline import Pipeline

from .base import Registry

logger = logging.getLogger(__name__)


class UnknownChallengerError(ValueError):
    """[shadow] version names no version the registry holds."""


def load_challenger(registry: Registry, version: str) -> Pipeline | None:
    """The challenger's pipeline; None when there is none to run beside the champion
    (no version set, or the challenger has become the champion)."""
    if not version:
        return None
    if version == registry.champion_version():
        logger.info("challenger v%s is the champion: nothing runs in shadow", version)
        return None
    try:
        return registry.load(version)
    except Exception as error:
        raise UnknownChallengerError(
            f"[shadow] version {version} cannot be loaded from the registry ({error}): name "
            'a registered version, or set version = "" in config/settings.toml to run no shadow'
        ) from error
