"""What the people side of ShopWatch says: notice letters, reminders, the digest, SAR letters.

Kept apart from the code that decides, so the words can be read (and changed) in one place.
Dates are written out the British way ("2 December 2026").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from config import formats
from config.formats import as_read
from config.vocabulary import AppealOutcome, NoticeStage

if TYPE_CHECKING:
    from broadcast.subjects.shapes import Digest, SubjectAccess
    from storage.subject_models import Notice


def letter_day(value: date) -> str:
    """A day as a notice letter writes it (`2 December 2026`)."""
    return formats.letter_day(value)


def day(value: date) -> str:
    """A day as every text writes it (`2 Dec 2026`), kept here for the subjects' callers."""
    return formats.day(value)


def notice_reference(prefix: str, notice_id: int) -> str:
    """The notice's number on its letter: `NOR-N0007`."""
    return f"{prefix}-N{notice_id:04d}"


# --- the notice letter -------------------------------------------------------------------

LETTER_TITLES = {
    NoticeStage.WARNING: "Warning notice",
    NoticeStage.EXCLUSION: "Exclusion notice",
}


def letter_to(name: str, aliases: Sequence[str]) -> str:
    if aliases:
        return f"{name} (also known as {', '.join(aliases)})"
    return name


def letter_opening(stage: NoticeStage, scheme: str, starts: date, ends: date) -> str:
    if stage is NoticeStage.EXCLUSION:
        return (
            f"{scheme} has decided to exclude you from the premises of all its member "
            f"businesses listed below, from {letter_day(starts)} until the end of "
            f"{letter_day(ends)}. "
            "During that time you must not enter any of them. If you do, staff may ask you "
            "to leave and you may be treated as a trespasser; the police may be called."
        )
    return (
        f"{scheme} is writing to warn you. Its member businesses have reported incidents "
        "involving you, listed below. This warning stands from "
        f"{letter_day(starts)} until the end of {letter_day(ends)}. "
        "If there are further incidents in "
        "that time, the scheme may exclude you from the premises of all its member "
        "businesses."
    )


def letter_decided(decided_by: str, board_ref: str | None) -> str:
    if board_ref:
        return f"{decided_by} (board decision {board_ref})"
    return decided_by


def letter_review(review: date, stage: NoticeStage) -> str:
    what = "exclusion" if stage is NoticeStage.EXCLUSION else "warning"
    return (
        f"The scheme will review this {what} on {letter_day(review)}. If no incident involving "
        "you has been reported by then, it may end it early."
    )


LETTER_PREMISES = "Premises covered"
LETTER_NO_PREMISES = "All premises of the scheme's member businesses."
LETTER_INCIDENTS = "Incidents reported to the scheme"
LETTER_NO_INCIDENTS = "The incidents behind this notice are no longer held by the scheme."
LETTER_CONDITIONS = "Conditions"
LETTER_APPEAL = "How to appeal"
LETTER_ADDRESS = "Write to"
LETTER_SERVICE = "Service of this notice"
LETTER_SERVICE_BLANK = "Served on ______________________  by ______________________________"
LETTER_PRIVACY = "How the scheme uses information about you"
LETTER_FOOTER = "{scheme} · {reference} · page {page}"


def letter_served(served_on: date, how: str) -> str:
    return f"Served on {letter_day(served_on)}: {how}."


def letter_incident(when: date, category: str, place: str | None) -> str:
    where = f", {place}" if place else ""
    return f"{letter_day(when)}: {category}{where}"


# --- reminders to coordinators ------------------------------------------------------------


def reminder_review(
    reference: str, name: str, subject_id: int, review: date, since: Sequence[int]
) -> str:
    """`since`: the reports linked to the subject that happened after the notice began."""
    due = (
        f"Notice {reference} on {name} (Subject #{subject_id}) is due for review on {day(review)}."
    )
    if not since:
        return (
            f"{due} No incident has been linked to them since it began: the board may end it "
            "early."
        )
    reports = ", ".join(f"#{n}" for n in since)
    incidents = "1 incident" if len(since) == 1 else f"{len(since)} incidents"
    return (
        f"{due} {incidents} linked to them since it began (report {reports}): not free of "
        "incidents, so it runs to its end unless the board decides otherwise."
    )


def reminder_expiry(reference: str, name: str, subject_id: int, ends: date) -> str:
    return (
        f"Notice {reference} on {name} (Subject #{subject_id}) ends on {day(ends)}. After "
        "that they are no longer excluded unless the board issues a new notice."
    )


# --- why a step was refused (the reason codes of InvalidInputError) -----------------------

PROBLEMS = {
    "notice_not_in_force": "notice {value} was withdrawn or overturned: there is nothing to serve",
    "letter_address_missing": (
        "the schemes file gives no address for appeals: set `address` under"
        " [scheme.subjects] (or [defaults.subjects]) for {value}"
    ),
    "served_how_missing": "say how the notice was served (e.g. 'by hand, PCSO Hale')",
    "served_before_issue": "{value} is before the notice was issued",
    "appeal_already_recorded": "an appeal against this notice is recorded already",
    "appeal_before_issue": "the notice was issued on {value}: an appeal cannot come before it",
    "appeal_in_future": "{value} is still to come: record an appeal once it has been received",
    "appeal_text_too_long": (
        "the grounds are kept to {value} characters: give a summary and keep the person's "
        "letter on file; nothing was recorded"
    ),
    "decided_before_appeal": "the appeal was received on {value}: it cannot be decided before",
    "no_appeal": "no appeal against this notice is recorded",
    "appeal_already_decided": "the appeal against this notice is decided already",
    "decision_ref_missing": "give the board decision's reference",
    "varied_end_invalid": "a varied notice needs a new end after its start and before its old end",
    "reason_missing": "give the reason for the erasure (e.g. 'wrong identification')",
    "subject_erased": (
        "subject {value}: it was erased (a wrong identification), and the scheme holds "
        "nothing about that person under it but the record that it was erased"
    ),
}


def problem(reason: str, value: str | None) -> str:
    """A refusal in plain words; an unknown code is shown as it is."""
    return PROBLEMS.get(reason, reason).format(value=value or "")


# --- subject access -----------------------------------------------------------------------


def sar_summary(bundle: SubjectAccess) -> str:
    """The bundle in one line of counts, with the answer's deadlines."""
    return (
        f"{bundle.scheme_name}, subject {bundle.reference}: {len(bundle.notices)} notice(s), "
        f"{len(bundle.reports)} report(s), {len(bundle.photos)} photo(s), "
        f"{len(bundle.disclosures)} disclosure(s). Answer by {day(bundle.deadline)} "
        f"({day(bundle.extended_deadline)} if extended for a complex request)."
    )


def _lines(title: str, rows: Sequence[str]) -> list[str]:
    return ["", title, "-" * len(title), *(rows or ["None."])]


SAR_ACTIONS = {
    "subject.view": "viewed",
    "subject.gallery": "shown in the gallery",
    "subject.card": "shown to member businesses",
    "subject.digest": "shown in the members' weekly digest",
    "subject.access": "copied for a request like this one",
    "notice.letter": "notice letter made",
    "export": "included in an export for the police",
}


def _when(value: str | None) -> str:
    """An ISO time from the bundle as the house writes a moment: `2 Dec 2026, 14:00`."""
    if not value:
        return "not recorded"
    moment = datetime.fromisoformat(value)
    return as_read(moment)


def _on(value: str | None) -> str:
    """An ISO day from the bundle as the house writes a day: `2 Dec 2026`."""
    return day(date.fromisoformat(value)) if value else "not recorded"


def _notice_line(notice: dict[str, Any]) -> str:
    line = (
        f"{notice['reference']}: {notice['stage']} from {_on(notice['starts_on'])} to "
        f"{_on(notice['ends_on'])}, decided by {notice['decided_by']}; "
        f"served {_on(notice['served_on'])}"
    )
    if notice["appeal_received_on"]:
        line += f"; appeal {notice['appeal_outcome'] or 'received, not yet decided'}"
    return line


def sar_record(bundle: SubjectAccess) -> str:
    """The bundle in plain words, for the person to read."""
    record = bundle.record
    lines = [
        f"What {bundle.scheme_name} holds about you (its reference {bundle.reference})",
        f"Made {as_read(bundle.generated_at)}",
    ]
    about = [
        f"Name: {record['name']}" if record["name"] else "Name: not known to the scheme",
        *([f"Also known as: {', '.join(record['aliases'])}"] if record["aliases"] else []),
        f"Description: {record['description'] or 'none'}",
        *(
            [f"Appearance: {record['appearance_descriptor']}"]
            if record["appearance_descriptor"]
            else []
        ),
        *(
            [f"How you were identified: {record['identification_basis']}"]
            if record["identification_basis"]
            else []
        ),
        f"In the scheme's galleries since: {_when(record['created_at'])}",
        f"Last reported seen: {_when(record['last_seen_at'])}",
    ]
    lines += _lines("About you", about)
    lines += _lines(
        "Notices",
        [_notice_line(n) for n in bundle.notices],
    )
    lines += _lines(
        "Incidents reported to the scheme",
        [
            f"Report {r['number']}, {_when(r['happened_at'])}, {r['category']}, "
            f"{r['where'] or 'place not given'}: "
            f"{r['description']}"
            + (f" (person described: {r['person_described']})" if r["person_described"] else "")
            for r in bundle.reports
        ],
    )
    lines += _lines(
        "What member businesses told the scheme's coordinators",
        [f"{_when(i['at'])}: {i['text']}" for i in bundle.intel],
    )
    lines += _lines(
        "Photos (in the folder photos/)", [f"{p.width}x{p.height}" for p in bundle.photos]
    )
    lines += _lines(
        "Who has seen your information",
        [
            f"{as_read(d.at)}: {SAR_ACTIONS.get(d.action, d.action)} by {d.by}"
            + (f" ({d.how})" if d.how else "")
            for d in bundle.disclosures
        ],
    )
    return "\n".join(lines) + "\n"


def sar_cover_letter(bundle: SubjectAccess) -> str:
    """A letter to complete and send with the bundle: the placeholders are in [brackets]."""
    address = "\n".join(line.strip() for line in bundle.address.strip().splitlines())
    return f"""{bundle.scheme_name}
{address or "[the scheme's address]"}

[Date]

[Name of the person who asked]
[Their address]

Your request for your personal data (our reference {bundle.reference})

Dear [name],

Thank you for your request, which we received on {day(bundle.received)}. Enclosed is a copy
of the personal data {bundle.scheme_name} holds about you:

- what-we-hold.txt: what we hold, in plain words: the description and details we keep, any
  notices issued to you, the incidents reported to us that we have linked to you, what
  our member businesses have told us, and everyone who has seen this information;
- subject-access-{bundle.reference}.json: the same in a form a computer can read;
- photos/: the images of you we hold ({len(bundle.photos)}).

Why we hold it: to prevent and detect crime in our member businesses (our legitimate
interests, UK GDPR article 6(1)(f)). It came from our member businesses and their staff,
and from the police where noted. We share it only with our member businesses, our
control room and the police. We keep it while a notice runs and for the period our
policy sets after it, then delete it.

To protect the people who reported incidents, we have left out who reported them and
the names of the businesses involved, as the law allows (Data Protection Act 2018,
schedule 2, paragraph 16).

You may ask us to correct anything wrong, object to our holding it, or complain to the
Information Commissioner's Office (ico.org.uk, 0303 123 1113).

Yours sincerely,

[Name], [role], for {bundle.scheme_name}

----
For the coordinator (delete before sending): the request was received on
{day(bundle.received)}; the answer is due by {day(bundle.deadline)}, or by
{day(bundle.extended_deadline)} if it is extended as complex (tell the person within the first
month, and why). Read every file before sending: check that nothing in the free text
identifies who reported or who told us what.
"""


# --- the weekly digest to members ---------------------------------------------------------


def digest_summary(digest: Digest, cards: int) -> str:
    period = digest.period
    lines = [
        f"{digest.scheme_name}: last week, {day(period.first)} to {day(period.last)}",
        "",
    ]
    if digest.sought:
        lines.append(f"New ID sought: {len(digest.sought)}. Do you know them?")
        if cards:
            lines.append("Their photos follow; tell a coordinator privately if you do.")
        lines += [f"- Subject #{s.id}: {s.description or 'no description'}" for s in digest.sought]
    else:
        lines.append("New ID sought: none.")
    lines.append("")
    if digest.began:
        lines.append("New exclusions:")
        lines += [f"- {e.name} ({e.reference}), until {e.until}" for e in digest.began]
    else:
        lines.append("New exclusions: none.")
    if digest.ended:
        lines.append("Exclusions ended (no longer excluded):")
        lines += [f"- {e.name} ({e.reference}), ended {e.until}" for e in digest.ended]
    else:
        lines.append("Exclusions ended: none.")
    lines.append("")
    total = sum(digest.incidents.values())
    if total:
        parts = ", ".join(f"{category} {count}" for category, count in digest.incidents.items())
        lines.append(f"Incidents logged: {total} ({parts}).")
    else:
        lines.append("Incidents logged: none.")
    shops = "shop" if digest.shops == 1 else "shops"
    lines.append(f"{digest.shops} member {shops} reported.")
    lines += [
        "",
        "For members only: please do not copy, forward or share. This digest goes every "
        "Monday; a coordinator can stop it for you.",
    ]
    return "\n".join(lines)


def digest_card(subject_id: int, description: str, last_seen: datetime) -> str:
    return (
        f"ID sought: Subject #{subject_id}\n{description or 'No description.'}\n"
        f"Last seen {as_read(last_seen)}.\n"
        "Do you know this person? Tell a coordinator privately."
    )


# --- subjects in the chats: the buttons, the answers, the gallery ---------------------------

BUTTON_NEW_SUBJECT = "New subject"
BUTTON_GALLERY_PREVIOUS = "◀ Previous"
BUTTON_GALLERY_NEXT = "Next ▶"
SUBJECT_PRESS_GONE = "That report is no longer in the log."
SUBJECT_PRESS_EXPIRED = "That button has expired: use /gallery again."
GALLERY_EMPTY = "The galleries are empty: no one is sought, known or excluded just now."
KIND_NAMES = {"id_sought": "ID sought", "known": "Known"}


def subject_made(subject_id: int, report_id: int, photos: int) -> str:
    with_photos = f" with its {photos} photo{'s' if photos != 1 else ''}" if photos else ""
    return (
        f"Subject #{subject_id} (ID sought) made from report #{report_id}{with_photos}. "
        "It is in the scheme's galleries now."
    )


def subject_report_withdrawn(report_id: int) -> str:
    return (
        f"Report #{report_id} was withdrawn by its sender, so it is nobody's evidence: "
        "no subject can be made from it."
    )


def subject_report_has_subject(report_id: int, subject_id: str) -> str:
    return f"Report #{report_id} is Subject #{subject_id} already: nothing new was made."


def gallery_card(
    *,
    subject_id: int,
    kind: str,
    name: str | None,
    description: str,
    last_seen: datetime,
    excluded_until: date | None,
    reports: Sequence[int] | None,
    position: int,
    total: int,
    neighbour: str | None,
) -> str:
    """One subject as the chat gallery shows it; `reports` only for the control room's
    people and the coordinators, `neighbour` names the scheme a neighbour's subject is of."""
    head = "EXCLUDED" if excluded_until is not None else KIND_NAMES.get(kind, kind)
    lines = [f"{head} · Subject #{subject_id} ({position} of {total})"]
    if neighbour:
        lines.append(f"From {neighbour}, a neighbouring scheme")
    if name:
        lines.append(f"Name: {name}")
    if excluded_until is not None:
        lines.append(f"Excluded until {day(excluded_until)}")
    if description:
        lines.append(description)
    lines.append(f"Last seen {day(last_seen.date())}")
    if reports:
        lines.append("Reports: " + ", ".join(f"#{n}" for n in reports))
    return "\n".join(lines)


def alert_excluded(until: date, subject_id: int) -> str:
    """The control room's card of a report linked to an excluded subject."""
    return f"⛔ EXCLUDED until {day(until)} (Subject #{subject_id})"


LINK_USAGE = "Link a report to a subject: /link <subject> <report>, e.g. /link 12 40"
MERGE_USAGE = (
    "Merge two subjects (the same person): /merge <kept> <merged>, e.g. /merge 12 15 folds "
    "Subject #15 into Subject #12"
)
PROBLEMS.update(
    {
        "subject_not_active": "that subject is {value}: it takes no more reports",
        "merge_same_subject": "Subject #{value} cannot be merged into itself",
        "report_has_subject": "the report is Subject #{value} already",
    }
)


def linked(subject_id: int, report_id: int) -> str:
    return f"Report #{report_id} is linked to Subject #{subject_id}, with its photos."


def already_linked(subject_id: int, report_id: int) -> str:
    return f"Report #{report_id} was linked to Subject #{subject_id} already: nothing changed."


def merged(kept_id: int, gone_id: int) -> str:
    return (
        f"Subject #{gone_id} is merged into Subject #{kept_id}: its reports, photos, answers "
        f"and notices are Subject #{kept_id}'s now."
    )


def refused(reason: str, value: str | None) -> str:
    """A refusal as a sentence of its own."""
    said = problem(reason, value)
    return f"{said[:1].upper()}{said[1:]}."


def not_found(what: str) -> str:
    return f"No {what} in this scheme."


DIGEST_USAGE = "Turn your Monday digest off or on: /digest off, or /digest on"


def digest_set(on: bool) -> str:
    """A member's answer once their Monday digest is stopped or restarted."""
    if on:
        return "Your Monday digest is on: it comes each Monday morning. /digest off stops it."
    return "Your Monday digest is off: no more Monday summaries. /digest on restarts it."


# --- suggestions to the coordinators: "Possibly Subject #12" ------------------------------

BUTTON_LINK = "Link"
BUTTON_NOT_THEM = "Not them"
SUGGESTION_OTHER_SCHEME = "That suggestion belongs to another scheme."
SUGGESTION_GONE = (
    "That suggestion is no longer held (its subject was merged, left the galleries or was "
    "erased): nothing changed."
)


def suggestion_why(reason: str, distance: int | None, words: Sequence[str]) -> str:
    """Why the report may show the subject, in the coordinator's words."""
    if reason == "photo":
        return f"the same photo (distance {distance} of 64 bits; 0 is identical)"
    return "shared words: " + ", ".join(words)


def suggestion(
    *,
    subject_id: int,
    kind: str,
    name: str | None,
    subject_description: str,
    report_id: int,
    category: str,
    when: datetime,
    report_description: str,
    why: str,
) -> str:
    """The coordinators' question: is this report's person the subject?"""
    who = name or KIND_NAMES.get(kind, kind)
    about = _short(subject_description) or "no description"
    return (
        f"Possibly Subject #{subject_id}: report #{report_id} may show them.\n"
        f"Why: {why}.\n"
        f"Report #{report_id}, {category}, {as_read(when)}: "
        f"{_short(report_description) or 'no description'}\n"
        f"Subject #{subject_id} ({who}): {about}\n"
        "A suggestion, never a decision: Link adds the report to the subject, Not them "
        "keeps them apart."
    )


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def suggestion_decided(question: str, *, linked: bool, by: str) -> str:
    """Every coordinator's copy of the question once one of them has answered it."""
    what = "Linked" if linked else "Marked Not them"
    return f"{question}\n\n{what} by {by}."


def suggestion_dismissed(subject_id: int, report_id: int) -> str:
    return (
        f"Noted: report #{report_id} is not Subject #{subject_id}. Nothing is linked, and "
        "this pair is not suggested again."
    )


def suggestion_was_dismissed(subject_id: int, report_id: int) -> str:
    return (
        f"Report #{report_id} was marked Not them for Subject #{subject_id} already: "
        f"nothing changed. If it is them after all: /link {subject_id} {report_id}"
    )


# --- "Do you know this person?": the members' group, the member, the coordinators --------

BUTTON_I_KNOW = "I know who this is"
KNOW_QUESTION_HEAD = "Who is Subject #"
"""How the bot's question to a member begins: their reply to it is their answer."""
KNOW_PLACEHOLDER = "Their name, where they are seen…"
KNOW_ASKED = (
    "I have asked you in our private chat: what you tell me there goes to the scheme's "
    "coordinators only."
)
KNOW_GONE = "That person is no longer in the galleries: there is nothing to tell."
KNOW_OTHER_SCHEME = "That card is for another scheme's members."
KNOW_EXPIRED = (
    "That question is no longer open (answered, or asked too long ago): press "
    "I know who this is on the card again."
)
KNOW_WORDS_ONLY = "Please answer in words, as a reply to the question: nothing was kept."


def do_you_know(subject_id: int, description: str, last_seen: datetime) -> str:
    """The card in the members' group for a new ID-sought subject."""
    return (
        f"Do you know this person? ID sought: Subject #{subject_id}\n"
        f"{description or 'No description.'}\n"
        f"Last seen {day(last_seen.date())}.\n"
        "If you know who this is, press the button: only the scheme's coordinators see "
        "your answer. For members only: do not copy, forward or share."
    )


def know_start_first(bot_username: str) -> str:
    return (
        f"First open a private chat with me (@{bot_username}) and press Start, then press "
        "I know who this is again: your answer must go to the coordinators privately."
    )


def know_question(subject_id: int, limit: int) -> str:
    return (
        f"{KNOW_QUESTION_HEAD}{subject_id}? Reply to this message with what you know (a "
        f"name, where they are seen), up to {limit:,} characters and no links. Only "
        "the scheme's coordinators see it, with your name; no other member does."
    )


def know_thanks(subject_id: int) -> str:
    return (
        f"Thank you. What you said about Subject #{subject_id} went to the scheme's "
        "coordinators only, with your name; no other member sees it."
    )


def know_too_long(length: int, limit: int) -> str:
    return (
        f"That is {length:,} characters; an answer is kept to {limit:,}. Nothing "
        "was kept: reply to the question again, shorter."
    )


KNOW_HAS_LINK = (
    "An answer cannot carry a link (it could lead anywhere): nothing was kept. Reply to "
    "the question again, in words only."
)
KNOW_EMPTY = "There were no words in that answer: nothing was kept."


def intel_for_coordinators(
    subject_id: int, kind: str, who: str, shop: str | None, text: str
) -> str:
    """A member's answer as the coordinators get it, privately."""
    from_whom = f"{who} ({shop})" if shop else who
    return (
        f"About Subject #{subject_id} ({KIND_NAMES.get(kind, kind)}), {from_whom} says:\n"
        f"{text}\n"
        "Kept on the subject for the coordinators only. Once you know who it is, record "
        "the name with its basis."
    )


# --- a coordinator names a subject and issues a notice, in the private chat ---------------

IDENTIFY_USAGE = (
    "Record who a subject is, with the basis: /identify <subject> <name> | <basis>, e.g.\n"
    "/identify 12 Dean Smith aka Deano | Named by two member shops; confirmed by PCSO Hale"
)
NOTICE_USAGE = (
    "Issue a notice on a Known subject: /notice <subject> <warning|exclusion> | by <who "
    "decided> and, if you need them, | ref <board decision> | from <YYYY-MM-DD> | until "
    "<YYYY-MM-DD> | review <YYYY-MM-DD> | conditions <text>, e.g.\n"
    "/notice 12 exclusion | by The board | ref BD-2026-31\n"
    "Left out: from today, until the scheme's default (12 months), review at 6 months."
)
LETTER_USAGE = (
    "The letter of a notice again, as a PDF: /noticeletter <notice>, e.g. /noticeletter 7"
)
SERVED_USAGE = (
    "Record how a notice was served: /served <notice> <DD/MM/YYYY> <how>, e.g.\n"
    "/served 7 03/12/2026 by hand at Norwich police station, PCSO Hale"
)
APPEAL_USAGE = (
    "Record an appeal against a notice, as it was received: /appeal <notice> received "
    "<DD/MM/YYYY> <the person's grounds>, e.g.\n"
    "/appeal 7 received 03/12/2026 I was at work that day; my manager can confirm it"
)
APPEAL_GROUNDS_MISSING = (
    "Give the person's grounds after the date (their words, or a summary of their letter): "
    "nothing was recorded."
)
DECIDE_USAGE = (
    "Record the board's decision on an appeal: /decide <notice> upheld|varied|overturned "
    "ref <board decision> (and, when varied, until <DD/MM/YYYY>, the new end), e.g.\n"
    "/decide 7 varied ref BD-2027-02 until 02/06/2027"
)
PROBLEMS.update(
    {
        "name_missing": "give the name, then | and the basis",
        "basis_missing": "give the basis of the identification after | (who named them, how)",
        "name_too_long": "a name is kept to {value} characters",
        "basis_too_long": "the basis is kept to {value} characters",
        "decided_by_missing": "say who decided: | by The board",
        "decided_by_too_long": "who decided is kept to {value} characters",
        "conditions_too_long": "conditions are kept to {value} characters",
        "notice_ends_before_start": "the end, {value}, is before the start",
        "notice_too_long": (
            "an end on {value} is longer than the scheme allows without a board decision: "
            "add | ref <the board decision's reference>"
        ),
        "review_outside_notice": "the review, {value}, is outside the notice",
        "notice_overlaps": "it would overlap notice {value}, which is in force",
        "notice_needs_known_subject": (
            "Subject #{value} is not identified: record who it is first with /identify"
        ),
        "notice_field_unknown": (
            "{value!s} is not a part of a notice: use by, ref, from, until, review or conditions"
        ),
        "notice_date_invalid": "{value} is not a date: write it DD/MM/YYYY or YYYY-MM-DD",
        "appeal_outcome_invalid": "{value} is not a decision: upheld, varied or overturned",
        "until_only_when_varied": (
            "only a varied notice takes a new end: leave out until, or decide varied"
        ),
        "notice_stage_invalid": "{value} is not a stage: warning or exclusion",
    }
)


def identified(subject_id: int, name: str, aliases: Sequence[str]) -> str:
    also = f" (also known as {', '.join(aliases)})" if aliases else ""
    return (
        f"Subject #{subject_id} is Known now: {name}{also}. The basis is recorded with your "
        "name. Issue a notice with /notice."
    )


def notice_issued(
    reference: str, stage: NoticeStage, name: str, *, starts: date, ends: date, review: date
) -> str:
    return (
        f"{LETTER_TITLES[stage]} {reference} on {name}: from {day(starts)} until the end of "
        f"{day(ends)}, review on {day(review)}. Its letter follows as a PDF: print it, serve "
        f"it, then record how with /served."
    )


def letter_caption(reference: str, name: str, served: bool) -> str:
    then = "" if served else " Once served: /served <notice> <date> <how>."
    return f"{reference}: the notice letter for {name}. For serving only: do not share.{then}"


def notice_served(reference: str, served_on: date, how: str) -> str:
    return (
        f"{reference}: served on {day(served_on)}, {how}. /noticeletter gives the letter as "
        "served."
    )


def notice_stands(reference: str, notice: Notice, today: date) -> str:
    """What a notice now is, after an appeal's step: in force until when, or ended."""
    title = f"{LETTER_TITLES[notice.stage]} {reference}"
    if notice.appeal_outcome is AppealOutcome.OVERTURNED:
        return f"{title} has ended: it was overturned on appeal, and no letter is served on it."
    if notice.withdrawn_at is not None:
        return f"{title} has ended: it was withdrawn."
    if notice.ends_on < today:
        return f"{title} ended on {day(notice.ends_on)}."
    start = f" from {day(notice.starts_on)}" if notice.starts_on > today else ""
    return (
        f"{title} is in force{start} until the end of {day(notice.ends_on)}, review on "
        f"{day(notice.review_on)}."
    )


def appeal_recorded(reference: str, notice: Notice, today: date) -> str:
    received = notice.appeal_received_on
    when = f" received on {day(received)}" if received else ""
    return (
        f"The appeal{when} is recorded. {notice_stands(reference, notice, today)} It stands "
        f"so until the board decides: then /decide {notice.id} upheld, varied or overturned "
        "ref <its decision>."
    )


_DECIDED = {
    AppealOutcome.UPHELD: "upheld the notice",
    AppealOutcome.VARIED: "varied the notice",
    AppealOutcome.OVERTURNED: "overturned the notice",
}


def appeal_decided(reference: str, notice: Notice, today: date) -> str:
    outcome = notice.appeal_outcome or AppealOutcome.UPHELD
    said = (
        f"The board {_DECIDED[outcome]} ({notice.appeal_decision_ref}). "
        f"{notice_stands(reference, notice, today)}"
    )
    if outcome is AppealOutcome.OVERTURNED:
        if notice.stage is NoticeStage.EXCLUSION:
            said += " The control room's cards no longer show the person as EXCLUDED."
        return said
    return f"{said} /noticeletter {notice.id} gives its letter as it now stands."
