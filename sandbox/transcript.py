"""A readable account of every chat, for the demo and for failing tests."""

from __future__ import annotations

import datetime as dtm

from sandbox.state import Conversation, FileRecord, MessageRecord, SandboxState

_INDENT = " " * 10


def _size(record: FileRecord) -> str:
    kib = record.size / 1024
    return f"{kib:.1f} KB" if kib < 1024 else f"{kib / 1024:.1f} MB"


def _title(state: SandboxState, conv: Conversation) -> str:
    bot_id, chat_id = conv.key
    if conv.is_group:
        group = state.groups[chat_id]
        return f"{group.title} ({group.type} {chat_id})"
    person = state.users[chat_id].display_name
    return f"{person} <-> {state.users[bot_id].display_name} (private chat {chat_id})"


def _body(state: SandboxState, record: MessageRecord) -> list[str]:
    """Media as a bracketed tag, then the text or caption; the first line joins the tag."""
    tags: list[str] = []
    if record.photo is not None:
        photo = record.photo
        tags.append(f"[photo {photo.width}x{photo.height}, {_size(photo)}]")
    if record.document is not None:
        tags.append(f"[document {record.document.file_name}, {_size(record.document)}]")
    if record.voice is not None:
        tags.append(f"[voice {record.voice.duration}s]")
    if record.video is not None:
        video = record.video
        tags.append(f"[video {video.width}x{video.height} {video.duration}s, {_size(video)}]")
    if record.video_note is not None:
        tags.append(f"[video note {record.video_note.duration}s]")
    if record.media_group_id is not None and not record.sender_is_bot:
        tags.append(f"[album {record.media_group_id}]")
    if record.location is not None:
        tags.append(f"[location {record.location[0]:.5f}, {record.location[1]:.5f}]")
    if record.new_chat_members:
        names = ", ".join(state.users[i].display_name for i in record.new_chat_members)
        tags.append(f"[joined: {names}]")
    if record.left_chat_member is not None:
        tags.append(f"[left: {state.users[record.left_chat_member].display_name}]")
    content = record.text if record.text is not None else record.caption
    lines = content.splitlines() if content else []
    if not tags:
        return lines or ["[empty]"]
    head = " ".join(tags)
    return [f"{head} {lines[0]}" if lines else head, *lines[1:]]


def _message(state: SandboxState, record: MessageRecord) -> list[str]:
    when = dtm.datetime.fromtimestamp(record.date, tz=dtm.UTC).strftime("%H:%M:%S")
    sender = state.users[record.sender_id].display_name
    flags = [
        label
        for label, on in (
            (f"reply to #{record.reply_to}", record.reply_to is not None),
            ("protected", record.protect_content),
            ("silent", record.disable_notification),
            (f"edited x{record.edits}", record.edits > 0),
            ("DELETED", record.deleted),
        )
        if on
    ]
    suffix = f" ({', '.join(flags)})" if flags else ""
    body = _body(state, record)
    lines = [f"{when}  #{record.message_id} {sender}{suffix}: {body[0]}"]
    lines.extend(f"{_INDENT}{line}" for line in body[1:])
    if record.reply_markup is not None:
        for row in record.reply_markup.inline_keyboard:
            lines.append(_INDENT + " ".join(f"[{button.text}]" for button in row))
    return lines


def render_transcript(state: SandboxState) -> str:
    sections: list[str] = []
    for conv in state.conversations.values():
        if not conv.messages:
            continue
        lines = [f"=== {_title(state, conv)} ==="]
        presses = sorted(conv.presses, key=lambda p: p.message_id)
        for record in conv.messages.values():
            lines.extend(_message(state, record))
            for press in presses:
                if press.message_id != record.message_id:
                    continue
                who = state.users[press.user_id].display_name
                answer = press.answer
                reply = "no answer"
                if answer is not None:
                    reply = f"answered {answer.text!r}" if answer.text else "answered"
                    reply += " (alert)" if answer.show_alert else ""
                lines.append(f"{_INDENT}> {who} pressed [{press.button}]: {reply}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + ("\n" if sections else "")
