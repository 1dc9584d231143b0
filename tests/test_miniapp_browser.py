"""The galleries' Mini App in a real browser: headless Chromium at a phone's size.

Alice taps Gallery in her chat with the bot; Telegram (the sandbox) opens the page
with `initData` signed for the bot and its theme in the URL's fragment, as a
Telegram app does; the browser loads it from the bot's own web server. She sees the
ID-sought gallery, opens the subject and sees its photo. Dave in the control room,
in Telegram's dark theme, also sees the reports it is linked to. Forged, tampered,
expired and other bots' `initData`, a suspended member and a member of another
scheme are refused on the page; a picture's address used again after its time is
refused too. Screenshots of the phone-sized page are kept in tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from PIL import Image
from selenium import webdriver

from bot.export_cli import system_user
from broadcast.callbacks import CallbackSigner
from broadcast.membership import Decision, MembershipDesk
from sandbox.web_apps import DARK_THEME, LIGHT_THEME, launch
from storage.models import utcnow
from tests.browser import PHONE, Browser
from tests.browser import chromium as start_chromium
from tests.browser_needs import chromium_paths
from tests.gallery_town import MINIAPP_URL, GalleryTown, gallery_town
from tests.town import BOT_TOKEN

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    browser, driver = chromium_paths()
    with start_chromium(browser, driver) as session:
        yield session


@pytest.fixture
def browser(chromium: webdriver.Chrome) -> Browser:
    return Browser(chromium)


@pytest.fixture
async def norwich(tmp_path: Path) -> AsyncIterator[GalleryTown]:
    async with gallery_town(tmp_path) as town:
        yield town


def rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


async def test_alice_opens_the_gallery_sees_the_subject_and_its_photo(
    norwich: GalleryTown, browser: Browser
) -> None:
    opened = await norwich.opens(norwich.alice)

    await browser.open(norwich.local(opened.url))

    tab = await browser.shown('.tabs button[data-gallery="id_sought"]')
    assert tab.text == "ID sought (1)"
    assert await browser.all_text(".tabs button") == ["ID sought (1)", "Known (0)", "Excluded (0)"]
    card = await browser.shown(f'.card[data-subject-id="{norwich.subject_id}"]')
    assert f"Subject #{norwich.subject_id}" in card.text
    assert await browser.loaded(await browser.shown(".card img")) > 0
    assert await browser.script("return location.hash") == "", "initData leaves the address"
    width = await browser.script("return window.innerWidth")
    assert width == PHONE["width"]
    assert await browser.script("return document.documentElement.scrollWidth") <= width
    await browser.screenshot(ARTIFACTS / "miniapp-gallery-light.png")

    await browser.click(card)

    subject = await browser.shown(f'.subject[data-subject-id="{norwich.subject_id}"]')
    assert "Male 30s, grey hoodie" in subject.text
    photo = await browser.shown(".subject img.photo")
    assert await browser.loaded(photo) > 0
    assert "Linked reports" not in subject.text, "a shop does not see the reports"
    assert await browser.script("return document.documentElement.scrollWidth") <= width
    shot = await browser.screenshot(ARTIFACTS / "miniapp-subject-light.png")
    with Image.open(shot) as image:
        assert image.width == PHONE["width"] * PHONE["pixelRatio"]
    background = await browser.script("return getComputedStyle(document.body).backgroundColor")
    assert background == rgb(opened.theme_params["secondary_bg_color"])


async def test_dave_in_the_dark_theme_sees_the_linked_reports(
    norwich: GalleryTown, browser: Browser
) -> None:
    sent = await norwich.dave.send(norwich.town.bot, "/help")
    await norwich.town.bot_message_after(norwich.dave, sent.message_id, what="the help")
    menus = norwich.town.sandbox.state.bots[norwich.town.bot.id].menu_buttons
    await norwich.town.sandbox.wait_for(lambda: norwich.dave.id in menus or None)
    opened = norwich.dave.open_menu_app(norwich.town.bot, theme="dark")

    await browser.open(norwich.local(opened.url))
    await browser.click(await browser.shown(f'.card[data-subject-id="{norwich.subject_id}"]'))

    reports = await browser.shown("#reports")
    assert not await browser.script("return document.getElementById('tabs').checkVisibility()")
    assert f"Report #{norwich.report_id}" in reports.text
    assert "theft" in reports.text
    assert await browser.loaded(await browser.shown(".subject img.photo")) > 0
    assert await browser.script("return document.documentElement.dataset.scheme") == "dark"
    colours = await browser.script(
        "var s = getComputedStyle(document.querySelector('.subject'));"
        "return [s.backgroundColor, s.color]"
    )
    assert colours == [rgb(DARK_THEME["section_bg_color"]), rgb(DARK_THEME["text_color"])]
    await browser.screenshot(ARTIFACTS / "miniapp-subject-dark.png")

    # Dave's phone turns to the day theme: Telegram tells the open page so.
    await browser.script(
        "window.Telegram.WebView.receiveEvent('theme_changed', {theme_params: arguments[0]})",
        dict(LIGHT_THEME),
    )
    assert await browser.script("return document.documentElement.dataset.scheme") == "light"
    colours = await browser.script(
        "var s = getComputedStyle(document.querySelector('.subject'));"
        "return [s.backgroundColor, s.color]"
    )
    assert colours == [rgb(LIGHT_THEME["section_bg_color"]), rgb(LIGHT_THEME["text_color"])]


async def test_the_page_refuses_what_telegram_did_not_sign_for_this_bot_now(
    norwich: GalleryTown, browser: Browser
) -> None:
    good = await norwich.opens(norwich.alice)
    fields = dict(parse_qsl(good.init_data))
    forged = urlencode({**fields, "hash": "f" * 64}, quote_via=quote)
    as_dave = fields["user"].replace(str(norwich.alice.id), str(norwich.dave.id))
    tampered = urlencode({**fields, "user": as_dave}, quote_via=quote)
    norwich.town.sandbox.advance_time(-2 * 3600)  # the page was opened two hours ago
    try:
        stale = await norwich.opens(norwich.alice)
    finally:
        norwich.town.sandbox.advance_time(2 * 3600)
    launches = {
        "forged": (launch(MINIAPP_URL, forged, "light").url, "signature"),
        "tampered": (launch(MINIAPP_URL, tampered, "light").url, "signature"),
        "expired": (stale.url, "expired"),
        "another bot's": (norwich.signed_by_another_bot(norwich.alice).url, "signature"),
    }

    for what, (url, reason) in launches.items():
        await browser.open(norwich.local(url))
        refusal = await browser.shown("#error")
        assert refusal.get_attribute("data-reason") == reason, what
        assert refusal.text, what
        assert await browser.all_text(".card") == [], what

    await browser.screenshot(ARTIFACTS / "miniapp-refused.png")


async def test_a_suspended_member_and_a_member_of_another_scheme_do_not_see_the_subject(
    norwich: GalleryTown, browser: Browser
) -> None:
    runtime = norwich.town.runtime
    desk = MembershipDesk(runtime.store, CallbackSigner.from_token(BOT_TOKEN), runtime.schemes)
    opened = await norwich.opens(norwich.alice)
    scheme = await runtime.store.schemes.get_by_slug("norwich")
    await desk.decide_as_system(
        scheme, norwich.alice.id, Decision.SUSPEND, utcnow(), system_user()
    )

    await browser.open(norwich.local(opened.url))
    refusal = await browser.shown("#error")
    assert refusal.get_attribute("data-reason") == "suspended"
    assert "suspended" in refusal.text

    wendy = await norwich.opens(norwich.wendy)
    await browser.open(norwich.local(wendy.url))
    await browser.shown(".gallery .hint", text="No one in this gallery.")
    assert await browser.shown("#heading", text="Wymondham Business Watch")
    assert await browser.all_text(".card") == []


async def test_a_picture_address_used_again_after_its_time_is_refused(
    tmp_path: Path, browser: Browser
) -> None:
    async with gallery_town(tmp_path, miniapp_image_seconds=8) as norwich:
        opened = await norwich.opens(norwich.alice)
        await browser.open(norwich.local(opened.url))
        await browser.click(await browser.shown(".card"))
        photo = await browser.shown(".subject img.photo")
        assert await browser.loaded(photo) > 0
        address = str(await browser.script("return arguments[0].src", photo))

        async def gone() -> bool:
            status, _, _ = await norwich.get(address.split("/gallery", 1)[1])
            return status == 410

        await norwich.town.sandbox.wait_for(gone, timeout=30, message="it never expired")
        await browser.open(address)

        page = await browser.shown("body")
        assert "image_expired" in page.text
        assert "expired" in page.text
