"""The manifest: the evidence chain of one export.

It lists every file of the export with its SHA-256 and size, every photo the
export shows (the reports' and the subjects') with the SHA-256 recorded when it
was stored (and whether the file on disk still has that hash), who exported and
when. The manifest's own SHA-256 goes into the audit trail, so the trail vouches
for the manifest and the manifest for everything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.export.columns import iso
from storage.export.files import open_private, sha256_file
from storage.export.records import ExportData, ExportPhoto
from storage.photos import PhotoStore

FORMAT = "shopwatch-export-manifest"
VERSION = 1


@dataclass(frozen=True, slots=True)
class ExportFile:
    kind: str  # csv, xlsx, pdf, json or manifest
    path: Path
    sha256: str
    size: int
    media_type: str

    @property
    def name(self) -> str:
        return self.path.name


def describe_file(kind: str, path: Path, media_type: str) -> ExportFile:
    return ExportFile(kind, path, sha256_file(path), path.stat().st_size, media_type)


def _stored_file(store: PhotoStore, relative_path: str, sha256: str) -> str:
    """`verified`, `altered` (the file no longer has its recorded hash) or `missing`."""
    try:
        path = store.path(relative_path)
        if not path.is_file():
            return "missing"
        return "verified" if sha256_file(path) == sha256 else "altered"
    except (OSError, ValueError):
        return "missing"


def _photos(data: ExportData, store: PhotoStore) -> list[dict[str, Any]]:
    """Every photo the export shows, once: the reports' and the subjects'."""
    shown: dict[str, tuple[ExportPhoto, list[int], list[int]]] = {
        sha: (photo, report_ids, []) for sha, (photo, report_ids) in data.photos.items()
    }
    for subject in data.subjects:
        for photo in subject.photos:
            shown.setdefault(photo.sha256, (photo, [], []))[2].append(subject.id)
    return [
        {
            "sha256": photo.sha256,
            "size": photo.size,
            "reports": report_ids,
            "subjects": subject_ids,
            "stored_file": _stored_file(store, photo.relative_path, photo.sha256),
        }
        for photo, report_ids, subject_ids in shown.values()
    ]


def write_manifest(
    data: ExportData, files: list[ExportFile], store: PhotoStore, path: Path
) -> dict[str, Any]:
    period = data.period
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "hash_algorithm": "SHA-256",
        "scheme": {
            "slug": data.scheme_slug,
            "name": data.scheme_name,
            "timezone": period.timezone,
        },
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "generated_at": iso(data.generated_at),
        "exported_by": data.exported_by.as_json(),
        "witness_contact": data.witness_contact,
        "reports": len(data.reports),
        "files": [
            {"name": f.name, "sha256": f.sha256, "size": f.size, "media_type": f.media_type}
            for f in files
        ],
        "photos": _photos(data, store),
    }
    with open_private(path) as out:
        out.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        out.write(b"\n")
    return manifest
