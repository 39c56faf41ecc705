"""The champion at work: the online API and its schema, batch scoring and telemetry."""


class SmokeFailure(RuntimeError):
    """A service or image failed its smoke test (exit status 7)."""
