"""What /search and /show put on screen: a page of results, and one report whole.

The words come from `broadcast.texts.search`; this module decides what is shown
and what gives way when a report would not fit in one Telegram message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from broadcast.descriptors import readable
from broadcast.render import TRUNCATION_MARK
from broadcast.texts import formats
from broadcast.texts import search as search_texts
from config.vocabulary import ReportChange, ReportStatus
from storage.ids import stored_id
from storage.places import (
    is_shop_note,
    member_reference,
    members_place,
    note_for_police,
    police_place,
    reporter_premises,
)

if TYPE_CHECKING:
    from storage.models import Member, Report, ReportEvent
    from storage.search import ReportFile, SearchPage, TimelineEntry

REPORT_CARD_LIMIT = 4000  # Telegram allows 4096 characters in a message


def _shortened(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + TRUNCATION_MARK


def _who(member: Member | None, police: str | None, report: Report | None = None) -> str:
    """Shops by their name and street, staff by their role: the log names no private person.

    For the police (`police` is the scheme's slug) a shop is its scheme reference and
    street, never its name: the source is protected in everything they see. A report's
    own reporter reads as the report keeps the shop (`storage.places`).
    """
    if member is None:
        return search_texts.NOT_A_MEMBER
    shop, street = (
        reporter_premises(report, member) if report else (member.shop_name, member.street)
    )
    if shop:
        if police is not None:
            shop = member_reference(police, stored_id(member))
        return f"{shop}, {street}" if street else shop
    return search_texts.STAFF_ROLE_NAMES.get(str(member.role), search_texts.MEMBER_SHOP)


def search_results(
    page: SearchPage, timezone: str, *, police: str | None = None, own: bool = False
) -> str:
    """`police`: the scheme's slug when the reader is police (sources by reference);
    `own`: a member shop, who searches only its own reports."""
    if not page.hits:
        if page.has_previous:
            return search_texts.no_more_results(page.query.text)
        if own:
            return search_texts.nothing_of_yours_matches(page.query.text)
        return search_texts.nothing_matches(page.query.text)
    last = page.first_number + len(page.hits) - 1
    lines = [search_texts.results_heading(page.query.text, page.first_number, last)]
    for hit in page.hits:
        report = hit.report
        lines += [
            "",
            search_texts.result_line(
                stored_id(report),
                formats.moment(report.occurred_at, timezone),
                report.category,
                str(report.status),
                who=_who(hit.reporter, police, report),
                photos=hit.photos,
            ),
            # As on its copies in the chats: the wrong person's description is not shown.
            search_texts.RESULT_WITHDRAWN
            if report.status == ReportStatus.WITHDRAWN
            else _shortened(report.description, 160),
        ]
    return "\n".join(lines)


def _said(event: ReportEvent) -> str:
    """An event's words; a guided report's later answers in plain words, however old."""
    text = event.text or ""
    return readable(text) if event.status == ReportChange.DESCRIBED else text


def _words(entry: TimelineEntry, file: ReportFile, police: str | None) -> str:
    """A timeline entry's words; for the police, a shop's note has the shops struck out."""
    said = _said(entry.event)
    if police is None or not is_shop_note(entry.event, entry.by):
        return said
    reporter = file.reporter.shop_name if file.reporter else None
    by = entry.by.shop_name if entry.by else None
    return note_for_police(said, (by, file.report.premises_shop, reporter)) or said


def report_card(file: ReportFile, timezone: str, *, police: str | None = None) -> str:
    """The whole report; the oldest timeline entries give way if it would not fit.

    `police`: the scheme's slug when the reader is police (sources by reference)."""
    report = file.report
    late = abs(report.created_at - report.occurred_at).total_seconds() > 300
    head = [
        search_texts.card_heading(stored_id(report), report.category, str(report.status)),
        search_texts.card_seen(
            formats.moment(report.occurred_at, timezone),
            formats.moment(report.created_at, timezone) if late else None,
        ),
        search_texts.card_reported_by(_who(file.reporter, police, report)),
    ]
    place = police_place(report) if police is not None else members_place(report)
    where = ", ".join(p for p in (place, report.direction) if p)
    if where:
        head.append(search_texts.card_where(where))
    if report.police_reference:
        head.append(search_texts.card_police_reference(report.police_reference))
    grading = "".join(
        str(g)
        for g in (report.source_evaluation, report.intelligence_assessment, report.handling_code)
        if g
    )
    if grading:
        head.append(search_texts.card_grading(grading))
    body = ["", _shortened(report.description, 1500)]
    if report.subject_description:
        body.append(search_texts.card_subject(_shortened(report.subject_description, 500)))
    if report.value_pence:
        body.append(search_texts.card_value(formats.money(report.value_pence)))
    if file.photos:
        body.append(search_texts.card_photos(len(file.photos)))
    timeline = [
        search_texts.timeline_entry(
            formats.moment(entry.event.created_at, timezone),
            entry.event.kind,
            entry.event.status,
            _who(entry.by, police),
            _shortened(_words(entry, file, police), 300) if entry.event.text else None,
        )
        for entry in file.timeline
    ]
    fixed = "\n".join(head + body)
    if not timeline:
        return f"{fixed}\n\n{search_texts.TIMELINE_EMPTY}"
    dropped = 0
    while True:
        shown = timeline[dropped:]
        note = [search_texts.timeline_not_shown(dropped)] if dropped else []
        text = "\n".join([fixed, "", search_texts.TIMELINE_HEADING, *note, *shown])
        if len(text) <= REPORT_CARD_LIMIT or len(shown) <= 1:
            return text[:REPORT_CARD_LIMIT]
        dropped += 1
