"""The log keeps its promises on both databases: nothing half-stored, nothing sent twice.

Every test in `TestStorage` runs on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is
set, on PostgreSQL (fixtures in tests/storage_fixtures.py, imported by conftest.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, event, func
from sqlalchemy.pool import QueuePool
from sqlmodel import SQLModel, select

from config.errors import DuplicateError, NotFoundError, StorageError
from config.schemes import SchemesFile, parse_schemes
from config.vocabulary import (
    AuditOutcome,
    Category,
    EventKind,
    HandlingCode,
    IntelligenceAssessment,
    MemberStatus,
    OutboxKind,
    OutboxState,
    Role,
    RoleOrigin,
    SourceEvaluation,
    Urgency,
)
from storage.engine import create_engine
from storage.ids import stored_id
from storage.migrate import current_revision, head_revision, include_name, upgrade
from storage.models import Member, OutboxRow, Photo, Report, ReportEvent, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import (
    AlertPayload,
    DeletePayload,
    DocumentPayload,
    EditPayload,
    MessagePayload,
    payload_of,
    read,
)
from storage.store import Store
from storage.transaction import transaction
from tests.storage_fixtures import EXAMPLE_SCHEMES

NORWICH_GROUP = -1001000000001
NORWICH_CONTROL_ROOM = -1001000000002
NORWICH_COORDINATOR = 700001
SHOPKEEPER = 5_000_000_001  # beyond 32 bits, as real Telegram ids are


def now() -> datetime:
    return datetime.now(UTC)


def sighting(scheme: Scheme, **fields: object) -> Report:
    assert scheme.id is not None
    values: dict[str, object] = {
        "scheme_id": scheme.id,
        "category": Category.THEFT,
        "urgency": Urgency.NOW,
        "description": "Grey hoodie took two bottles of gin, heading to Market St",
        "subject_description": "Male, 30s, grey hoodie, black cap",
        "location_text": "Gentleman's Walk",
        "value_pence": 4200,
        **fields,
    }
    return Report.model_validate(values)


def alert_to_both_chats(key: str | None = None) -> list[Delivery]:
    return [
        Delivery(
            chat_id=NORWICH_GROUP,
            payload=AlertPayload(text="heads up"),
            dedupe_key=f"{key}:group" if key else None,
        ),
        Delivery(
            chat_id=NORWICH_CONTROL_ROOM,
            payload=AlertPayload(text="heads up"),
            dedupe_key=f"{key}:control" if key else None,
        ),
    ]


def messages(count: int) -> list[Delivery]:
    return [
        Delivery(chat_id=NORWICH_GROUP, payload=MessagePayload(text=f"message {n}"))
        for n in range(count)
    ]


async def norwich(store: Store) -> Scheme:
    return await store.schemes.get_by_slug("norwich")


def migration_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    return list(compare_metadata(context, SQLModel.metadata))


class TestStorage:
    async def test_the_schemes_file_is_mirrored_and_its_coordinators_can_act(
        self, store: Store, schemes_file: SchemesFile
    ) -> None:
        first = await store.schemes.sync(schemes_file)
        again = await store.schemes.sync(schemes_file)

        assert [s.slug for s in first] == ["norwich", "wymondham", "great-yarmouth", "kings-lynn"]
        assert [s.id for s in again] == [s.id for s in first]
        assert len(await store.schemes.list_all()) == 4
        wymondham = await store.schemes.get_by_slug("wymondham")
        assert wymondham.retention_days == 180
        assert wymondham.protect_content is True

        coordinator = await store.members.get(first[0].id or 0, NORWICH_COORDINATOR)
        assert coordinator is not None
        assert coordinator.role is Role.COORDINATOR
        assert coordinator.status is MemberStatus.ACTIVE
        active = await store.members.list_by_status(first[0].id or 0, MemberStatus.ACTIVE)
        assert [m.telegram_user_id for m in active] == [NORWICH_COORDINATOR]

    async def test_an_edited_schemes_file_updates_the_scheme(
        self, store: Store, schemes_file: SchemesFile
    ) -> None:
        await store.schemes.sync(schemes_file)
        edited = EXAMPLE_SCHEMES.read_text().replace(
            'name = "Norwich ShopWatch"', 'name = "Norwich BID ShopWatch"\nretention_days = 90'
        )
        await store.schemes.sync(parse_schemes(edited))

        scheme = await norwich(store)
        assert scheme.name == "Norwich BID ShopWatch"
        assert scheme.retention_days == 90
        assert scheme.updated_at > scheme.created_at

    async def test_a_chat_is_recognised_as_its_schemes_group_or_control_room(
        self, synced_store: Store
    ) -> None:
        group = await synced_store.schemes.get_by_chat_id(NORWICH_GROUP)
        control = await synced_store.schemes.get_by_chat_id(NORWICH_CONTROL_ROOM)

        assert group is not None
        assert control is not None
        assert group.slug == control.slug == "norwich"
        assert await synced_store.schemes.get_by_chat_id(-100999) is None
        with pytest.raises(NotFoundError):
            await synced_store.schemes.get_by_slug("atlantis")

    async def test_a_listed_coordinator_who_asked_to_join_is_made_coordinator(
        self, store: Store, schemes_file: SchemesFile
    ) -> None:
        await store.schemes.sync(schemes_file)
        scheme = await norwich(store)
        assert scheme.id is not None
        await store.members.add(
            Member(scheme_id=scheme.id, telegram_user_id=SHOPKEEPER, display_name="Priya")
        )
        promoted = schemes_file.model_copy(
            update={
                "schemes": [
                    s.model_copy(update={"coordinators": [NORWICH_COORDINATOR, SHOPKEEPER]})
                    if s.slug == "norwich"
                    else s
                    for s in schemes_file.schemes
                ]
            }
        )

        await store.schemes.sync(promoted)

        member = await store.members.get(scheme.id, SHOPKEEPER)
        assert member is not None
        assert (member.role, member.status) == (Role.COORDINATOR, MemberStatus.ACTIVE)
        assert member.display_name == "Priya"

    async def test_the_file_takes_back_the_roles_it_gave_and_only_those(
        self, store: Store, schemes_file: SchemesFile
    ) -> None:
        invited, admin = 5_000_000_002, 5_000_000_003
        with_admin = schemes_file.model_copy(update={"administrators": [admin]})
        await store.schemes.sync(with_admin)
        scheme = await norwich(store)
        assert scheme.id is not None
        await store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=invited,
                display_name="Dave",
                role=Role.COORDINATOR,
                status=MemberStatus.ACTIVE,
                approved_by=NORWICH_COORDINATOR,
            )
        )
        carol = await store.members.get(scheme.id, NORWICH_COORDINATOR)
        by_file = await store.members.get(scheme.id, admin)
        assert carol is not None
        assert by_file is not None
        assert (carol.role, carol.role_origin) == (Role.COORDINATOR, RoleOrigin.FILE)
        assert (by_file.role, by_file.status) == (Role.ADMIN, MemberStatus.ACTIVE)
        dropped = schemes_file.model_copy(
            update={
                "schemes": [
                    s.model_copy(update={"coordinators": []}) if s.slug == "norwich" else s
                    for s in schemes_file.schemes
                ]
            }
        )

        synced = await store.schemes.follow(dropped)

        carol = await store.members.get(scheme.id, NORWICH_COORDINATOR)
        dave = await store.members.get(scheme.id, invited)
        gone = await store.members.get(scheme.id, admin)
        assert carol is not None
        assert dave is not None
        assert gone is not None
        assert (carol.role, carol.status) == (Role.MEMBER, MemberStatus.ACTIVE)
        assert (dave.role, dave.role_origin) == (Role.COORDINATOR, RoleOrigin.INVITE)
        assert (gone.role, gone.status) == (Role.MEMBER, MemberStatus.REMOVED)
        demoted = {(m.scheme_id, m.telegram_user_id) for m in synced.demoted}
        assert (scheme.id, NORWICH_COORDINATOR) in demoted
        assert (scheme.id, admin) in demoted
        assert (scheme.id, invited) not in demoted
        trail = [e for e in await store.audit.recent(200) if e.action == "role_withdrawn"]
        assert {(e.actor_telegram_id, e.detail["from"]) for e in trail} == {
            (None, "coordinator"),
            (None, "admin"),
        }
        assert len(trail) == 1 + len(schemes_file.schemes), "the admin leaves every scheme"
        again = await store.schemes.follow(dropped)
        assert again.demoted == [], "the file says it once"

    async def test_a_person_is_a_member_of_a_scheme_once(self, synced_store: Store) -> None:
        schemes = await synced_store.schemes.list_all()
        first, second = schemes[0].id or 0, schemes[1].id or 0
        joined = await synced_store.members.add(
            Member(
                scheme_id=first,
                telegram_user_id=SHOPKEEPER,
                display_name="Priya",
                shop_name="Jarrold",
                street="London Street",
            )
        )

        with pytest.raises(DuplicateError):
            await synced_store.members.add(
                Member(scheme_id=first, telegram_user_id=SHOPKEEPER, display_name="Priya again")
            )
        await synced_store.members.add(
            Member(scheme_id=second, telegram_user_id=SHOPKEEPER, display_name="Priya")
        )

        assert joined.status is MemberStatus.PENDING
        assert await synced_store.members.find_active(SHOPKEEPER) == []
        memberships = await synced_store.members.for_user(SHOPKEEPER)
        assert [(m.display_name, s.id) for m, s in memberships] == [
            ("Priya", scheme.id) for scheme in sorted(schemes[:2], key=lambda s: s.slug)
        ]
        pending = await synced_store.members.list_by_status(first, MemberStatus.PENDING)
        assert [m.display_name for m in pending] == ["Priya"]

    async def test_approving_a_member_records_who_approved_them(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        member = await synced_store.members.add(
            Member(scheme_id=scheme.id or 0, telegram_user_id=SHOPKEEPER, display_name="Priya")
        )

        approved = await synced_store.members.set_status(
            member.id or 0, MemberStatus.ACTIVE, by=NORWICH_COORDINATOR
        )

        assert approved.approved_by == NORWICH_COORDINATOR
        assert approved.approved_at is not None
        active = await synced_store.members.find_active(SHOPKEEPER)
        assert [(m.scheme_id, m.shop_name) for m in active] == [(scheme.id, None)]
        shops = synced_store.members.count_active
        assert await shops(scheme.id or 0, Role.MEMBER) == 1
        assert await shops(scheme.id or 0, Role.MEMBER, besides=member.id) == 0
        assert await shops(scheme.id or 0, Role.OPERATOR) == 0
        suspended = await synced_store.members.set_status(member.id or 0, MemberStatus.SUSPENDED)
        assert suspended.status is MemberStatus.SUSPENDED
        assert await shops(scheme.id or 0, Role.MEMBER) == 0
        assert await synced_store.members.find_active(SHOPKEEPER) == []
        with pytest.raises(NotFoundError):
            await synced_store.members.set_status(999_999, MemberStatus.ACTIVE)

    async def test_an_alert_is_stored_with_every_delivery_and_its_photo(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        photo = Photo(
            sha256="ab" * 32,
            phash="0f0f0f0f0f0f0f0f",
            width=1024,
            height=768,
            size=81_234,
            relative_path=f"ab/{'ab' * 32}.jpg",
        )

        report = await synced_store.reports.create(
            sighting(scheme), deliveries=alert_to_both_chats("update-1"), photos=[photo]
        )

        assert report.id is not None
        stored = await synced_store.reports.get(report.id)
        assert stored.category is Category.THEFT
        assert stored.urgency is Urgency.NOW
        assert stored.value_pence == 4200
        deliveries = await synced_store.outbox.for_report(report.id)
        assert {d.chat_id for d in deliveries} == {NORWICH_GROUP, NORWICH_CONTROL_ROOM}
        assert all(d.state is OutboxState.PENDING and d.scheme_id == scheme.id for d in deliveries)
        assert payload_of(deliveries[0]) == AlertPayload(text="heads up")
        [kept] = await synced_store.reports.photos(report.id)
        assert (kept.sha256, kept.size, kept.relative_path) == (
            photo.sha256,
            81_234,
            photo.relative_path,
        )
        assert (await synced_store.outbox.backlog()).due == 2

    async def test_an_alert_whose_delivery_cannot_be_stored_is_not_stored_at_all(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        kept = await synced_store.reports.create(
            sighting(scheme), deliveries=alert_to_both_chats("update-1")
        )

        with pytest.raises(DuplicateError):
            await synced_store.reports.create(
                sighting(scheme, description="the same Telegram update, delivered again"),
                deliveries=[*messages(1), *alert_to_both_chats("update-1")],
            )

        assert [r.id for r in await synced_store.reports.recent(scheme.id or 0)] == [kept.id]
        assert (await synced_store.outbox.backlog()).due == 2

    async def test_a_report_keeps_its_grading_and_radio_origin(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        report = await synced_store.reports.create(
            sighting(
                scheme,
                urgency=Urgency.LOG,
                source_evaluation=SourceEvaluation.RELIABLE,
                intelligence_assessment=IntelligenceAssessment.KNOWN_DIRECTLY,
                handling_code=HandlingCode.CONDITIONS_APPLY,
                handling_conditions="Not to be shared outside Norfolk Constabulary",
                police_reference="NC-12345-24",
                latitude=52.6289,
                longitude=1.2926,
            )
        )

        stored = await synced_store.reports.get(report.id or 0)
        assert stored.source_evaluation is SourceEvaluation.RELIABLE
        assert stored.intelligence_assessment is IntelligenceAssessment.KNOWN_DIRECTLY
        assert stored.handling_code is HandlingCode.CONDITIONS_APPLY
        assert stored.police_reference == "NC-12345-24"
        assert stored.latitude == pytest.approx(52.6289)
        with pytest.raises(NotFoundError):
            await synced_store.reports.get(999_999)

    async def test_times_come_back_as_utc_whatever_zone_they_went_in(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        seen_at = datetime(2024, 7, 1, 14, 30, tzinfo=ZoneInfo("Europe/London"))  # BST

        report = await synced_store.reports.create(sighting(scheme, occurred_at=seen_at))

        stored = await synced_store.reports.get(report.id or 0)
        assert stored.occurred_at == seen_at
        assert stored.occurred_at.utcoffset() == timedelta(0)
        assert stored.occurred_at.hour == 13
        assert stored.created_at.tzinfo is not None
        assert scheme.created_at.tzinfo is not None

    async def test_a_members_reports_of_the_last_minutes_are_read_newest_first(
        self, synced_store: Store
    ) -> None:
        """What the doubles check reads: this member's reports since a moment, no one else's."""
        scheme = await norwich(synced_store)
        alice = await synced_store.members.get(scheme.id or 0, NORWICH_COORDINATOR)
        assert alice is not None
        assert alice.id is not None
        old = await synced_store.reports.create(
            sighting(scheme, member_id=alice.id, created_at=now() - timedelta(minutes=30))
        )
        first = await synced_store.reports.create(sighting(scheme, member_id=alice.id))
        second = await synced_store.reports.create(sighting(scheme, member_id=alice.id))
        await synced_store.reports.create(sighting(scheme))  # nobody's

        before = await synced_store.reports.before_alert(
            NORWICH_GROUP, 4242, alice.id, now() - timedelta(minutes=5)
        )

        assert [r.id for r in before.recent] == [second.id, first.id]
        assert old.id not in {r.id for r in before.recent}
        assert before.made is None, "no report came from that message"

    async def test_an_operator_update_is_recorded_with_edits_for_every_copy(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        coordinator = await synced_store.members.get(scheme.id or 0, NORWICH_COORDINATOR)
        assert coordinator is not None
        report = await synced_store.reports.create(sighting(scheme), alert_to_both_chats())

        await synced_store.reports.add_event(
            ReportEvent(
                report_id=report.id or 0,
                member_id=coordinator.id,
                kind=EventKind.STATUS,
                status="on_camera",
            ),
            deliveries=[
                Delivery(chat_id=NORWICH_GROUP, payload=EditPayload(target=1, text="cam"))
            ],
        )
        await synced_store.reports.add_event(
            ReportEvent(report_id=report.id or 0, kind=EventKind.RADIO_CALL, text="Lost at M&S")
        )

        history = await synced_store.reports.events(report.id or 0)
        assert [(e.kind, e.status, e.text) for e in history] == [
            (EventKind.STATUS, "on_camera", None),
            (EventKind.RADIO_CALL, None, "Lost at M&S"),
        ]
        edits = await synced_store.outbox.for_report(report.id or 0, kind=OutboxKind.EDIT)
        assert [e.chat_id for e in edits] == [NORWICH_GROUP]
        with pytest.raises(NotFoundError):
            await synced_store.reports.add_event(
                ReportEvent(report_id=999_999, kind=EventKind.NOTE, text="?")
            )

    async def test_deleting_a_report_takes_its_photos_history_and_queue_with_it(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        photo = Photo(sha256="cd" * 32, width=10, height=10, size=100, relative_path="cd/x.jpg")
        report = await synced_store.reports.create(
            sighting(scheme), alert_to_both_chats(), photos=[photo]
        )
        report_id = report.id or 0
        await synced_store.reports.add_event(
            ReportEvent(report_id=report_id, kind=EventKind.NOTE, text="Police attended")
        )

        await synced_store.reports.delete(report_id)

        with pytest.raises(NotFoundError):
            await synced_store.reports.get(report_id)
        assert await synced_store.reports.photos(report_id) == []
        assert await synced_store.reports.events(report_id) == []
        assert await synced_store.outbox.for_report(report_id) == []
        with pytest.raises(NotFoundError):
            await synced_store.reports.delete(report_id)

    async def test_two_workers_never_get_the_same_message(
        self, synced_store: Store, database_url: str
    ) -> None:
        scheme = await norwich(synced_store)
        for n, delivery in enumerate(messages(40)):
            # Forty chats: a chat with a message in someone's hands waits for it.
            await synced_store.outbox.enqueue(
                scheme.id or 0, replace(delivery, chat_id=NORWICH_GROUP - n)
            )
        other_process = await Store.open(database_url, migrate=False)
        claimed: dict[str, list[int]] = {"a": [], "b": []}
        try:
            while True:
                batch_a, batch_b = await asyncio.gather(
                    synced_store.outbox.claim_due("a", now(), limit=7),
                    other_process.outbox.claim_due("b", now(), limit=7),
                )
                if not batch_a and not batch_b:
                    break
                claimed["a"] += [row.id or 0 for row in batch_a]
                claimed["b"] += [row.id or 0 for row in batch_b]
        finally:
            await other_process.close()

        every = claimed["a"] + claimed["b"]
        assert len(every) == len(set(every)) == 40
        row = await synced_store.outbox.get(every[0])
        assert (row.state, row.attempts) == (OutboxState.SENDING, 1)

    async def test_the_members_answer_and_the_control_room_go_before_a_backlog_of_groups(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        outbox = synced_store.outbox
        for n in range(30):
            # Thirty group copies queued first, each in a group of its own.
            group = AlertPayload(text=f"copy {n}", audience="group", scheme="norwich")
            await outbox.enqueue(scheme.id or 0, Delivery(NORWICH_GROUP - 10 - n, group))
        room = AlertPayload(text="copy", audience="control_room", scheme="norwich")
        # The control room's earlier edit goes with its copy, in the chat's order.
        edit = await outbox.enqueue(
            scheme.id or 0, Delivery(NORWICH_CONTROL_ROOM, EditPayload(target=1, text="x"))
        )
        copy = await outbox.enqueue(scheme.id or 0, Delivery(NORWICH_CONTROL_ROOM, room))
        answer = await outbox.enqueue(
            scheme.id or 0, Delivery(SHOPKEEPER, MessagePayload(text="Alert sent"))
        )

        first = await outbox.claim_due("a", now(), limit=4)
        rest = await outbox.claim_due("a", now(), limit=50)

        assert [row.chat_id for row in first] == [
            NORWICH_GROUP - 10,
            NORWICH_CONTROL_ROOM,
            NORWICH_CONTROL_ROOM,
            SHOPKEEPER,
        ]
        assert {row.id for row in first} >= {edit.id, copy.id, answer.id}
        assert len(rest) == 29
        assert (edit.priority, copy.priority, answer.priority) == (0, 1, 2)

    async def test_a_message_held_by_a_worker_that_died_is_sent_by_another(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        queued = await synced_store.outbox.enqueue(scheme.id or 0, messages(1)[0])
        start = now()

        [held] = await synced_store.outbox.claim_due("dies", start, lease_seconds=30)
        assert await synced_store.outbox.claim_due("b", start + timedelta(seconds=10)) == []
        [taken] = await synced_store.outbox.claim_due("b", start + timedelta(seconds=31))

        assert held.id == taken.id == queued.id
        assert (taken.claimed_by, taken.attempts) == ("b", 2)

    async def test_a_sent_message_is_never_sent_again(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        await synced_store.outbox.enqueue(scheme.id or 0, messages(1)[0])
        [row] = await synced_store.outbox.claim_due("a", now())
        row_id = row.id or 0

        sent = await synced_store.outbox.mark_sent(row_id, telegram_message_id=111)
        again = await synced_store.outbox.mark_sent(row_id, telegram_message_id=222)
        late_retry = await synced_store.outbox.mark_retry(row_id, "timeout", now())

        assert sent.state is OutboxState.SENT
        assert sent.sent_at is not None
        assert again.telegram_message_id == late_retry.telegram_message_id == 111
        assert late_retry.state is OutboxState.SENT
        assert await synced_store.outbox.claim_due("b", now() + timedelta(days=1)) == []
        assert (await synced_store.outbox.backlog()).due == 0

    async def test_copies_delivered_side_by_side_are_recorded_in_one_commit_each_with_its_own(
        self, synced_store: Store
    ) -> None:
        """An alert's copies go to six chats at once; a commit each would queue six
        transactions in front of the next alert's, and a statement or three a copy as
        many again. One that is not there fails alone."""
        scheme = await norwich(synced_store)
        copies = [
            Delivery(chat_id=NORWICH_GROUP - n, payload=MessagePayload(text=f"copy {n}"))
            for n in range(6)
        ]
        for copy in copies:
            await synced_store.outbox.enqueue(scheme.id or 0, copy)
        rows = await synced_store.outbox.claim_due("a", now())
        commits: list[object] = []
        statements: list[str] = []

        def committed(connection: object) -> None:
            commits.append(connection)

        def executed(*args: object) -> None:
            statements.append(str(args[2]))

        def removal(row_id: int) -> Delivery:
            return Delivery(
                chat_id=NORWICH_GROUP,
                payload=DeletePayload(target=row_id),
                dedupe_key=f"remove:{row_id}",
                not_before=now() + timedelta(hours=4),
            )

        event.listen(synced_store.engine.sync_engine, "commit", committed)
        event.listen(synced_store.engine.sync_engine, "before_cursor_execute", executed)
        try:
            recorded = await asyncio.gather(
                *(
                    synced_store.outbox.mark_sent(row.id or 0, 500 + n, then=removal(row.id or 0))
                    for n, row in enumerate(rows)
                ),
                synced_store.outbox.mark_sent(999_999, 1),
                return_exceptions=True,
            )
        finally:
            event.remove(synced_store.engine.sync_engine, "commit", committed)
            event.remove(synced_store.engine.sync_engine, "before_cursor_execute", executed)

        *kept, missing = recorded
        assert len(commits) <= 2
        assert len([s for s in statements if "outbox" in s]) <= 4 * len(commits), statements
        assert [
            (r.id, r.state, r.telegram_message_id) for r in kept if isinstance(r, OutboxRow)
        ] == [(row.id, OutboxState.SENT, 500 + n) for n, row in enumerate(rows)]
        assert isinstance(missing, NotFoundError)
        queued = await synced_store.outbox.claim_due("b", now() + timedelta(hours=5))
        assert sorted(read(r, DeletePayload).target for r in queued) == sorted(
            stored_id(row) for row in rows
        )

    async def test_a_failed_send_is_retried_later_then_given_up(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        await synced_store.outbox.enqueue(scheme.id or 0, messages(1)[0])
        start = now()
        [row] = await synced_store.outbox.claim_due("a", start)
        row_id = row.id or 0

        retry = await synced_store.outbox.mark_retry(
            row_id, "429 Too Many Requests", start + timedelta(seconds=30)
        )
        assert retry.state is OutboxState.PENDING
        assert retry.claimed_by is None
        assert await synced_store.outbox.claim_due("a", start + timedelta(seconds=5)) == []
        [again] = await synced_store.outbox.claim_due("a", start + timedelta(seconds=31))
        failed = await synced_store.outbox.mark_failed(row_id, "403 bot was kicked")

        assert again.attempts == 2
        assert (failed.state, failed.last_error) == (OutboxState.FAILED, "403 bot was kicked")
        backlog = await synced_store.outbox.backlog()
        assert (backlog.due, backlog.oldest_age, backlog.failed) == (0, None, 1)

    async def test_the_backlog_shows_how_late_the_oldest_message_is(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        start = now()
        for minutes in (10, 2):
            await synced_store.outbox.enqueue(
                scheme.id or 0,
                Delivery(
                    chat_id=NORWICH_GROUP,
                    payload=MessagePayload(text=f"{minutes} minutes late"),
                    not_before=start - timedelta(minutes=minutes),
                ),
            )
        await synced_store.outbox.enqueue(
            scheme.id or 0,
            Delivery(
                chat_id=NORWICH_GROUP,
                payload=DeletePayload(target=1),
                not_before=start + timedelta(hours=36),
            ),
        )

        backlog = await synced_store.outbox.backlog(start)

        assert backlog.due == 2
        assert backlog.oldest_age == timedelta(minutes=10)

    async def test_queueing_the_same_message_twice_keeps_one(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        document = DocumentPayload(path="exports/norwich/2024-W27.csv")
        delivery = Delivery(chat_id=NORWICH_GROUP, payload=document, dedupe_key="export:2024-W27")

        first = await synced_store.outbox.enqueue(scheme.id or 0, delivery)
        second = await synced_store.outbox.enqueue(scheme.id or 0, delivery)

        assert first.id == second.id
        assert (await synced_store.outbox.backlog()).due == 1

    async def test_searches_and_refusals_are_audited(self, synced_store: Store) -> None:
        scheme = await norwich(synced_store)
        await synced_store.audit.record(
            NORWICH_COORDINATOR,
            "search",
            AuditOutcome.ALLOWED,
            scheme_id=scheme.id,
            detail={"query": "grey hoodie", "results": 3},
        )
        await synced_store.audit.record(SHOPKEEPER, "export", AuditOutcome.REFUSED)
        await synced_store.audit.record(None, "retention", AuditOutcome.ALLOWED)

        recent = await synced_store.audit.recent()
        assert [(e.action, e.outcome) for e in recent] == [
            ("retention", AuditOutcome.ALLOWED),
            ("export", AuditOutcome.REFUSED),
            ("search", AuditOutcome.ALLOWED),
        ]
        [search] = await synced_store.audit.recent(scheme_id=scheme.id)
        assert search.detail == {"query": "grey hoodie", "results": 3}
        assert search.actor_telegram_id == NORWICH_COORDINATOR
        assert search.at.tzinfo is not None
        assert [e.action for e in await synced_store.audit.recent(actor=SHOPKEEPER)] == ["export"]

    async def test_an_invite_code_works_once_and_not_after_it_expires(
        self, synced_store: Store
    ) -> None:
        scheme = await norwich(synced_store)
        start = now()
        await synced_store.invites.create(
            scheme.id or 0,
            "RIVER-OTTER-42",
            Role.OPERATOR,
            NORWICH_COORDINATOR,
            start + timedelta(days=2),
        )
        await synced_store.invites.create(
            scheme.id or 0, "OLD-CODE", Role.MEMBER, NORWICH_COORDINATOR, start
        )

        used = await synced_store.invites.redeem("RIVER-OTTER-42", SHOPKEEPER, start)

        assert (used.role, used.used_by, used.scheme_id) == (Role.OPERATOR, SHOPKEEPER, scheme.id)
        assert used.code_hash != "RIVER-OTTER-42"
        for code in ("RIVER-OTTER-42", "OLD-CODE", "NEVER-ISSUED"):
            with pytest.raises(NotFoundError):
                await synced_store.invites.redeem(code, SHOPKEEPER + 1, start)

    async def test_migrations_build_exactly_the_tables_the_code_declares(
        self, database_url: str
    ) -> None:
        assert await current_revision(database_url) is None

        await upgrade(database_url)
        await upgrade(database_url)  # at every start-up: a second run changes nothing

        assert await current_revision(database_url) == head_revision()
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(migration_differences) == []
        finally:
            await engine.dispose()

    async def test_an_unmigrated_database_is_refused_rather_than_half_used(
        self, database_url: str
    ) -> None:
        with pytest.raises(StorageError, match="shopwatch migrate"):
            await Store.open(database_url, migrate=False)


async def test_sqlite_lets_readers_and_writers_share_and_enforces_references(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'deep' / 'dir' / 'log.db'}")
    try:
        async with store.engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await store.close()

    assert (journal, foreign_keys) == ("wal", 1)
    assert (tmp_path / "deep" / "dir" / "log.db").exists()


async def test_sqlite_queues_the_bots_transactions_on_one_connection_and_an_export_reads_beside(
    tmp_path: Path,
) -> None:
    """Two connections of one process that both write meet in SQLite's busy handler, which
    sleeps in growing steps: the process's transactions queue for one connection instead,
    and the export's long read, which would hold it for seconds, has its own."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    try:
        async with transaction(store.sessions, "hold the log") as holding:
            await holding.exec(select(Scheme))
            async with transaction(store.long_reads, "read for the export") as reading:
                assert (await reading.exec(select(func.count()).select_from(Scheme))).one() == 0
        writes = [
            store.members.add(Member(scheme_id=0, telegram_user_id=user, display_name="Shop"))
            for user in range(SHOPKEEPER, SHOPKEEPER + 10)
        ]
        refused = await asyncio.gather(*writes, return_exceptions=True)
    finally:
        await store.close()

    pool = store.engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 1
    assert {type(outcome) for outcome in refused} == {StorageError}  # no such scheme, each


async def test_a_database_that_cannot_be_reached_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        await Store.open("mysql+aiomysql://nobody@localhost/shopwatch")
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(StorageError, match="directory"):
        await Store.open(f"sqlite+aiosqlite:///{blocked / 'log.db'}")
