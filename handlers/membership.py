"""Who is in the scheme: `/invite`, `/members` and its buttons, `/whoami`, strangers in the group.

Every decision goes through `broadcast.membership`, which re-checks the presser's
role and scheme at press time (a button only says what was asked, never who may
ask it) and queues whatever other chats must hear in the outbox.
"""

from __future__ import annotations

from typing import Any

from telegram import Chat, ChatMember, ChatMemberUpdated, Update, User
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from broadcast.chat_guard import MissingRightError, Person
from broadcast.membership import (
    DECIDE,
    FROM_VIEW,
    INVITABLE_ROLES,
    LIST,
    VIEW,
    Buttons,
    Decision,
    manager_for,
)
from broadcast.texts import common as common_texts
from broadcast.texts import formats
from broadcast.texts import membership as membership_texts
from config.errors import AccessDeniedError, NotFoundError, Refusal
from config.vocabulary import MANAGERS, Role
from handlers.context import Membership, ShopWatchContext, Viewer
from handlers.join import desk, join_handlers
from handlers.keyboards import keyboard
from handlers.roles import refuse, requires
from storage.models import Member, Scheme, utcnow

PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def _viewer(context: ShopWatchContext) -> Viewer:
    viewer = context.viewer
    if viewer is None:
        raise RuntimeError("the access check did not run before this handler")
    return viewer


def _actors(context: ShopWatchContext) -> list[Member]:
    return [m.member for m in _viewer(context).memberships]


async def _scheme_asked_for(
    update: Update, context: ShopWatchContext, command: str, slug: str | None
) -> Scheme | None:
    """The scheme a coordinator means: the one they manage, or the one they name.

    None after answering: a slug they do not manage is a refusal, and a
    coordinator of several schemes without a slug is asked which.
    """
    message = update.effective_message
    assert message is not None
    managed = {
        m.scheme.slug: m.scheme for m in _viewer(context).active if m.member.role in MANAGERS
    }
    if slug is not None:
        if slug in managed:
            return managed[slug]
        if any(m.member.role == Role.ADMIN for m in _viewer(context).active):
            try:
                return await context.store.schemes.get_by_slug(slug)
            except NotFoundError:
                pass
        await refuse(update, context, command, Refusal.WRONG_SCHEME, detail={"scheme": slug})
        return None
    if len(managed) == 1:
        return next(iter(managed.values()))
    await message.reply_text(membership_texts.which_scheme(command, sorted(managed)))
    return None


@requires(Role.COORDINATOR, action="invite")
async def invite(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    role, slug = Role.MEMBER, None
    towns = {scheme.slug for scheme in context.services.schemes.schemes}
    for word in (a.lower() for a in context.args or ()):
        if word in {str(r) for r in INVITABLE_ROLES}:
            role = Role(word)
        elif word in {str(r) for r in Role} or slug is not None or word not in towns:
            # "/invite manager": the word is not a role, which says nothing of the person.
            await message.reply_text(
                membership_texts.invite_usage(str(r) for r in INVITABLE_ROLES)
            )
            return
        else:
            slug = word
    scheme = await _scheme_asked_for(update, context, "invite", slug)
    if scheme is None:
        return
    code, made = await desk(context).invite(scheme, role, user.id, utcnow())
    link = f"https://t.me/{context.bot.username}?start={code}"
    await message.reply_text(
        membership_texts.invite_link(
            scheme.name, role, link, formats.moment(made.expires_at, scheme.timezone)
        ),
        disable_web_page_preview=True,
    )


@requires(Role.COORDINATOR, action="members")
async def members(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message = update.effective_message
    assert message is not None
    args = context.args or []
    scheme = await _scheme_asked_for(update, context, "members", args[0].lower() if args else None)
    if scheme is None:
        return
    text, buttons = await desk(context).overview(scheme, 0)
    await message.reply_text(text, reply_markup=keyboard(buttons))


async def whoami(update: Update, context: ShopWatchContext) -> None:
    """Open to everyone, whatever their status: a refused member needs to see why."""
    message = update.effective_message
    assert message is not None
    viewer = _viewer(context)
    await message.reply_text(
        membership_texts.whoami(
            viewer.first_name,
            (
                (m.scheme.name, m.member.role, m.member.status, m.member.shop_name)
                for m in viewer.memberships
            ),
        )
    )


async def only_in_private(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(common_texts.ONLY_IN_PRIVATE)


async def on_button(update: Update, context: ShopWatchContext) -> None:
    """Every button of the members list and of the approval cards."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if parts is None:
        await refuse(update, context, "member_button", Refusal.FORGED)
        return
    try:
        kind, *rest = parts
        if kind == LIST:
            await _show_list(update, context, int(rest[0]), int(rest[1]))
        elif kind == VIEW:
            await _show_member(update, context, int(rest[0]))
        elif kind == DECIDE:
            await _decide(update, context, Decision(rest[0]), int(rest[1]), rest[2] == FROM_VIEW)
        else:
            await refuse(update, context, "member_button", Refusal.STALE)
    except (ValueError, IndexError):
        await refuse(update, context, "member_button", Refusal.STALE)


async def _show(update: Update, text: str, buttons: Buttons) -> None:
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(text, reply_markup=keyboard(buttons))
    await query.answer()


async def _show_list(update: Update, context: ShopWatchContext, scheme_id: int, page: int) -> None:
    try:
        scheme = await context.store.schemes.get(scheme_id)
        manager_for(_actors(context), scheme_id)
    except NotFoundError:
        await refuse(update, context, "members", Refusal.STALE)
        return
    except AccessDeniedError as denied:
        await refuse(update, context, "members", denied.reason, scheme_id=scheme_id)
        return
    await _show(update, *await desk(context).overview(scheme, page))


async def _show_member(update: Update, context: ShopWatchContext, member_id: int) -> None:
    try:
        member = await context.store.members.get_by_id(member_id)
        manager_for(_actors(context), member.scheme_id)
    except NotFoundError:
        await refuse(update, context, "members", Refusal.STALE)
        return
    except AccessDeniedError as denied:
        await refuse(update, context, "members", denied.reason, detail={"member_id": member_id})
        return
    scheme = await context.store.schemes.get(member.scheme_id)
    await _show(update, *desk(context).details(_actors(context), member, scheme))


async def _decide(
    update: Update, context: ShopWatchContext, decision: Decision, member_id: int, in_view: bool
) -> None:
    query = update.callback_query
    assert query is not None
    action = f"member_{decision}"
    try:
        outcome = await desk(context).decide(
            _actors(context), member_id, decision, _viewer(context).first_name, utcnow()
        )
    except NotFoundError:
        await refuse(update, context, action, Refusal.STALE, detail={"member_id": member_id})
        return
    except MissingRightError as missing:
        detail = {"member_id": member_id, "chat_id": missing.chat_id, "right": missing.right}
        await refuse(update, context, action, missing.reason, detail=detail, text=missing.text)
        return
    except AccessDeniedError as denied:
        await refuse(update, context, action, denied.reason, detail={"member_id": member_id})
        return
    member = outcome.member
    if outcome.changed:
        context.services.outbox.wake()
        guarded = desk(context).guard.guards(outcome.scheme)
        answer = membership_texts.decision_done(decision, member.display_name, guarded=guarded)
    else:
        answer = membership_texts.decision_already(member.display_name, member.status)
    if in_view:
        text, buttons = desk(context).details(_actors(context), member, outcome.scheme)
        await query.edit_message_text(text, reply_markup=keyboard(buttons))
    await query.answer(answer, show_alert=decision in (Decision.SUSPEND, Decision.REMOVE))


def _person(user: User) -> Person:
    return Person(user.id, user.full_name, user.username)


async def strangers_in_the_group(update: Update, context: ShopWatchContext) -> None:
    """People added to (or joining) a scheme's chat: strangers are removed (or the
    coordinators only told, in a chat run by hand)."""
    message, chat = update.effective_message, update.effective_chat
    scheme = _viewer(context).chat_scheme
    if message is None or chat is None or scheme is None:
        return
    arrivals = [_person(u) for u in message.new_chat_members or () if u.id != context.bot.id]
    await _strangers(context, scheme, chat, arrivals, cause=f"msg{message.message_id}")


def _joined(change: ChatMemberUpdated) -> bool:
    def present(member: ChatMember) -> bool:
        return member.status in PRESENT or (
            member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))
        )

    return not present(change.old_chat_member) and present(change.new_chat_member)


async def chat_member_changed(update: Update, context: ShopWatchContext) -> None:
    change = update.chat_member
    scheme = _viewer(context).chat_scheme
    if change is None or scheme is None or not _joined(change):
        return
    user = change.new_chat_member.user
    if user.id == context.bot.id:
        return
    cause = f"upd{update.update_id}:{int(change.date.timestamp())}"
    await _strangers(context, scheme, change.chat, [_person(user)], cause=cause)


async def _strangers(
    context: ShopWatchContext, scheme: Scheme, chat: Chat, people: list[Person], *, cause: str
) -> None:
    found = await desk(context).guard.strangers(
        scheme, chat.id, chat.title or scheme.name, people, cause=cause, now=utcnow()
    )
    if found:
        context.services.outbox.wake()


def membership_handlers() -> list[BaseHandler[Update, ShopWatchContext, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        *join_handlers(),
        CommandHandler("invite", invite, filters=private),
        CommandHandler("members", members, filters=private),
        CommandHandler("whoami", whoami, filters=private),
        CommandHandler(["invite", "members", "whoami"], only_in_private, filters=~private),
        CallbackQueryHandler(on_button, pattern=f"^({LIST}|{VIEW}|{DECIDE}):"),
        MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, strangers_in_the_group),
        ChatMemberHandler(chat_member_changed, ChatMemberHandler.CHAT_MEMBER),
    ]
