"""What the escalation job reads from the log: live alerts not yet heard, on both databases."""

from __future__ import annotations

from datetime import timedelta

from config.vocabulary import (
    Category,
    EventKind,
    OperatorStatus,
    ReportChange,
    Urgency,
)
from storage.models import Report, ReportEvent, utcnow
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
