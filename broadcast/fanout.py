"""Where a report goes besides the log: each way out (the scheme's chats, the radio, peer
towns) is a fan-out, and the alert service asks every one it was given.

A fan-out answers with outbox rows, which the alert service stores in the same
transaction as the report or its event: a copy is queued exactly when the report
is, or not at all. It never sends anything itself (the outbox worker does, through
the sender its feature registered), so a way out that is down costs a delay, not
an alert.

A new feature that takes reports somewhere (the subjects' galleries, a pager)
implements this protocol and hands its fan-out to the composition root with its
plugin (`bot/plugins`); the alert service names none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from broadcast.render import AlertView
from config.schemes import SchemeConfig
from storage.models import Report, ReportEvent
from storage.outbox import Delivery
from storage.photos import StoredPhoto


@dataclass(frozen=True)
class MessageRef:
    """A Telegram message: where a report came from, or what a member replied to."""

    chat_id: int
    message_id: int


@dataclass(frozen=True)
class NewReport:
    """A report just given its id, inside the transaction that stores it."""

    report: Report
    scheme: SchemeConfig
    view: AlertView
    """The report as cards show it (the scheme it is from named as the fan-outs know it)."""
    photos: Sequence[StoredPhoto]
    source: MessageRef | None
    """The member's own message, when the report came from one."""
    replaced: bool
    """That message goes from its chat once the bot's own copy is there."""


@dataclass(frozen=True)
class ReportChanged:
    """An event about to be stored, with the report as it stands once it is."""

    report: Report
    scheme: SchemeConfig
    view: AlertView
    event: ReportEvent
    changes: Mapping[str, Any] | None
    from_peer: str | None
    """The peer town the event came from, which is not told it again."""
    photos: Sequence[StoredPhoto] = ()
    """Photos the event adds to the report (a live alert's photo sent after it went out)."""


class FanOut(Protocol):
    """One way out for reports; see the module docstring."""

    def new_report(self, new: NewReport) -> list[Delivery]:
        """The rows that carry a new report this way (none when it does not go this way)."""
        ...

    async def report_changed(self, change: ReportChanged) -> list[Delivery]:
        """The rows that bring what went this way up to date with an event."""
        ...

    async def refreshed(self, view: AlertView, scheme: SchemeConfig) -> list[Delivery]:
        """Edits that bring what went this way up to date with what is known beside the
        report's history (a subject linked to it, that subject's exclusion): no event."""
        ...

    def origin_name(self, report: Report) -> str | None:
        """The name of the scheme a report came from, when it came in this way."""
        ...

    async def reached(self, report: Report, scheme: SchemeConfig) -> list[str]:
        """Names of the other schemes this way took the report to, for the member's answer."""
        ...
