"""The champion at work: the online API and its schema, batch scoring and telemetry."""
