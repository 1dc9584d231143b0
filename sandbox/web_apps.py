"""Mini Apps as Telegram opens them: the launch URL, with `initData` signed for the bot.

When a person taps a bot's web-app button (inline, or the chat's menu button), their
Telegram app opens the button's HTTPS URL in a web view and passes the launch
parameters in the URL's fragment: `tgWebAppData` (the signed `initData`: a query
string of `query_id`, `user` as JSON, `auth_date` and `hash`), `tgWebAppVersion`,
`tgWebAppPlatform` and `tgWebAppThemeParams` (the app's colours, JSON). The hash is
HMAC-SHA256 of the sorted `key=value` lines, keyed with HMAC-SHA256("WebAppData",
bot token) (core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app).

The sandbox is Telegram here, so it signs with the bot's token. What it leaves out:
the `signature` field (Ed25519 with Telegram's own key, for third parties; nothing
can make it but Telegram) and the `chat_*` fields of attachment-menu launches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sandbox.state import UserRecord

WEB_APP_VERSION = "8.0"
WEB_APP_PLATFORM = "tdesktop"

LIGHT_THEME: Mapping[str, str] = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#2481cc",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#6d6d71",
    "subtitle_text_color": "#999999",
    "destructive_text_color": "#ff3b30",
}
"""The colours Telegram's apps send in their light ("day") theme."""

DARK_THEME: Mapping[str, str] = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#181818",
    "header_bg_color": "#212121",
    "accent_text_color": "#8774e1",
    "section_bg_color": "#212121",
    "section_header_text_color": "#aaaaaa",
    "subtitle_text_color": "#aaaaaa",
    "destructive_text_color": "#e53935",
}
"""The colours Telegram's apps send in their dark ("night") theme."""

THEMES: Mapping[str, Mapping[str, str]] = {"light": LIGHT_THEME, "dark": DARK_THEME}


@dataclass(frozen=True)
class WebAppLaunch:
    """A Mini App as a Telegram app opens it: load `url` in a browser."""

    url: str
    """The button's URL with the launch parameters in its fragment."""
    init_data: str
    """`tgWebAppData`: what the page sends its server to say who it is for."""
    theme_params: Mapping[str, str]


def user_json(user: UserRecord) -> str:
    """The `user` field as Telegram writes it: compact JSON, only the fields it has."""
    fields: dict[str, object] = {"id": user.id, "first_name": user.first_name}
    if user.last_name:
        fields["last_name"] = user.last_name
    if user.username:
        fields["username"] = user.username
    if user.language_code:
        fields["language_code"] = user.language_code
    fields["allows_write_to_pm"] = True
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def sign_init_data(token: str, fields: Mapping[str, str]) -> str:
    """`fields` as a query string with Telegram's `hash` of them, for the bot `token`."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def init_data_for(token: str, user: UserRecord, auth_date: int) -> str:
    fields = {
        "query_id": "AAH" + secrets.token_urlsafe(12),
        "user": user_json(user),
        "auth_date": str(auth_date),
    }
    return sign_init_data(token, fields)


def launch(url: str, init_data: str, theme: str) -> WebAppLaunch:
    if theme not in THEMES:
        raise ValueError(f"theme is one of {sorted(THEMES)}, not {theme!r}")
    params = THEMES[theme]
    fragment = urlencode(
        {
            "tgWebAppData": init_data,
            "tgWebAppVersion": WEB_APP_VERSION,
            "tgWebAppPlatform": WEB_APP_PLATFORM,
            "tgWebAppThemeParams": json.dumps(params, separators=(",", ":")),
        },
        quote_via=quote,
    )
    return WebAppLaunch(f"{url.split('#', 1)[0]}#{fragment}", init_data, params)
