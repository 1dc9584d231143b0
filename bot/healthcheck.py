"""`shopwatch healthcheck`: the container's HEALTHCHECK, on the ports the settings give.

One image runs `shopwatch run` (its web server on `SHOPWATCH_LISTEN_PORT`) or
`shopwatch worker` (on `SHOPWATCH_WORKER_PORT`), so this asks `/healthz` on each
configured port and is healthy when either answers 200. When none does it prints
one line naming the ports it tried and the settings they came from, so a port
changed in one place and not the other is plain in `docker inspect`.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from config.settings import Settings

TIMEOUT_SECONDS = 2.0


def _host(settings: Settings) -> str:
    host = settings.listen_host
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _ports(settings: Settings) -> list[tuple[str, int]]:
    found = [("SHOPWATCH_LISTEN_PORT", settings.listen_port)]
    found.append(("SHOPWATCH_WORKER_PORT", settings.worker_port))
    # 0 means "any free port": nothing here can know which, so it is not asked.
    return [(name, port) for name, port in found if port != 0]


def _answers(url: str) -> str | None:
    """None when /healthz says 200, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(reason) or type(exc).__name__
    return None if status == 200 else f"HTTP {status}"


def healthcheck(settings: Settings) -> tuple[bool, str]:
    """(healthy, one line saying so or what to fix)."""
    host = _host(settings)
    tried = []
    for name, port in _ports(settings):
        url = f"http://{host}:{port}/healthz"
        problem = _answers(url)
        if problem is None:
            return True, f"healthy: {url}"
        tried.append(f"{url} ({name}): {problem}")
    if not tried:
        return False, (
            "no port to ask: SHOPWATCH_LISTEN_PORT and SHOPWATCH_WORKER_PORT are both 0; "
            "give the container fixed ports"
        )
    return False, (
        "no /healthz answered: "
        + "; ".join(tried)
        + ". Is `shopwatch run` (or `worker`) up, with the same SHOPWATCH_LISTEN_PORT "
        "(SHOPWATCH_WORKER_PORT) as this check?"
    )
