"""A stored row's id is an `int`; reading one from a row never stored is a loud bug.

`storage.ids.stored_id` replaces `assert row.id is not None`, which `python -O` strips:
a row used before its flush must fail there, not carry `None` into a query or a button.
"""

from __future__ import annotations

import pytest

from config.errors import ShopWatchError
from storage.ids import UnstoredRowError, stored_id
from storage.models import Scheme
from storage.store import Store


async def test_a_stored_scheme_has_its_id(synced_store: Store) -> None:
    scheme = await synced_store.schemes.get_by_slug("norwich")
    again = await synced_store.schemes.get(stored_id(scheme))
    assert again.slug == "norwich"


def test_a_row_never_stored_is_a_bug_not_a_refusal() -> None:
    unsaved = Scheme(
        slug="nowhere",
        name="Nowhere",
        timezone="Europe/London",
        group_chat_id=-1,
        control_room_chat_id=-2,
        retention_days=30,
        chat_ttl_hours=24,
        protect_content=True,
    )
    with pytest.raises(UnstoredRowError, match="Scheme has no id yet") as raised:
        stored_id(unsaved)
    assert not isinstance(raised.value, ShopWatchError)
