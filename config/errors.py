"""Every error ShopWatch raises on purpose, in one place.

Handlers and the CLI turn these into one clear sentence for a person; anything
that is not one of these is a bug and reaches the global error handler.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Why a person may not do what they asked: each has its own sentence
    (`broadcast.texts.refusals`) and is what the audit trail records."""

    NOT_MEMBER = "not_member"
    PENDING = "pending"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    WRONG_ROLE = "wrong_role"
    WRONG_SCHEME = "wrong_scheme"
    """A coordinator managing a scheme that is not theirs."""
    NOT_YOUR_SCHEME = "not_your_scheme"
    """An export of a scheme where the person is neither coordinator nor police contact."""
    OTHER_SCHEME = "other_scheme"
    """A button on another scheme's alert."""
    NOT_YOURS = "not_yours"
    """A change to an alert someone else sent."""
    STALE = "stale"
    """A button whose member, invite or list has changed since it was shown."""
    FORGED = "forged"
    """A button whose signature does not check out."""
    FORGED_BUTTON = "forged_button"
    """A /grade button that does not check out: the grading starts again."""
    OWN_MEMBERSHIP = "own_membership"
    NEEDS_ADMIN = "needs_admin"
    LAST_COORDINATOR = "last_coordinator"
    WITNESS_CONTACT = "witness_contact"
    BOT_LACKS_RIGHTS = "bot_lacks_rights"


class ShopWatchError(Exception):
    """Base of the errors a person can be told about in plain words."""


class ConfigError(ShopWatchError):
    """Settings or the schemes file are wrong; start-up stops with this one line."""


class StorageError(ShopWatchError):
    """The log could not do what was asked (database unreachable, migration failed)."""


class ExportFailedError(StorageError):
    """An export could not be read or written; the coordinator is told to ask again."""


class NotFoundError(StorageError):
    """A record that a caller named does not exist (or is not theirs to see)."""


class AccessDeniedError(ShopWatchError):
    """The sender may not do this: not a member, wrong role, wrong scheme.

    `reason` is what the person is told and the audit records; `why` is for the
    text log only.
    """

    def __init__(self, reason: Refusal, why: str = "") -> None:
        super().__init__(f"{reason}: {why}" if why else str(reason))
        self.reason = reason


class InvalidPhotoError(ShopWatchError):
    """A photo we will not keep: not an image, too large, or a decompression bomb."""


class DuplicateError(StorageError):
    """The record is already in the log: the same alert delivered twice, an existing member."""


class InvalidInputError(ShopWatchError):
    """A request a person can correct: a date that does not exist, a range backwards.

    `reason` is a short code the handler turns into a sentence; `value` is what was given.
    """

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(f"{reason}: {value}" if value else reason)
        self.reason = reason
        self.value = value


class ReportClosedError(ShopWatchError):
    """The report was withdrawn by its sender: it takes no more statuses or updates."""


class TooManyAlertsError(ShopWatchError):
    """A member is posting faster than any real incident needs; one chatty sender must
    not crowd out every other shop's alerts."""
