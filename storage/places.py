"""Where a report happened, told apart from who reported it.

An alert a member sends without a place of its own happened at their shop: the
report then keeps the street as its place (`location_text`), `at_premises`, and
the shop's name as it was (`premises_shop`). The scheme's own chats read the
shop by name, as its members know each other; everything the police see (the
exports, their `/search` and `/show`) reads only the street and that it was the
reporting shop, whose scheme reference (`NOR-M0012`) stands in for its name. A
witness-contact export alone names the shop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from config.vocabulary import EventKind, Role
from storage.models import Member, Report, ReportEvent

AT_PREMISES = "at the reporting shop"
STRUCK = "[member business]"


def scheme_prefix(slug: str) -> str:
    """`norwich` -> `NOR`, `great-yarmouth` -> `GRE`: letters of the slug, three, upper case."""
    letters = "".join(c for c in slug if c.isalpha())
    return (letters[:3] or "SCH").upper()


def member_reference(slug: str, member_id: int) -> str:
    """The name a shop has in everything the police see: `NOR-M0012`."""
    return f"{scheme_prefix(slug)}-M{member_id:04d}"


def reporter_premises(report: Report, reporter: Member | None) -> tuple[str | None, str | None]:
    """The reporting shop's name and street as the report keeps them, else as the member's
    record says now (a report from before the two were kept apart, or with a place of its own)."""
    if report.at_premises:
        return report.premises_shop, report.location_text
    if reporter is None:
        return None, None
    return reporter.shop_name, reporter.street


def premises_of(member: Member) -> tuple[str | None, str | None]:
    """The shop's name and its street, as a new report keeps them."""
    return member.shop_name or None, member.street or None


def members_place(report: Report) -> str | None:
    """Where, as the scheme's chats read it: the reporting shop by its name."""
    if report.at_premises and report.premises_shop:
        return ", ".join(part for part in (report.premises_shop, report.location_text) if part)
    return report.location_text


def police_place(report: Report) -> str | None:
    """Where, as the police read it: the street, never the reporting shop's name."""
    if report.at_premises:
        return f"{report.location_text} ({AT_PREMISES})" if report.location_text else AT_PREMISES
    return report.location_text


def shop_names_pattern(names: Iterable[str | None]) -> re.Pattern[str] | None:
    """A pattern matching any of these shop names (three letters or more), longest first."""
    kept = {name.strip() for name in names if name and len(name.strip()) >= 3}
    if not kept:
        return None
    ordered = sorted(kept, key=len, reverse=True)
    return re.compile("|".join(re.escape(name) for name in ordered), re.IGNORECASE)


def strike(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    """Free text with every name `pattern` matches struck out: what a coordinator typed
    about a subject must not tell a reader outside the scheme which shop was involved."""
    if text is None or pattern is None:
        return text
    return pattern.sub(STRUCK, text)


def is_shop_note(event: ReportEvent, writer: Member | None) -> bool:
    """A member shop's own words on a report (`AlertService.note`): a plain note by a shop."""
    return (
        event.kind == EventKind.NOTE
        and event.status is None
        and writer is not None
        and writer.role == Role.MEMBER
    )


def note_for_police(text: str | None, shops: Iterable[str | None]) -> str | None:
    """A shop's note as the police read it: the names of the shop that wrote it and of the
    shop that reported the alert struck out, as the rest of what they see names neither
    (a note saying "saw him too, by Boots" about Boots's alert would name its source)."""
    return strike(text, shop_names_pattern(shops))
