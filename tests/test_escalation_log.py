"""What the escalation job reads from the log: live alerts not yet heard, on both databases."""

from __future__ import annotations

from datetime import timedelta

from config.vocabulary import (
    Category,
    EventKind,
    MemberStatus,
    OperatorStatus,
    ReportChange,
    Role,
    Urgency,
)
from storage.models import Member, Report, ReportEvent, utcnow
from storage.store import Store


async def test_only_live_alerts_nobody_answered_or_raised_are_due(synced_store: Store) -> None:
    store = synced_store
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    made: list[int] = []
    for urgency in (Urgency.NOW, Urgency.NOW, Urgency.NOW, Urgency.LOG):
        report = Report(
            scheme_id=scheme.id, category=Category.THEFT, urgency=urgency, description="x"
        )
        stored = await store.reports.create(report, lambda saved: [], [])
        assert stored.id is not None
        made.append(stored.id)
    heard, raised = made[1], made[2]
    await store.reports.add_event(
        ReportEvent(report_id=heard, kind=EventKind.STATUS, status=OperatorStatus.ON_CAMERA.value)
    )
    await store.reports.add_event(
        ReportEvent(report_id=raised, kind=EventKind.NOTE, status=ReportChange.ESCALATED.value)
    )

    now = utcnow() + timedelta(minutes=3)
    due = await store.reports.unanswered(now - timedelta(hours=1), now)

    assert [r.id for r in due] == [made[0]]
    assert await store.reports.unanswered(now - timedelta(hours=1), utcnow() - timedelta(1)) == []


async def test_an_operators_note_is_an_answer_and_a_shops_is_not(synced_store: Store) -> None:
    """Someone of the control room who wrote on the alert has seen it; a shop has not."""
    store = synced_store
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    writers: dict[Role, int] = {}
    for user, role in ((1, Role.OPERATOR), (2, Role.COORDINATOR), (3, Role.MEMBER)):
        added = await store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=user,
                display_name=str(role),
                role=role,
                status=MemberStatus.ACTIVE,
            )
        )
        assert added.id is not None
        writers[role] = added.id
    noted: dict[Role, int] = {}
    for role, writer in writers.items():
        report = Report(
            scheme_id=scheme.id, category=Category.THEFT, urgency=Urgency.NOW, description="x"
        )
        stored = await store.reports.create(report, lambda saved: [], [])
        assert stored.id is not None
        noted[role] = stored.id
        await store.reports.add_event(
            ReportEvent(report_id=stored.id, member_id=writer, kind=EventKind.NOTE, text="seen")
        )

    now = utcnow() + timedelta(minutes=3)
    due = await store.reports.unanswered(now - timedelta(hours=1), now)

    assert [r.id for r in due] == [noted[Role.MEMBER]]
