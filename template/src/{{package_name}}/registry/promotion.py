"""Promotion by pull request: training proposes, a reviewed merge approves, `promote` applies.

With [registry] promotion = "pull_request", a model that passes the gate is registered
but not promoted. Training writes its evaluation report, with the registry's address,
to [registry] proposal_path (config/champion.json); the CT workflow commits that file
and the model card to a branch and opens a pull request. Merging it is the approval:
`make promote` then makes the named version champion. The file on the default branch
is the reviewed record of which model serves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config import RegistrySettings
from .base import Registry


@dataclass(frozen=True)
class Proposal:
    version: str
    registry: str  # public_location() of the registry holding the version


@dataclass(frozen=True)
class Promotion:
    version: str
    changed: bool


def public_location(location: str) -> str:
    """The registry's address without credentials: it is committed to the repository."""
    parts = urlsplit(location)
    if parts.username is None and parts.password is None:
        return location
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def write_proposal(settings: RegistrySettings, registry: Registry, report: dict[str, Any]) -> Path:
    """Record a gate-passing, registered model as the proposed champion."""
    if not report["gate"]["passed"] or report["model_version"] is None:
        raise ValueError("only a registered model that passed the quality gate can be proposed")
    proposal = {**report, "registry": public_location(registry.location)}
    path = settings.proposal_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(proposal, indent=2, sort_keys=True) + "\n")
    return path


def read_proposal(path: Path) -> Proposal:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: no model has been proposed yet. Run `make train`; "
            "it writes the proposal when the quality gate passes"
        )
    try:
        raw = json.loads(path.read_text())
        proposal = Proposal(str(raw["model_version"]), str(raw["registry"]))
        passed = raw["gate"]["passed"] is True
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a proposal written by `make train`: {error}") from None
    if not passed:
        raise ValueError(f"{path}: model version {proposal.version} did not pass the quality gate")
    return proposal


def apply_proposal(settings: RegistrySettings, registry: Registry) -> Promotion:
    """Make the proposed (and, once merged, approved) version champion. Idempotent."""
    if settings.promotion == "automatic" and not settings.proposal_path.exists():
        raise FileNotFoundError(
            '[registry] promotion is "automatic": `make train` promotes a passing model '
            "itself, so there is no proposal to apply"
        )
    proposal = read_proposal(settings.proposal_path)
    here = public_location(registry.location)
    if proposal.registry != here:
        raise ValueError(
            f"{settings.proposal_path} names version {proposal.version} of the registry at "
            f"{proposal.registry}, but this project's registry is {here}: set "
            "MLFLOW_TRACKING_URI to the registry continuous training used"
        )
    if registry.champion_version() == proposal.version:
        return Promotion(proposal.version, changed=False)
    registry.promote(proposal.version)
    return Promotion(proposal.version, changed=True)
