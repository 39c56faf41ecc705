"""Promoting a challenger from shadow: the same quality gate a new model faces.

The challenger (a registered version, usually the one in [shadow] version) is
evaluated on today's holdout like a fresh candidate, against the baseline, the team's
rule and the current champion. Passing, it becomes champion (or, with
[registry] promotion = "pull_request", the proposal to review); failing, nothing
changes. Reports are written first, promotion is the last step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..data.loading import load_validated
from ..data.sources import describe_source
from ..registry import lineage, open_registry
from ..registry.challenger import load_challenger
from ..registry.promotion import write_proposal
from .baselines import RuleModel
from .estimators import build_baseline
from .evaluate import assess, split_holdout, used_columns
from .gate import GateResult
from .report import write_reports
from .rule import team_rule
from .verdict import judge, score_champion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChallengerOutcome:
    version: str
    gate: GateResult
    promoted: bool
    proposed: bool


def promote_challenger(settings: Settings, version: str) -> ChallengerOutcome:
    if not version:
        raise ValueError(
            "no challenger: set [shadow] version in config/settings.toml or pass --version"
        )
    registry = open_registry(settings.registry)
    challenger = load_challenger(registry, version, registry.load)
    if challenger is None:
        raise ValueError(f"version {version} is already the champion: nothing to promote")
    logger.info("[1/3] evaluating challenger v%s on today's holdout", version)
    contract, frame = load_validated(settings)
    split = split_holdout(frame, contract, settings)
    baseline = build_baseline(
        settings.project.problem_type, contract, settings.data.not_features
    ).fit(split.train_x, split.train_y)
    rule = RuleModel(team_rule, baseline, contract.positive_label)
    evaluation, predictions = assess(
        settings, challenger, baseline, split, contract.positive_label, rule
    )
    champion_version, champion_score = score_champion(settings, registry, split, contract)
    evaluation["champion"] = champion_score
    logger.info("[2/3] applying the quality gate against champion v%s", champion_version)
    gate = judge(settings, evaluation, champion_score)
    trained = registry.report(version) or {}
    report: dict[str, Any] = {
        "model_version": version,
        "evaluation": evaluation,
        "selection": trained.get("selection"),
        "features": used_columns(challenger),
        "gate": gate.as_report(),
        "lineage": lineage.collect(frame, describe_source(settings.data), settings),
        "thresholds": settings.gate.model_dump(),
        "promoted_from_shadow": True,
    }
    automatic = settings.registry.promotion == "automatic"
    logger.info(
        "[3/3] writing reports%s",
        (" and promoting" if automatic else " and proposing") if gate.passed else "",
    )
    # Reports first, promotion last: a failure on the way leaves the champion as it was.
    write_reports(settings, report, predictions, update_model_card=gate.passed)
    if not gate.passed:
        return ChallengerOutcome(version, gate, promoted=False, proposed=False)
    if automatic:
        registry.promote(version)
        return ChallengerOutcome(version, gate, promoted=True, proposed=False)
    write_proposal(settings.registry, registry, report)
    return ChallengerOutcome(version, gate, promoted=False, proposed=True)
