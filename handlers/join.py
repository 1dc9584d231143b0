"""Joining through an invite link: `/start <code>`, three questions, the agreement, then approval.

The code is checked when the link is opened and redeemed only when the newcomer
accepts the agreement, in the same transaction that makes them a pending member.
So someone who gives up half-way (Cancel, silence past the timeout, a restart)
has not burnt the link their coordinator sent: it still works, once, until it
expires. Two people racing on one link both get the questions; whoever agrees
first is in, and the other is told the link was used meanwhile.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from broadcast import commands
from broadcast.alerts import member_text, text_problem
from broadcast.membership import InviteRefusedError, MembershipDesk
from broadcast.texts import formats
from broadcast.texts import membership as membership_texts
from config.errors import Refusal
from handlers.context import ShopWatchContext
from handlers.keyboards import keyboard
from handlers.roles import refuse
from storage.ids import stored_id
from storage.members import Applicant
from storage.models import Scheme, utcnow

ASK_NAME, ASK_SHOP, ASK_STREET, ASK_AGREEMENT = range(4)
JOIN_TIMEOUT = timedelta(minutes=30)
DRAFT = "join"
CALLBACK = "join"
AGREE = "agree"
CANCEL = "cancel"
NAME_LIMIT = 60
SHOP_LIMIT = 80
STREET_LIMIT = 80

Draft = dict[str, Any]


def desk(context: ShopWatchContext) -> MembershipDesk:
    return MembershipDesk(context.store, context.services.signer, context.services.schemes)


def _user_data(context: ShopWatchContext) -> dict[Any, Any]:
    data = context.user_data
    if data is None:
        raise RuntimeError("joining needs a user: the handlers are wired per user")
    return data


def _draft(context: ShopWatchContext) -> Draft | None:
    draft = _user_data(context).get(DRAFT)
    return draft if isinstance(draft, dict) else None


def _buttons(context: ShopWatchContext, invite_id: int, *, agree: bool) -> InlineKeyboardMarkup:
    signer = context.services.signer
    row = [[membership_texts.BUTTON_CANCEL, signer.sign(CALLBACK, CANCEL, invite_id)]]
    if agree:
        row.insert(0, [membership_texts.BUTTON_AGREE, signer.sign(CALLBACK, AGREE, invite_id)])
    markup = keyboard([row])
    assert markup is not None
    return markup


def _agreement(context: ShopWatchContext, slug: str) -> str:
    """The scheme's words from the schemes file, reflowed: TOML keeps the file's line breaks."""
    schemes = context.services.schemes
    try:
        text = schemes.scheme(slug).agreement
    except KeyError:
        text = schemes.defaults.agreement
    return " ".join(text.split())


def _expiry(draft: Draft) -> str:
    return formats.moment(datetime.fromisoformat(draft["expires"]), draft["timezone"])


async def begin(update: Update, context: ShopWatchContext) -> int:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    code = context.args[0] if context.args else ""
    try:
        opened = await desk(context).open_invite(code, user.id, utcnow())
    except InviteRefusedError as refused:
        await message.reply_text(str(refused))
        return ConversationHandler.END
    invite, scheme = opened.invite, opened.scheme
    invite_id = stored_id(invite)
    _user_data(context)[DRAFT] = _new_draft(invite_id, invite.role, invite.expires_at, scheme)
    await message.reply_text(
        membership_texts.join_welcome(user.first_name, scheme.name, invite.role),
        reply_markup=_buttons(context, invite_id, agree=False),
    )
    return ASK_NAME


def _new_draft(invite_id: int, role: str, expires: datetime, scheme: Scheme) -> Draft:
    """Plain JSON: drafts are kept in the database between messages (bot.persistence)."""
    return {
        "invite_id": invite_id,
        "role": str(role),
        "expires": expires.isoformat(),
        "scheme_id": stored_id(scheme),
        "scheme": scheme.name,
        "slug": scheme.slug,
        "timezone": scheme.timezone,
    }


async def _answer(
    update: Update, context: ShopWatchContext, field: str, limit: int
) -> tuple[Message, Draft] | None:
    """The trimmed answer stored in the draft, or None after asking again."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if draft is None:
        await message.reply_text(membership_texts.JOIN_TIMED_OUT)
        return None
    answer = " ".join(member_text(message.text or "").split())
    if text_problem(answer) is not None or len(answer) > limit:
        await message.reply_text(
            membership_texts.answer_too_long(limit),
            reply_markup=_buttons(context, draft["invite_id"], agree=False),
        )
        return None
    draft[field] = answer
    return message, draft


async def _ask_next(
    update: Update, context: ShopWatchContext, field: str, limit: int, *, ask: str, then: int
) -> int | None:
    """Keep the answer to `field` and ask the next plain question."""
    answered = await _answer(update, context, field, limit)
    if answered is None:
        return None if _draft(context) else ConversationHandler.END
    message, draft = answered
    await message.reply_text(ask, reply_markup=_buttons(context, draft["invite_id"], agree=False))
    return then


async def got_name(update: Update, context: ShopWatchContext) -> int | None:
    return await _ask_next(
        update, context, "name", NAME_LIMIT, ask=membership_texts.JOIN_ASK_SHOP, then=ASK_SHOP
    )


async def got_shop(update: Update, context: ShopWatchContext) -> int | None:
    return await _ask_next(
        update, context, "shop", SHOP_LIMIT, ask=membership_texts.JOIN_ASK_STREET, then=ASK_STREET
    )


async def got_street(update: Update, context: ShopWatchContext) -> int | None:
    answered = await _answer(update, context, "street", STREET_LIMIT)
    if answered is None:
        return None if _draft(context) else ConversationHandler.END
    message, draft = answered
    await message.reply_text(
        membership_texts.join_agreement(draft["scheme"], _agreement(context, draft["slug"])),
        reply_markup=_buttons(context, draft["invite_id"], agree=True),
    )
    return ASK_AGREEMENT


async def _press_is_current(update: Update, context: ShopWatchContext, action: str) -> bool:
    """Only our own button, for this draft's invite, moves the conversation on."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    draft = _draft(context)
    if parts is None:
        await refuse(update, context, "join", Refusal.FORGED)
        return False
    if draft is None or parts != [CALLBACK, action, str(draft["invite_id"])]:
        await refuse(update, context, "join", Refusal.STALE)
        return False
    return True


async def agreed(update: Update, context: ShopWatchContext) -> int | None:
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None
    assert user is not None
    assert chat is not None
    if not await _press_is_current(update, context, AGREE):
        return None
    draft = _user_data(context).pop(DRAFT)
    applicant = Applicant(
        telegram_user_id=user.id,
        display_name=draft["name"],
        username=user.username,
        shop_name=draft["shop"],
        street=draft["street"],
    )
    now = utcnow()
    try:
        _, scheme = await desk(context).join(
            draft["invite_id"], draft["scheme_id"], applicant, now
        )
    except InviteRefusedError as refused:
        await query.edit_message_reply_markup(reply_markup=None)
        await query.answer()
        await chat.send_message(str(refused))
        return ConversationHandler.END
    context.services.outbox.wake()
    if isinstance(query.message, Message) and query.message.text:
        await query.edit_message_text(
            membership_texts.join_agreed(query.message.text, formats.moment(now, scheme.timezone))
        )
    await query.answer()
    await chat.send_message(membership_texts.join_sent(scheme.name))
    return ConversationHandler.END


async def text_instead_of_agreeing(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(membership_texts.JOIN_PRESS_A_BUTTON)


async def cancelled(update: Update, context: ShopWatchContext) -> int | None:
    chat = update.effective_chat
    assert chat is not None
    query = update.callback_query
    if query is not None:
        if not await _press_is_current(update, context, CANCEL):
            return None
        await query.edit_message_reply_markup(reply_markup=None)
        await query.answer()
    draft = _user_data(context).pop(DRAFT, None)
    if isinstance(draft, dict):
        await chat.send_message(membership_texts.join_cancelled(_expiry(draft)))
    return ConversationHandler.END


async def start_again(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(membership_texts.JOIN_ALREADY_JOINING)


async def timed_out(update: Update, context: ShopWatchContext) -> None:
    _user_data(context).pop(DRAFT, None)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, membership_texts.JOIN_TIMED_OUT)


async def button_after_the_end(update: Update, context: ShopWatchContext) -> None:
    """A joining button pressed once its conversation is over: answered, never acted on."""
    parts = context.services.signer.verify(
        update.callback_query.data if update.callback_query else None
    )
    await refuse(update, context, "join", Refusal.STALE if parts else Refusal.FORGED)


async def help_while_joining(update: Update, _context: ShopWatchContext) -> None:
    """/help half-way through joining: how to go on, not how to get an invite."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(commands.JOINING_HELP)


def join_conversation() -> ConversationHandler[ShopWatchContext]:
    private = filters.ChatType.PRIVATE
    answer = filters.TEXT & ~filters.COMMAND & private
    cancel: BaseHandler[Update, ShopWatchContext, object] = CallbackQueryHandler(
        cancelled, pattern=f"^{CALLBACK}:{CANCEL}:"
    )
    states: dict[object, list[BaseHandler[Update, ShopWatchContext, object]]] = {
        ASK_NAME: [MessageHandler(answer, got_name), cancel],
        ASK_SHOP: [MessageHandler(answer, got_shop), cancel],
        ASK_STREET: [MessageHandler(answer, got_street), cancel],
        ASK_AGREEMENT: [
            CallbackQueryHandler(agreed, pattern=f"^{CALLBACK}:{AGREE}:"),
            cancel,
            MessageHandler(answer, text_instead_of_agreeing),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
    }
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button is tracked per chat, not per
        # message. That is what joining wants (one draft per person); every button
        # carries its draft's invite id, so a stale one is recognised and refused.
        warnings.filterwarnings(
            "ignore", message=r"If 'per_message=False'", category=PTBUserWarning
        )
        return ConversationHandler(
            entry_points=[CommandHandler("start", begin, filters=private, has_args=True)],
            states=states,
            fallbacks=[
                CommandHandler("start", start_again, filters=private),
                CommandHandler("cancel", cancelled, filters=private),
                CommandHandler("help", help_while_joining, filters=private),
            ],
            name="join",
            persistent=True,
            conversation_timeout=JOIN_TIMEOUT,
        )


def join_handlers() -> list[BaseHandler[Update, ShopWatchContext, Any]]:
    return [
        join_conversation(),
        CallbackQueryHandler(button_after_the_end, pattern=f"^{CALLBACK}:"),
    ]
