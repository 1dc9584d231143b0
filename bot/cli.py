"""`shopwatch`: the command line a deployment uses (run, worker, migrate, check, demo, export,
member, subject, sar).

Configuration mistakes end here as one line on stderr and exit status 2, never
a traceback: the person reading it is setting up a scheme, not debugging Python.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.export_cli import add_export_parser, run_export_command
from bot.federation_cli import add_federation_parser, keygen, run_federation_check
from bot.member_cli import add_member_parser, run_member_command
from bot.subject_cli import add_subject_parsers, run_subject_command
from config.errors import ConfigError, StorageError
from config.schemes import load_schemes
from config.settings import Settings, configure_logging, load_settings

logger = logging.getLogger(__name__)

DEMO_NEEDS_SANDBOX = (
    "shopwatch: the demo needs the Bot API sandbox, which is not part of the product:"
    " pip install ./sandbox from the project (make demo does this)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopwatch", description="ShopWatch: town-centre early alerts and intelligence log"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (polling, or webhook when WEBHOOK_URL is set)")
    commands.add_parser(
        "worker", help="send the outbox beside `run`, sharing it through PostgreSQL"
    )
    commands.add_parser("migrate", help="bring the database up to date")
    commands.add_parser("check", help="validate the settings and the schemes file, then exit")
    commands.add_parser("doctor", help="check everything a deployment needs and say how to fix it")
    commands.add_parser(
        "healthcheck", help="exit 0 when /healthz answers on the configured port (the image's)"
    )
    backup = commands.add_parser("backup", help="copy the SQLite log while the bot runs")
    backup.add_argument("--out", required=True, type=Path, help="the backup file to write")
    restore = commands.add_parser("restore", help="replace the SQLite log with a backup")
    restore.add_argument("file", type=Path, help="a file written by `shopwatch backup`")
    restore.add_argument("--yes", action="store_true", help="confirm: the bot must be stopped")
    demo = commands.add_parser(
        "demo", help="run a scripted scenario against the local Bot API sandbox (no token)"
    )
    demo.add_argument("--serve", action="store_true", help="keep the sandbox and bot running")
    demo.add_argument("--dir", default=None, help="where to keep the demo's database and files")
    add_export_parser(commands)
    add_federation_parser(commands)
    add_member_parser(commands)
    add_subject_parsers(commands)
    return parser


async def _run(settings: Settings) -> None:
    schemes = load_schemes(settings.schemes_file)
    settings.require_token()
    from bot.runtime import BotRuntime

    runtime = BotRuntime(settings, schemes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    logger.info("ShopWatch is running for %s scheme(s)", len(schemes.schemes))
    try:
        await stop.wait()
    finally:
        await runtime.stop()


async def _worker(settings: Settings) -> None:
    """An outbox sender only; SIGTERM or SIGINT lets the chats in hand finish first."""
    from bot.worker import OutboxProcess, refuse_sqlite

    refuse_sqlite(settings)
    schemes = load_schemes(settings.schemes_file)
    settings.require_token()
    worker = OutboxProcess(settings, schemes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()


async def _migrate(settings: Settings) -> None:
    from storage.migrate import upgrade

    await upgrade(settings.database_url)
    print("database is up to date")


def _check(settings: Settings) -> None:
    schemes = load_schemes(settings.schemes_file)
    names = ", ".join(s.name for s in schemes.schemes)
    print(f"settings OK; {settings.schemes_file}: {len(schemes.schemes)} scheme(s): {names}")


def main(argv: Sequence[str] | None = None) -> int:
    # Read Telegram's retry_after as a timedelta (python-telegram-bot's v23 behaviour).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            if importlib.util.find_spec("sandbox") is None:
                print(DEMO_NEEDS_SANDBOX, file=sys.stderr)
                return 2
            from bot.demo import run_demo

            return asyncio.run(run_demo(serve=args.serve, directory=args.dir))
        if args.command == "doctor":
            from bot.doctor import diagnose, render

            findings = asyncio.run(diagnose())
            print(render(findings))
            return 1 if any(f.status == "FAIL" for f in findings) else 0
        if args.command == "federation" and args.federation_command == "keygen":
            return keygen(ed25519=args.ed25519, out=args.out)
        settings = load_settings()
        if args.command == "healthcheck":
            from bot.healthcheck import healthcheck

            healthy, said = healthcheck(settings)
            print(said, file=sys.stdout if healthy else sys.stderr)
            return 0 if healthy else 1
        configure_logging(settings)
        if args.command == "backup":
            from storage.backup import backup

            size = backup(settings.database_url, args.out)
            print(f"backed up to {args.out} ({size} bytes)")
            return 0
        if args.command == "restore":
            from storage.backup import restore

            if not args.yes:
                print(
                    "shopwatch: restore replaces the log: stop the bot, then add --yes",
                    file=sys.stderr,
                )
                return 2
            restore(settings.database_url, args.file)
            print(f"restored from {args.file}; start the bot to migrate it if needed")
            return 0
        if args.command == "export":
            return asyncio.run(run_export_command(settings, args))
        if args.command == "federation":
            return asyncio.run(run_federation_check(settings, args.peer))
        if args.command == "member":
            return asyncio.run(run_member_command(settings, args))
        if args.command in ("subject", "sar"):
            return asyncio.run(run_subject_command(settings, args))
        if args.command == "run":
            asyncio.run(_run(settings))
        elif args.command == "worker":
            asyncio.run(_worker(settings))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "check":
            _check(settings)
    except (ConfigError, StorageError) as exc:
        print(f"shopwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
