"""What each outbox kind's row carries: one model per kind, checked when a row is written
and again when it is read.

The outbox row keeps its payload as JSON (`OutboxRow.payload`); its kind, in a column
of its own, says which model below the JSON is. A `Delivery` is made from a model, so
a row with a missing or misspelt field is refused before it is stored, and a sender
reads the model back (`read`), so a row changed since (by hand, by an older version)
is given up on with the reason instead of failing halfway through a send.

Adding an outbox kind: a member of `config.vocabulary.OutboxKind`, a model here with
`kind: Literal[OutboxKind.X]`, a place in `OutboxPayload`, and a sender for it
(`broadcast.delivery`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from config.vocabulary import OutboxKind
from storage.models import OutboxRow

Button = tuple[str, str]
"""A button as the outbox stores it: its label and its (signed) callback data."""
Buttons = tuple[tuple[Button, ...], ...]
"""Rows of buttons under a message."""


def as_buttons(rows: Iterable[Iterable[Sequence[str]]]) -> Buttons:
    """Buttons from rows of `[label, data]` lists, as JSON gives them."""
    return tuple(tuple((str(button[0]), str(button[1])) for button in row) for row in rows)


class PayloadError(ValueError):
    """A stored row whose payload is not what its kind carries."""


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class _Card(_Payload):
    text: str
    photos: tuple[str, ...] = ()
    """Photo store paths: the first carries the card, the rest follow as an album."""
    buttons: Buttons = ()
    protect_content: bool = False
    delete_after_hours: float | None = None
    """Taken out of the chat this long after it is sent (the chat TTL)."""


class AlertPayload(_Card):
    """A report's copy in one chat."""

    kind: Literal[OutboxKind.ALERT] = OutboxKind.ALERT
    audience: str | None = None
    """Who the chat is (`broadcast.routing.Audience`), so a later edit renders for it."""
    scheme: str | None = None
    """The slug of the scheme the chat belongs to."""


class MessagePayload(_Card):
    """Any other message: a notice, an answer, a card of the control room's."""

    kind: Literal[OutboxKind.MESSAGE] = OutboxKind.MESSAGE
    reply_to: int | None = None
    """The chat's message this one answers (Telegram's id), quoted above it when it is
    still there."""


class EditPayload(_Payload):
    """New text and buttons for a message already sent (`target` is its outbox row)."""

    kind: Literal[OutboxKind.EDIT] = OutboxKind.EDIT
    target: int
    text: str
    buttons: Buttons = ()


class DeletePayload(_Payload):
    """A message sent taken down (`target` is its row), with any sent under it (`also`)."""

    kind: Literal[OutboxKind.DELETE] = OutboxKind.DELETE
    target: int
    also: tuple[int, ...] = ()


class DocumentPayload(_Payload):
    kind: Literal[OutboxKind.DOCUMENT] = OutboxKind.DOCUMENT
    path: str
    """A file under the data directory."""
    filename: str | None = None
    caption: str | None = None
    protect_content: bool = True
    delete_after_send: bool = False
    """The file goes once Telegram has it: made for this one chat (a subject access
    bundle), it is not kept beside the log."""


class VoicePayload(_Payload):
    kind: Literal[OutboxKind.VOICE] = OutboxKind.VOICE
    path: str
    """An Ogg Opus file under the data directory."""
    caption: str | None = None
    buttons: Buttons = ()
    protect_content: bool = True
    delete_after_hours: float | None = None


class RadioPayload(_Payload):
    """Posted in a scheme's radio channel (the row's chat is 0) and read out or played."""

    kind: Literal[OutboxKind.RADIO] = OutboxKind.RADIO
    text: str | None = None
    speak: str | None = None
    audio: str | None = None
    """An Ogg file under the data directory, played when there is nothing to speak."""


class FederationRequest(_Payload):
    """An alert or an event for a peer town (the row's chat is the peer's own number)."""

    kind: Literal[OutboxKind.FEDERATION] = OutboxKind.FEDERATION
    op: Literal["alert", "event"]
    peer: str
    sender: str = Field(alias="from")
    """Our scheme that sends it."""
    key: str
    """The idempotency key the peer keeps."""
    path: str
    body: dict[str, Any]
    """The request's JSON (`broadcast.federation.protocol`)."""


class FederationReceipt(_Payload):
    """A record of a peer's alert taken in; nothing is sent."""

    kind: Literal[OutboxKind.FEDERATION] = OutboxKind.FEDERATION
    op: Literal["receipt"]
    peer: str
    key: str
    origin_id: int
    """The alert's number in the town it came from."""


FederationPayload = Annotated[FederationRequest | FederationReceipt, Field(discriminator="op")]


class BanPayload(_Payload):
    kind: Literal[OutboxKind.BAN] = OutboxKind.BAN
    user_id: int
    release: bool = False
    """Unbanned straight after: out of the chat, free to be invited back."""


class UnbanPayload(_Payload):
    kind: Literal[OutboxKind.UNBAN] = OutboxKind.UNBAN
    user_id: int


class JoinChat(_Payload):
    chat_id: int
    label: str


class JoinLinkPayload(_Payload):
    """A member's personal join links, one per chat, made when sent."""

    kind: Literal[OutboxKind.JOIN_LINK] = OutboxKind.JOIN_LINK
    member_id: int
    scheme: str
    """The scheme's name, as the member reads it."""
    timezone: str
    chats: tuple[JoinChat, ...]
    hours: int


class JoinAnswerPayload(_Payload):
    kind: Literal[OutboxKind.JOIN_ANSWER] = OutboxKind.JOIN_ANSWER
    user_id: int
    approve: bool


class DeleteMessagePayload(_Payload):
    """A member's own message taken down, once the bot's copy (`after_key`) is there."""

    kind: Literal[OutboxKind.DELETE_MESSAGE] = OutboxKind.DELETE_MESSAGE
    message_id: int
    after_key: str | None = None


OutboxPayload = Annotated[
    AlertPayload
    | MessagePayload
    | EditPayload
    | DeletePayload
    | DocumentPayload
    | VoicePayload
    | RadioPayload
    | FederationPayload
    | BanPayload
    | UnbanPayload
    | JoinLinkPayload
    | JoinAnswerPayload
    | DeleteMessagePayload,
    Field(discriminator="kind"),
]

_PAYLOADS: TypeAdapter[OutboxPayload] = TypeAdapter(OutboxPayload)

P = TypeVar("P", bound=_Payload)


def stored(payload: OutboxPayload) -> dict[str, Any]:
    """The payload as the row's JSON column keeps it (its kind has a column of its own)."""
    return payload.model_dump(mode="json", by_alias=True, exclude={"kind"})


def payload_of(row: OutboxRow) -> OutboxPayload:
    """The row's payload as its kind's model; `PayloadError` if it is not one."""
    try:
        return _PAYLOADS.validate_python({**row.payload, "kind": row.kind})
    except ValidationError as exc:
        error = exc.errors()[0]
        tags = {str(row.kind), "alert", "event", "receipt"}  # the union's, not the row's
        loc = list(error["loc"])
        while len(loc) > 1 and str(loc[0]) in tags:
            loc.pop(0)
        where = ".".join(str(part) for part in loc)
        raise PayloadError(f"outbox row {row.id} ({row.kind}): {where}: {error['msg']}") from None


def read(row: OutboxRow, model: type[P]) -> P:
    """The row's payload, which must be a `model` (the sender of a kind reads its own)."""
    payload = payload_of(row)
    if not isinstance(payload, model):
        raise PayloadError(f"outbox row {row.id} is {row.kind}, not {model.__name__}")
    return payload


def read_federation(row: OutboxRow) -> FederationRequest | FederationReceipt:
    """A federation row's payload: a request for a peer, or the receipt of one of theirs."""
    payload = payload_of(row)
    if not isinstance(payload, FederationRequest | FederationReceipt):
        raise PayloadError(f"outbox row {row.id} is {row.kind}, not federation")
    return payload
