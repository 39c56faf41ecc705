"""The training table, read from the active source and checked against the contract.

Every step that needs validated training rows (train, evaluate, monitor's reference,
the smoke rows) reads them here, so they all see the same checks.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..config import Settings
from .contract import Contract, load_contract
from .sources import load_training_frame

logger = logging.getLogger(__name__)


def load_validated(settings: Settings) -> tuple[Contract, pd.DataFrame]:
    """Load the training data and check it against the contract (raises ContractError)."""
    contract = load_contract(settings.data.contract)
    frame = load_training_frame(settings.data)
    logger.info("loaded %d rows, %d columns", len(frame), frame.shape[1])
    contract.check_training_table(frame, settings.data.max_duplicate_share)
    frame = contract.check(frame, with_target=True)
    missing = [a for a in settings.data.sensitive_attributes if a not in contract.columns]
    if missing:
        raise ValueError(
            f"sensitive attribute(s) {missing} are not columns of the contract "
            f"({settings.data.contract}); add them or remove them from [data]"
        )
    return contract, frame
