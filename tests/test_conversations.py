"""A member's place in a guided conversation and their draft outlive the process.

Runs on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL (the
`store` and `database_url` fixtures of tests/storage_fixtures.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.persistence import DatabasePersistence
from storage.store import Store

SHOPKEEPER = 5_000_000_001  # beyond 32 bits, as real Telegram ids are
OTHER = 5_000_000_002
DRAFT = {
    "report": {
        "category": "theft",
        "urgency": "now",
        "subject": "Male, 30s, grey hoodie — “Nike” logo",
        "value_pence": 6050,
        "photos": ["AgACAgQAAxkBAAIB", "AgACAgQAAxkBAAIC"],
        "police_reference": None,
        "shared": True,
    }
}


class TestConversationStorage:
    async def test_a_conversation_keeps_its_place_until_it_ends(
        self, store: Store, database_url: str
    ) -> None:
        conversations = store.conversations
        await conversations.set_state("report", (SHOPKEEPER, SHOPKEEPER), "category")
        await conversations.set_state("report", (OTHER, OTHER), "value")
        await conversations.set_state("join", (SHOPKEEPER, SHOPKEEPER), 3)

        await conversations.set_state("report", (SHOPKEEPER, SHOPKEEPER), "photos")

        reopened = await Store.open(database_url, migrate=False)  # the next process
        try:
            assert await reopened.conversations.states("report") == {
                (SHOPKEEPER, SHOPKEEPER): "photos",
                (OTHER, OTHER): "value",
            }
            assert await reopened.conversations.states("join") == {(SHOPKEEPER, SHOPKEEPER): 3}
        finally:
            await reopened.close()
        await conversations.set_state("report", (SHOPKEEPER, SHOPKEEPER), None)
        await conversations.set_state("report", (SHOPKEEPER, SHOPKEEPER), None)  # harmless
        assert await conversations.states("report") == {(OTHER, OTHER): "value"}
        assert await conversations.states("nothing") == {}

    async def test_a_draft_comes_back_exactly_as_it_was_written(self, store: Store) -> None:
        conversations = store.conversations

        await conversations.set_user_data(SHOPKEEPER, DRAFT)
        await conversations.set_user_data(OTHER, {"report": {"category": "fraud"}})

        assert await conversations.user_data(SHOPKEEPER) == DRAFT
        assert await conversations.all_user_data() == {
            SHOPKEEPER: DRAFT,
            OTHER: {"report": {"category": "fraud"}},
        }
        await conversations.set_user_data(SHOPKEEPER, {"report": {"category": "asb"}})
        assert await conversations.user_data(SHOPKEEPER) == {"report": {"category": "asb"}}

    async def test_empty_or_dropped_data_leaves_no_row(self, store: Store) -> None:
        conversations = store.conversations
        await conversations.set_user_data(SHOPKEEPER, DRAFT)
        await conversations.set_user_data(OTHER, DRAFT)

        await conversations.set_user_data(SHOPKEEPER, {})
        await conversations.drop_user_data(OTHER)
        await conversations.drop_user_data(OTHER)

        assert await conversations.all_user_data() == {}
        assert await conversations.user_data(SHOPKEEPER) == {}

    @pytest.mark.parametrize(
        ("data", "problem"),
        [
            ({"report": {1: "theft"}}, "key 1 that is not a string"),
            ({"report": {"photos": ("a", "b")}}, r"\['photos'\] is a tuple"),
            ({"when": datetime(2024, 7, 1, tzinfo=UTC)}, r"\['when'\] is a datetime"),
            ({"items": [1, {2, 3}]}, r"\['items'\]\[1\] is a set"),
        ],
    )
    async def test_data_that_json_would_change_is_refused_and_nothing_is_kept(
        self, store: Store, data: dict[str, object], problem: str
    ) -> None:
        await store.conversations.set_user_data(SHOPKEEPER, DRAFT)

        with pytest.raises(TypeError, match=problem):
            await store.conversations.set_user_data(SHOPKEEPER, data)
        with pytest.raises(TypeError, match="conversation state"):
            await store.conversations.set_state("report", (SHOPKEEPER,), ("a", "b"))

        assert await store.conversations.user_data(SHOPKEEPER) == DRAFT
        assert await store.conversations.states("report") == {}

    async def test_many_people_written_at_once_are_all_kept(self, store: Store) -> None:
        people = range(SHOPKEEPER, SHOPKEEPER + 20)

        await asyncio.gather(
            *(store.conversations.set_user_data(p, {"report": {"n": p}}) for p in people),
            *(store.conversations.set_state("report", (p, p), "photos") for p in people),
        )
        await asyncio.gather(
            *(store.conversations.set_user_data(p, {"report": {"n": -p}}) for p in people)
        )

        kept = await store.conversations.all_user_data()
        assert kept == {p: {"report": {"n": -p}} for p in people}
        assert len(await store.conversations.states("report")) == 20

    async def test_idle_conversations_are_forgotten_and_fresh_ones_kept(
        self, store: Store
    ) -> None:
        conversations = store.conversations
        now = datetime.now(UTC)
        long_ago = now - timedelta(days=3)
        await conversations.set_state("report", (SHOPKEEPER, SHOPKEEPER), "value", now=long_ago)
        await conversations.set_user_data(SHOPKEEPER, DRAFT, now=long_ago)
        await conversations.set_state("report", (OTHER, OTHER), "value", now=now)
        await conversations.set_user_data(OTHER, DRAFT, now=now)

        forgotten = await conversations.forget_idle(now - timedelta(days=1))

        assert forgotten == 2
        assert await conversations.states("report") == {(OTHER, OTHER): "value"}
        assert set(await conversations.all_user_data()) == {OTHER}
        assert await conversations.forget_idle(now - timedelta(days=1)) == 0

    async def test_the_bot_loads_what_it_kept_and_forgets_what_went_idle(
        self, store: Store
    ) -> None:
        long_ago = datetime.now(UTC) - timedelta(days=2)
        await store.conversations.set_state("report", (OTHER, OTHER), "value", now=long_ago)
        await store.conversations.set_user_data(OTHER, DRAFT, now=long_ago)
        writing = DatabasePersistence(store.conversations)
        await writing.update_conversation("report", (SHOPKEEPER, SHOPKEEPER), "photos")
        await writing.update_user_data(SHOPKEEPER, DRAFT)

        loading = DatabasePersistence(store.conversations)  # the next start
        assert await loading.get_user_data() == {SHOPKEEPER: DRAFT}
        assert await loading.get_conversations("report") == {(SHOPKEEPER, SHOPKEEPER): "photos"}

        await loading.update_conversation("report", (SHOPKEEPER, SHOPKEEPER), None)
        await loading.drop_user_data(SHOPKEEPER)
        assert await store.conversations.states("report") == {}
        assert await store.conversations.all_user_data() == {}
        assert loading.store_data.bot_data is False

    async def test_everyone_handed_over_at_once_is_written_in_one_commit(
        self, store: Store
    ) -> None:
        """python-telegram-bot hands over each changed person's data side by side; a commit
        each would queue a burst of writers in front of an alert's own."""
        people = range(SHOPKEEPER, SHOPKEEPER + 12)
        persistence = DatabasePersistence(store.conversations)
        commits: list[object] = []

        def committed(connection: object) -> None:
            commits.append(connection)

        event.listen(store.engine.sync_engine, "commit", committed)
        try:
            await asyncio.gather(
                *(persistence.update_user_data(p, {"report": {"n": p}}) for p in people)
            )
        finally:
            event.remove(store.engine.sync_engine, "commit", committed)

        assert len(commits) == 1
        assert await store.conversations.all_user_data() == {
            p: {"report": {"n": p}} for p in people
        }

    async def test_one_persons_unkeepable_data_is_refused_and_the_others_kept(
        self, store: Store
    ) -> None:
        persistence = DatabasePersistence(store.conversations)

        handed_over = await asyncio.gather(
            persistence.update_user_data(SHOPKEEPER, {"report": {"photos": ("a", "b")}}),
            persistence.update_user_data(OTHER, DRAFT),
            return_exceptions=True,
        )

        assert isinstance(handed_over[0], TypeError)
        assert handed_over[1] is None
        assert await store.conversations.all_user_data() == {OTHER: DRAFT}
