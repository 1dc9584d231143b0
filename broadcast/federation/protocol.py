"""The JSON that travels between deployments, validated before anything is stored.

Version 1 (`/federation/v1/...`). An alert is named everywhere by its origin
scheme's slug and its report id there; an event names the alert the same way,
whichever side sends it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from config.schemes import Slug
from config.vocabulary import Category, ReportStatus, Urgency

ALERTS_PATH = "/federation/v1/alerts"
EVENTS_PATH = "/federation/v1/alerts/{id}/events"
PHOTOS_PATH = "/federation/v1/photos/{sha256}"
PING_PATH = "/federation/v1/ping"
MAX_BODY = 1024 * 1024
"""A request body larger than this (1 MiB) is refused with 413 before it is read whole."""
MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 4 * 1024 * 1024
"""A photo fetched from a peer: a ShopWatch photo store keeps JPEGs of at most 2048 px a
side (3.0 MB for a square of random pixels), so anything past this (4 MiB) is not one."""
MAX_PHOTO_SIDE = 2048
PHOTO_FORMAT = "JPEG"

_STRICT = ConfigDict(extra="forbid", frozen=True)
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, Field(max_length=300)]


def events_path(origin_id: int) -> str:
    return EVENTS_PATH.format(id=origin_id)


def photo_path(sha256: str) -> str:
    return PHOTOS_PATH.format(sha256=sha256)


class AlertMessage(BaseModel):
    """`POST /federation/v1/alerts`: a live alert from the peer's scheme to one of ours."""

    model_config = _STRICT

    origin: Slug
    id: int = Field(ge=1)
    to: Slug
    category: Category
    urgency: Urgency
    description: str = Field(min_length=1, max_length=4000)
    subject_description: str | None = Field(default=None, max_length=2000)
    location_text: ShortText | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    direction: ShortText | None = None
    value_pence: int | None = Field(default=None, ge=0)
    police_reference: ShortText | None = None
    occurred_at: AwareDatetime
    photos: list[Sha256] = Field(default_factory=list, max_length=MAX_PHOTOS)


EventStatus = Literal[
    "acknowledged",
    "on_camera",
    "police_informed",
    "lost",
    "detained",
    "closed",
    "stood_down",
    "withdrawn",
    "reclassified",
    "located",
    "police_reference",
    "described",
    "photo_added",
]
"""Every status an event may carry: the control room's calls and the member's changes."""


class EventChanges(BaseModel):
    """Fields of the report an event changes (stood down, withdrawn, reclassified, located,
    and, described, the guided report's answers given after its alert went out)."""

    model_config = _STRICT

    status: ReportStatus | None = None
    category: Category | None = None
    urgency: Urgency | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    subject_description: str | None = Field(default=None, max_length=2000)
    direction: ShortText | None = None
    value_pence: int | None = Field(default=None, ge=0)
    police_reference: ShortText | None = None
    property_description: ShortText | None = None


class EventMessage(BaseModel):
    """`POST /federation/v1/alerts/{id}/events`: what happened to an alert since."""

    model_config = _STRICT

    origin: Slug
    id: int = Field(ge=1)
    kind: Literal["status", "update", "note"]
    # A fixed list: a status is shown on cards and lands in the police's spreadsheet.
    status: EventStatus | None = None
    text: str | None = Field(default=None, max_length=4000)
    by: str | None = Field(default=None, max_length=120)
    changes: EventChanges = Field(default_factory=EventChanges)
    photos: list[Sha256] = Field(default_factory=list, max_length=MAX_PHOTOS)
    """Photos added to the alert since (`photo_added`), fetched as an alert's are."""
