"""The champion at work: scoring it (online, in batches, or both) and smoke-testing it."""


class SmokeFailure(RuntimeError):
    """A service or image failed its smoke test (exit status 7)."""
