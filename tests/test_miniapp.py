"""The galleries' Mini App over HTTP, as the page's own calls reach the bot's web server.

Norwich (tests/gallery_town.py): Alice's photo alert became an ID-sought subject. She
taps Gallery in her chat with the bot; Telegram (the sandbox) opens the page with
`initData` signed for the bot. What the page asks for, the server answers only for a
person who is, at that moment, an active member allowed to look; everything else is
refused with a reason the page shows, audited, and nothing is read.
The browser itself is in tests/test_miniapp_browser.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
from PIL import Image, ImageChops, ImageStat
from telegram import MenuButtonWebApp, WebAppInfo

from bot.export_cli import system_user
from bot.miniapp.init_data import InitDataChecker, InitDataError
from broadcast.callbacks import CallbackSigner
from broadcast.membership import Decision, MembershipDesk
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import Actor, SubjectService
from config.vocabulary import AuditOutcome, NoticeStage, Role
from sandbox import SandboxUsageError
from sandbox.web_apps import init_data_for, sign_init_data
from storage.models import AuditEntry, utcnow
from tests.browser_needs import REQUIRE_BROWSER, missing
from tests.gallery_town import DESCRIPTION, MINIAPP_URL, GalleryTown, enrol, gallery_town
from tests.town import BOT_TOKEN, running_town


@pytest.fixture
async def norwich(tmp_path: Path, database_url: str) -> AsyncIterator[GalleryTown]:
    """On SQLite and, where SHOPWATCH_TEST_POSTGRES_URL is set, PostgreSQL."""
    async with gallery_town(tmp_path, database_url=database_url) as town:
        yield town


async def audit(town: GalleryTown, action: str) -> list[AuditEntry]:
    entries = await town.town.runtime.store.audit.recent(500)
    return [e for e in reversed(entries) if e.action == action]


def entries_of(body: dict[str, object], key: str) -> list[dict[str, object]]:
    galleries = body["galleries"]
    assert isinstance(galleries, list)
    (gallery,) = [g for g in galleries if g["key"] == key]
    entries: list[dict[str, object]] = gallery["entries"]
    return entries


# --- the button ----------------------------------------------------------------------------


async def test_a_member_gets_the_gallery_button_and_the_menu_opens_it_too(
    norwich: GalleryTown,
) -> None:
    message = await norwich.gallery_message(norwich.alice)

    assert "do not share" in message.body
    (button,) = [b for row in message.buttons for b in row]
    assert button.web_app is not None
    assert button.web_app.url == MINIAPP_URL
    from_menu = norwich.alice.open_menu_app(norwich.town.bot)
    assert from_menu.url.startswith(MINIAPP_URL + "#tgWebAppData=")


async def test_a_stranger_gets_no_gallery_in_the_menu(norwich: GalleryTown) -> None:
    stranger = norwich.town.person(5_000_000_299, "Sam")
    # Had it before (a former member): /start sets the menu back to the commands.
    menu = MenuButtonWebApp("Gallery", WebAppInfo(MINIAPP_URL))
    await norwich.town.runtime.application.bot.set_chat_menu_button(stranger.id, menu)
    assert stranger.open_menu_app(norwich.town.bot).url.startswith(MINIAPP_URL)
    sent = await stranger.send(norwich.town.bot, "/start")
    await norwich.town.bot_message_after(stranger, sent.message_id, what="the welcome")

    await norwich.town.sandbox.wait_for(
        lambda: (
            stranger.id not in norwich.town.sandbox.state.bots[norwich.town.bot.id].menu_buttons
            or None
        ),
        message="the stranger's menu button was not set back",
    )
    with pytest.raises(SandboxUsageError, match="opens no web app"):
        stranger.open_menu_app(norwich.town.bot)


async def test_without_a_miniapp_url_the_bot_serves_no_gallery(tmp_path: Path) -> None:
    async with running_town(tmp_path) as town:
        port = town.runtime.port
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/gallery/") as page,
        ):
            assert page.status == 404


# --- the page ------------------------------------------------------------------------------


async def test_the_page_loads_nothing_from_elsewhere(norwich: GalleryTown) -> None:
    status, page, headers = await norwich.get("/")

    assert status == 200
    assert isinstance(page, bytes)
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    for name in ("app.js", "app.css"):
        asset_status, asset, _ = await norwich.get(f"/static/{name}")
        assert asset_status == 200
        assert isinstance(asset, bytes)
        assert b"://" not in asset, f"{name} names another site"
    assert b"://" not in page
    missing, _, _ = await norwich.get("/static/../../server.py")
    assert missing == 404


async def test_alice_sees_the_id_sought_gallery_and_the_subjects_page_without_reports(
    norwich: GalleryTown,
) -> None:
    opened = await norwich.opens(norwich.alice)

    status, body, headers = await norwich.get("/api/galleries", opened.init_data)

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert body["viewer"]["scheme"] == "Norwich ShopWatch"
    (entry,) = entries_of(body, "id_sought")
    assert entry["id"] == norwich.subject_id
    assert entry["title"] == f"Subject #{norwich.subject_id}"
    assert entries_of(body, "known") == entries_of(body, "excluded") == []

    status, page, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)

    assert status == 200
    assert page["description"] == DESCRIPTION
    assert len(page["photos"]) == 1
    assert page["reports"] is None, "a shop does not see the reports a subject is in"
    (view,) = await audit(norwich, "subject.view")
    assert view.outcome is AuditOutcome.ALLOWED
    assert view.actor_telegram_id == norwich.alice.id
    assert view.detail == {"subject_id": norwich.subject_id, "how": "miniapp"}
    (gallery,) = await audit(norwich, "subject.gallery")
    assert gallery.detail["subject_ids"] == [norwich.subject_id]


async def test_the_control_room_sees_the_linked_reports(norwich: GalleryTown) -> None:
    sent = await norwich.dave.send(norwich.town.bot, "/help")
    await norwich.town.bot_message_after(norwich.dave, sent.message_id, what="the help")
    await norwich.town.sandbox.wait_for(
        lambda: (
            norwich.dave.id in norwich.town.sandbox.state.bots[norwich.town.bot.id].menu_buttons
            or None
        ),
        message="Dave's menu button never became the gallery",
    )
    opened = norwich.dave.open_menu_app(norwich.town.bot)

    status, page, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)

    assert status == 200
    (report,) = page["reports"]
    assert report["id"] == norwich.report_id
    assert report["category"] == "theft"
    assert "Boots" not in str(report), "never who reported it"


async def test_each_picture_is_marked_for_its_viewer_and_not_to_be_kept(
    norwich: GalleryTown,
) -> None:
    pictures = {}
    for person in (norwich.alice, norwich.dave):
        sent = await person.send(norwich.town.bot, "/start")
        message = await norwich.town.bot_message_after(
            person, sent.message_id, lambda m: "Gallery" in m.button_texts
        )
        opened = person.open_web_app(message, "Gallery")
        _, page, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)
        (src,) = page["photos"]
        status, data, headers = await norwich.get(src.removeprefix("/gallery"))
        assert status == 200
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Cache-Control"] == "no-store"
        pictures[person.id] = Image.open(io.BytesIO(data)).convert("L")

    store = norwich.town.runtime.store
    (photo,) = await store.subjects.photos(norwich.subject_id)
    original = Image.open(norwich.town.runtime.services.photos.path(photo.relative_path))
    plain = original.convert("L").resize(pictures[norwich.alice.id].size)
    alice, dave = pictures[norwich.alice.id], pictures[norwich.dave.id]
    band = (0, alice.height * 9 // 10, alice.width, alice.height)
    assert ImageStat.Stat(ImageChops.difference(alice, plain).crop(band)).mean[0] > 10
    assert ImageChops.difference(alice, dave).getbbox() is not None, "each viewer's own mark"


# --- refused -------------------------------------------------------------------------------


def tampered(init_data: str, **changes: str) -> str:
    fields = dict(parse_qsl(init_data))
    return urlencode({**fields, **changes})


async def test_forged_tampered_expired_and_other_bots_init_data_are_refused(
    norwich: GalleryTown,
) -> None:
    opened = await norwich.opens(norwich.alice)
    user = dict(parse_qsl(opened.init_data))["user"].replace(
        str(norwich.alice.id), str(norwich.dave.id)
    )
    sandbox = norwich.town.sandbox
    sandbox.advance_time(-2 * 3600)  # Telegram signed it two hours ago: the page stayed open
    try:
        stale = (await norwich.opens(norwich.alice)).init_data
    finally:
        sandbox.advance_time(2 * 3600)
    sandbox.advance_time(600)  # a clock ten minutes fast
    try:
        ahead = (await norwich.opens(norwich.alice)).init_data
    finally:
        sandbox.advance_time(-600)
    cases = {
        "forged": (tampered(opened.init_data, hash="0" * 64), "signature"),
        "tampered": (tampered(opened.init_data, user=user), "signature"),
        "expired": (stale, "expired"),
        "future": (ahead, "from_the_future"),
        "another bot's": (norwich.signed_by_another_bot(norwich.alice).init_data, "signature"),
        "garbled": ("user=%7B&&hash", "malformed"),
        "no": (None, "missing"),
    }

    for what, (init_data, reason) in cases.items():
        for path in ("/api/galleries", f"/api/subjects/{norwich.subject_id}"):
            status, body, headers = await norwich.get(path, init_data)
            assert (status, body["error"]) == (401, reason), f"{what} initData on {path}"
            assert body["message"]
            assert headers["Cache-Control"] == "no-store"

    refusals = await audit(norwich, "miniapp.open")
    assert [e.detail["reason"] for e in refusals] == [
        reason for _, reason in cases.values() for _ in range(2)
    ]
    assert all(e.outcome is AuditOutcome.REFUSED for e in refusals)
    assert await audit(norwich, "subject.view") == [], "nothing was read"
    assert await audit(norwich, "subject.gallery") == []


async def test_a_suspended_member_is_refused_at_once_pictures_included(
    norwich: GalleryTown,
) -> None:
    opened = await norwich.opens(norwich.alice)
    _, page, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)
    (picture,) = page["photos"]
    runtime = norwich.town.runtime
    desk = MembershipDesk(runtime.store, CallbackSigner.from_token(BOT_TOKEN), runtime.schemes)
    scheme = await runtime.store.schemes.get_by_slug("norwich")
    await desk.decide_as_system(
        scheme, norwich.alice.id, Decision.SUSPEND, utcnow(), system_user()
    )

    status, body, _ = await norwich.get("/api/galleries", opened.init_data)
    assert (status, body["error"]) == (403, "suspended")
    assert "suspended" in body["message"]
    status, body, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)
    assert (status, body["error"]) == (403, "suspended")
    status, body, _ = await norwich.get(picture.removeprefix("/gallery"))
    assert status == 403, "the picture's address is no good to her either"
    refused = await audit(norwich, "miniapp.open")
    assert [(e.actor_telegram_id, e.detail["reason"]) for e in refused] == [
        (norwich.alice.id, "suspended")
    ] * 2


async def test_a_member_of_another_scheme_sees_only_her_own_galleries(
    norwich: GalleryTown,
) -> None:
    opened = await norwich.opens(norwich.wendy)

    status, body, _ = await norwich.get("/api/galleries", opened.init_data)
    assert status == 200
    assert body["viewer"]["scheme"] == "Wymondham Business Watch"
    assert entries_of(body, "id_sought") == []

    status, body, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)
    assert (status, body["error"]) == (404, "not_found")
    status, body, _ = await norwich.get("/api/galleries", opened.init_data, scheme="norwich")
    assert (status, body["error"]) == (403, "other_scheme")
    (view,) = await audit(norwich, "subject.view")
    assert (view.outcome, view.actor_telegram_id) == (AuditOutcome.REFUSED, norwich.wendy.id)


async def test_the_police_see_subjects_in_the_export_not_in_the_gallery(
    norwich: GalleryTown,
) -> None:
    officer = await enrol(norwich.town, 5_000_000_298, "PC Hale", role=Role.POLICE)
    sent = await officer.send(norwich.town.bot, "/start")
    await norwich.town.bot_message_after(officer, sent.message_id, what="the welcome")
    state = norwich.town.sandbox.state
    # She has no Gallery button to tap: what Telegram would sign had she one.
    data = init_data_for(BOT_TOKEN, state.users[officer.id], state.now())

    status, body, _ = await norwich.get("/api/galleries", data)

    assert (status, body["error"]) == (403, "role")


async def test_a_picture_address_altered_or_past_its_time_is_refused(tmp_path: Path) -> None:
    async with gallery_town(tmp_path, miniapp_image_seconds=3) as norwich:
        opened = await norwich.opens(norwich.alice)
        _, body, _ = await norwich.get("/api/galleries", opened.init_data)
        (entry,) = entries_of(body, "id_sought")
        picture = str(entry["image"]).removeprefix("/gallery")
        photo_id, member_id, expires, mac = picture.removeprefix("/img/").split(".")
        longer = f"/img/{photo_id}.{member_id}.{int(expires) + 3600}.{mac}"

        status, body, _ = await norwich.get(longer)
        assert (status, body["error"]) == (403, "image_forged")

        async def refused() -> int | None:
            status, _, _ = await norwich.get(picture)
            return status if status != 200 else None

        status = await norwich.town.sandbox.wait_for(refused, timeout=15)
        _, body, headers = await norwich.get(picture)
        assert status == 410
        assert body["error"] == "image_expired"
        assert headers["Cache-Control"] == "no-store"


def test_without_chromium_the_browser_tests_skip_saying_what_to_install_but_not_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(REQUIRE_BROWSER, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium chromium-driver"):
        missing("chromium is not installed")
    monkeypatch.setenv(REQUIRE_BROWSER, "1")
    with pytest.raises(pytest.fail.Exception, match="may not skip"):
        missing("chromium is not installed")


async def test_a_named_subject_under_an_exclusion_is_in_the_excluded_gallery(
    norwich: GalleryTown,
) -> None:
    services = norwich.town.runtime.services
    subjects = SubjectService(services.schemes, services.store, services.photos)
    carol = Actor(await norwich.member(norwich.town.coordinator))
    await subjects.identify(
        carol, norwich.subject_id, name="Dean Smith", basis="Named by two shops; PCSO Hale"
    )
    notice = await subjects.issue_notice(
        carol,
        norwich.subject_id,
        NoticeTerms(
            NoticeStage.EXCLUSION,
            decided_by="the board",
            board_decision_ref="B-2026-14",
            conditions="Not to enter any member shop in the city centre",
        ),
    )
    opened = await norwich.opens(norwich.alice)

    _, body, _ = await norwich.get("/api/galleries", opened.init_data)

    assert entries_of(body, "id_sought") == entries_of(body, "known") == []
    (entry,) = entries_of(body, "excluded")
    assert entry["title"] == "Dean Smith"
    ends = notice.ends_on
    assert entry["excluded_until"] == f"{ends.day} {ends:%b %Y}"
    _, page, _ = await norwich.get(f"/api/subjects/{norwich.subject_id}", opened.init_data)
    (line,) = page["notices"]
    assert line["stage"] == "exclusion"
    assert line["running"] is True
    assert line["conditions"] == "Not to enter any member shop in the city centre"
    review = notice.review_on
    assert line["review_on"] == f"{review.day} {review:%b %Y}"


def test_init_data_signed_right_but_saying_nonsense_is_refused_as_malformed() -> None:
    checker = InitDataChecker(BOT_TOKEN, 3600)
    now = 1_800_000_000
    alice = '{"id":5000000201,"first_name":"Alice"}'
    assert checker.check(sign_init_data(BOT_TOKEN, {"user": alice, "auth_date": str(now)}), now)

    for fields in (
        {"user": alice, "auth_date": "yesterday"},
        {"user": '{"id":-5,"first_name":"Nobody"}', "auth_date": str(now)},
        {"user": '{"id":true,"first_name":"Nobody"}', "auth_date": str(now)},
        {"user": "[5000000201]", "auth_date": str(now)},
        {"auth_date": str(now)},
    ):
        with pytest.raises(InitDataError, match="malformed"):
            checker.check(sign_init_data(BOT_TOKEN, fields), now)
    signed = sign_init_data(BOT_TOKEN, {"user": alice, "auth_date": str(now)})
    with pytest.raises(InitDataError, match="malformed"):
        checker.check(f"{signed}&hash={'0' * 64}", now)  # which hash was meant?
    with pytest.raises(InitDataError, match="malformed"):
        checker.check("a" * 5000, now)
