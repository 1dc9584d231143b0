"""The alert card: one report as each chat sees it, in plain text that fits Telegram's limits.

Every copy of a report is rendered from the same `AlertView`, so the group, the
control room and the neighbours always say the same thing, differing only in
what their audience needs: the control room gets the operators' buttons, a
neighbour is told which scheme the alert came from. Plain text (no parse mode)
means a description can never break the formatting of a card.

Telegram counts length in UTF-16 code units: 1024 for a photo's caption, 4096
for a message. The description gives way first, cut at a word with a mark, so
the lines people act on (where, when, status, report number) are always shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from broadcast.callbacks import CallbackSigner
from broadcast.calls import open_calls
from broadcast.routing import Audience
from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from broadcast.texts import formats
from broadcast.texts import subjects as subject_texts
from config.vocabulary import Category, OperatorStatus, ReportStatus, Urgency
from storage.ids import stored_id
from storage.models import Report
from storage.places import members_place

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
TRUNCATION_MARK = "…"

# Lines other than the description are bounded, so a long location or update can
# never squeeze the description out of a caption entirely.
_CAPS_CAPTION = {
    "place": 120,
    "subject": 200,
    "direction": 80,
    "property": 80,
    "reference": 40,
    "update": 200,
}
_CAPS_TEXT = {
    "place": 300,
    "subject": 600,
    "direction": 200,
    "property": 300,
    "reference": 60,
    "update": 800,
}

# Callback data of the alert buttons: `<prefix>:<report id>[:<value>]:<signature>`.
OPERATOR_PREFIX = "aop"
CATEGORY_PREFIX = "acat"
URGENCY_PREFIX = "aurg"
UPDATE_PREFIX = "aupd"
STAND_DOWN_PREFIX = "adown"
WRONG_PERSON_PREFIX = "awrong"
CHANGE_PREFIX = "achg"
ENDING_PREFIX = "aend"
BACK_PREFIX = "aback"
SUBJECT_PREFIX = "subj"
NEW_SUBJECT = "new"
MEMBER_PREFIXES = (
    CATEGORY_PREFIX,
    URGENCY_PREFIX,
    UPDATE_PREFIX,
    STAND_DOWN_PREFIX,
    WRONG_PERSON_PREFIX,
    CHANGE_PREFIX,
    ENDING_PREFIX,
    BACK_PREFIX,
)
CONFIRMATION_LEVELS = {CHANGE_PREFIX: "change", ENDING_PREFIX: "ending", BACK_PREFIX: "top"}
"""The buttons that only open another set of buttons under the confirmation."""

Button = tuple[str, str]
Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class StatusMark:
    """The latest status call on a report and who made it."""

    status: str
    by: str | None
    at: datetime


@dataclass(frozen=True)
class UpdateMark:
    """The latest thing the member added ("left towards Market St")."""

    text: str
    at: datetime


@dataclass(frozen=True)
class AlertView:
    """A report as the chats should show it now."""

    report: Report
    scheme_name: str
    status: StatusMark | None = None
    update: UpdateMark | None = None
    excluded: tuple[int, date] | None = None
    """A linked subject's exclusion in force: (subject id, last day)."""
    acknowledged: StatusMark | None = None
    """The control room's first call on the alert: it was heard, by whom, when."""
    history: tuple[StatusMark, ...] = ()
    """The status calls so far, oldest first, for the control room's card; any entry
    whose `status` the texts can name (a note, say) may join it."""
    ending: str | None = None
    """The latest call that ended the alert (Detained, Closed, Stood down), if any."""
    raised_again: datetime | None = None
    """When the alert, unanswered in time, was raised again (`broadcast.escalation`)."""

    @property
    def report_id(self) -> int:
        return stored_id(self.report)

    @property
    def state(self) -> str:
        return str(self.report.status)


@dataclass(frozen=True)
class Card:
    text: str
    buttons: Buttons = ()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 units, cut at a word where one is near, with a mark."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    if utf16_len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    mark = TRUNCATION_MARK
    budget = limit - utf16_len(mark)
    kept: list[str] = []
    used = 0
    for char in text:
        size = utf16_len(char)
        if used + size > budget:
            break
        kept.append(char)
        used += size
    cut = "".join(kept)
    space = cut.rfind(" ")
    if space >= len(cut) * 4 // 5:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + mark


def _reference(view: AlertView, audience: Audience) -> str:
    return alert_texts.alert_reference(
        view.report_id,
        view.scheme_name,
        neighbour=audience in (Audience.NEIGHBOUR_GROUP, Audience.NEIGHBOUR_CONTROL_ROOM)
        or view.report.origin_scheme is not None,  # from a peer on another deployment
    )


def further_photo_caption(view: AlertView, audience: Audience) -> str:
    """A photo sent under a copy already out says which alert it belongs to."""
    return alert_texts.alert_further_photo(_reference(view, audience))


def alert_card(
    view: AlertView,
    audience: Audience,
    *,
    timezone: str,
    has_photo: bool,
    signer: CallbackSigner,
) -> Card:
    """The copy for one chat; with a photo the text is its caption."""
    report = view.report
    limit = CAPTION_LIMIT if has_photo else TEXT_LIMIT
    caps = _CAPS_CAPTION if has_photo else _CAPS_TEXT
    withdrawn = view.state == ReportStatus.WITHDRAWN
    head = [alert_texts.alert_headline(report.category, report.urgency, view.state, view.ending)]
    details: list[str] = []
    if withdrawn:
        head.append(alert_texts.ALERT_WITHDRAWN_NOTE)
    elif view.excluded is not None and audience is Audience.CONTROL_ROOM:
        subject_id, until = view.excluded
        head.append(subject_texts.alert_excluded(until, subject_id))
    if not withdrawn:
        if report.subject_description:
            details.append(
                alert_texts.alert_who(shorten(report.subject_description, caps["subject"]))
            )
        if report.direction:
            details.append(
                alert_texts.alert_direction(shorten(report.direction, caps["direction"]))
            )
        if report.property_description:
            taken = shorten(report.property_description, caps["property"])
            details.append(alert_texts.alert_taken(taken, report.value_pence))
        elif report.value_pence is not None:
            details.append(alert_texts.alert_value(report.value_pence))
        if report.police_reference:
            details.append(
                alert_texts.alert_police_reference(
                    shorten(report.police_reference, caps["reference"])
                )
            )
        evidence = alert_texts.alert_evidence(report.cctv_held, report.statement_willing)
        if evidence is not None and audience is Audience.CONTROL_ROOM:
            details.append(evidence)
    where = members_place(report)
    place = shorten(where, caps["place"]) if where else None
    tail = [
        alert_texts.alert_where(place, report.latitude, report.longitude),
        alert_texts.alert_when(formats.moment(report.occurred_at, timezone)),
        _reference(view, audience),
    ]
    if not withdrawn:
        tail.append(_status_line(view, timezone))
        if audience is Audience.CONTROL_ROOM:
            tail.extend(_control_room_lines(view, timezone))
        if view.update is not None:
            tail.append(
                alert_texts.alert_update(
                    formats.time_of_day(view.update.at, timezone),
                    shorten(view.update.text, caps["update"]),
                )
            )
    description = "" if withdrawn else report.description
    text = _assemble(head, description, details + tail, limit)
    buttons: Buttons = ()
    if audience is Audience.CONTROL_ROOM and not withdrawn:
        current = view.status.status if view.status is not None else None
        buttons = operator_buttons(view.report_id, signer, current)
    return Card(text, buttons)


HISTORY_SHOWN = 4
"""The latest calls a card lists; the log keeps them all."""


def _control_room_lines(view: AlertView, timezone: str) -> list[str]:
    """Who acknowledged it and when, and the latest calls, for the operators' card.

    An alert raised again says so until someone acknowledges it: the operator looking
    up from the fresh message finds the card that caused it, and the mark goes with
    the first call, as "not yet acknowledged" does."""
    lines = []
    waiting = view.acknowledged is None and view.state == ReportStatus.OPEN
    if waiting and view.raised_again is not None:
        lines.append(
            control_room_texts.alert_raised_again(formats.time_of_day(view.raised_again, timezone))
        )
    elif view.acknowledged is None:
        lines.append(control_room_texts.ALERT_NOT_ACKNOWLEDGED)
    else:
        lines.append(
            control_room_texts.alert_acknowledged(
                view.acknowledged.by, formats.time_of_day(view.acknowledged.at, timezone)
            )
        )
    if view.history:
        lines.append(
            control_room_texts.alert_history(
                [
                    control_room_texts.history_entry(
                        mark.status, mark.by, formats.time_of_day(mark.at, timezone)
                    )
                    for mark in view.history[-HISTORY_SHOWN:]
                ]
            )
        )
    return lines


def _status_line(view: AlertView, timezone: str) -> str:
    if view.status is None:
        return control_room_texts.ALERT_STATUS_WAITING
    return control_room_texts.alert_status(
        view.status.status, view.status.by, formats.time_of_day(view.status.at, timezone)
    )


def _assemble(head: Sequence[str], description: str, rest: Sequence[str], limit: int) -> str:
    """Head, description, the rest; the description shrinks to fit, then (never, in
    practice) the whole text is cut."""
    fixed = "\n".join([*head, *rest])
    if description:
        room = limit - utf16_len(fixed) - 1
        description = shorten(description, room)
    lines = [*head, description, *rest] if description else [*head, *rest]
    return shorten("\n".join(lines), limit)


def operator_buttons(
    report_id: int, signer: CallbackSigner, current: str | None = None
) -> Buttons:
    """Acknowledge / On camera / Police informed / Lost / Detained / Closed, two to a row,
    those that still apply after the `current` call, which is marked; then New subject,
    for the person in the picture. After Closed no call remains."""
    still = open_calls(current)
    labelled = [
        (
            _marked(control_room_texts.OPERATOR_BUTTONS[status], status == current),
            signer.sign(OPERATOR_PREFIX, report_id, status),
        )
        for status in OperatorStatus
        if status in still or (status == current and still)
    ]
    statuses = tuple(tuple(labelled[i : i + 2]) for i in range(0, len(labelled), 2))
    return (*statuses, (new_subject_button(report_id, signer),))


def new_subject_button(report_id: int, signer: CallbackSigner) -> Button:
    """Make an ID-sought subject from the report (the control room's card, `/show`)."""
    return (
        subject_texts.BUTTON_NEW_SUBJECT,
        signer.sign(SUBJECT_PREFIX, NEW_SUBJECT, report_id),
    )


def confirmation(
    report: Report,
    *,
    shops: int,
    neighbours: Iterable[str],
    signer: CallbackSigner,
    replaced: bool = False,
) -> Card:
    """What the member reads back: where the alert went, and one tap to correct it;
    `replaced` says their own message in the chat gives way to the bot's protected copy."""
    report_id = stored_id(report)
    state = str(report.status)
    if state == ReportStatus.WITHDRAWN:
        return Card(alert_texts.alert_confirmation_state(report_id, report.category, state))
    actions = (
        (alert_texts.BUTTON_ADD_UPDATE, signer.sign(UPDATE_PREFIX, report_id)),
        (alert_texts.BUTTON_WRONG_PERSON, signer.sign(WRONG_PERSON_PREFIX, report_id)),
    )
    if state == ReportStatus.CLOSED:
        return Card(
            alert_texts.alert_confirmation_state(report_id, report.category, state), (actions,)
        )
    if report.urgency == Urgency.NOW:
        text = alert_texts.alert_sent(report_id, shops, neighbours)
        if replaced:
            text = f"{text}\n\n{alert_texts.MEMBER_ALERT_REPLACED}"
    else:
        text = alert_texts.alert_logged(report_id)
    return Card(text, confirmation_buttons(report, signer))


def confirmation_buttons(report: Report, signer: CallbackSigner, level: str = "top") -> Buttons:
    """Three buttons a phone can hit with a thumb: the guessed category (tap to change it),
    the other urgency, and the way out (Stood down / Wrong person); the rest one tap in."""
    report_id = stored_id(report)
    back = (alert_texts.BUTTON_BACK, signer.sign(BACK_PREFIX, report_id))
    if level == "change":
        categories = [
            (
                _chosen(alert_texts.CATEGORY_BUTTONS[c], c == report.category),
                signer.sign(CATEGORY_PREFIX, report_id, c),
            )
            for c in Category
        ]
        return (
            tuple(categories[:4]),
            tuple(categories[4:]),
            ((alert_texts.BUTTON_ADD_UPDATE, signer.sign(UPDATE_PREFIX, report_id)), back),
        )
    if level == "ending":
        return (
            (
                (alert_texts.BUTTON_STAND_DOWN, signer.sign(STAND_DOWN_PREFIX, report_id)),
                (alert_texts.BUTTON_WRONG_PERSON, signer.sign(WRONG_PERSON_PREFIX, report_id)),
            ),
            (back,),
        )
    other = Urgency.LOG if report.urgency == Urgency.NOW else Urgency.NOW
    return (
        (
            (
                alert_texts.category_to_change(report.category),
                signer.sign(CHANGE_PREFIX, report_id),
            ),
        ),
        (
            (alert_texts.URGENCY_BUTTONS[other], signer.sign(URGENCY_PREFIX, report_id, other)),
            (alert_texts.BUTTON_ENDING, signer.sign(ENDING_PREFIX, report_id)),
        ),
    )


def _marked(label: str, current: bool) -> str:
    return f"{control_room_texts.CURRENT_CALL_MARK}{label}" if current else label


def _chosen(label: str, chosen: bool) -> str:
    return f"{alert_texts.CHOSEN_MARK}{label}" if chosen else label
