"""The outbox's contract with whatever carries a row to its destination.

The outbox worker (`broadcast.outbox`) claims rows, keeps their leases and decides
what a failure costs; it knows no destination. Each outbox kind has one sender,
registered by the feature that owns the kind (`bot/plugins`): the Telegram ones in
`bot/senders.py`, the radio's in `broadcast.radio.bridge`,
the peer towns' in `broadcast.federation.link`. A sender either returns what it
delivered or raises one of the errors below, which say what the worker does next.

Adding an outbox kind: a member of `config.vocabulary.OutboxKind`, its payload model in
`storage.outbox_payloads`, and a `Sender` registered by its feature's plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.models import OutboxRow

MAX_ATTEMPTS = 12
"""A row that fails this often (`RetryLaterError`) is given up on."""


@dataclass(frozen=True)
class Delivered:
    """What a sender delivered: the message to record and any sent with it."""

    message_id: int | None = None
    extra_ids: tuple[int, ...] = ()
    """Further messages that went with it (the album under a card), deleted with it."""
    unchanged: bool = False
    """Nothing needed sending (an edit that changes nothing, a delete of what is gone):
    done, though not counted as a delivery."""


class DeliveryError(Exception):
    """Why a row was not delivered; `recorded` is what the log keeps as its last error."""

    prefix = ""

    def __init__(self, reason: str, *, recorded: str | None = None) -> None:
        super().__init__(reason)
        self.recorded = recorded if recorded is not None else f"{self.prefix}{reason}"


class RetryLaterError(DeliveryError):
    """The destination is away for now: tried again with back-off, up to `MAX_ATTEMPTS`."""

    prefix = "unavailable: "


class UndeliverableError(DeliveryError):
    """The destination will never take the row: given up on at once."""

    prefix = "UndeliverableError: "


class RetryAtError(DeliveryError):
    """The destination said when to come back (a flood limit), or the row waits for an
    earlier one (an edit before its message is out): tried then, without counting."""

    def __init__(self, reason: str, seconds: float, *, flood: bool = False) -> None:
        super().__init__(reason, recorded=reason)
        self.seconds = seconds
        self.flood = flood
        """Telegram's flood limit: counted in the metrics as such."""


SendFn = Callable[[OutboxRow], Awaitable[Delivered]]
GivenUpFn = Callable[[OutboxRow, str], Awaitable[None]]


@dataclass(frozen=True)
class Sender:
    """One outbox kind's sender; `given_up`, if any, hears of each row given up for good
    (with the error recorded), to tell whoever must know."""

    send: SendFn
    given_up: GivenUpFn | None = None
