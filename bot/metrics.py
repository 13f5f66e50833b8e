"""The hub's Prometheus metrics, in a registry of their own per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "HubMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class HubMetrics:
    """Every metric the hub exports; ``render()`` is the ``/metrics`` body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.inbound = Counter(
            "tawasul_inbound_events",
            "Webhook events and messages by channel and result (accepted, duplicate, forged, "
            "malformed, too_large, unavailable, status, status_duplicate, noreply)",
            ["channel", "result"],
            registry=r,
        )
        self.delivery_status = Counter(
            "tawasul_delivery_status",
            "Provider delivery reports by channel and state",
            ["channel", "state"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "tawasul_queue_depth",
            "Entries waiting: work / send-work (pending in the consumer group plus not yet read)",
            ["queue"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "tawasul_dead_letters", "Replies in the dead-letter stream now", registry=r
        )
        self.dead_lettered = Counter(
            "tawasul_dead_lettered",
            "Replies moved to the dead-letter stream, by channel",
            ["channel"],
            registry=r,
        )
        self.turn_seconds = Histogram(
            "tawasul_turn_seconds",
            "Duration of one Rasa call (a conversation turn), retries excluded",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.rasa_errors = Counter(
            "tawasul_rasa_errors", "Failed Rasa calls (retried)", ["reason"], registry=r
        )
        self.reply_seconds = Histogram(
            "tawasul_reply_seconds",
            "From the webhook's message being durable to its reply handed to the provider",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "tawasul_sends",
            "Send attempts by channel and outcome (sent, transient, rate_limited, permanent, "
            "dead, already_sent, no_channel)",
            ["channel", "outcome"],
            registry=r,
        )
        self.media = Counter(
            "tawasul_media", "Citizen files by outcome", ["channel", "outcome"], registry=r
        )
        self.contacts = Counter(
            "tawasul_contact_sync",
            "Verified identities told to the ticket service, by outcome",
            ["outcome"],
            registry=r,
        )
        self.worker_errors = Counter(
            "tawasul_worker_errors",
            "Unexpected errors in a queue's handler (the entry is retried, then set aside)",
            ["queue"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
