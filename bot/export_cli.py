"""`shopwatch export`: the police export from the command line, into a folder.

    shopwatch export --scheme norwich --from 2026-11-01 --to 2026-11-15 --out DIR
    shopwatch export --scheme norwich --out DIR            # last full week
    shopwatch export ... --witness-contact                 # members' contact details

For an administrator: the same files as `/export`, without Telegram's 50 MB
limit. Audited like every export, naming the system user who ran it.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

from config.errors import InvalidInputError
from config.settings import Settings
from storage.export.build import build_export
from storage.export.period import MAX_DAYS, last_full_week, parse_period
from storage.export.records import ExportedBy
from storage.export.render import base_name
from storage.models import utcnow
from storage.photos import PhotoStore
from storage.store import Store

_PROBLEMS = {
    "not_a_date": "{value!r} is not a date: use YYYY-MM-DD",
    "reversed": "the period ends before it starts ({value})",
    "too_long": f"{{value}} days is too long: one export covers at most {MAX_DAYS} days",
}


def add_export_parser(commands: Any) -> None:
    """Add the `export` subcommand to the `shopwatch` parser's subcommands."""
    export: argparse.ArgumentParser = commands.add_parser(
        "export", help="export a scheme's log for the police (CSV, XLSX, PDF, JSON, manifest)"
    )
    export.add_argument("--scheme", required=True, help="the scheme's slug, e.g. norwich")
    export.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: last week)")
    export.add_argument("--to", dest="last", help="last day, YYYY-MM-DD, included")
    export.add_argument(
        "--out",
        required=True,
        type=Path,
        help="a new folder to write into (made 0700); if it exists, a new folder inside it",
    )
    export.add_argument(
        "--witness-contact",
        action="store_true",
        help="include the reporting members' contact details (audited)",
    )


def system_user() -> str:
    """Who ran a command, for the audit trail: the system user and the host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown user"
    return f"{user} on {socket.gethostname()} (command line)"


def _fresh_folder(out: Path, name: str) -> Path:
    """`out` if nothing is there yet, else a new folder inside it: never into a folder
    someone else made (or through a name they planted), never changing its mode."""
    if not (out.exists() or out.is_symlink()):
        return out
    return out / f"{name}-{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


async def run_export_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `shopwatch export`; returns the exit status."""
    if (args.first is None) != (args.last is None):
        print("shopwatch: give both --from and --to, or neither for last week", file=sys.stderr)
        return 2
    store = await Store.open(settings.database_url, migrate=False)
    try:
        scheme = await store.schemes.get_by_slug(args.scheme)
        try:
            period = (
                parse_period(args.first, args.last, scheme.timezone)
                if args.first is not None
                else last_full_week(utcnow(), scheme.timezone)
            )
        except InvalidInputError as exc:
            problem = _PROBLEMS.get(exc.reason, exc.reason).format(value=exc.value)
            print(f"shopwatch: {problem}", file=sys.stderr)
            return 2
        name = base_name(scheme.slug, period, witness_contact=args.witness_contact)
        out = _fresh_folder(args.out, name)
        result = await build_export(
            store,
            PhotoStore(settings.photos_dir),
            scheme,
            period,
            out,
            exported_by=ExportedBy("command line", system_user()),
            via="command line",
            witness_contact=args.witness_contact,
            apart=False,
        )
    finally:
        await store.close()
    print(
        f"{scheme.name}, {period.first} to {period.last} ({period.timezone}): "
        f"{result.reports} reports, {result.photos} photos"
    )
    print(f"  in {result.directory}")
    for file in result.files:
        print(f"  {file.sha256}  {file.path}")
    if args.witness_contact:
        print("  includes witness contact details: keep these files safe")
    return 0
