"""What the command line and the worker tell whoever runs the deployment."""

from __future__ import annotations

WORKER_NEEDS_POSTGRESQL = (
    "shopwatch worker needs PostgreSQL: SQLite is single-process and `shopwatch run` "
    "already sends every message; set SHOPWATCH_DATABASE_URL to a postgresql:// URL "
    "to run more workers"
)


def worker_port_taken(host: str, port: int, reason: str | None) -> str:
    return (
        f"SHOPWATCH_WORKER_PORT: cannot serve health and metrics on {host}:{port} "
        f"({reason or 'address unavailable'}); give each worker on one host its own port"
    )
