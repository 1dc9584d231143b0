"""`/search`, `/show` and their buttons: the log, searched and read in a private chat.

Thin on purpose: who may search and what they may see is `storage.search`'s
scope, the language is `storage.query`, the words are `broadcast.texts.search`. Every
answer is sent with protect_content, since it is the log itself.
"""

from __future__ import annotations

import logging

from telegram import InputMediaPhoto, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from broadcast import commands, render, search_cards
from broadcast.subjects.service import MAKERS
from broadcast.texts import search as search_texts
from config.errors import InvalidInputError, InvalidPhotoError, NotFoundError, Refusal
from config.vocabulary import AuditOutcome, ReportStatus, Role
from handlers.context import Membership, ShopWatchContext
from handlers.keyboards import keyboard
from handlers.roles import requires
from storage.ids import stored_id
from storage.models import Photo, utcnow
from storage.query import MAX_QUERY_CHARS, clean_text, parse_query
from storage.search import SEARCH_ACTION, VIEW_ACTION, SearchPage, SearchScope

logger = logging.getLogger(__name__)

SEARCH_ROLES = commands.roles_of("search")
SHOW_ROLES = commands.roles_of("show")
CALLBACK = "search"
PAGE = "p"
OPEN = "o"
ALBUM_LIMIT = 10  # Telegram's most photos in one album

Buttons = list[list[tuple[str, str]]]


def _scope(membership: Membership) -> SearchScope:
    return SearchScope.of(membership.member, membership.scheme)


def _police(membership: Membership) -> str | None:
    """The scheme's slug when the reader is police: they read sources by scheme reference."""
    return membership.scheme.slug if membership.member.role == Role.POLICE else None


def _buttons(context: ShopWatchContext, page: SearchPage) -> Buttons:
    sign = context.services.signer.sign
    rows: Buttons = []
    for hit in page.hits:
        number = stored_id(hit.report)
        rows.append([(search_texts.search_open_button(number), sign(CALLBACK, OPEN, number))])
    turns = []
    if page.has_previous:
        turns.append(
            (search_texts.SEARCH_PREVIOUS, sign(CALLBACK, PAGE, page.search_id, page.page - 1))
        )
    if page.has_next:
        turns.append(
            (search_texts.SEARCH_NEXT, sign(CALLBACK, PAGE, page.search_id, page.page + 1))
        )
    if turns:
        rows.append(turns)
    return rows


@requires(*SEARCH_ROLES, action=SEARCH_ACTION)
async def search_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None
    assert user is not None
    _, _, text = (message.text or "").partition(" ")
    if not text.strip():
        await message.reply_text(search_texts.SEARCH_USAGE)
        return
    now = utcnow()
    try:
        query = parse_query(text, now=now, timezone=membership.scheme.timezone)
    except InvalidInputError as error:
        await context.store.audit.record(
            user.id,
            SEARCH_ACTION,
            AuditOutcome.REFUSED,
            scheme_id=stored_id(membership.scheme),
            actor_member_id=stored_id(membership.member),
            detail={"reason": error.reason, "query": clean_text(text)[:MAX_QUERY_CHARS]},
        )
        await message.reply_text(search_texts.search_problem(error.reason, error.value))
        return
    page = await context.store.search.search(
        query,
        _scope(membership),
        actor=user.id,
        actor_member_id=stored_id(membership.member),
        now=now,
    )
    await message.reply_text(
        search_cards.search_results(
            page,
            membership.scheme.timezone,
            police=_police(membership),
            own=_scope(membership).member_id is not None,
        ),
        reply_markup=keyboard(_buttons(context, page)),
        protect_content=True,
    )


@requires(*SHOW_ROLES, action=VIEW_ACTION)
async def show_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message = update.effective_message
    assert message is not None
    number = (context.args or [""])[0].removeprefix("#")
    if not (number.isascii() and number.isdigit() and len(number) <= 12):
        await message.reply_text(search_texts.SHOW_USAGE)
        return
    await _show_report(update, context, membership, int(number), via="show")


@requires(*SEARCH_ROLES, action=SEARCH_ACTION)
async def on_button(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    parts = context.services.signer.verify(query.data) or []
    numbers = [int(part) for part in parts[2:] if part.isascii() and part.isdigit()]
    kind = parts[1] if len(parts) > 1 else None
    wanted = {OPEN: 1, PAGE: 2}.get(kind or "")
    if wanted is None or len(numbers) != wanted or len(parts) != wanted + 2:
        await context.store.audit.record(
            user.id,
            SEARCH_ACTION,
            AuditOutcome.REFUSED,
            scheme_id=stored_id(membership.scheme),
            actor_member_id=stored_id(membership.member),
            detail={"reason": Refusal.FORGED},
        )
        await query.answer(search_texts.SEARCH_EXPIRED, show_alert=True)
        return
    if kind == OPEN:
        await query.answer()
        await _show_report(update, context, membership, numbers[0], via="search")
        return
    search_id, number = numbers
    await _turn_page(update, context, membership, search_id, number)


async def _turn_page(
    update: Update, context: ShopWatchContext, membership: Membership, search_id: int, number: int
) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    try:
        page = await context.store.search.page(
            search_id,
            number,
            _scope(membership),
            actor=user.id,
            actor_member_id=stored_id(membership.member),
        )
    except (NotFoundError, InvalidInputError):
        await context.store.audit.record(
            user.id,
            SEARCH_ACTION,
            AuditOutcome.REFUSED,
            scheme_id=stored_id(membership.scheme),
            actor_member_id=stored_id(membership.member),
            detail={"reason": "not_found", "search": search_id, "page": number},
        )
        await query.answer(search_texts.SEARCH_EXPIRED, show_alert=True)
        return
    await query.edit_message_text(
        search_cards.search_results(
            page,
            membership.scheme.timezone,
            police=_police(membership),
            own=_scope(membership).member_id is not None,
        ),
        reply_markup=keyboard(_buttons(context, page)),
    )
    await query.answer()


async def _show_report(
    update: Update,
    context: ShopWatchContext,
    membership: Membership,
    report_id: int,
    *,
    via: str,
) -> None:
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    assert user is not None
    try:
        file = await context.store.search.open(
            report_id,
            _scope(membership),
            actor=user.id,
            actor_member_id=stored_id(membership.member),
            via=via,
        )
    except NotFoundError:
        await chat.send_message(search_texts.report_not_found(report_id))
        return
    report = file.report
    makes = (
        membership.member.role in MAKERS
        and report.scheme_id == membership.scheme.id
        and report.status is not ReportStatus.WITHDRAWN
    )
    buttons = [[render.new_subject_button(stored_id(report), context.services.signer)]]
    card = await chat.send_message(
        search_cards.report_card(file, membership.scheme.timezone, police=_police(membership)),
        protect_content=True,
        reply_markup=keyboard(buttons) if makes else None,
    )
    pictures, missing = _read_photos(context, file.photos[:ALBUM_LIMIT])
    if len(pictures) == 1:
        await card.reply_photo(pictures[0], protect_content=True)
    elif pictures:
        await card.reply_media_group(
            [InputMediaPhoto(picture) for picture in pictures], protect_content=True
        )
    if missing:
        await chat.send_message(search_texts.SEARCH_PHOTOS_MISSING)


def _read_photos(context: ShopWatchContext, photos: list[Photo]) -> tuple[list[bytes], int]:
    """The pictures still on disk; retention may have removed a file a row still names."""
    found: list[bytes] = []
    missing = 0
    for photo in photos:
        try:
            found.append(context.services.photos.read(photo.relative_path))
        except (OSError, InvalidPhotoError):
            logger.warning("photo %s of report %s is missing", photo.id, photo.report_id)
            missing += 1
    return found, missing


async def only_in_private(update: Update, _context: ShopWatchContext) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(search_texts.SEARCH_ONLY_IN_PRIVATE)


def search_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("search", search_command, filters=private),
        CommandHandler("show", show_command, filters=private),
        CommandHandler(["search", "show"], only_in_private, filters=~private),
        CallbackQueryHandler(on_button, pattern=f"^{CALLBACK}:({PAGE}|{OPEN}):"),
    ]
