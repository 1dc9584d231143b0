"""Norwich with its galleries' Mini App on: a shop, the control room, a subject with a photo.

Alice (Boots, Haymarket) sends a photo alert; Dave in the control room makes an
ID-sought subject of it (the domain call the control-room card's button makes);
Wendy belongs to Wymondham, whose galleries are its own. The bot serves its Mini App
at `MINIAPP_URL`'s path on its own web server; a reverse proxy would end TLS in front
of it, and `local()` is that proxy for the test: the same path on the bot's port.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image, ImageDraw

from broadcast.subjects.service import Actor, SubjectService
from config.vocabulary import MemberStatus, Role
from sandbox import MessageView, Person
from sandbox.web_apps import WebAppLaunch, init_data_for, launch
from storage.models import Member
from tests.town import Town, running_town

PUBLIC_ORIGIN = "https://gallery.norwich-shopwatch.example"
MINIAPP_URL = f"{PUBLIC_ORIGIN}/gallery"
OTHER_BOT_TOKEN = "5550099:another-bots-token"
ALICE, DAVE, WENDY = 5_000_000_201, 5_000_000_202, 5_000_000_203
DESCRIPTION = "Male 30s, grey hoodie, black cap, scar on left cheek"
THEFT = "Male 30s, grey hoodie, black cap, took 6 packs of razor blades, heading to Haymarket"


def cctv_still() -> bytes:
    """A shop's CCTV still: a figure in a doorway (big enough to be scaled for phones)."""
    image = Image.new("RGB", (1600, 1200), (70, 90, 110))
    draw = ImageDraw.Draw(image)
    draw.rectangle((500, 150, 1100, 1150), fill=(40, 40, 45))
    draw.ellipse((700, 200, 900, 420), fill=(210, 170, 140))
    draw.rectangle((620, 420, 980, 900), fill=(120, 120, 125))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@dataclass
class GalleryTown:
    town: Town
    alice: Person
    dave: Person
    wendy: Person
    subject_id: int
    report_id: int

    @property
    def port(self) -> int:
        assert self.town.runtime.port is not None
        return self.town.runtime.port

    def local(self, url: str) -> str:
        """The public address as the reverse proxy hands it to the bot's web server."""
        assert url.startswith(PUBLIC_ORIGIN), url
        return f"http://127.0.0.1:{self.port}{url.removeprefix(PUBLIC_ORIGIN)}"

    async def gallery_message(self, person: Person) -> MessageView:
        """`person` sends /start; the bot's message with the Gallery button under it."""
        sent = await person.send(self.town.bot, "/start")
        return await self.town.bot_message_after(
            person,
            sent.message_id,
            lambda m: "Gallery" in m.button_texts,
            what="the Gallery button",
        )

    async def opens(self, person: Person, *, theme: str = "light") -> WebAppLaunch:
        """`person` taps Gallery under the bot's /start message, as in Telegram."""
        message = await self.gallery_message(person)
        return person.open_web_app(message, "Gallery", theme=theme)

    def signed_by_another_bot(self, person: Person) -> WebAppLaunch:
        """What Telegram hands a page opened from another bot's button: signed for that bot."""
        state = self.town.sandbox.state
        data = init_data_for(OTHER_BOT_TOKEN, state.users[person.id], state.now())
        return launch(MINIAPP_URL, data, "light")

    async def get(
        self, path: str, init_data: str | None = None, **query: str
    ) -> tuple[int, Any, Mapping[str, str]]:
        """A call of the page's own: `path` under the app, with `initData` as it sends it."""
        headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
        url = self.local(MINIAPP_URL) + path
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers, params=query) as response,
        ):
            body: Any = (
                await response.json()
                if response.content_type == "application/json"
                else await response.read()
            )
            return response.status, body, dict(response.headers)

    async def member(self, person: Person, scheme: str = "norwich") -> Member:
        store = self.town.runtime.store
        row = await store.schemes.get_by_slug(scheme)
        assert row.id is not None
        found = await store.members.get(row.id, person.id)
        assert found is not None
        return found


async def enrol(
    town: Town,
    user_id: int,
    name: str,
    *,
    scheme: str = "norwich",
    role: Role = Role.MEMBER,
    shop: str | None = None,
    street: str | None = None,
) -> Person:
    """A member as their coordinator approved them (the log, not the chat)."""
    row = await town.runtime.store.schemes.get_by_slug(scheme)
    assert row.id is not None
    await town.runtime.store.members.add(
        Member(
            scheme_id=row.id,
            telegram_user_id=user_id,
            display_name=name,
            shop_name=shop,
            street=street,
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )
    return town.sandbox.user(user_id, name)


@asynccontextmanager
async def gallery_town(
    tmp_path: Path, *, database_url: str | None = None, **settings: object
) -> AsyncIterator[GalleryTown]:
    extra: dict[str, object] = {"miniapp_url": MINIAPP_URL, **settings}
    async with running_town(tmp_path, database_url=database_url, settings=extra) as town:
        alice = await enrol(town, ALICE, "Alice", shop="Boots", street="Haymarket")
        dave = await enrol(town, DAVE, "Dave", role=Role.OPERATOR)
        wendy = await enrol(town, WENDY, "Wendy", scheme="wymondham", shop="Spar")
        town.control_room.add_member(dave)
        await alice.send_photo(town.bot, cctv_still(), caption=THEFT)
        copy = await town.bot_message_after(
            town.control_room, 0, lambda m: m.photo is not None, what="the alert's card"
        )
        found = re.search(r"Report #(\d+)", copy.body)
        assert found is not None, copy.body
        report_id = int(found.group(1))
        alice.skip_replies(town.bot)
        services = town.runtime.services
        subjects = SubjectService(services.schemes, services.store, services.photos)
        operator = Actor(await _member(town, dave))
        subject = await subjects.create_from_report(operator, report_id, description=DESCRIPTION)
        assert subject.id is not None
        yield GalleryTown(town, alice, dave, wendy, subject.id, report_id)


async def _member(town: Town, person: Person) -> Member:
    row = await town.runtime.store.schemes.get_by_slug("norwich")
    assert row.id is not None
    found = await town.runtime.store.members.get(row.id, person.id)
    assert found is not None
    return found
