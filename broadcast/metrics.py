"""Prometheus metrics: how the alert path is doing, for the scheme's operators and ours.

One registry per running bot (not the process-global default) so two deployments
in one process — as the tests run them — never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts_received = Counter(
            "shopwatch_alerts_received",
            "Reports stored, by scheme and urgency",
            ["scheme", "urgency"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "shopwatch_deliveries",
            "Outbox rows handled, by kind and outcome (sent, retried, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.flood_limits = Counter(
            "shopwatch_telegram_flood_limits",
            "429 Too Many Requests answers from Telegram",
            registry=self.registry,
        )
        self.alert_copy_latency = Histogram(
            "shopwatch_alert_copy_latency_seconds",
            "From the report being stored to each chat copy being delivered",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "shopwatch_outbox_backlog",
            "Outbox rows due and not yet sent",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "shopwatch_outbox_oldest_age_seconds",
            "How late the oldest due outbox row is",
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "shopwatch_outbox_failed",
            "Outbox rows given up on (chat gone, bot blocked)",
            registry=self.registry,
        )
