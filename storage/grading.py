"""The 3x5x2 intelligence grading of a report: what the police are told about its reliability.

Every report carries a grading in exports. A coordinator may set any of the three
parts (stored on the report); a part that nobody set follows from how the report
reached the log:

| how it was seen                                        | grading | basis                 |
|--------------------------------------------------------|---------|-----------------------|
| confirmed on CCTV (an operator's `on_camera` update)    | 1/A/P   | `cctv_confirmed`      |
| a member's own sighting, sent from the chat             | 2/A/P   | `member_witness`      |
| a radio call logged by the control room                 | 2/A/P   | `radio_call`          |
| passed on by a neighbouring scheme                      | 2/C/P   | `neighbouring_scheme` |
| withdrawn by its reporter ("Wrong person")              | ?/E/P   | `withdrawn`           |

A withdrawn report is E (suspected to be false) whatever else it was graded: the
person who saw it has taken it back.

A regrade is stored and audited in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import col, select

from config.errors import InvalidInputError, NotFoundError
from config.vocabulary import (
    AuditOutcome,
    EventKind,
    HandlingCode,
    IntelligenceAssessment,
    ReportSource,
    ReportStatus,
    Role,
    SourceEvaluation,
)
from storage.ids import stored_id
from storage.models import AuditEntry, Member, Report, ReportEvent
from storage.store import Store
from storage.transaction import transaction

# The status an operator's "on camera" button records on a report.
ON_CAMERA = "on_camera"
# Who may confirm a sighting on CCTV: the control room.
CCTV_ROLES = frozenset({Role.OPERATOR})


class GradingBasis(StrEnum):
    """Why a report carries the grading it has; exports state it beside the code."""

    COORDINATOR = "coordinator"
    CCTV_CONFIRMED = "cctv_confirmed"
    MEMBER_WITNESS = "member_witness"
    RADIO_CALL = "radio_call"
    NEIGHBOURING_SCHEME = "neighbouring_scheme"
    WITHDRAWN = "withdrawn"


class GradingPart(StrEnum):
    """The three parts, with the one-letter names signed into the /grade buttons."""

    SOURCE = "s"
    ASSESSMENT = "i"
    HANDLING = "h"


@dataclass(frozen=True, slots=True)
class Grading:
    source_evaluation: SourceEvaluation
    intelligence_assessment: IntelligenceAssessment
    handling_code: HandlingCode
    handling_conditions: str | None
    basis: GradingBasis

    @property
    def code(self) -> str:
        """The grading as the police write it, e.g. "2/A/P"."""
        return f"{self.source_evaluation}/{self.intelligence_assessment}/{self.handling_code}"


def is_cctv_confirmed(events: Iterable[ReportEvent], roles: dict[int, Role]) -> bool:
    """True when an operator marked the report `on_camera`; `roles` maps member id to role."""
    return any(
        event.kind == EventKind.STATUS
        and event.status == ON_CAMERA
        and event.member_id is not None
        and roles.get(event.member_id) in CCTV_ROLES
        for event in events
    )


def default_grading(report: Report, *, cctv_confirmed: bool) -> Grading:
    """The grading a report has when no coordinator has set one."""
    permitted = HandlingCode.LAWFUL_SHARING_PERMITTED
    if cctv_confirmed:
        return Grading(
            SourceEvaluation.RELIABLE,
            IntelligenceAssessment.KNOWN_DIRECTLY,
            permitted,
            None,
            GradingBasis.CCTV_CONFIRMED,
        )
    if report.source == ReportSource.FEDERATION:
        return Grading(
            SourceEvaluation.UNTESTED,
            IntelligenceAssessment.KNOWN_INDIRECTLY,
            permitted,
            None,
            GradingBasis.NEIGHBOURING_SCHEME,
        )
    basis = (
        GradingBasis.RADIO_CALL
        if report.source == ReportSource.RADIO
        else GradingBasis.MEMBER_WITNESS
    )
    return Grading(
        SourceEvaluation.UNTESTED, IntelligenceAssessment.KNOWN_DIRECTLY, permitted, None, basis
    )


def effective_grading(report: Report, *, cctv_confirmed: bool) -> Grading:
    """What the coordinator set, part by part, over the default; E once withdrawn."""
    default = default_grading(report, cctv_confirmed=cctv_confirmed)
    if report.status == ReportStatus.WITHDRAWN:
        return Grading(
            source_evaluation=report.source_evaluation or default.source_evaluation,
            intelligence_assessment=IntelligenceAssessment.SUSPECTED_FALSE,
            handling_code=HandlingCode.LAWFUL_SHARING_PERMITTED,
            handling_conditions=None,
            basis=GradingBasis.WITHDRAWN,
        )
    stored = (report.source_evaluation, report.intelligence_assessment, report.handling_code)
    if all(part is None for part in stored):
        return default
    handling = report.handling_code or default.handling_code
    return Grading(
        source_evaluation=report.source_evaluation or default.source_evaluation,
        intelligence_assessment=report.intelligence_assessment or default.intelligence_assessment,
        handling_code=handling,
        handling_conditions=(
            report.handling_conditions if handling == HandlingCode.CONDITIONS_APPLY else None
        ),
        basis=GradingBasis.COORDINATOR,
    )


async def grading_of(store: Store, report_id: int) -> tuple[Report, Grading]:
    """A report with the grading exports give it now; `NotFoundError` if there is none."""
    async with transaction(store.sessions, "read the report's grading") as session:
        report = await session.get(Report, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id}")
        events = list(
            (
                await session.exec(
                    select(ReportEvent).where(
                        ReportEvent.report_id == report_id,
                        ReportEvent.kind == EventKind.STATUS,
                        ReportEvent.status == ON_CAMERA,
                    )
                )
            ).all()
        )
        actors = {e.member_id for e in events if e.member_id is not None}
        roles: dict[int, Role] = {}
        if actors:
            members = await session.exec(select(Member).where(col(Member.id).in_(actors)))
            roles = {stored_id(m): m.role for m in members.all()}
    return report, effective_grading(report, cctv_confirmed=is_cctv_confirmed(events, roles))


def _parse(
    part: GradingPart, value: str
) -> SourceEvaluation | IntelligenceAssessment | HandlingCode:
    try:
        if part == GradingPart.SOURCE:
            return SourceEvaluation(value)
        if part == GradingPart.ASSESSMENT:
            return IntelligenceAssessment(value.upper())
        return HandlingCode(value.upper())
    except ValueError:
        raise InvalidInputError("not_a_grade", value) from None


async def regrade(
    store: Store,
    report_id: int,
    part: GradingPart,
    value: str,
    *,
    scheme_id: int,
    actor_telegram_id: int,
    actor_member_id: int | None,
    conditions: str | None = None,
) -> Report:
    """Set one part of a report's grading, audited in the same transaction.

    Only a report of `scheme_id` can be regraded (any other is `NotFoundError`,
    as if it did not exist). Handling code C needs its conditions stated, now or
    before (`InvalidInputError("conditions_required")`); code P clears them.
    """
    chosen = _parse(part, value)
    conditions = (conditions or "").strip() or None
    async with transaction(store.sessions, "regrade the report") as session:
        report = await session.get(Report, report_id, with_for_update=True)
        if report is None or report.scheme_id != scheme_id:
            raise NotFoundError(f"no report {report_id} in this scheme")
        before: str | None
        if isinstance(chosen, SourceEvaluation):
            before, report.source_evaluation = report.source_evaluation, chosen
        elif isinstance(chosen, IntelligenceAssessment):
            before, report.intelligence_assessment = report.intelligence_assessment, chosen
        else:
            before = report.handling_code
            if chosen == HandlingCode.CONDITIONS_APPLY:
                conditions = conditions or report.handling_conditions
                if conditions is None:
                    raise InvalidInputError("conditions_required", str(report_id))
                report.handling_conditions = conditions
            else:
                report.handling_conditions = None
            report.handling_code = chosen
        detail: dict[str, object] = {
            "report_id": report_id,
            "part": part.name.lower(),
            "from": None if before is None else str(before),
            "to": str(chosen),
        }
        if chosen == HandlingCode.CONDITIONS_APPLY:
            detail["conditions"] = report.handling_conditions
        session.add(
            AuditEntry(
                actor_telegram_id=actor_telegram_id,
                actor_member_id=actor_member_id,
                scheme_id=scheme_id,
                action="grade",
                outcome=AuditOutcome.ALLOWED,
                detail=detail,
            )
        )
    return report
