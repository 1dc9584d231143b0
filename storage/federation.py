"""What the log knows about alerts exchanged with other deployments, without a table of its own.

Every federated exchange is an outbox row of kind `federation`: those going out
carry the request to send, and each request that came in and was taken is kept
as a *receipt* row whose dedupe key is `fedin:<peer>:<idempotency key>`. The
outbox's dedupe key is unique, and the receipt is stored in the same transaction
as the report or event it brought, so a replay (or two deliveries racing) cannot
be taken twice: the second insert fails and nothing of it is stored.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.vocabulary import OutboxKind, OutboxState
from storage.models import OutboxRow, Photo
from storage.outbox_payloads import read_federation
from storage.transaction import transaction

RECEIPT: Final = "receipt"
ALERT: Final = "alert"
EVENT: Final = "event"


def receipt_key(peer: str, idempotency_key: str) -> str:
    return f"fedin:{peer}:{idempotency_key}"


def alert_key(origin: str, report_id: int) -> str:
    """The idempotency key of an alert: one per report, whoever retries it."""
    return f"{origin}:{report_id}"


class FederationLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def receipt(self, peer: str, idempotency_key: str) -> OutboxRow | None:
        """The receipt of a request already taken from `peer` under that key, if any."""
        query = select(OutboxRow).where(OutboxRow.dedupe_key == receipt_key(peer, idempotency_key))
        async with transaction(self._sessions, "read the federation receipts") as session:
            return (await session.exec(query)).first()

    async def exchanges(self, report_id: int) -> list[OutboxRow]:
        """The report's federation rows (sent, due or taken in), leaving out those given up."""
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.report_id == report_id,
                OutboxRow.kind == OutboxKind.FEDERATION,
                col(OutboxRow.state) != OutboxState.FAILED,
            )
            .order_by(col(OutboxRow.id))
        )
        async with transaction(self._sessions, "read the report's exchanges") as session:
            return list((await session.exec(query)).all())

    async def peers_of(self, report_id: int) -> set[str]:
        """Peers that got this report or sent it."""
        payloads = [read_federation(row) for row in await self.exchanges(report_id)]
        return {payload.peer for payload in payloads if payload.op in (ALERT, RECEIPT)}

    async def photo_shared_with(self, sha256: str, peer: str) -> Photo | None:
        """The photo, if it belongs to a report sent to `peer`: nothing else is served."""
        query = select(Photo).where(Photo.sha256 == sha256).order_by(col(Photo.id))
        async with transaction(self._sessions, "read the photo") as session:
            photos = list((await session.exec(query)).all())
        for photo in photos:
            assert photo.report_id is not None
            if peer in await self.peers_of(photo.report_id):
                return photo
        return None
