"""The outbox's typed contract: what a kind's row carries is checked when it is queued and
again when it is read, on both databases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import col

from storage.models import OutboxRow
from storage.outbox import Delivery
from storage.outbox_payloads import (
    AlertPayload,
    BanPayload,
    DeleteMessagePayload,
    DeletePayload,
    DocumentPayload,
    EditPayload,
    FederationReceipt,
    FederationRequest,
    JoinAnswerPayload,
    JoinChat,
    JoinLinkPayload,
    MessagePayload,
    OutboxPayload,
    PayloadError,
    RadioPayload,
    UnbanPayload,
    VoicePayload,
    payload_of,
    read,
)
from storage.store import Store

NORWICH_GROUP = -1001000000001

ONE_OF_EACH: list[OutboxPayload] = [
    AlertPayload(
        text="Theft at Jarrolds",
        photos=("photos/ab/abcd.jpg",),
        buttons=((("Acknowledged", "aop:1:acknowledged:sig"),),),
        protect_content=True,
        delete_after_hours=48,
        audience="group",
        scheme="norwich",
    ),
    MessagePayload(text="Report #1: the control room has it"),
    EditPayload(target=1, text="Status: On camera"),
    DeletePayload(target=1, also=(41, 42)),
    DocumentPayload(path="exports/norwich/2026-W48.csv", filename="week.csv", caption="Week 48"),
    VoicePayload(path="radio/norwich/call.ogg", caption="Radio call", delete_after_hours=24),
    RadioPayload(text="ShopWatch alert, Norwich.", speak="ShopWatch alert, Norwich."),
    FederationRequest(
        op="alert",
        peer="thetford",
        sender="norwich",
        key="norwich:1",
        path="/federation/v1/alerts",
        body={"id": 1, "category": "theft"},
    ),
    FederationReceipt(op="receipt", peer="thetford", key="thetford:9", origin_id=9),
    BanPayload(user_id=700001, release=True),
    UnbanPayload(user_id=700001),
    JoinLinkPayload(
        member_id=3,
        scheme="ShopWatch Norwich",
        timezone="Europe/London",
        chats=(JoinChat(chat_id=NORWICH_GROUP, label="the members' group"),),
        hours=24,
    ),
    JoinAnswerPayload(user_id=700001, approve=False),
    DeleteMessagePayload(message_id=77, after_key="alert:-100:77:-100"),
]


async def test_every_kind_reads_back_as_it_was_queued(synced_store: Store) -> None:
    norwich = await synced_store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    for payload in ONE_OF_EACH:
        queued = await synced_store.outbox.enqueue(norwich.id, Delivery(NORWICH_GROUP, payload))
        assert queued.id is not None
        row = await synced_store.outbox.get(queued.id)

        assert row.kind == payload.kind
        assert payload_of(row) == payload


def test_a_misspelt_or_missing_field_is_refused_before_anything_is_queued() -> None:
    with pytest.raises(ValidationError, match="txt"):
        MessagePayload.model_validate({"txt": "Theft at Jarrolds"})
    with pytest.raises(ValidationError, match="target"):
        EditPayload.model_validate({"text": "Status: On camera"})


async def test_a_row_changed_by_hand_is_refused_when_read_and_names_what_is_wrong(
    synced_store: Store,
) -> None:
    norwich = await synced_store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    queued = await synced_store.outbox.enqueue(
        norwich.id, Delivery(NORWICH_GROUP, BanPayload(user_id=700001))
    )
    async with synced_store.engine.begin() as connection:
        await connection.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == queued.id)
            .values(payload={"user": "700001"})
        )
    assert queued.id is not None
    row = await synced_store.outbox.get(queued.id)

    with pytest.raises(PayloadError, match=r"\(ban\): user_id: Field required"):
        payload_of(row)
    assert read(queued, BanPayload) == BanPayload(user_id=700001), "as queued, it was one"
    with pytest.raises(PayloadError, match="is ban, not UnbanPayload"):
        read(queued, UnbanPayload)
