"""What the galleries' Mini App and its button say to people."""

from __future__ import annotations

BUTTON_GALLERY = "Gallery"
"""The web-app button's label: in the chat's menu and under the message below."""

OPEN_GALLERY = (
    "The scheme's galleries (ID sought, Known, Excluded) open in Telegram: tap Gallery. "
    "What you see there is for the scheme's members only: do not share it."
)

REFUSALS: dict[str, str] = {
    "missing": "Open the gallery from the bot's Gallery button in Telegram.",
    "malformed": "Telegram's sign-in for this page is damaged: close it and open it again.",
    "signature": "This page was not opened by Telegram for this bot: open it from the bot.",
    "expired": "This page has been open too long: close it and open the gallery again.",
    "from_the_future": "Your device's clock is wrong: set it right and open the gallery again.",
    "not_member": "The galleries are for the scheme's members only.",
    "suspended": "Your membership is suspended, so the galleries are closed to you.",
    "role": "The galleries are not open to your role: the police see subjects in the export.",
    "other_scheme": "You are not a member of that scheme.",
    "not_found": "That subject is not in your galleries (it may have expired).",
    "image_expired": "This picture's link has expired: open the subject again.",
    "image_forged": "This picture's link is not one the bot made.",
}


def refusal(reason: str) -> str:
    return REFUSALS.get(reason, "The gallery cannot be shown: open it again from the bot.")
