"""A deployment's settings and schemes file: good ones load, bad ones say exactly what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.schemes import ChatPolicy, load_schemes, parse_schemes
from config.settings import load_settings
from config.vocabulary import Category, Urgency

EXAMPLE = Path(__file__).resolve().parent.parent / "schemes.example.toml"


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def test_the_shipped_example_describes_four_norfolk_schemes() -> None:
    schemes = load_schemes(EXAMPLE)

    assert [s.slug for s in schemes.schemes] == [
        "norwich",
        "wymondham",
        "great-yarmouth",
        "kings-lynn",
    ]
    norwich = schemes.scheme("norwich")
    assert norwich.coordinators == [700001]
    assert norwich.retention_days == 365, "inherited from [defaults]"
    assert schemes.scheme("wymondham").retention_days == 180, "a scheme overrides defaults"
    assert norwich.chat_ttl_hours == 36
    assert norwich.protect_content is True
    assert "retention period" in norwich.agreement
    yarmouth_rule = norwich.neighbours[1]
    assert yarmouth_rule.slug == "great-yarmouth"
    assert yarmouth_rule.wants(Category.VIOLENCE, Urgency.NOW)
    assert not yarmouth_rule.wants(Category.THEFT, Urgency.NOW)
    assert not yarmouth_rule.wants(Category.VIOLENCE, Urgency.LOG)


def test_the_bot_guards_every_scheme_chat_unless_a_scheme_runs_its_chats_by_hand() -> None:
    text = (
        example_text()
        .replace("administrators = []", "administrators = [700900, 700901]")
        .replace(
            "coordinators = [700011]\n",
            "coordinators = [700011]\n"
            'chat_policy = "notify-only"\n'
            "replace_member_alerts = false\n",
        )
    )

    schemes = parse_schemes(text, "schemes.toml")

    assert schemes.administrators == [700900, 700901]
    norwich, wymondham = schemes.scheme("norwich"), schemes.scheme("wymondham")
    assert (norwich.chat_policy, norwich.guards_chats) == (ChatPolicy.MEMBERS_ONLY, True)
    assert norwich.replace_member_alerts is True
    assert norwich.join_link_hours == 72
    assert (wymondham.chat_policy, wymondham.guards_chats) == (ChatPolicy.NOTIFY_ONLY, False)
    assert wymondham.replace_member_alerts is False
    assert load_schemes(EXAMPLE).administrators == []


def _line_of(text: str, needle: str, occurrence: int = 0) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence]


# (spoil the example, what the error says, where it points: the needle's line)
BAD_SCHEMES = [
    pytest.param(
        lambda t: t.replace("group_chat_id = -1001000000011\n", ""),
        "scheme[1].group_chat_id: is missing",
        ("[[scheme]]", 1),
        id="missing chat id",
    ),
    pytest.param(
        lambda t: t.replace('slug = "great-yarmouth"\n  cat', 'slug = "yarmuth"\n  cat'),
        "scheme[0].neighbour[1].slug: unknown neighbour slug 'yarmuth'",
        ('slug = "yarmuth"', 0),
        id="unknown neighbour",
    ),
    pytest.param(
        lambda t: t.replace(
            'timezone = "Europe/London"\ngroup', 'timezone = "Europe/Lundun"\ngroup'
        ),
        "scheme[3].timezone: unknown timezone 'Europe/Lundun'",
        ("Europe/Lundun", 0),
        id="bad timezone",
    ),
    pytest.param(
        lambda t: t.replace("room_chat_id = -1001000000022", "room_chat_id = -1001000000002"),
        "scheme[2].control_room_chat_id: chat -1001000000002 is already used by norwich",
        ("control_room_chat_id = -1001000000002", 1),
        id="chat shared by two schemes",
    ),
    pytest.param(
        lambda t: t.replace('categories = ["violence"]', 'categories = ["shouting"]'),
        "scheme[0].neighbour[1].categories",
        ('categories = ["shouting"]', 0),
        id="unknown category",
    ),
    pytest.param(
        lambda t: t.replace("chat_ttl_hours = 36", "chat_ttl_hours = 72"),
        "defaults.chat_ttl_hours: Input should be less than 48",
        ("chat_ttl_hours = 72", 0),
        id="chat copies kept past Telegram's 48h delete window",
    ),
    pytest.param(
        lambda t: t.replace('chat_policy = "members-only"', 'chat_policy = "open-door"'),
        "defaults.chat_policy: Input should be 'members-only' or 'notify-only'",
        ('chat_policy = "open-door"', 0),
        id="unknown chat policy",
    ),
    pytest.param(
        lambda t: t.replace("administrators = []", "administrators = [-5]"),
        "administrators: administrators are Telegram user ids (positive numbers)",
        ("administrators = [-5]", 0),
        id="an administrator who is not a user",
    ),
]


@pytest.mark.parametrize(("spoil", "message", "points_at"), BAD_SCHEMES)
def test_a_bad_schemes_file_names_the_field_and_the_line(
    spoil: Callable[[str], str], message: str, points_at: tuple[str, int]
) -> None:
    text = spoil(example_text())
    assert text != example_text()

    with pytest.raises(ConfigError) as caught:
        parse_schemes(text, "schemes.toml")

    error = str(caught.value)
    assert error.startswith(f"schemes.toml:{_line_of(text, *points_at)}: {message}"), error
    assert "\n" not in error


def test_broken_toml_is_one_line_with_its_position() -> None:
    with pytest.raises(ConfigError, match=r"schemes.toml: not valid TOML: .*line 3"):
        parse_schemes('[defaults]\ntimezone = "Europe/London"\n[[scheme]\n', "schemes.toml")


def test_settings_come_from_shopwatch_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPWATCH_BOT_TOKEN", "123:secret-token")
    monkeypatch.setenv("SHOPWATCH_TELEGRAM_API_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", "postgresql://postgres@db/shopwatch")
    monkeypatch.setenv("SHOPWATCH_LOG_LEVEL", "debug")

    settings = load_settings()

    assert settings.require_token() == "123:secret-token"
    assert "secret-token" not in repr(settings), "secrets never appear in logs or reprs"
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.database_url == "postgresql+asyncpg://postgres@db/shopwatch"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SHOPWATCH_LOG_LEVEL", "LOUD", "SHOPWATCH_LOG_LEVEL"),
        ("SHOPWATCH_DATABASE_URL", "mysql://x", "SHOPWATCH_DATABASE_URL: use a sqlite"),
        (
            "SHOPWATCH_WEBHOOK_URL",
            "https://bot.example/hook",
            "SHOPWATCH_WEBHOOK_SECRET is required",
        ),
        (
            "SHOPWATCH_MINIAPP_URL",
            "http://gallery.example/app",
            "SHOPWATCH_MINIAPP_URL: an https:// address",
        ),
    ],
)
def test_bad_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_a_missing_token_says_where_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPWATCH_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="BotFather"):
        load_settings(_env_file=None).require_token()


def test_shopwatch_run_with_a_bad_schemes_file_stops_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "schemes.toml"
    bad.write_text(
        example_text().replace(
            'timezone = "Europe/London"\ngroup', 'timezone = "Mars/Olympus"\ngroup'
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPWATCH_")} | {
        "SHOPWATCH_SCHEMES_FILE": str(bad),
        "SHOPWATCH_BOT_TOKEN": "123:ABC",
        "SHOPWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
    }

    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"shopwatch: {bad}:{_line_of(bad.read_text(), 'Mars/Olympus')}: "
        "scheme[3].timezone: unknown timezone 'Mars/Olympus' "
        "(use an IANA name like Europe/London)"
    ]
