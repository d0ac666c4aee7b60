"""What the server counts, for `GET /metrics` (Prometheus text format, prometheus-client).

One process: the default registry. Several (`companion serve --workers N`): `PROMETHEUS_MULTIPROC_DIR`
names a directory the workers share (server/cli.py sets it before they start), each worker writes its
values there, and a scrape of any worker reads them all (prometheus-client's multiprocess mode), so one
scrape sees the whole server. Gauges say how processes combine: connections and queue depths sum over
the live processes; jobs due and late are the database's, the same for all (the latest reading).

Names and labels are fixed here and documented in docs/deploy.md ("Seeing it run"), with the queries
of the dashboards. Labels are bounded: an event's name is one of the event table's (anything else is
counted as `unknown`), an HTTP route is its path template, never the path itself.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Acknowledgements are promised within the contract's 250 ms; commits group under load (tens of ms).
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

CONNECTIONS = Gauge("companion_connections", "Open Socket.IO connections", ["role"], multiprocess_mode="livesum")
EVENTS = Counter(
    "companion_events", "Client-to-server events handled, by name and outcome (ok or the error code)",
    ["event", "outcome"],
)  # fmt: skip
ACK_SECONDS = Histogram(
    "companion_ack_seconds", "Time from an event's arrival to its acknowledgement", ["event"], buckets=_ACK_BUCKETS
)
HTTP_REQUESTS = Counter(
    "companion_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "companion_http_request_seconds", "Time to answer an HTTP request", ["method", "route"], buckets=_ACK_BUCKETS
)
COMMIT_SECONDS = Histogram(
    "companion_commit_seconds", "Time of one group commit of the writer", buckets=_COMMIT_BUCKETS
)
COMMIT_WRITES = Counter("companion_commit_writes", "Writes committed (several share one commit under load)")
SEND_QUEUE_PACKETS = Gauge(
    "companion_send_queue_packets", "Packets waiting in the sockets' send queues", multiprocess_mode="livesum"
)
SEND_QUEUE_MAX = Gauge(
    "companion_send_queue_max_packets", "The longest send queue of one socket", multiprocess_mode="livemax"
)
SOCKETS_DROPPED = Counter(
    "companion_sockets_dropped",
    "Sockets closed at the transport: too far behind (reason behind) or sending malformed packets",
    ["reason"],
)
JOBS_DUE = Gauge(
    "companion_jobs_due", "Jobs due now and not yet done (pending, or running past their lease)",
    multiprocess_mode="mostrecent",
)  # fmt: skip
JOBS_LATE = Gauge(
    "companion_jobs_late", "Jobs due more than a minute ago and not yet done", multiprocess_mode="mostrecent"
)
JOBS_RUN = Counter("companion_jobs_run", "Jobs run, by kind and outcome", ["kind", "outcome"])


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def render() -> tuple[bytes, str]:
    """The text of a scrape: this process's values, or every worker's in multiprocess mode."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    _forget_dead_workers()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _forget_dead_workers() -> None:
    """A worker killed without a goodbye leaves its live gauges' files: they stop counting once it is gone."""
    directory = multiprocess_dir()
    assert directory is not None
    pids: set[int] = set()
    for name in os.listdir(directory):
        if name.startswith("gauge_live") and name.endswith(".db"):
            digits = name.rsplit("_", 1)[-1].removesuffix(".db")
            if digits.isdigit():
                pids.add(int(digits))
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def committed(seconds: float, writes: int) -> None:
    """The writer committed a group of `writes` in `seconds`."""
    COMMIT_SECONDS.observe(seconds)
    COMMIT_WRITES.inc(writes)
