"""`shopwatch subject` and `shopwatch sar`: the people side of a scheme from a shell.

    shopwatch subject letter --scheme norwich --notice 7 --out letter.pdf
    shopwatch subject served --scheme norwich --notice 7 --on 2026-12-03 --how "by hand"
    shopwatch subject appeal --scheme norwich --notice 7 --received 2026-12-20 --text "..."
    shopwatch subject decide --scheme norwich --notice 7 --outcome varied --on 2027-01-10 \\
        --ref BD-2027-02 --new-end 2027-06-02
    shopwatch subject erase --scheme norwich --subject 12 --reason "wrong identification"
    shopwatch subject digest --scheme norwich --telegram-id 900123 --off
    shopwatch sar --scheme norwich --subject 12 --out DIR [--received 2026-12-02]

The deployment's own hand: every rule of the scheme holds except who may act,
and each step is audited naming the system user who ran it. Files are written
owner-only, never over an existing file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from bot.export_cli import system_user
from broadcast.alerts import AlertService
from broadcast.callbacks import CallbackSigner
from broadcast.chat_copies import ChatCopies
from broadcast.metrics import Metrics
from broadcast.posting_limit import PostingLimit
from broadcast.subjects.access import write_bundle
from broadcast.subjects.service import Deployment, SubjectService
from broadcast.texts.subjects import day, problem, sar_summary
from config.errors import InvalidInputError, NotFoundError
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings
from config.vocabulary import AppealOutcome
from storage.files import create_private, private_dir
from storage.ids import stored_id
from storage.photos import PhotoStore
from storage.store import Store


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from exc


def add_subject_parsers(commands: Any) -> None:
    """Add `subject` and `sar` to the `shopwatch` parser's subcommands."""
    subject: argparse.ArgumentParser = commands.add_parser(
        "subject", help="notice letters, service, appeals and erasure of subjects (audited)"
    )
    actions = subject.add_subparsers(dest="subject_command", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=text)
        parser.add_argument("--scheme", required=True, help="the scheme's slug, e.g. norwich")
        return parser

    letter = action("letter", "the notice letter to serve, as a PDF")
    letter.add_argument("--notice", required=True, type=int, help="the notice's number")
    letter.add_argument("--out", required=True, type=Path, help="the PDF file to write (new)")
    served = action("served", "record when and how a notice was served")
    served.add_argument("--notice", required=True, type=int)
    served.add_argument("--on", required=True, type=_date, help="YYYY-MM-DD")
    served.add_argument("--how", required=True, help="e.g. 'by hand, PCSO Hale'")
    appeal = action("appeal", "record an appeal received against a notice")
    appeal.add_argument("--notice", required=True, type=int)
    appeal.add_argument("--received", required=True, type=_date, help="YYYY-MM-DD")
    appeal.add_argument("--text", required=True, help="what the appeal says, or a summary")
    decide = action("decide", "record the board's decision on an appeal")
    decide.add_argument("--notice", required=True, type=int)
    decide.add_argument("--outcome", required=True, choices=[o.value for o in AppealOutcome])
    decide.add_argument("--on", required=True, type=_date, help="YYYY-MM-DD")
    decide.add_argument("--ref", required=True, help="the board decision's reference")
    decide.add_argument("--new-end", type=_date, help="a varied notice's new end, YYYY-MM-DD")
    erase = action("erase", "erase a subject (a wrong identification), keeping only that record")
    erase.add_argument("--subject", required=True, type=int)
    erase.add_argument("--reason", required=True)
    digest = action("digest", "turn a member's Monday digest on or off")
    digest.add_argument("--telegram-id", required=True, type=int, help="the member's")
    turn = digest.add_mutually_exclusive_group(required=True)
    turn.add_argument("--on", dest="digest_on", action="store_true")
    turn.add_argument("--off", dest="digest_on", action="store_false")

    sar = commands.add_parser(
        "sar", help="the subject access bundle a person is owed, into a new folder (audited)"
    )
    sar.add_argument("--scheme", required=True, help="the scheme's slug, e.g. norwich")
    sar.add_argument("--subject", required=True, type=int, help="the subject's number")
    sar.add_argument("--out", required=True, type=Path, help="a new folder to write into")
    sar.add_argument(
        "--received", type=_date, help="when the request was received, YYYY-MM-DD (today)"
    )


def _write_new(path: Path, data: bytes) -> None:
    private_dir(path.parent)
    with create_private(path) as handle:
        handle.write(data)


def _card_edits(
    settings: Settings, schemes: SchemesFile, store: Store, photos: PhotoStore
) -> Callable[[int], Awaitable[None]]:
    """A decision from the shell must not leave a control-room card saying EXCLUDED: the
    edits are queued in the outbox for the running bot's worker to send, as the bot's own
    refresh queues them. Only the chats' copies are edited on a refresh (a peer scheme
    keeps its own cards, the radio reads nothing again), so the chats are the one fan-out
    built here; their buttons are signed with the bot's token, so the edits need it."""
    signer = CallbackSigner.from_token(settings.require_token())
    alerts = AlertService(
        schemes,
        store,
        photos,
        fan_outs=[ChatCopies(schemes, store, signer)],
        wake=lambda: None,  # the bot's worker hears of the rows itself (notify or poll)
        metrics=Metrics(),
        posting_limit=PostingLimit(),
    )
    return alerts.refresh


async def run_subject_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `shopwatch subject ...` or `shopwatch sar`; returns the exit status."""
    schemes = load_schemes(settings.schemes_file)
    store = await Store.open(settings.database_url, migrate=False)
    try:
        scheme = await store.schemes.get_by_slug(args.scheme)
        photos = PhotoStore(settings.photos_dir)
        deciding = args.command == "subject" and args.subject_command == "decide"
        on_linked = _card_edits(settings, schemes, store, photos) if deciding else None
        service = SubjectService(schemes, store, photos, on_linked=on_linked)
        by = Deployment(stored_id(scheme), system_user())
        try:
            return await _run(service, by, args)
        except InvalidInputError as exc:
            print(f"shopwatch: {problem(exc.reason, exc.value)}", file=sys.stderr)
        except NotFoundError as exc:
            print(f"shopwatch: {exc}", file=sys.stderr)
        except FileExistsError as exc:
            print(f"shopwatch: {exc.filename} exists already: choose a new name", file=sys.stderr)
        return 2
    finally:
        await store.close()


async def _run(service: SubjectService, by: Deployment, args: argparse.Namespace) -> int:
    if args.command == "sar":
        bundle = await service.subject_access(by, args.subject, received=args.received)
        folder = write_bundle(bundle, service.photos, args.out)
        print(sar_summary(bundle))
        print(f"  in {folder}")
        return 0
    command = args.subject_command
    if command == "letter":
        if args.out.exists() or args.out.is_symlink():
            raise FileExistsError(17, "exists", str(args.out))
        made = await service.notice_letter(by, args.notice)
        _write_new(args.out, made.data)
        print(f"{made.letter.title} {made.letter.reference} for {made.letter.name}: {args.out}")
    elif command == "served":
        notice = await service.record_service(by, args.notice, served_on=args.on, how=args.how)
        print(f"notice {stored_id(notice)}: served on {day(args.on)} ({notice.served_how})")
    elif command == "appeal":
        notice = await service.record_appeal(
            by, args.notice, received_on=args.received, text=args.text
        )
        print(f"notice {stored_id(notice)}: appeal received on {day(args.received)} recorded")
    elif command == "decide":
        notice = await service.decide_appeal(
            by,
            args.notice,
            outcome=AppealOutcome(args.outcome),
            decided_on=args.on,
            decision_ref=args.ref,
            new_end=args.new_end,
        )
        print(
            f"notice {stored_id(notice)}: appeal {args.outcome}; the notice ends on "
            f"{day(notice.ends_on)}"
        )
    elif command == "digest":
        member = await service.set_digest(by, on=args.digest_on, telegram_user_id=args.telegram_id)
        state = "on" if member.weekly_digest else "off"
        print(f"{member.display_name}: the weekly digest is {state}")
    elif command == "erase":
        erasure = await service.erase(by, args.subject, args.reason)
        print(f"subject {erasure.subject_id} erased; only the record that it was erased is kept")
    return 0
