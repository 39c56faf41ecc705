"""From a validated table to a gated model: features, estimators, training,
holdout evaluation, metrics and the quality gate."""
