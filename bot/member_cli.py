"""`shopwatch member`: whoever runs the deployment manages a scheme's members from a shell.

    shopwatch member list --scheme norwich
    shopwatch member suspend --scheme norwich --telegram-id 900123
    shopwatch member reinstate --scheme norwich --telegram-id 900123
    shopwatch member remove --scheme norwich --telegram-id 900123

Every rule of the coordinators' buttons holds (nobody removes a scheme's last
coordinator; a decision the bot lacks the chat rights for is refused whole),
except who may decide: this is the deployment's own hand, so it may revoke any
coordinator. Audited as the system user who ran it. The bans and links are
queued in the outbox, which the running bot sends.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.export_cli import system_user
from broadcast.callbacks import CallbackSigner
from broadcast.chat_guard import MissingRightError
from broadcast.membership import Decision, MembershipDesk
from broadcast.texts import membership as membership_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import AccessDeniedError, NotFoundError
from config.schemes import load_schemes
from config.settings import Settings
from config.vocabulary import MemberStatus
from storage.ids import stored_id
from storage.models import utcnow
from storage.store import Store

ACTIONS = {
    "suspend": Decision.SUSPEND,
    "reinstate": Decision.REINSTATE,
    "remove": Decision.REMOVE,
}


def add_member_parser(commands: Any) -> None:
    member: argparse.ArgumentParser = commands.add_parser(
        "member", help="list, suspend, reinstate or remove a scheme's members (audited)"
    )
    actions = member.add_subparsers(dest="member_command", required=True)
    listing = actions.add_parser("list", help="everyone in the scheme, with role and status")
    listing.add_argument("--scheme", required=True, help="the scheme's slug, e.g. norwich")
    for name in ACTIONS:
        action = actions.add_parser(name, help=f"{name} one member (by Telegram id)")
        action.add_argument("--scheme", required=True, help="the scheme's slug, e.g. norwich")
        action.add_argument("--telegram-id", required=True, type=int, help="their Telegram id")


async def run_member_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `shopwatch member ...`; returns the exit status."""
    schemes = load_schemes(settings.schemes_file)
    store = await Store.open(settings.database_url, migrate=False)
    try:
        scheme = await store.schemes.get_by_slug(args.scheme)
        if args.member_command == "list":
            for status in MemberStatus:
                for member in await store.members.list_by_status(stored_id(scheme), status):
                    origin = (
                        f", {member.role_origin}"
                        if member.role in ("coordinator", "admin")
                        else ""
                    )
                    print(
                        f"{member.telegram_user_id}\t{member.role}{origin}\t{member.status}\t"
                        f"{member.display_name}\t{member.shop_name or ''}"
                    )
            return 0
        signer = CallbackSigner.from_token(settings.require_token())
        desk = MembershipDesk(store, signer, schemes)
        decision = ACTIONS[args.member_command]
        try:
            outcome = await desk.decide_as_system(
                scheme, args.telegram_id, decision, utcnow(), system_user()
            )
        except NotFoundError as exc:
            print(f"shopwatch: {exc}", file=sys.stderr)
            return 2
        except MissingRightError as missing:
            print(f"shopwatch: {missing.text}", file=sys.stderr)
            return 1
        except AccessDeniedError as denied:
            print(f"shopwatch: {refusal_texts.refusal(denied.reason)}", file=sys.stderr)
            return 1
    finally:
        await store.close()
    member = outcome.member
    if not outcome.changed:
        print(membership_texts.decision_already(member.display_name, member.status))
        return 1
    guarded = desk.guard.guards(outcome.scheme)
    print(membership_texts.decision_done(decision, member.display_name, guarded=guarded))
    return 0
