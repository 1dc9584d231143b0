"""The Bot API methods the sandbox answers, by lower-case name (Telegram ignores case)."""

from __future__ import annotations

from sandbox.api import chats, editing, members, sending, updates
from sandbox.api.context import CallContext, Handler, WebhookControl

METHODS: dict[str, Handler] = {
    name.lower(): handler
    for name, handler in {
        "getMe": chats.get_me,
        "logOut": chats.trivial,
        "close": chats.trivial,
        "getUpdates": updates.get_updates,
        "setWebhook": updates.set_webhook,
        "deleteWebhook": updates.delete_webhook,
        "getWebhookInfo": updates.get_webhook_info,
        "sendMessage": sending.send_message,
        "sendPhoto": sending.send_photo,
        "sendDocument": sending.send_document,
        "sendVoice": sending.send_voice,
        "sendLocation": sending.send_location,
        "sendMediaGroup": sending.send_media_group,
        "copyMessage": sending.copy_message,
        "forwardMessage": sending.forward_message,
        "editMessageText": editing.edit_message_text,
        "editMessageCaption": editing.edit_message_caption,
        "editMessageReplyMarkup": editing.edit_message_reply_markup,
        "deleteMessage": editing.delete_message,
        "deleteMessages": editing.delete_messages,
        "answerCallbackQuery": editing.answer_callback_query,
        "getChat": chats.get_chat,
        "getChatMember": chats.get_chat_member,
        "getChatAdministrators": chats.get_chat_administrators,
        "getChatMemberCount": chats.get_chat_member_count,
        "sendChatAction": chats.send_chat_action,
        "setMyCommands": chats.set_my_commands,
        "getMyCommands": chats.get_my_commands,
        "deleteMyCommands": chats.delete_my_commands,
        "getFile": chats.get_file,
        "setChatMenuButton": chats.set_chat_menu_button,
        "getChatMenuButton": chats.get_chat_menu_button,
        "banChatMember": members.ban_chat_member,
        "unbanChatMember": members.unban_chat_member,
        "createChatInviteLink": members.create_chat_invite_link,
        "revokeChatInviteLink": members.revoke_chat_invite_link,
        "approveChatJoinRequest": members.approve_chat_join_request,
        "declineChatJoinRequest": members.decline_chat_join_request,
    }.items()
}

__all__ = ["METHODS", "CallContext", "Handler", "WebhookControl"]
