"""What the bot says about what a member sent: a photo without words, an album, a few
words with no command, a voice note, a video, an edit, the same alert twice."""

from __future__ import annotations

BUTTON_SEND_AS_ALERT = "Send as alert"
BUTTON_ADD_WORDS = "Add words"
BUTTON_SEND_NOW = "Send now"
BUTTON_LOG_ONLY = "Log only"
BUTTON_CANCEL = "Cancel"
BUTTON_SEND_AGAIN = "Send again anyway"

PHOTO_WITHOUT_WORDS = "Photo sent without words."
"""The description of a photo sent as an alert as it is, on every copy."""


def photo_question(photos: int) -> str:
    what = "this photo" if photos == 1 else f"these {photos} photos"
    return (
        f"Send {what} as an alert? Nothing has gone out yet.\n"
        "Best: type a few words now (who, what they did, which way they went) and I will "
        "send them together."
    )


ASK_FOR_WORDS = (
    "Type what happened: who, what they did, which way they went. I will send it with the photo."
)


def text_offer(text: str) -> str:
    return f"Send this as an alert? Nothing has gone out yet.\n\n“{_short(text)}”"


def voice_offer(transcript: str) -> str:
    return (
        "Your voice note, as I heard it:\n"
        f"“{_short(transcript)}”\n\n"
        "Send this as an alert? Nothing has gone out yet. The recording is kept with the "
        "report. If I heard it wrong, type the alert instead."
    )


VOICE_NOT_HEARD = (
    "I could not make out any words in that voice note, so nothing was sent. Please type "
    "the alert, or send a photo with a caption."
)
VOICE_NO_ENGINE = (
    "I cannot turn voice notes into words on this installation, so nothing was sent. "
    "Please type the alert (/alert followed by what you saw), or send a photo with a caption."
)
VOICE_UNREADABLE = (
    "I could not play that voice note, so nothing was sent. Please type the alert, or send a "
    "photo with a caption."
)


def group_offer_sent(name: str) -> str:
    return f"{name}, that was not sent as an alert yet: I have asked you in our private chat."


def group_offer_how(name: str, bot_username: str, text: str) -> str:
    return (
        f"{name}, that was not sent as an alert: the control room and the log did not get it. "
        f"To send it, write /alert {_short(text, 60)} here, or start a private chat with me "
        f"(t.me/{bot_username}) and send it there."
    )


def group_alert_start_me(report_id: int, name: str, bot_username: str) -> str:
    """One line in the group: the alert went, and where its buttons will be from now on."""
    return (
        f"Report #{report_id} sent. {name}, start a private chat with me (t.me/{bot_username}) "
        "to correct your alerts or add to them."
    )


def group_photo_start_me(name: str, bot_username: str) -> str:
    """One line in the group: a photo without words, not sent, for someone the bot may
    not write to first (the question would go to their private chat)."""
    return (
        f"{name}, that photo was not sent as an alert: it has no words. Send it again with "
        f"a few words as its caption, or start a private chat with me (t.me/{bot_username})."
    )


def group_double(report_id: int) -> str:
    """The member's private chat: the same alert again in the group, asked about here."""
    return (
        f"You sent this in the group a moment ago as Report #{report_id}, so I have not "
        "sent it again. It is on its way to every chat. Send it again anyway?"
    )


def group_double_start_me(report_id: int, name: str, bot_username: str) -> str:
    """One line in the group: the same alert again, not sent, for someone the bot may not
    write to first."""
    return (
        f"{name}, you sent this a moment ago as Report #{report_id}, so it was not sent "
        f"again. To send it anyway, start a private chat with me (t.me/{bot_username})."
    )


def sent_with_words(report_id: int) -> str:
    return f"Sent with your words as Report #{report_id}."


def sent_as_is(report_id: int) -> str:
    return f"Sent as Report #{report_id}."


def logged_only(report_id: int) -> str:
    return (
        f"Kept in the log as Report #{report_id}, not sent to the chats. To send it after "
        "all, reply to this with the words again using /alert."
    )


CANCELLED = "Cancelled. Nothing was sent."


def expired(what: str) -> str:
    return (
        f"Not sent: there was no answer about {what} for 15 minutes, so nothing went out and "
        "nothing was kept. If it still matters, send it again."
    )


EXPIRED_PHOTO = "this photo"
EXPIRED_TEXT = "this message"


def already_done(outcome: str | None, report_id: int | None) -> str:
    if report_id is not None and (outcome or "").startswith("sent"):
        return f"Already sent as Report #{report_id}."
    if report_id is not None:
        return f"Already kept in the log as Report #{report_id}."
    if outcome == "expired":
        return "That question has expired; nothing was sent. Send it again if it still matters."
    return "Already cancelled; nothing was sent."


NOT_YOURS = "That question is for the member who sent the message."


def double(report_id: int) -> str:
    return (
        f"You sent this a moment ago as Report #{report_id}, so I have not sent it again. "
        "It is on its way to every chat. To add something, reply to your alert."
    )


def corrected(text: str) -> str:
    """The update every copy shows after the member edits their alert message."""
    return f"Corrected by the sender: {text}"


def correction_added(report_id: int) -> str:
    return f"Your correction is on every copy of Report #{report_id}."


CORRECTION_TOO_LATE = (
    "That report can no longer be changed, so your edit was not passed on. Reply to the "
    "alert or send a new one."
)


VIDEO_NO_DECODER = (
    "I cannot take a picture from a video on this installation, so nothing was sent. Please "
    "send a photo (a screenshot of the video will do) with a caption saying what happened."
)
VIDEO_UNREADABLE = (
    "I could not read that video, so nothing was sent. Please send a photo (a screenshot of "
    "the video will do) with a caption saying what happened."
)
VIDEO_TOO_BIG = (
    "That video is too big for me to fetch (Telegram lets bots fetch files up to 20 MB), so "
    "nothing was sent. Please send a photo (a screenshot will do) with a caption."
)
FILE_NOT_A_PICTURE = (
    "That file is not a picture or a video I can use, so nothing was sent. Please send a "
    "photo with a caption, or type /alert followed by what you saw."
)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
