"""Records rendered as python-telegram-bot objects, so answers match what the client parses.

Messages are rendered per viewing bot: file ids differ between bots, as on Telegram.
"""

from __future__ import annotations

import datetime as dtm

from telegram import (
    AcceptedGiftTypes,
    Chat,
    ChatFullInfo,
    ChatInviteLink,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    Document,
    Location,
    Message,
    MessageOriginUser,
    PhotoSize,
    User,
    Video,
    VideoNote,
    Voice,
)

from sandbox.state import (
    AdminRights,
    BotRecord,
    FileRecord,
    GroupRecord,
    InviteLinkRecord,
    MessageRecord,
    SandboxState,
    UserRecord,
)


def timestamp(value: int) -> dtm.datetime:
    return dtm.datetime.fromtimestamp(value, tz=dtm.UTC)


def user(record: UserRecord) -> User:
    return User(
        id=record.id,
        first_name=record.first_name,
        is_bot=record.is_bot,
        last_name=record.last_name,
        username=record.username,
        language_code=record.language_code,
    )


def me(bot: BotRecord) -> User:
    return User(
        id=bot.id,
        first_name=bot.user.first_name,
        is_bot=True,
        username=bot.user.username,
        can_join_groups=True,
        can_read_all_group_messages=True,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )


def private_chat(record: UserRecord) -> Chat:
    return Chat(
        id=record.id,
        type=Chat.PRIVATE,
        first_name=record.first_name,
        last_name=record.last_name,
        username=record.username,
    )


def group_chat(record: GroupRecord) -> Chat:
    return Chat(id=record.id, type=record.type, title=record.title, username=record.username)


def chat(state: SandboxState, chat_id: int) -> Chat:
    group = state.groups.get(chat_id)
    if group is not None:
        return group_chat(group)
    return private_chat(state.users[chat_id])


def chat_full_info(state: SandboxState, chat_id: int) -> ChatFullInfo:
    base = chat(state, chat_id)
    return ChatFullInfo(
        id=base.id,
        type=base.type,
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types=AcceptedGiftTypes(False, False, False, False, False),
        title=base.title,
        username=base.username,
        first_name=base.first_name,
        last_name=base.last_name,
    )


def member(
    state: SandboxState, status: str, member_id: int, rights: AdminRights | None = None
) -> ChatMember:
    """A chat member as Telegram describes them; an administrator with `rights` (all
    granted when None)."""
    who = user(state.users[member_id])
    if status == "creator":
        return ChatMemberOwner(who, is_anonymous=False)
    if status == "administrator":
        granted = rights or AdminRights()
        return ChatMemberAdministrator(
            who,
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=granted.can_delete_messages,
            can_manage_video_chats=True,
            can_restrict_members=granted.can_restrict_members,
            can_promote_members=False,
            can_change_info=granted.can_change_info,
            can_invite_users=granted.can_invite_users,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=granted.can_pin_messages,
        )
    if status == "member":
        return ChatMemberMember(who)
    if status == "kicked":
        return ChatMemberBanned(who, until_date=timestamp(0))
    return ChatMemberLeft(who)


def photo_sizes(state: SandboxState, record: FileRecord, viewer: int) -> tuple[PhotoSize, ...]:
    """Every size of the photo, smallest first, as Telegram lists them."""
    return tuple(
        PhotoSize(
            file_id=state.file_id_for(size, viewer),
            file_unique_id=size.unique_id,
            width=size.width or 0,
            height=size.height or 0,
            file_size=size.size,
        )
        for size in record.sizes
    )


def document(state: SandboxState, record: FileRecord, viewer: int) -> Document:
    return Document(
        file_id=state.file_id_for(record, viewer),
        file_unique_id=record.unique_id,
        file_name=record.file_name,
        mime_type=record.mime_type,
        file_size=record.size,
    )


def voice(state: SandboxState, record: FileRecord, viewer: int) -> Voice:
    return Voice(
        file_id=state.file_id_for(record, viewer),
        file_unique_id=record.unique_id,
        duration=record.duration or 0,
        mime_type=record.mime_type,
        file_size=record.size,
    )


def video(state: SandboxState, record: FileRecord, viewer: int) -> Video:
    return Video(
        file_id=state.file_id_for(record, viewer),
        file_unique_id=record.unique_id,
        width=record.width or 0,
        height=record.height or 0,
        duration=record.duration or 0,
        file_name=record.file_name,
        mime_type=record.mime_type,
        file_size=record.size,
    )


def video_note(state: SandboxState, record: FileRecord, viewer: int) -> VideoNote:
    """A round video: square, its side as `length`."""
    return VideoNote(
        file_id=state.file_id_for(record, viewer),
        file_unique_id=record.unique_id,
        length=record.width or 0,
        duration=record.duration or 0,
        file_size=record.size,
    )


def message(
    state: SandboxState, record: MessageRecord, viewer: int, *, nested: bool = True
) -> Message:
    """Render ``record`` as ``viewer`` (a bot id) would receive it."""
    reply: Message | None = None
    if nested and record.reply_to is not None:
        target = state.conversations[record.key].messages.get(record.reply_to)
        if target is not None and not target.deleted:
            reply = message(state, target, viewer, nested=False)
    origin = None
    if record.forward_from is not None and record.forward_date is not None:
        origin = MessageOriginUser(
            timestamp(record.forward_date), user(state.users[record.forward_from])
        )
    return Message(
        message_id=record.message_id,
        date=timestamp(record.date),
        chat=chat(state, record.chat_id),
        from_user=user(state.users[record.sender_id]),
        text=record.text,
        entities=record.entities or None,
        caption=record.caption,
        caption_entities=record.caption_entities or None,
        photo=photo_sizes(state, record.photo, viewer) if record.photo else None,
        document=document(state, record.document, viewer) if record.document else None,
        voice=voice(state, record.voice, viewer) if record.voice else None,
        video=video(state, record.video, viewer) if record.video else None,
        video_note=video_note(state, record.video_note, viewer) if record.video_note else None,
        location=(
            Location(latitude=record.location[0], longitude=record.location[1])
            if record.location
            else None
        ),
        reply_markup=record.reply_markup,
        has_protected_content=record.protect_content or None,
        reply_to_message=reply,
        media_group_id=record.media_group_id,
        forward_origin=origin,
        new_chat_members=[user(state.users[i]) for i in record.new_chat_members] or None,
        left_chat_member=(
            user(state.users[record.left_chat_member]) if record.left_chat_member else None
        ),
        edit_date=timestamp(record.edit_date) if record.edit_date else None,
    )


def invite_link(state: SandboxState, record: InviteLinkRecord) -> ChatInviteLink:
    group = state.groups[record.chat_id]
    pending = sum(1 for link in group.join_requests.values() if link == record.invite_link)
    return ChatInviteLink(
        invite_link=record.invite_link,
        creator=user(state.users[record.creator_id]),
        creates_join_request=record.creates_join_request,
        is_primary=False,
        is_revoked=record.revoked,
        name=record.name,
        expire_date=timestamp(record.expire_date) if record.expire_date else None,
        member_limit=record.member_limit,
        pending_join_request_count=pending if record.creates_join_request else None,
    )
