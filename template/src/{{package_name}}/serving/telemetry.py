"""Service metrics for Prometheus, exposed at /metrics.

Names start with `ml_` and carry no project name, so the Grafana dashboard and the
alert rules in monitoring/ work for every project generated from the template
(tell projects apart by Prometheus' `job` label). Each app gets its own registry,
so tests can build several apps in one process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

# Seconds; dense around typical budgets (10 ms to 1 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
SCORE_BUCKETS = tuple(round(0.1 * step, 1) for step in range(1, 11))


class Telemetry:
    def __init__(self, routes: set[str], score_buckets: tuple[float, ...] = SCORE_BUCKETS):
        self.routes = routes
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ml_http_requests",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ml_http_request_duration_seconds",
            "Time to answer, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.validation_failures = Counter(
            "ml_validation_failures",
            "Requests refused with 422 because they break the contract",
            ["endpoint"],
            registry=self.registry,
        )
        self.log_write_failures = Counter(
            "ml_prediction_log_write_failures",
            "Failed attempts to write answered predictions to the prediction log",
            registry=self.registry,
        )
        self.log_backlog = Gauge(
            "ml_prediction_log_backlog",
            "Answered predictions not yet in the prediction log",
            registry=self.registry,
        )
        self.unknown_feedback = Counter(
            "ml_feedback_unknown_ids",
            "Outcomes refused because no prediction with their id was ever issued",
            registry=self.registry,
        )
        self.predictions = Counter(
            "ml_predictions",
            "Rows predicted, by model version and predicted label",
            ["model_version", "label"],
            registry=self.registry,
        )
        self.scores = Histogram(
            "ml_prediction_score",
            "Positive-class probability (binary) or predicted value (regression)",
            buckets=score_buckets,
            registry=self.registry,
        )
        self.model = Info("ml_model", "The champion being served", registry=self.registry)
        self.reload_failures = Counter(
            "ml_model_reload_failures",
            "Newly promoted champions the service could not load (it kept the old one)",
            registry=self.registry,
        )
        self.model_seconds = Histogram(
            "ml_model_seconds",
            "Time the answering model took per request: the champion's, or a canary's",
            ["role"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.canary_failures = Counter(
            "ml_canary_failures",
            "Canary requests the challenger failed (the champion answered instead)",
            registry=self.registry,
        )
        self.shadow_failures = Counter(
            "ml_shadow_failures",
            "Rows the shadow model could not score or log (answers were not affected)",
            registry=self.registry,
        )
        self.shadow_dropped = Counter(
            "ml_shadow_dropped",
            "Rows left unshadowed because the shadow scorer was behind",
            registry=self.registry,
        )
        self.trained = Gauge(
            "ml_model_trained_timestamp_seconds",
            "When the served model was trained (Unix time)",
            registry=self.registry,
        )

    def endpoint(self, path: str) -> str:
        # Unknown paths share one label, so scanners cannot explode the series count.
        return path if path in self.routes else "other"


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): counts and times requests."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            endpoint = self.telemetry.endpoint(scope["path"])
            self.telemetry.requests.labels(endpoint, scope["method"], str(status)).inc()
            self.telemetry.latency.labels(endpoint).observe(time.perf_counter() - start)
