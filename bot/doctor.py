"""`shopwatch doctor`: what a newcomer's deployment is missing, and how to fix each part.

Every check runs even when an earlier one fails, so one run shows everything to
do. Secrets are never printed, only whether they are set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.chat_rights import rights_in
from broadcast.chat_guard import lacking
from broadcast.federation.signing import private_key, public_key_text
from broadcast.radio.checks import radio_checks
from broadcast.texts import chats as chat_texts
from config.errors import ConfigError, ShopWatchError
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings, load_settings
from storage.migrate import current_revision, head_revision

MIN_FREE_BYTES = 1024**3


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # OK, FAIL or SKIP
    detail: str
    fix: str = ""


async def _database(settings: Settings) -> Finding:
    try:
        async with asyncio.timeout(10):
            current = await current_revision(settings.database_url)
    except (ShopWatchError, OSError, TimeoutError) as exc:
        return Finding(
            "database",
            "FAIL",
            f"cannot connect: {exc}",
            "check SHOPWATCH_DATABASE_URL and that the server is running",
        )
    except Exception as exc:
        return Finding(
            "database",
            "FAIL",
            f"cannot connect: {type(exc).__name__}: {exc}",
            "check SHOPWATCH_DATABASE_URL and that the server is running",
        )
    head = head_revision()
    if current != head:
        return Finding(
            "migrations",
            "FAIL",
            f"database at {current or 'empty'}, code needs {head}",
            "run `shopwatch migrate` (start-up also migrates)",
        )
    return Finding("database", "OK", f"reachable, schema at {head}")


def _bot(token: str, settings: Settings) -> tuple[Bot, HTTPXRequest]:
    """A client with short timeouts: the doctor must answer, not wait on a dead network."""
    request = HTTPXRequest(connect_timeout=5, read_timeout=5)
    bot = Bot(
        token, base_url=settings.telegram_api_url, base_file_url=settings.file_url, request=request
    )
    return bot, request


async def _telegram(settings: Settings) -> Finding:
    if settings.bot_token is None:
        return Finding(
            "telegram",
            "FAIL",
            "SHOPWATCH_BOT_TOKEN is not set",
            "create a bot with @BotFather and set SHOPWATCH_BOT_TOKEN",
        )
    bot, request = _bot(settings.bot_token.get_secret_value(), settings)
    try:
        me = await bot.get_me()
    except InvalidToken:
        return Finding(
            "telegram", "FAIL", "the token was refused", "copy the token again from @BotFather"
        )
    except TelegramError as exc:
        return Finding(
            "telegram",
            "FAIL",
            f"Bot API unreachable: {exc}",
            f"check network access to {settings.telegram_api_url}",
        )
    finally:
        await request.shutdown()
    return Finding("telegram", "OK", f"authorised as @{me.username}")


async def _chat_rights(settings: Settings, schemes: SchemesFile) -> list[Finding]:
    """The bot's administrator rights in every scheme chat (`getChatMember` on itself)."""
    assert settings.bot_token is not None
    bot, _ = _bot(settings.bot_token.get_secret_value(), settings)
    findings = []
    try:
        await bot.initialize()
        for scheme in schemes.schemes:
            for label, chat_id in (
                ("group", scheme.group_chat_id),
                ("control room", scheme.control_room_chat_id),
            ):
                missing = lacking(scheme, await rights_in(bot, chat_id))
                check = f"rights {scheme.slug} {label}"
                if missing:
                    named = ", ".join(chat_texts.RIGHT_NAMES.get(m, m) for m in missing)
                    findings.append(
                        Finding(
                            check,
                            "FAIL",
                            f"chat {chat_id}: the bot may not {named}",
                            "make the bot an administrator of the chat with the rights to "
                            "invite users via link, ban users and delete messages",
                        )
                    )
                else:
                    findings.append(Finding(check, "OK", f"chat {chat_id}: administrator"))
    except TelegramError as exc:
        findings.append(Finding("chat rights", "FAIL", f"Bot API: {exc}", "run doctor again"))
    finally:
        await bot.shutdown()
    return findings


def _disk(settings: Settings) -> Finding:
    directory = settings.data_dir
    probe = directory if directory.exists() else Path(directory).resolve().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        writable = os.access(directory, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        return Finding(
            "data directory",
            "FAIL",
            f"{directory} is not writable",
            "set SHOPWATCH_DATA_DIR to a directory the bot's user may write",
        )
    free = shutil.disk_usage(probe if probe.exists() else directory).free
    if free < MIN_FREE_BYTES:
        return Finding(
            "disk space",
            "FAIL",
            f"{free // 1024**2} MB free in {directory}",
            "free space: photos and exports need at least 1 GB",
        )
    return Finding("data directory", "OK", f"{directory}, {free // 1024**3} GB free")


def _peers(schemes: SchemesFile, settings: Settings) -> list[Finding]:
    if not schemes.peers:
        return [Finding("peers", "SKIP", "no neighbouring deployments declared")]
    findings = []
    ours = settings.federation_private_key
    for peer in schemes.peers:
        if peer.public_key is not None and ours is not None:
            public = public_key_text(private_key(ours.get_secret_value()))
            findings.append(
                Finding(
                    f"peer {peer.slug}",
                    "OK",
                    f"Ed25519: its public key in the schemes file; ours is {public}",
                )
            )
        elif peer.public_key is not None:
            findings.append(
                Finding(
                    f"peer {peer.slug}",
                    "FAIL",
                    "known by its Ed25519 public key, but SHOPWATCH_FEDERATION_PRIVATE_KEY "
                    "is not set",
                    "run `shopwatch federation keygen --ed25519`, set the private key and "
                    f"give the public key to {peer.slug}",
                )
            )
        elif peer.secret_env and len(os.environ.get(peer.secret_env, "").strip()) >= 16:
            findings.append(Finding(f"peer {peer.slug}", "OK", f"secret in {peer.secret_env}"))
        else:
            findings.append(
                Finding(
                    f"peer {peer.slug}",
                    "FAIL",
                    f"{peer.secret_env} is not set (or shorter than 16 characters)",
                    f"set {peer.secret_env} to the secret agreed with {peer.slug}",
                )
            )
    return findings


async def diagnose() -> list[Finding]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        return [Finding("settings", "FAIL", str(exc), "fix the variable named above")]
    findings = [Finding("settings", "OK", "environment variables valid")]
    schemes: SchemesFile | None = None
    try:
        schemes = load_schemes(settings.schemes_file)
        findings.append(
            Finding(
                "schemes file", "OK", f"{settings.schemes_file}: {len(schemes.schemes)} scheme(s)"
            )
        )
    except ConfigError as exc:
        findings.append(
            Finding(
                "schemes file",
                "FAIL",
                str(exc),
                "copy schemes.example.toml to schemes.toml and edit it",
            )
        )
    findings.append(await _database(settings))
    findings.append(await _telegram(settings))
    if schemes is not None and findings[-1].status == "OK":
        findings.extend(await _chat_rights(settings, schemes))
    findings.append(_disk(settings))
    radio = await radio_checks(schemes, settings.opus_library)
    findings.extend(Finding("radio", *found) for found in radio)
    if schemes is not None:
        findings.extend(_peers(schemes, settings))
    return findings


def render(findings: list[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = []
    for finding in findings:
        line = f"{finding.status:<4}  {finding.check:<{width}}  {finding.detail}"
        if finding.fix and finding.status == "FAIL":
            line += f"\n      {'':<{width}}  fix: {finding.fix}"
        lines.append(line)
    return "\n".join(lines)
