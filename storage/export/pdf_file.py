"""The PDF the police read: a cover page with the week at a glance, then one page per report,
then the scheme's subjects and their notices (when it has any).

The cover names the scheme and the period, counts reports by category and
grading, and charts incidents by day and by weekday and hour (when they
happened, in the scheme's timezone). Each report then starts on a page of its
own with its details, grading, photos (each with its SHA-256) and timeline;
a long report runs on to further pages.

Drawn straight onto a reportlab canvas rather than through flowables: a week
can hold thousands of reports, and this keeps the whole export fast. Photos are
embedded as reduced JPEG copies (the manifest carries the hashes of the stored
originals), each once however many reports show it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from reportlab import rl_config
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from config import formats
from storage.export.columns import iso
from storage.export.files import open_private
from storage.export.records import (
    ExportData,
    ExportNotice,
    ExportPhoto,
    ExportReport,
    ExportSubject,
)
from storage.photos import PhotoStore

logger = logging.getLogger(__name__)

# JPEGs go into the PDF as they are; ASCII85-wrapping them in pure Python is slow.
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 42.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = MARGIN + 24.0  # leaves room for the footer
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
THUMBNAIL_PIXELS = 400
THUMBNAIL_QUALITY = 70
PHOTO_BOX = (CONTENT_WIDTH / 2 - 6, 170.0)
LINE = 12.5

SOURCE_MEANINGS = {"1": "reliable", "2": "untested", "3": "not reliable"}
ASSESSMENT_MEANINGS = {
    "A": "known directly",
    "B": "known indirectly but corroborated",
    "C": "known indirectly",
    "D": "not known",
    "E": "suspected to be false",
}
HANDLING_MEANINGS = {
    "P": "lawful sharing permitted",
    "C": "lawful sharing permitted with conditions",
}
BASIS_MEANINGS = {
    "coordinator": "graded by the coordinator",
    "cctv_confirmed": "confirmed on CCTV by the control room",
    "member_witness": "a member's own sighting",
    "radio_call": "a radio call logged by the control room",
    "neighbouring_scheme": "passed on by a neighbouring scheme",
    "withdrawn": "withdrawn by the reporting member: suspected to be false",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Thumbnail:
    path: Path | None  # None: the stored photo is missing or unreadable


def _thumbnail(photo: ExportPhoto, store: PhotoStore, directory: Path) -> Thumbnail:
    target = directory / f"{photo.sha256}.jpg"
    try:
        with Image.open(store.path(photo.relative_path)) as image:
            # JPEG decodes at 1/2, 1/4 or 1/8 scale for a fraction of the work; ask for
            # the size the thumbnail will have, so the smallest scale that covers it is used.
            scale = THUMBNAIL_PIXELS / max(image.width, image.height, 1)
            if scale < 1:
                image.draft("RGB", (int(image.width * scale), int(image.height * scale)))
            small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        small.save(target, format="JPEG", quality=THUMBNAIL_QUALITY)
        return Thumbnail(target)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        logger.warning("photo %s cannot go into the PDF: %s", photo.sha256, exc)
        return Thumbnail(None)


def prepare_thumbnails(
    photos: Iterable[ExportPhoto], store: PhotoStore, directory: Path
) -> dict[str, Thumbnail]:
    """A reduced JPEG of each distinct photo, made side by side (Pillow frees the GIL)."""
    distinct = {photo.sha256: photo for photo in photos}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = pool.map(lambda photo: _thumbnail(photo, store, directory), distinct.values())
        return dict(zip(distinct, made, strict=True))


def _day(day: date) -> str:
    return formats.full_day(day)


def _day_span(first: date, last: date) -> str:
    return f"{formats.day(first)} to {formats.day(last)}"


def _period_words(data: ExportData) -> str:
    period = data.period
    return f"{_day(period.first)} to {_day(period.last)} ({period.timezone}, {period.days} days)"


def _local(moment: datetime) -> str:
    """`Sun 25 Oct 2026, 01:30 UTC+01:00`: the local time with its offset."""
    return formats.with_offset(moment)


@functools.lru_cache(maxsize=1 << 16)
def _width(text: str, font: str, size: float) -> float:
    return stringWidth(text, font, size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points; word widths are cached, since reports repeat words."""
    lines: list[str] = []
    space = _width(" ", font, size)
    for paragraph in text.splitlines() or [""]:
        current: list[str] = []
        used = 0.0
        for whole in paragraph.split(" "):
            word, measured = whole, _width(whole, font, size)
            while measured > width and len(word) > 1:  # a word longer than the line
                cut = max(1, int(len(word) * width / measured))
                if current:
                    lines.append(" ".join(current))
                    current, used = [], 0.0
                lines.append(word[:cut])
                word = word[cut:]
                measured = _width(word, font, size)
            if current and used + space + measured > width:
                lines.append(" ".join(current))
                current, used = [word], measured
            else:
                used = used + space + measured if current else measured
                current.append(word)
        lines.append(" ".join(current))
    return lines


class _Pages:
    """A canvas with a cursor: writes lines downwards and turns the page when full.

    A page's text goes into one text object, written out when the page is done:
    much cheaper than a separate text object for every line.
    """

    def __init__(self, canvas: Canvas, data: ExportData) -> None:
        self.canvas = canvas
        self.data = data
        self.page = 0
        self.y = PAGE_HEIGHT - MARGIN
        self.continued: str | None = None
        self._text = canvas.beginText()
        self._style: tuple[str, float, colors.Color] | None = None
        self._next: tuple[float, float] | None = None  # where a following line would go

    def line(  # noqa: PLR0917 - position and text, then the style
        self,
        x: float,
        y: float,
        text: str,
        font: str = FONT,
        size: float = 9.5,
        colour: colors.Color = colors.black,
    ) -> None:
        """One line of text at (x, y)."""
        text_object = self._text
        if self._style != (font, size, colour):
            text_object.setFont(font, size, leading=size + 3)
            text_object.setFillColor(colour)
            self._style = (font, size, colour)
        elif self._next == (x, y):
            text_object.textLine(text)  # the line below the last: no need to place it
            self._next = (x, y - size - 3)
            return
        text_object.setTextOrigin(x, y)
        text_object.textLine(text)
        self._next = (x, y - size - 3)

    def right(self, x: float, y: float, text: str, font: str = FONT, size: float = 9.5) -> None:
        self.line(x - _width(text, font, size), y, text, font, size)

    def new_page(self, continued: str | None = None) -> None:
        if self.page:
            self.finish_page()
        self.page += 1
        self.y = PAGE_HEIGHT - MARGIN
        self.continued = continued
        if continued:
            self.text(f"{continued} (continued)", BOLD, 11)
            self.y -= 4

    def finish_page(self) -> None:
        """The footer goes last, so that text extraction reads the page's content first."""
        period = self.data.period
        self.line(
            MARGIN,
            MARGIN,
            f"{self.data.scheme_name} · {_day_span(period.first, period.last)} · "
            "ShopWatch intelligence export · handle each report as its handling code says",
            FONT,
            7.5,
            colors.grey,
        )
        self.line(PAGE_WIDTH - MARGIN - 30, MARGIN, f"page {self.page}", FONT, 7.5, colors.grey)
        self.canvas.drawText(self._text)
        self.canvas.showPage()
        self._text = self.canvas.beginText()
        self._style = None
        self._next = None

    def room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page(self.continued)

    def text(
        self,
        text: str,
        font: str = FONT,
        size: float = 9.5,
        *,
        indent: float = 0.0,
        colour: colors.Color = colors.black,
    ) -> None:
        """Wrapped text; each line turns the page if it must."""
        for line in wrap(text, font, size, CONTENT_WIDTH - indent):
            self.room(size + 3)
            self.y -= size + 3
            self.line(MARGIN + indent, self.y, line, font, size, colour)

    def field(self, label: str, value: str | None) -> None:
        if not value:
            return
        label_width = 92.0
        for number, line in enumerate(wrap(value, FONT, 9.5, CONTENT_WIDTH - label_width)):
            self.room(LINE)
            self.y -= LINE
            if number == 0:
                self.line(MARGIN, self.y, label, BOLD)
            self.line(MARGIN + label_width, self.y, line)

    def gap(self, height: float = 6.0) -> None:
        self.y -= height


def _cover(pages: _Pages, data: ExportData) -> None:
    c = pages.canvas
    pages.new_page()
    pages.text("ShopWatch intelligence export", BOLD, 20)
    pages.gap(4)
    pages.text(data.scheme_name, BOLD, 15)
    pages.gap(6)
    pages.field("Period", _period_words(data))
    pages.field("Generated", _local(data.generated_at))
    pages.field("Exported by", data.exported_by.description)
    photos = len(data.photos)
    events = sum(len(r.events) for r in data.reports)
    pages.field("Contents", f"{len(data.reports)} reports, {photos} photos, {events} events")
    pages.gap(4)
    if data.witness_contact:
        pages.text(
            "WITNESS CONTACT DETAILS INCLUDED: this copy names the members who reported. "
            "Handle it as personal data and do not pass it on.",
            BOLD,
            10,
            colour=colors.red,
        )
    else:
        pages.text(
            "Source protection: reporting shops are named by their scheme reference only "
            "(e.g. NOR-M0012). The coordinator can identify them if the police need a witness.",
            size=9,
        )
    pages.gap(8)

    top = pages.y
    pages.text("Reports by category", BOLD, 11)
    for category, count in data.counts_by_category.items():
        pages.y -= LINE
        c.setFont(FONT, 9.5)
        c.drawString(MARGIN + 8, pages.y, category)
        c.drawRightString(MARGIN + 150, pages.y, str(count))
    left_bottom = pages.y
    pages.y = top
    column = MARGIN + CONTENT_WIDTH / 2
    c.setFont(BOLD, 11)
    c.drawString(column, pages.y - 14, "Reports by grading")
    y = pages.y - 14
    for code, count in sorted(Counter(r.grading.code for r in data.reports).items()):
        y -= LINE
        c.setFont(FONT, 9.5)
        c.drawString(column + 8, y, code)
        c.drawRightString(column + 150, y, str(count))
    pages.y = min(left_bottom, y) - 14

    _day_chart(pages, data)
    _hour_grid(pages, data)
    _legend(pages)


def _day_chart(pages: _Pages, data: ExportData) -> None:
    period = data.period
    days = period.dates()
    by_day: Counter[date] = Counter()
    earlier = 0
    for report in data.reports:
        day = report.occurred_at.date()
        if day < period.first:
            earlier += 1
        else:
            by_day[min(day, period.last)] += 1
    labels = [f"{WEEKDAYS[d.weekday()]} {d.day}" for d in days]
    values = [by_day[d] for d in days]
    if earlier:
        labels.insert(0, "earlier")
        values.insert(0, earlier)
    pages.text("Incidents by day (when they happened)", BOLD, 11)
    height = 150.0
    drawing = Drawing(CONTENT_WIDTH, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 28, 22
    chart.width, chart.height = int(CONTENT_WIDTH - 40), int(height - 36)
    chart.data = [values]
    chart.bars[0].fillColor = colors.HexColor("#3b6ea5")
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*values, 1]) * 1.15
    chart.valueAxis.labels.fontSize = 7
    step = max(1, len(labels) // 16)
    chart.categoryAxis.categoryNames = [
        label if n % step == 0 else "" for n, label in enumerate(labels)
    ]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
    chart.categoryAxis.labels.dy = -4
    drawing.add(chart)
    pages.room(height)
    pages.y -= height
    drawing.drawOn(pages.canvas, MARGIN, pages.y)
    pages.gap(6)


def _hour_grid(pages: _Pages, data: ExportData) -> None:
    """Weekday by hour of day: where in the week incidents cluster."""
    counts: Counter[tuple[int, int]] = Counter(
        (r.occurred_at.weekday(), r.occurred_at.hour) for r in data.reports
    )
    peak = max(counts.values(), default=0)
    pages.text("Incidents by weekday and hour (local time)", BOLD, 11)
    label_width = 28.0
    cell = (CONTENT_WIDTH - label_width) / 24
    height = cell * 0.8
    total = height * 8 + 4
    pages.room(total)
    c = pages.canvas
    top = pages.y - 4
    c.setFont(FONT, 6.5)
    for hour in range(24):
        c.drawCentredString(
            MARGIN + label_width + cell * (hour + 0.5), top - height + 3, f"{hour}"
        )
    for day in range(7):
        y = top - height * (day + 2)
        c.setFillColor(colors.black)
        c.setFont(FONT, 7.5)
        c.drawString(MARGIN, y + 3, WEEKDAYS[day])
        for hour in range(24):
            count = counts.get((day, hour), 0)
            shade = 1.0 - (0.85 * count / peak if peak else 0.0)
            c.setFillColor(colors.Color(shade, shade, 1.0))
            c.setStrokeColor(colors.lightgrey)
            c.rect(MARGIN + label_width + cell * hour, y, cell, height, stroke=1, fill=1)
            if count:
                c.setFillColor(colors.white if shade < 0.5 else colors.black)
                c.setFont(FONT, 6)
                c.drawCentredString(MARGIN + label_width + cell * (hour + 0.5), y + 3, str(count))
    c.setFillColor(colors.black)
    pages.y = top - height * 9
    pages.gap(4)


def _legend(pages: _Pages) -> None:
    pages.text("The 3x5x2 grading on each report", BOLD, 11)
    pages.text(
        "Source: " + "; ".join(f"{k} {v}" for k, v in SOURCE_MEANINGS.items()) + ".", size=8.5
    )
    pages.text(
        "Intelligence: " + "; ".join(f"{k} {v}" for k, v in ASSESSMENT_MEANINGS.items()) + ".",
        size=8.5,
    )
    pages.text(
        "Handling: " + "; ".join(f"{k} {v}" for k, v in HANDLING_MEANINGS.items()) + ".",
        size=8.5,
    )


def _grading_words(report: ExportReport) -> str:
    g = report.grading
    return (
        f"{g.code}: source {g.source_evaluation} ({SOURCE_MEANINGS[g.source_evaluation]}), "
        f"intelligence {g.intelligence_assessment} "
        f"({ASSESSMENT_MEANINGS[g.intelligence_assessment]}), handling {g.handling_code} "
        f"({HANDLING_MEANINGS[g.handling_code]}); {BASIS_MEANINGS[g.basis]}"
    )


def _photos(pages: _Pages, report: ExportReport, thumbnails: dict[str, Thumbnail]) -> None:
    _photo_rows(pages, report.photos, thumbnails)


def _photo_rows(
    pages: _Pages, shown: tuple[ExportPhoto, ...], thumbnails: dict[str, Thumbnail]
) -> None:
    if not shown:
        return
    pages.gap(4)
    pages.text(f"Photos ({len(shown)})", BOLD, 10.5)
    box_w, box_h = PHOTO_BOX
    c = pages.canvas
    for start in range(0, len(shown), 2):
        pages.room(box_h + 16)
        top = pages.y - 4
        for column, photo in enumerate(shown[start : start + 2]):
            x = MARGIN + column * (box_w + 12)
            thumbnail = thumbnails.get(photo.sha256, Thumbnail(None))
            if thumbnail.path is None:
                c.setStrokeColor(colors.grey)
                c.rect(x, top - box_h, box_w, box_h, stroke=1, fill=0)
                pages.line(x + box_w / 2 - 35, top - box_h / 2, "photo file missing", FONT, 8)
            else:
                scale = min(box_w / photo.width, box_h / photo.height)
                w, h = photo.width * scale, photo.height * scale
                c.drawImage(str(thumbnail.path), x, top - h, width=w, height=h)
            pages.line(x, top - box_h - 8, f"sha256 {photo.sha256}", "Courier", 5.6)
        pages.y = top - box_h - 12


def _report(pages: _Pages, report: ExportReport, thumbnails: dict[str, Thumbnail]) -> None:
    title = f"Report {report.id}"
    pages.new_page()
    pages.text(title, BOLD, 15)
    pages.right(
        PAGE_WIDTH - MARGIN, pages.y, f"{report.category} · {report.urgency} · {report.status}"
    )
    pages.continued = title
    pages.gap(6)
    pages.field("Logged", _local(report.logged_at))
    pages.field("Happened", _local(report.occurred_at))
    pages.field("Reported by", report.reported_by)
    if report.origin_scheme:
        pages.field("From scheme", report.origin_scheme)
    location = report.location_text or ""
    if report.latitude is not None and report.longitude is not None:
        location = f"{location} ({report.latitude:.5f}, {report.longitude:.5f})".strip()
    pages.field("Location", location)
    pages.field("Heading", report.direction)
    if report.value_pence is not None:
        pages.field("Value", formats.money(report.value_pence))
    pages.field("Police ref.", report.police_reference)
    pages.field("Grading", _grading_words(report))
    pages.field("Conditions", report.grading.handling_conditions)
    if report.witness is not None:
        w = report.witness
        contact = ", ".join(
            part
            for part in (
                w.name,
                f"@{w.username}" if w.username else None,
                f"Telegram id {w.telegram_user_id}",
                w.shop_name,
                w.street,
            )
            if part
        )
        pages.field("Witness", contact)
    pages.gap(4)
    pages.text("Description", BOLD, 10.5)
    pages.text(report.description)
    if report.subject_description:
        pages.gap(2)
        pages.text("Subject", BOLD, 10.5)
        pages.text(report.subject_description)
    given = [(name, value) for name, value in report.descriptors.items() if value is not None]
    if given:
        pages.gap(2)
        for name, value in given:
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            pages.field(name.replace("_", " ").capitalize(), shown)
    _photos(pages, report, thumbnails)
    pages.gap(4)
    pages.text("Timeline", BOLD, 10.5)
    pages.text(f"{_local(report.logged_at)} · reported by {report.reported_by}", size=9)
    for event in report.events:
        what = event.kind.value.replace("_", " ")
        if event.status:
            what = f"{what}: {event.status.replace('_', ' ')}"
        by = f" · {event.by}" if event.by else ""
        said = f" · {event.text}" if event.text else ""
        pages.text(f"{_local(event.at)} · {what}{by}{said}", size=9)


def _subjects(pages: _Pages, data: ExportData, thumbnails: dict[str, Thumbnail]) -> None:
    """The galleries as they stand at the export, and subjects linked to its reports."""
    pages.new_page()
    pages.text(f"Subjects ({len(data.subjects)})", BOLD, 15)
    pages.text(
        "People in the scheme's galleries when this export was made, and any other person "
        "linked to a report in it. Descriptions have member shops' names struck out.",
        size=9,
    )
    pages.continued = "Subjects"
    for subject in data.subjects:
        _subject(pages, subject, thumbnails)


def _subject(pages: _Pages, subject: ExportSubject, thumbnails: dict[str, Thumbnail]) -> None:
    pages.room(80)
    pages.gap(10)
    heading = f"Subject {subject.reference}"
    if subject.name:
        heading = f"{heading}: {subject.name}"
    pages.text(heading, BOLD, 12)
    kind = "Known" if subject.kind == "known" else "ID sought"
    pages.field("Kind", f"{kind}, {subject.status.replace('_', ' ')}")
    if subject.excluded_until is not None:
        pages.field("EXCLUDED", f"until {_day(subject.excluded_until)}")
    if subject.aliases:
        pages.field("Also known as", ", ".join(subject.aliases))
    pages.field("Description", subject.description)
    pages.field("Appearance", subject.appearance)
    pages.field("Identified", subject.identification_basis)
    pages.field("In galleries", f"since {_local(subject.created_at)}")
    pages.field("Last seen", _local(subject.last_seen_at))
    if subject.left_galleries_at is not None:
        pages.field("Left galleries", _local(subject.left_galleries_at))
    if subject.merged_into is not None:
        pages.field("Merged into", f"subject {subject.merged_into}")
    if subject.report_ids:
        pages.field("Reports", ", ".join(str(i) for i in subject.report_ids))
    _photo_rows(pages, subject.photos, thumbnails)


def _notices(pages: _Pages, notices: tuple[ExportNotice, ...]) -> None:
    pages.new_page()
    pages.text(f"Notices ({len(notices)})", BOLD, 15)
    pages.text(
        "Warnings and exclusions the scheme's board issued on these subjects. The premises "
        "covered are the scheme's member shops at issue, named on the letter served.",
        size=9,
    )
    pages.continued = "Notices"
    for notice in notices:
        pages.room(60)
        pages.gap(8)
        state = "in force" if notice.in_force else "not in force"
        pages.text(
            f"Notice {notice.reference} · {notice.stage} · {state} · "
            f"subject {notice.subject_reference}",
            BOLD,
            11,
        )
        decided = notice.decided_by
        if notice.board_decision_ref:
            decided = f"{decided} (board decision {notice.board_decision_ref})"
        pages.field("Decided by", decided)
        pages.field("Runs", f"{_day(notice.starts_on)} to {_day(notice.ends_on)}")
        pages.field("Review", _day(notice.review_on))
        pages.field("Premises", f"{notice.premises_count} member premises")
        pages.field("Conditions", notice.conditions)
        if notice.served_on is not None:
            pages.field("Served", f"{_day(notice.served_on)}, {notice.served_how or ''}")
        if notice.appeal_received_on is not None:
            outcome = notice.appeal_outcome or "not yet decided"
            decided_day = notice.appeal_decided_on
            decided_on = f" on {_day(decided_day)}" if decided_day else ""
            ref = f" ({notice.appeal_decision_ref})" if notice.appeal_decision_ref else ""
            pages.field(
                "Appeal",
                f"received {_day(notice.appeal_received_on)}; {outcome}{decided_on}{ref}",
            )


def write_pdf(data: ExportData, path: Path, thumbnails: dict[str, Thumbnail]) -> int:
    """Write the PDF; returns its number of pages."""
    with open_private(path) as out:
        canvas = Canvas(out, pagesize=A4, pageCompression=1)
        canvas.setTitle(f"{data.scheme_name}: intelligence export {data.period.key}")
        canvas.setAuthor("ShopWatch")
        canvas.setSubject(f"generated {iso(data.generated_at)}")
        pages = _Pages(canvas, data)
        _cover(pages, data)
        for report in data.reports:
            _report(pages, report, thumbnails)
        if data.subjects:
            _subjects(pages, data, thumbnails)
        if data.notices:
            _notices(pages, data.notices)
        pages.finish_page()
        canvas.save()
    return pages.page
