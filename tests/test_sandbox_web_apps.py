"""Mini App buttons in the sandbox, as Telegram has them: where they may be, and opening one."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import BadRequest

from bot.miniapp.init_data import InitDataChecker, InitDataError
from sandbox import BotApiSandbox, BotHandle, SandboxUsageError
from sandbox.web_apps import DARK_THEME, LIGHT_THEME

APP = "https://gallery.example.org/app"


def gallery_button(url: str = APP) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Gallery", web_app=WebAppInfo(url))]])


async def test_a_web_app_button_opens_the_page_with_init_data_signed_for_the_bot(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    alice = sandbox.user(700001, "Alice", username="alice")
    alice.open_chat(shop_bot)
    await client.send_message(alice.id, "Your galleries", reply_markup=gallery_button())
    (message,) = sandbox.chat_messages(shop_bot, alice)

    opened = alice.open_web_app(message, "Gallery", theme="dark")

    address = urlsplit(opened.url)
    assert f"{address.scheme}://{address.netloc}{address.path}" == APP
    fragment = parse_qs(address.fragment)
    assert fragment["tgWebAppData"] == [opened.init_data]
    assert json.loads(fragment["tgWebAppThemeParams"][0]) == dict(DARK_THEME)
    user = InitDataChecker(shop_bot.token, 60).check(opened.init_data)
    assert (user.id, user.first_name) == (alice.id, "Alice")
    with pytest.raises(InitDataError, match="signature"):
        InitDataChecker("7000000002:another-bot", 60).check(opened.init_data)
    assert alice.open_web_app(message, "Gallery").theme_params == LIGHT_THEME


async def test_web_app_buttons_need_https_and_a_private_chat(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    alice = sandbox.user(700001, "Alice")
    alice.open_chat(shop_bot)
    group = sandbox.group(-1001000000001, "Norwich ShopWatch", members=[alice], bots=[shop_bot])

    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await client.send_message(alice.id, "x", reply_markup=gallery_button("http://x.example"))
    with pytest.raises(BadRequest, match=r"(?i)button_type_invalid"):
        await client.send_message(group.id, "x", reply_markup=gallery_button())

    assert sandbox.chat_messages(shop_bot, alice) == []
    assert sandbox.chat_messages(None, group) == []
    plain = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    await client.send_message(alice.id, "Pick", reply_markup=plain)
    (message,) = sandbox.chat_messages(shop_bot, alice)
    with pytest.raises(SandboxUsageError, match="not a web-app button"):
        alice.open_web_app(message, "Go")


async def test_the_menu_button_is_set_per_chat_and_read_back(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    alice = sandbox.user(700001, "Alice")
    bob = sandbox.user(700002, "Bob")
    menu = MenuButtonWebApp("Gallery", WebAppInfo(APP))

    assert await client.set_chat_menu_button(alice.id, menu) is True

    assert await client.get_chat_menu_button(alice.id) == menu
    assert await client.get_chat_menu_button(bob.id) == MenuButtonCommands()
    assert await client.get_chat_menu_button() == MenuButtonCommands()
    assert alice.open_menu_app(shop_bot).url.startswith(APP + "#tgWebAppData=")
    with pytest.raises(SandboxUsageError, match="opens no web app"):
        bob.open_menu_app(shop_bot)
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await client.set_chat_menu_button(bob.id, MenuButtonWebApp("G", WebAppInfo("http://x.y")))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await client.set_chat_menu_button(-1001000000001, menu)

    await client.set_chat_menu_button(alice.id, MenuButtonDefault())

    assert await client.get_chat_menu_button(alice.id) == MenuButtonCommands()
    with pytest.raises(SandboxUsageError):
        alice.open_menu_app(shop_bot)
    await client.set_chat_menu_button(menu_button=menu)
    assert bob.open_menu_app(shop_bot).url.startswith(APP), "the bot's default for every chat"
