"""The notice letter a scheme serves on a person: a PDF, drawn with reportlab as the exports are.

It says what a person served with a notice is owed: who the scheme is, what it
decided and who decided it, which premises and until when, the conditions, how
to appeal and where to write, and the privacy notice owed to someone whose data
the scheme did not collect from them. Service is recorded on the notice, and a
letter made after it says when and how it was served; one made before leaves
the lines blank for whoever serves it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from broadcast.texts import subjects as texts
from config.schemes import SubjectsConfig
from config.vocabulary import NoticeStage
from storage.export.pdf_file import wrap

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 56.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = MARGIN + 24.0
FONT = "Helvetica"
BOLD = "Helvetica-Bold"


@dataclass(frozen=True, slots=True)
class LetterIncident:
    when: date
    category: str
    place: str | None


def privacy_notice(policy: SubjectsConfig, retention_days: int) -> str:
    """The scheme's privacy notice with its own periods in it, so the letter promises what
    the nightly jobs do; plain replacement, so a scheme's text with other braces prints
    as written."""
    return policy.privacy_notice.replace("{known_days}", str(policy.known_days)).replace(
        "{retention_days}", str(retention_days)
    )


@dataclass(frozen=True, slots=True)
class NoticeLetter:
    """Everything the letter prints, read from the notice, its subject and the schemes file."""

    scheme_name: str
    reference: str
    issued_on: date
    name: str
    aliases: tuple[str, ...]
    stage: NoticeStage
    decided_by: str
    board_decision_ref: str | None
    premises: tuple[str, ...]
    starts_on: date
    ends_on: date
    review_on: date
    conditions: str
    served_on: date | None
    served_how: str | None
    incidents: tuple[LetterIncident, ...]
    appeal: str
    address: str
    privacy_notice: str

    @property
    def title(self) -> str:
        return texts.LETTER_TITLES[self.stage]


class _Writer:
    """Lines down the page, a new page when this one is full, the footer on each."""

    def __init__(self, canvas: Canvas, letter: NoticeLetter) -> None:
        self.canvas = canvas
        self.letter = letter
        self.page = 1
        self.y = PAGE_HEIGHT - MARGIN

    def _footer(self) -> None:
        self.canvas.setFont(FONT, 7.5)
        self.canvas.setFillColor(colors.grey)
        self.canvas.drawString(
            MARGIN,
            MARGIN,
            texts.LETTER_FOOTER.format(
                scheme=self.letter.scheme_name, reference=self.letter.reference, page=self.page
            ),
        )
        self.canvas.setFillColor(colors.black)

    def finish(self) -> None:
        self._footer()
        self.canvas.showPage()

    def _room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.finish()
            self.page += 1
            self.y = PAGE_HEIGHT - MARGIN

    def text(self, text: str, font: str = FONT, size: float = 10.5, indent: float = 0.0) -> None:
        for line in wrap(text, font, size, WIDTH - indent):
            self._room(size + 4)
            self.y -= size + 4
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN + indent, self.y, line)

    def heading(self, text: str) -> None:
        self._room(40)  # a heading never sits alone at the foot of a page
        self.gap(8)
        self.text(text, BOLD, 11.5)
        self.gap(2)

    def field(self, label: str, value: str) -> None:
        label_width = 110.0
        for number, line in enumerate(wrap(value, FONT, 10.5, WIDTH - label_width)):
            self._room(14.5)
            self.y -= 14.5
            if number == 0:
                self.canvas.setFont(BOLD, 10.5)
                self.canvas.drawString(MARGIN, self.y, label)
            self.canvas.setFont(FONT, 10.5)
            self.canvas.drawString(MARGIN + label_width, self.y, line)

    def gap(self, height: float = 6.0) -> None:
        self.y -= height


def render_letter(letter: NoticeLetter) -> bytes:
    """The letter as PDF bytes."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{letter.scheme_name}: {letter.title.lower()} {letter.reference}")
    canvas.setAuthor(letter.scheme_name)
    w = _Writer(canvas, letter)
    w.text(letter.scheme_name, BOLD, 16)
    w.gap(2)
    w.text(letter.title, BOLD, 14)
    w.gap(8)
    w.field("Reference", letter.reference)
    w.field("Date", texts.letter_day(letter.issued_on))
    w.field("To", texts.letter_to(letter.name, letter.aliases))
    w.field("From", texts.letter_day(letter.starts_on))
    w.field("Until", f"the end of {texts.letter_day(letter.ends_on)}")
    w.field("Review", texts.letter_day(letter.review_on))
    w.field("Decided by", texts.letter_decided(letter.decided_by, letter.board_decision_ref))
    w.gap(8)
    w.text(
        texts.letter_opening(letter.stage, letter.scheme_name, letter.starts_on, letter.ends_on)
    )
    w.gap(4)
    w.text(texts.letter_review(letter.review_on, letter.stage))

    w.heading(texts.LETTER_PREMISES)
    if letter.premises:
        for premises in letter.premises:
            w.text(f"- {premises}", indent=8)
    else:
        w.text(texts.LETTER_NO_PREMISES)

    w.heading(texts.LETTER_INCIDENTS)
    if letter.incidents:
        for incident in letter.incidents:
            w.text(
                f"- {texts.letter_incident(incident.when, incident.category, incident.place)}",
                indent=8,
            )
    else:
        w.text(texts.LETTER_NO_INCIDENTS)

    if letter.conditions:
        w.heading(texts.LETTER_CONDITIONS)
        w.text(letter.conditions)

    w.heading(texts.LETTER_APPEAL)
    w.text(letter.appeal)
    w.gap(4)
    w.text(texts.LETTER_ADDRESS, BOLD)
    for line in letter.address.splitlines():
        w.text(line, indent=8)

    w.heading(texts.LETTER_SERVICE)
    if letter.served_on is not None and letter.served_how:
        w.text(texts.letter_served(letter.served_on, letter.served_how))
    else:
        w.text(texts.LETTER_SERVICE_BLANK)

    w.heading(texts.LETTER_PRIVACY)
    for paragraph in letter.privacy_notice.split("\n\n"):
        w.text(" ".join(paragraph.split()), size=9.5)
        w.gap(3)
    w.finish()
    canvas.save()
    return out.getvalue()
