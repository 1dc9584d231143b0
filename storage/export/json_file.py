"""The machine-readable export: one JSON document, described by `export.schema.json`.

Written report by report, so memory does not grow with the week. The witness
object appears only in witness-contact exports; otherwise the key is absent.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.export.columns import iso
from storage.export.files import open_private
from storage.export.records import ExportData, ExportNotice, ExportReport, ExportSubject

FORMAT = "shopwatch-export"
VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("export.schema.json")


def report_json(report: ExportReport) -> dict[str, Any]:
    grading = report.grading
    shaped: dict[str, Any] = {
        "id": report.id,
        "logged_at": iso(report.logged_at),
        "occurred_at": iso(report.occurred_at),
        "category": report.category.value,
        "urgency": report.urgency.value,
        "status": report.status.value,
        "source": report.source.value,
        "origin_scheme": report.origin_scheme,
        "reported_by": report.reported_by,
        "location": {
            "text": report.location_text,
            "at_reporter_premises": report.at_reporter_premises,
            "latitude": report.latitude,
            "longitude": report.longitude,
        },
        "direction": report.direction,
        "description": report.description,
        "subject_description": report.subject_description,
        "value_pence": report.value_pence,
        "police_reference": report.police_reference,
        "descriptors": dict(report.descriptors),
        "grading": {
            "source_evaluation": grading.source_evaluation.value,
            "intelligence_assessment": grading.intelligence_assessment.value,
            "handling_code": grading.handling_code.value,
            "handling_conditions": grading.handling_conditions,
            "code": grading.code,
            "basis": grading.basis.value,
        },
        "photos": [
            {
                "sha256": p.sha256,
                "phash": p.phash,
                "width": p.width,
                "height": p.height,
                "size": p.size,
            }
            for p in report.photos
        ],
        "events": [
            {"at": iso(e.at), "kind": e.kind.value, "status": e.status, "text": e.text, "by": e.by}
            for e in report.events
        ],
    }
    if report.witness is not None:
        w = report.witness
        shaped["witness"] = {
            "reference": w.reference,
            "name": w.name,
            "username": w.username,
            "telegram_user_id": w.telegram_user_id,
            "shop_name": w.shop_name,
            "street": w.street,
        }
    return shaped


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def subject_json(subject: ExportSubject) -> dict[str, Any]:
    return {
        "id": subject.id,
        "reference": subject.reference,
        "kind": subject.kind,
        "status": subject.status,
        "name": subject.name,
        "aliases": list(subject.aliases),
        "description": subject.description,
        "appearance": subject.appearance,
        "identification_basis": subject.identification_basis,
        "identified_at": _moment(subject.identified_at),
        "created_at": iso(subject.created_at),
        "last_seen_at": iso(subject.last_seen_at),
        "left_galleries_at": _moment(subject.left_galleries_at),
        "merged_into": subject.merged_into,
        "excluded_until": _day(subject.excluded_until),
        "report_ids": list(subject.report_ids),
        "photos": [
            {"sha256": p.sha256, "phash": p.phash, "width": p.width, "height": p.height}
            for p in subject.photos
        ],
    }


def notice_json(notice: ExportNotice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "reference": notice.reference,
        "subject_id": notice.subject_id,
        "subject_reference": notice.subject_reference,
        "stage": notice.stage,
        "in_force": notice.in_force,
        "decided_by": notice.decided_by,
        "board_decision_ref": notice.board_decision_ref,
        "premises_count": notice.premises_count,
        "starts_on": notice.starts_on.isoformat(),
        "ends_on": notice.ends_on.isoformat(),
        "review_on": notice.review_on.isoformat(),
        "conditions": notice.conditions,
        "issued_at": iso(notice.issued_at),
        "served_on": _day(notice.served_on),
        "served_how": notice.served_how,
        "appeal": {
            "received_on": _day(notice.appeal_received_on),
            "outcome": notice.appeal_outcome,
            "decided_on": _day(notice.appeal_decided_on),
            "decision_ref": notice.appeal_decision_ref,
        },
    }


def header_json(data: ExportData) -> dict[str, Any]:
    period = data.period
    return {
        "format": FORMAT,
        "version": VERSION,
        "scheme": {
            "slug": data.scheme_slug,
            "name": data.scheme_name,
            "timezone": period.timezone,
        },
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "start": iso(period.start),
            "end": iso(period.end),
        },
        "generated_at": iso(data.generated_at),
        "exported_by": data.exported_by.as_json(),
        "witness_contact": data.witness_contact,
        "grading_system": "3x5x2",
        "counts": {
            "reports": len(data.reports),
            "photos": len(data.photos),
            "events": sum(len(r.events) for r in data.reports),
            "by_category": dict(data.counts_by_category),
            "subjects": len(data.subjects),
            "notices": len(data.notices),
        },
    }


def write_json(data: ExportData, path: Path) -> None:
    header = json.dumps(header_json(data), ensure_ascii=False, indent=1)
    with open_private(path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
        out.write(header[:-2])  # reopen the object: "...\n}" -> "...", then the reports
        out.write(',\n "reports": [')
        for number, report in enumerate(data.reports):
            out.write(",\n  " if number else "\n  ")
            out.write(json.dumps(report_json(report), ensure_ascii=False))
        out.write('\n ],\n "subjects": [')
        for number, subject in enumerate(data.subjects):
            out.write(",\n  " if number else "\n  ")
            out.write(json.dumps(subject_json(subject), ensure_ascii=False))
        out.write('\n ],\n "notices": [')
        for number, notice in enumerate(data.notices):
            out.write(",\n  " if number else "\n  ")
            out.write(json.dumps(notice_json(notice), ensure_ascii=False))
        out.write("\n ]\n}\n")
