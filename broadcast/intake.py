"""What a member sends, taken as they meant it: every message gets an answer, none twice.

A shopkeeper on a phone sends the way phones make it easy: a photo, then the
words as the next message; an album with one caption; a few words with no
command; the same alert again when the signal drops. The desk turns each of
these into one alert, or into one clear question with buttons (an *offer*)
when it cannot know what was meant, and it catches the same text or photo sent
again within a few minutes.

Offers live in the member's own scratch space (`user_data`, kept in the database
by `bot.persistence`), one entry per offer, each with an id its buttons carry:
a button answers only the offer it was sent with, and a second press of it
finds the offer done and changes nothing. An offer nobody answers expires after
`OFFER_LIFETIME`: nothing was sent, and the member is told so, in the message
that asked (`IntakeDesk.expire`). Photos are fetched from Telegram only when an
alert is made, so an offer holds file ids, never bytes.

Telegram-free: the handler passes a `fetch` that downloads a file by its id.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from broadcast.alerts import (
    AlertService,
    ReportDraft,
    Submitted,
    member_text,
    text_problem,
)
from broadcast.fanout import MessageRef
from broadcast.keywords import guess_category
from broadcast.stills import NoDecoderError
from config.errors import InvalidPhotoError
from config.vocabulary import EventKind, ReportSource, Urgency
from storage.ids import stored_id
from storage.models import Report, ReportEvent, utcnow
from storage.photos import CleanPhoto

JOIN_WINDOW = timedelta(minutes=2)
"""Words sent this soon after a photo without a caption are that photo's caption."""
OFFER_LIFETIME = timedelta(minutes=15)
"""An offer unanswered this long expires: nothing is sent, and the member is told."""
DOUBLE_WINDOW = timedelta(minutes=5)
"""The same text or photo from the same member this soon after is caught as a double."""
KEEP_DONE = timedelta(hours=1)
"""A finished offer is remembered this long, so a late second press is answered truly."""
USER_DATA_KEY = "intake"
VOICE_NOTE = "voice_note"
"""The timeline note that names a voice note's recording."""

_ALERT_WORD = re.compile(
    r"^\s*(?:(?:🚨\s*)+(?:(?:alert|urgent)\b)?|(?:alert|urgent)\b)[\s:!.,\-–—]*",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"[^\w£]+")


class Kind(StrEnum):
    """What an offer asks about."""

    PHOTO = "photo"
    """Photos without words: send as they are, add words, or cancel."""
    TEXT = "text"
    """Words without a command: send now, log only, or cancel."""
    DOUBLE = "double"
    """The same as an alert sent a moment ago: send again anyway, or leave it."""
    ALBUM = "album"
    """An album still arriving, one update a photo; it becomes an alert or a PHOTO offer."""


class Choice(StrEnum):
    SEND = "send"
    WORDS = "words"
    LOG = "log"
    CANCEL = "cancel"
    AGAIN = "again"


CHOICES: dict[Kind, tuple[Choice, ...]] = {
    Kind.PHOTO: (Choice.SEND, Choice.WORDS, Choice.CANCEL),
    Kind.TEXT: (Choice.SEND, Choice.LOG, Choice.CANCEL),
    Kind.DOUBLE: (Choice.AGAIN, Choice.CANCEL),
}


@dataclass(frozen=True)
class FileRef:
    """A file as Telegram holds it; `kind` says how to make a photo of it."""

    file_id: str
    size: int | None = None
    kind: str = "photo"
    """"photo" (a picture as it is) or "video" (a still is taken from it)."""


@dataclass
class Offer:
    id: str
    kind: Kind
    scheme_id: int
    member_id: int
    chat_id: int
    """Where the member's message is (a group, for a group text offered privately)."""
    message_id: int
    at: str
    text: str = ""
    files: list[FileRef] = field(default_factory=list)
    album: str | None = None
    asked_in: int | None = None
    """The chat of the message with the offer's buttons, once sent."""
    asked_id: int | None = None
    outcome: str | None = None
    """None while open; then "sent:<report>", "logged:<report>", "cancelled" or "expired"."""
    double_of: int | None = None
    urgency: Urgency = Urgency.NOW
    recording: str | None = None
    """A voice note's recording (under the data directory), kept with the report made of it."""

    @property
    def made_at(self) -> datetime:
        return datetime.fromisoformat(self.at)

    @property
    def source(self) -> MessageRef:
        return MessageRef(self.chat_id, self.message_id)

    @property
    def report_id(self) -> int | None:
        kind, _, number = (self.outcome or "").partition(":")
        return int(number) if kind in ("sent", "logged") and number.isdigit() else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"], data["urgency"] = str(self.kind), str(self.urgency)
        data["files"] = [asdict(f) for f in self.files]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        return cls(
            **{
                **data,
                "kind": Kind(data["kind"]),
                "urgency": Urgency(data.get("urgency", Urgency.NOW)),
                "files": [FileRef(**f) for f in data.get("files") or []],
            }
        )


class OfferBox:
    """One member's offers, read from and written back to their `user_data`."""

    def __init__(self, user_data: MutableMapping[Any, Any] | None) -> None:
        self._data = user_data if user_data is not None else {}

    def _all(self) -> dict[str, Any]:
        box = self._data.get(USER_DATA_KEY)
        if not isinstance(box, dict):
            box = {}
            self._data[USER_DATA_KEY] = box
        return box

    def offers(self) -> list[Offer]:
        return [Offer.from_json(data) for data in self._all().values()]

    def get(self, offer_id: str) -> Offer | None:
        data = self._all().get(offer_id)
        return Offer.from_json(data) if isinstance(data, dict) else None

    def put(self, offer: Offer) -> None:
        # Reassigned, not mutated in place, so persistence sees user_data changed.
        self._data[USER_DATA_KEY] = {**self._all(), offer.id: offer.to_json()}

    def drop(self, offer_id: str) -> None:
        self._data[USER_DATA_KEY] = {k: v for k, v in self._all().items() if k != offer_id}

    def open_photos(self, chat_id: int, now: datetime) -> Offer | None:
        """The photos without words in this chat that the next words belong to (a group
        photo's too, whose question was asked in this private chat)."""
        found = [
            o
            for o in self.offers()
            if o.kind == Kind.PHOTO
            and o.outcome is None
            and chat_id in (o.chat_id, o.asked_in)
            and now - o.made_at <= JOIN_WINDOW
        ]
        return max(found, key=lambda o: o.at, default=None)

    def album(self, media_group_id: str) -> Offer | None:
        return next((o for o in self.offers() if o.album == media_group_id), None)

    def for_message(self, chat_id: int, message_id: int) -> Offer | None:
        return next(
            (o for o in self.offers() if o.chat_id == chat_id and o.message_id == message_id),
            None,
        )

    def tidy(self, now: datetime) -> None:
        """Forget offers finished long enough ago that no button of theirs is pressed now."""
        for offer in self.offers():
            if offer.outcome is not None and now - offer.made_at > KEEP_DONE + OFFER_LIFETIME:
                self.drop(offer.id)


def words_of(text: str) -> str:
    """The alert in "alert man in red coat…" (the word a command would have been, dropped)."""
    return _ALERT_WORD.sub("", text, count=1).strip()


def plainly_an_alert(text: str) -> bool:
    """A group message that says it is an alert ("ALERT man in red coat…", "🚨 …")."""
    return _ALERT_WORD.match(text) is not None and bool(words_of(text))


def _same_words(a: str, b: str) -> bool:
    return _PLAIN.sub(" ", a.casefold()).strip() == _PLAIN.sub(" ", b.casefold()).strip()


Fetch = Callable[[FileRef], Awaitable[bytes]]
"""Download a file by its Telegram id (the handler's part: Telegram stays in handlers/)."""
Still = Callable[[bytes], Awaitable[bytes]]
"""A photo taken from a video's bytes (`broadcast.stills`)."""


@dataclass(frozen=True)
class Sent:
    offer: Offer
    submitted: Submitted


@dataclass(frozen=True)
class Doubled:
    """It looks like an alert sent a moment ago: the member is asked before it goes."""

    offer: Offer
    earlier: Report


@dataclass(frozen=True)
class Asked:
    """A question with buttons is due: the offer is stored, waiting for its answer."""

    offer: Offer


@dataclass(frozen=True)
class Done:
    """The offer was answered before (a double press, a late press): nothing changes."""

    offer: Offer


Outcome = Sent | Doubled | Asked | Done


def new_offer(
    kind: Kind,
    *,
    scheme_id: int,
    member_id: int,
    chat_id: int,
    message_id: int,
    now: datetime,
    text: str = "",
    files: list[FileRef] | None = None,
    album: str | None = None,
) -> Offer:
    return Offer(
        id=secrets.token_hex(4),
        kind=kind,
        scheme_id=scheme_id,
        member_id=member_id,
        chat_id=chat_id,
        message_id=message_id,
        at=now.isoformat(),
        text=text,
        files=list(files or ()),
        album=album,
    )


class IntakeDesk:
    """Turns offers into alerts through `AlertService`, catching doubles on the way."""

    def __init__(self, alerts: AlertService, *, still: Still | None = None) -> None:
        self.alerts = alerts
        self.store = alerts.store
        self.still = still

    async def send(
        self,
        box: OfferBox,
        offer: Offer,
        fetch: Fetch,
        *,
        urgency: Urgency = Urgency.NOW,
        anyway: bool = False,
        without_words: str = "",
        now: datetime | None = None,
    ) -> Sent | Doubled | Done:
        """Make the offer an alert (or a log-only report), unless it is a double.

        `anyway`: the member has seen the double and sends it again. Raises what
        `AlertService.submit` raises (a photo that is not one, the posting limit,
        the log unreachable) and `NoDecoderError` for a video on an installation that
        cannot decode one; the offer then stays open for another try.
        """
        if offer.outcome is not None:
            return Done(offer)
        now = now or utcnow()
        text = offer.text if text_problem(offer.text) is None else without_words
        photos = [await self._clean(await self._picture(ref, fetch)) for ref in offer.files]
        source = offer.source
        prior = await self.store.reports.before_alert(
            source.chat_id, source.message_id, offer.member_id, now - DOUBLE_WINDOW
        )
        already = prior.made
        if already is None and not anyway:
            earlier = await self.double_of(text, photos, prior.recent)
            if earlier is not None:
                doubled = replace(offer, kind=Kind.DOUBLE, double_of=earlier.id, urgency=urgency)
                box.put(doubled)
                return Doubled(doubled, earlier)
        draft = ReportDraft(
            scheme_id=offer.scheme_id,
            member_id=offer.member_id,
            category=guess_category(text),
            urgency=urgency,
            description=text,
            photos=tuple(photos),
            source=ReportSource.CHAT,
        )
        submitted = await self.alerts.submit(draft, source=offer.source)
        report_id = stored_id(submitted.report)
        if offer.recording is not None and already is None:
            await self.store.reports.add_event(
                ReportEvent(
                    report_id=report_id,
                    member_id=offer.member_id,
                    kind=EventKind.NOTE,
                    status=VOICE_NOTE,
                    text=f"Voice note, recording {offer.recording}: {offer.text}",
                )
            )
        word = "sent" if urgency == Urgency.NOW else "logged"
        done = finished(replace(offer, urgency=urgency), f"{word}:{report_id}")
        if box.get(offer.id) is not None:  # asked about: its buttons may be pressed again
            box.put(done)
        box.tidy(now)
        return Sent(done, submitted)

    async def _picture(self, ref: FileRef, fetch: Fetch) -> bytes:
        data = await fetch(ref)
        if ref.kind == "video":
            if self.still is None:
                raise NoDecoderError("no video decoder is installed")
            return await self.still(data)
        return data

    async def _clean(self, data: bytes) -> bytes | CleanPhoto:
        """The photo made clean once, for the double's check and the store alike; the
        bytes as they came if they are not a photo (submit refuses them with its answer)."""
        try:
            return await self.alerts.photos.clean_async(data)
        except InvalidPhotoError:
            return data

    async def double_of(
        self, text: str, photos: Sequence[bytes | CleanPhoto], recent: Sequence[Report]
    ) -> Report | None:
        """Of the member's `recent` alerts (the last few minutes'), one with the same words
        or a same photo.

        Photos are compared by the hash they are stored under (after re-encoding,
        which strips what differs between two uploads of one picture's file).
        """
        if not recent:
            return None
        hashes = {photo.sha256 for photo in photos if isinstance(photo, CleanPhoto)}
        for report in recent:
            if text and text_problem(text) is None and _same_words(report.description, text):
                return report
            kept = await self.store.reports.photos(stored_id(report)) if hashes else []
            if hashes & {p.sha256 for p in kept}:
                return report
        return None

    def close(self, box: OfferBox, offer: Offer, outcome: str) -> Offer:
        closed = finished(offer, outcome)
        box.put(closed)
        return closed

    def with_words(self, box: OfferBox, offer: Offer, text: str) -> Offer:
        joined = replace(offer, text=member_text(text))
        box.put(joined)
        return joined


def finished(offer: Offer, outcome: str) -> Offer:
    """The offer as remembered once answered: what it became, none of the member's words or
    files (those are in the report now, under its retention period, or nowhere)."""
    return replace(offer, outcome=outcome, text="", files=[], recording=None)


def expire(box: OfferBox, now: datetime) -> list[Offer]:
    """Open offers past their lifetime, marked expired: nothing went out for them."""
    gone = []
    for offer in box.offers():
        if offer.outcome is None and now - offer.made_at > OFFER_LIFETIME:
            closed = finished(offer, "expired")
            box.put(closed)
            gone.append(closed)
    box.tidy(now)
    return gone
