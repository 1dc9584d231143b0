"""Logs are safe to ship: no bot token anywhere, and JSON lines carry report ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from config.logs import REDACTED, setup_logging

TOKEN = "5550001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before[0]:
        root.addHandler(handler)
    root.setLevel(before[1])


def _use(stream: io.StringIO, log_format: str) -> None:
    handler = setup_logging("INFO", log_format, [TOKEN, "webhook-secret-value"])  # type: ignore[arg-type]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def test_json_lines_carry_the_report_id_and_never_the_token(captured: io.StringIO) -> None:
    _use(captured, "json")
    log = logging.getLogger("broadcast.outbox")

    log.info(
        "sent copy of report %s via https://api.telegram.org/bot%s/sendPhoto",
        42,
        TOKEN,
        extra={"report_id": 42},
    )
    try:
        raise RuntimeError(f"POST /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("delivery failed", extra={"report_id": 42})

    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [entry["report_id"] for entry in lines] == [42, 42]
    assert lines[0]["level"] == "INFO"
    assert lines[0]["logger"] == "broadcast.outbox"
    assert REDACTED in lines[0]["message"]
    assert "exception" in lines[1]
    assert TOKEN not in captured.getvalue()
    assert TOKEN.split(":")[1] not in captured.getvalue()


def test_text_logs_redact_secrets_too(captured: io.StringIO) -> None:
    _use(captured, "text")

    logging.getLogger("bot.web").warning("secret was %s", "webhook-secret-value")

    assert "webhook-secret-value" not in captured.getvalue()
    assert REDACTED in captured.getvalue()
