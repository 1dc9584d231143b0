"""The scheme's chats as a way out for reports: a card in every chat the routing rules name.

A new report gets one copy per chat (the group, the control room, a neighbour's);
each event brings every copy up to date: edited in place, sent to a chat newly
routed while the report is younger than the chat TTL. A chat gets at most one
fresh copy of a report, the one that rings its phones: a chat no longer routed (a
report moved to log only, a category a neighbour does not take) keeps its copy,
edited to say there is nothing to act on and without the description (photos sent
under it go), and a change back edits it again. Log only, Happening now, pressed
over and over, is then two edits a chat, never a new alert each time. A copy that
vanished would tell nobody to stop, and its photo was seen in that chat already; the
chat TTL takes it down with the rest. A member's own message that the bot's
protected copy replaces goes once that copy is in the chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from broadcast import render
from broadcast.callbacks import CallbackSigner
from broadcast.chat_guard import delete_message
from broadcast.fanout import MessageRef, NewReport, ReportChanged
from broadcast.render import AlertView
from broadcast.routing import Audience, Recipient, recipients
from broadcast.texts import alerts as alert_texts
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import OutboxKind, OutboxState, ReportStatus, Urgency
from storage.ids import stored_id
from storage.models import OutboxRow, Report, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import (
    AlertPayload,
    DeletePayload,
    EditPayload,
    MessagePayload,
    read,
)
from storage.store import Store


class ChatCopies:
    """The fan-out to the scheme's chats (`broadcast.fanout.FanOut`)."""

    def __init__(self, schemes: SchemesFile, store: Store, signer: CallbackSigner) -> None:
        self.schemes = schemes
        self.store = store
        self.signer = signer

    def new_report(self, new: NewReport) -> list[Delivery]:
        report, config, source = new.report, new.scheme, new.source
        routed = recipients(
            self.schemes,
            config.slug,
            report.category,
            report.urgency,
            from_peer=report.origin_scheme is not None,
        )
        paths = [photo.relative_path for photo in new.photos]
        out = [self._new_copy(new.view, config, recipient, paths, source) for recipient in routed]
        if new.replaced and source is not None:  # after the copy to that chat, in its turn
            copy_key = f"alert:{source.chat_id}:{source.message_id}:{source.chat_id}"
            out.append(delete_message(source.chat_id, source.message_id, after_key=copy_key))
        return out

    async def report_changed(self, change: ReportChanged) -> list[Delivery]:
        if change.photos:
            return await self._photos_under_copies(change)
        return await self._follow(change.view, change.scheme)

    async def refreshed(self, view: AlertView, scheme: SchemeConfig) -> list[Delivery]:
        """The edits only: a refresh changes no routing, so no copy comes or goes."""
        return [d for d in await self._follow(view, scheme) if d.kind is OutboxKind.EDIT]

    def origin_name(self, report: Report) -> str | None:
        return None

    async def reached(self, report: Report, scheme: SchemeConfig) -> list[str]:
        """The neighbouring schemes on this deployment whose chats the routing names."""
        routed = recipients(
            self.schemes,
            scheme.slug,
            report.category,
            report.urgency,
            from_peer=report.origin_scheme is not None,
        )
        neighbours = (Audience.NEIGHBOUR_GROUP, Audience.NEIGHBOUR_CONTROL_ROOM)
        return list(
            dict.fromkeys(
                self.schemes.scheme(r.scheme_slug).name for r in routed if r.audience in neighbours
            )
        )

    async def _photos_under_copies(self, change: ReportChanged) -> list[Delivery]:
        """A photo added once the copies are out goes under each as a message of its own:
        Telegram turns no text message into a photo and adds no photo to one sent."""
        out: list[Delivery] = []
        for row in _live_copies(await self.store.outbox.for_report(stored_id(change.report))):
            copy = read(row, AlertPayload)
            recipient = _recipient_of(row, change.scheme.slug)
            caption = render.further_photo_caption(change.view, recipient.audience)
            out.extend(
                Delivery(
                    row.chat_id,
                    MessagePayload(
                        text=caption,
                        photos=(photo.relative_path,),
                        protect_content=copy.protect_content,
                        delete_after_hours=copy.delete_after_hours,
                        reply_to=row.telegram_message_id,  # quoted, once the card is out
                    ),
                    dedupe_key=f"{_PHOTO_UNDER}:{stored_id(row)}:{photo.sha256}",
                )
                for photo in change.photos
            )
        return out

    async def _follow(self, view: AlertView, config: SchemeConfig) -> list[Delivery]:
        """Edits for every copy (to the card, or to say a chat no longer routed has
        nothing to act on), new copies for chats newly routed that never had one (while
        the report is younger than the chat TTL)."""
        report = view.report
        rows = await self.store.outbox.for_report(stored_id(report))
        live = _live_copies(rows)
        under = _photos_under(rows)
        if view.state == ReportStatus.WITHDRAWN:
            wanted = {row.chat_id: _recipient_of(row, config.slug) for row in live}
        else:
            routed = recipients(
                self.schemes,
                config.slug,
                report.category,
                report.urgency,
                from_peer=report.origin_scheme is not None,
            )
            wanted = {recipient.chat_id: recipient for recipient in routed}
        out: list[Delivery] = []
        have: set[int] = set()
        had = {
            row.chat_id
            for row in rows
            if row.kind == OutboxKind.ALERT and row.state != OutboxState.FAILED
        }
        for row in live:
            row_id = stored_id(row)
            recipient = wanted.get(row.chat_id)
            if recipient is None:
                text = alert_texts.alert_not_for_this_chat(
                    view.report_id, view.scheme_name, logged=report.urgency != Urgency.NOW
                )
                out.append(Delivery(row.chat_id, EditPayload(target=row_id, text=text)))
                out.extend(_taken_down(row.chat_id, under.get(row_id, ())))
                continue
            if view.state == ReportStatus.WITHDRAWN:  # the wrong person's photos go
                out.extend(_taken_down(row.chat_id, under.get(row_id, ())))
            have.add(row.chat_id)
            has_photo = bool(read(row, AlertPayload).photos)
            card = self._card(view, recipient, has_photo=has_photo)
            out.append(
                Delivery(
                    row.chat_id, EditPayload(target=row_id, text=card.text, buttons=card.buttons)
                )
            )
        if view.state == ReportStatus.WITHDRAWN or report.urgency != Urgency.NOW:
            out.extend(_originals_taken_down(rows))
        young = utcnow() - report.created_at < timedelta(hours=config.chat_ttl_hours)
        missing = [r for chat, r in wanted.items() if chat not in have and chat not in had]
        if missing and young:
            photos = [
                photo.relative_path for photo in await self.store.reports.photos(stored_id(report))
            ]
            out.extend(self._new_copy(view, config, r, photos, None) for r in missing)
        return out

    def _card(self, view: AlertView, recipient: Recipient, *, has_photo: bool) -> render.Card:
        return render.alert_card(
            view,
            recipient.audience,
            timezone=self.schemes.scheme(recipient.scheme_slug).timezone,
            has_photo=has_photo,
            signer=self.signer,
        )

    def _new_copy(
        self,
        view: AlertView,
        origin: SchemeConfig,
        recipient: Recipient,
        photos: list[str],
        source: MessageRef | None,
    ) -> Delivery:
        """One chat's copy: protected and deleted after the TTL by the stricter scheme's rule."""
        there = self.schemes.scheme(recipient.scheme_slug)
        card = self._card(view, recipient, has_photo=bool(photos))
        key = None
        if source is not None:
            key = f"alert:{source.chat_id}:{source.message_id}:{recipient.chat_id}"
        return Delivery(
            chat_id=recipient.chat_id,
            payload=AlertPayload(
                text=card.text,
                photos=tuple(photos),
                buttons=card.buttons,
                protect_content=origin.protect_content or there.protect_content,
                delete_after_hours=min(origin.chat_ttl_hours, there.chat_ttl_hours),
                audience=str(recipient.audience),
                scheme=recipient.scheme_slug,
            ),
            dedupe_key=key,
        )


def _live_copies(rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """Alert copies still in (or on their way to) their chat, one per chat, newest kept.

    A copy is gone once its delete has been sent or is due; the TTL delete waits
    its turn, so until then the copy counts as live and is edited.
    """
    now = utcnow()
    gone = {
        read(row, DeletePayload).target
        for row in rows
        if row.kind == OutboxKind.DELETE
        and (row.state == OutboxState.SENT or row.next_attempt_at <= now)
    }
    live: dict[int, OutboxRow] = {}
    for row in rows:
        if row.kind == OutboxKind.ALERT and row.state != OutboxState.FAILED and row.id not in gone:
            live[row.chat_id] = row
    return list(live.values())


_PHOTO_UNDER = "photo"
"""The dedupe key of a photo sent under a copy: `photo:<copy's row>:<sha256>`."""


def _photos_under(rows: Sequence[OutboxRow]) -> dict[int, list[int]]:
    """The photos sent under each copy since it went out (by the copy's row), still up.

    One is taken down once a delete is asked for it, or its time in the chat is up.
    """
    now = utcnow()
    gone = {
        read(row, DeletePayload).target
        for row in rows
        if row.kind == OutboxKind.DELETE
        and (
            row.state == OutboxState.SENT
            or row.next_attempt_at <= now
            or not (row.dedupe_key or "").startswith("ttl:")
        )
    }
    under: dict[int, list[int]] = {}
    for row in rows:
        parts = (row.dedupe_key or "").split(":")
        if (
            row.kind == OutboxKind.MESSAGE
            and len(parts) == 3
            and parts[0] == _PHOTO_UNDER
            and row.state != OutboxState.FAILED
            and stored_id(row) not in gone
        ):
            under.setdefault(int(parts[1]), []).append(stored_id(row))
    return under


def _taken_down(chat_id: int, row_ids: Sequence[int]) -> list[Delivery]:
    return [Delivery(chat_id, DeletePayload(target=row_id)) for row_id in row_ids]


def _originals_taken_down(rows: Sequence[OutboxRow]) -> list[Delivery]:
    """Wrong person, or log only: the member's own message leaves a scheme chat too.

    It is named by its copies' dedupe keys (`alert:<chat>:<message>:<recipient>`); a
    message already taken down (or on its way down) is not asked for again.
    """
    asked = {row.dedupe_key for row in rows if row.kind == OutboxKind.DELETE_MESSAGE}
    out: list[Delivery] = []
    for row in rows:
        parts = (row.dedupe_key or "").split(":")
        if row.kind != OutboxKind.ALERT or len(parts) != 4 or parts[0] != "alert":
            continue
        chat_id, message_id = int(parts[1]), int(parts[2])
        if chat_id >= 0:  # a private chat with the bot: the member's own business
            continue
        delivery = delete_message(chat_id, message_id)
        if delivery.dedupe_key not in asked:
            asked.add(delivery.dedupe_key)
            out.append(delivery)
    return out


def _recipient_of(row: OutboxRow, default_scheme: str) -> Recipient:
    copy = read(row, AlertPayload)
    return Recipient(
        copy.scheme or default_scheme, row.chat_id, Audience(copy.audience or Audience.GROUP)
    )
