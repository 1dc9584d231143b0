"""The schemes file: which towns this deployment serves and who may hear what.

The file is a contract with the people who run a deployment (see
`schemes.example.toml`), so it is validated whole at start-up and every mistake is
reported as one line naming the field and the line of the file, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.errors import ConfigError
from config.toml_lines import line_of
from config.vocabulary import Category, Urgency

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
BIGINT = 2**63
"""The log keeps ids in 64-bit columns: an id past that would stop start-up half-way."""
ChatId = Annotated[
    int, Field(ge=-BIGINT, lt=BIGINT, description="Telegram chat id; supergroups are -100...")
]

DEFAULT_AGREEMENT = (
    "I will use ShopWatch alerts only to protect my business, staff and customers. "
    "I will not copy, forward or publish alerts or photos. I will report accurately and "
    "only what I have seen. I understand the scheme keeps a log of reports, shares it with "
    "the police, and deletes it after the retention period."
)


DEFAULT_APPEAL = (
    "You may appeal against this notice in writing to the scheme's board at the address "
    "below within 28 days of receiving it. Say why you think the notice is wrong or unfair; "
    "the board will consider your appeal at its next meeting and write to you with its "
    "decision."
)
DEFAULT_PRIVACY_NOTICE = (
    "The scheme holds your name, a description and images of you, the incidents reported "
    "to it that involve you and this notice, to prevent crime in its member businesses. "
    "This information came from member businesses and their staff, not from you. It is "
    "shared only with member businesses, the scheme's control room and the police. Your "
    "images leave the scheme's galleries and are deleted {known_days} days after this "
    "notice ends, or after you were last reported to the scheme if that is later; an image "
    "that is part of an incident report is kept until that report is deleted. Incident "
    "reports are deleted {retention_days} days after they were made, and the rest of the "
    "record about you, with this notice, {retention_days} days after your images. You may "
    "ask for a copy of everything held about you, ask for it to be corrected, object, or "
    "complain to the Information Commissioner's Office (ico.org.uk)."
)
"""`{known_days}` and `{retention_days}` are filled in from the scheme's settings where the
letter is made, so the periods printed are the ones the nightly jobs keep; a scheme's own
text may use them too, and one without them is printed as written."""


_known_timezones = functools.cache(available_timezones)
"""The system's zone names: reading them walks the whole tz database, so once per process."""


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {value!r} (use an IANA name like Europe/London)"
        ) from exc
    if value not in _known_timezones() and value != "UTC":
        raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/London)")
    return value


class SubjectsConfig(BaseModel):
    """Galleries and exclusion notices (`[defaults.subjects]`, or a scheme's `[scheme.subjects]`).

    The periods are the scheme's policy, decided by its board; the defaults follow common
    UK practice: a 12-month exclusion, an early review after 6 months, a longer one only
    by a recorded board decision. `ethnicity_descriptor` is off unless the scheme's DPIA
    decided to hold an appearance descriptor touching ethnicity.
    """

    model_config = _STRICT

    ethnicity_descriptor: bool = False
    notice_months: int = Field(default=12, ge=1, le=60)
    review_months: int = Field(default=6, ge=1, le=60)
    max_notice_months: int = Field(
        default=12, ge=1, le=120, description="Longer only with a board decision's reference"
    )
    id_sought_days: int = Field(
        default=90, ge=1, le=3650, description="An unidentified subject not seen again leaves"
    )
    known_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="A Known subject stays this long after its "
        "last notice ends or it was last seen, whichever is later",
    )
    reminder_days: int = Field(default=14, ge=1, le=90, description="Before review and expiry")
    appeal: str = Field(
        default=DEFAULT_APPEAL, min_length=1, description="How to appeal, on the notice letter"
    )
    privacy_notice: str = Field(
        default=DEFAULT_PRIVACY_NOTICE,
        min_length=1,
        description="On the notice letter: for people whose data the scheme did not collect"
        " from them (UK GDPR article 14); {known_days} and {retention_days} print the"
        " scheme's periods",
    )
    address: str = Field(
        default="",
        max_length=1000,
        description="Where appeals and requests go (post or email): printed on letters;"
        " a notice letter needs it",
    )

    @model_validator(mode="after")
    def _review_before_end(self) -> SubjectsConfig:
        if self.review_months > self.notice_months:
            raise ValueError("review_months must not be after notice_months")
        if self.notice_months > self.max_notice_months:
            raise ValueError("notice_months must not exceed max_notice_months")
        return self


class ChatPolicy(StrEnum):
    """Who the bot lets stay in a scheme's group and control room.

    `members-only` (the default): the bot admits active members by join request
    and removes everyone else. `notify-only`: a scheme that runs its chats by
    hand; the bot only tells the coordinators of strangers.
    """

    MEMBERS_ONLY = "members-only"
    NOTIFY_ONLY = "notify-only"


class Defaults(BaseModel):
    """Values every scheme inherits unless it says otherwise."""

    model_config = _STRICT

    timezone: str = "Europe/London"
    retention_days: int = Field(default=365, ge=1, le=3650)
    chat_ttl_hours: int = Field(default=36, ge=1, lt=48)
    protect_content: bool = True
    agreement: str = DEFAULT_AGREEMENT
    subjects: SubjectsConfig = Field(default_factory=SubjectsConfig)
    chat_policy: ChatPolicy = ChatPolicy.MEMBERS_ONLY
    replace_member_alerts: bool = True
    join_link_hours: int = Field(default=72, ge=1, le=24 * 30)
    escalate_after_minutes: int = Field(default=2, ge=1, le=60)
    member_actions_per_minute: int = Field(default=20, ge=1, le=600)

    _tz = field_validator("timezone")(_check_timezone)


class NeighbourRule(BaseModel):
    """What one scheme passes on to a neighbouring scheme: an empty list means all."""

    model_config = _STRICT

    slug: Slug
    categories: list[Category] = Field(default_factory=lambda: list(Category))
    urgency: list[Urgency] = Field(default_factory=lambda: [Urgency.NOW])
    galleries: bool = Field(default=False, description="The neighbour sees our galleries")

    def wants(self, category: Category, urgency: Urgency) -> bool:
        return category in self.categories and urgency in self.urgency


class RadioConfig(BaseModel):
    """The scheme's radio channel on a Mumble server, which the bot joins as one more listener.

    Off unless the scheme declares it: a radio link that is misconfigured must never
    stand between a shopkeeper and the chat. The server password, like a peer's
    secret, lives in the environment and is named here.
    """

    model_config = _STRICT

    enabled: bool = True
    server: str = Field(min_length=1)
    port: int = Field(default=64738, ge=1, le=65535)
    channel: str = Field(default="", description="Mumble channel name; empty is the root")
    username: str = Field(default="ShopWatch", min_length=1, max_length=64)
    certfile: Path | None = None
    keyfile: Path | None = None
    password_env: str | None = None
    spoken_name: str | None = Field(default=None, description="The town as said on air")
    tts: Literal["piper", "espeak"] = "piper"
    stt: Literal["pocketsphinx", "whisper"] = "pocketsphinx"
    voice: Path | None = Field(default=None, description="Piper voice model (.onnx)")
    whisper_model: Path | None = None
    max_transmission_seconds: int = Field(default=60, ge=5, le=600)


class SchemeConfig(BaseModel):
    """One town's scheme as the schemes file declares it (defaults already applied)."""

    model_config = _STRICT

    slug: Slug
    name: str = Field(min_length=1, max_length=120)
    timezone: str
    group_chat_id: ChatId
    control_room_chat_id: ChatId
    coordinators: list[int] = Field(default_factory=list)
    retention_days: int = Field(ge=1, le=3650)
    chat_ttl_hours: int = Field(ge=1, lt=48)
    protect_content: bool
    agreement: str
    subjects: SubjectsConfig = Field(default_factory=SubjectsConfig)
    chat_policy: ChatPolicy = ChatPolicy.MEMBERS_ONLY
    replace_member_alerts: bool = True
    join_link_hours: int = Field(default=72, ge=1, le=24 * 30)
    escalate_after_minutes: int = Field(default=2, ge=1, le=60)
    """A live alert no operator has answered this long is raised again (once)."""
    member_actions_per_minute: int = Field(default=20, ge=1, le=600)
    """How many presses, replies, locations and calls on alerts one member makes in a
    minute before the next is refused (`broadcast.posting_limit`)."""
    neighbours: list[NeighbourRule] = Field(default_factory=list, alias="neighbour")
    radio: RadioConfig | None = None

    @property
    def radio_on(self) -> bool:
        return self.radio is not None and self.radio.enabled

    @property
    def guards_chats(self) -> bool:
        """The bot admits and removes people itself (not a chat run by hand)."""
        return self.chat_policy is ChatPolicy.MEMBERS_ONLY

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("coordinators")
    @classmethod
    def _positive_users(cls, value: list[int]) -> list[int]:
        return _user_ids(value, "coordinators")

    @model_validator(mode="after")
    def _distinct_chats(self) -> SchemeConfig:
        if self.group_chat_id == self.control_room_chat_id:
            raise ValueError("group_chat_id and control_room_chat_id must be different chats")
        return self


def _user_ids(value: list[int], what: str) -> list[int]:
    if any(not 0 < uid < BIGINT for uid in value):
        raise ValueError(f"{what} are Telegram user ids (positive numbers)")
    return value


ED25519_KEY_BYTES = 32


def ed25519_key_bytes(text: str) -> bytes:
    """The raw 32 bytes of an Ed25519 key written in base64, or why it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "not base64 (`shopwatch federation keygen --ed25519` makes a key)"
        ) from None
    if len(raw) != ED25519_KEY_BYTES:
        raise ValueError(
            f"an Ed25519 key is {ED25519_KEY_BYTES} bytes in base64, this is {len(raw)} bytes"
        )
    return raw


class PeerConfig(BaseModel):
    """A neighbouring scheme on another deployment, reached over signed HTTP.

    It is known by one of two things: the name of the variable holding the secret
    both towns share, or its Ed25519 public key (then we sign with our own private
    key, `SHOPWATCH_FEDERATION_PRIVATE_KEY`, and no secret is shared at all).
    """

    model_config = _STRICT

    slug: Slug
    name: str | None = Field(default=None, max_length=120, description="Shown on its alerts")
    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = Field(default=None, min_length=1)
    public_key: str | None = None
    # Both from the peer's side: what it may send us, and what we pass on to it.
    sends: list[Category] = Field(default_factory=list)
    receives: list[Category] = Field(default_factory=list)
    photos: bool = False
    # A peer on this machine or a private network (tests, a trial, a VPN): plain http and a
    # loopback, private or link-local address are allowed for it; never for an open one.
    allow_private_address: bool = False
    # What it may send us, all routes together: `burst` at once, then so many a minute.
    requests_per_minute: int = Field(default=60, ge=1, le=6000)
    burst: int = Field(default=20, ge=1, le=1000)

    @field_validator("public_key")
    @classmethod
    def _a_public_key(cls, value: str | None) -> str | None:
        if value is not None:
            ed25519_key_bytes(value)
        return value


class SchemesFile(BaseModel):
    """The whole file: defaults, the schemes and the remote peers."""

    model_config = _STRICT

    administrators: list[int] = Field(
        default_factory=list,
        description="Telegram user ids of whoever runs the deployment: every scheme's admin",
    )
    defaults: Defaults = Field(default_factory=Defaults)
    schemes: list[SchemeConfig] = Field(alias="scheme", min_length=1)
    peers: list[PeerConfig] = Field(default_factory=list, alias="peer")

    @field_validator("administrators")
    @classmethod
    def _positive_admins(cls, value: list[int]) -> list[int]:
        return _user_ids(value, "administrators")

    @model_validator(mode="after")
    def _consistent(self) -> SchemesFile:
        slugs = [s.slug for s in self.schemes]
        known = set(slugs) | {p.slug for p in self.peers}
        for index, scheme in enumerate(self.schemes):
            if slugs.count(scheme.slug) > 1:
                raise _located(("scheme", index, "slug"), f"duplicate scheme slug {scheme.slug!r}")
            for n_index, rule in enumerate(scheme.neighbours):
                if rule.slug not in known:
                    raise _located(
                        ("scheme", index, "neighbour", n_index, "slug"),
                        f"unknown neighbour slug {rule.slug!r} (not a scheme or peer here)",
                    )
                if rule.slug == scheme.slug:
                    raise _located(
                        ("scheme", index, "neighbour", n_index, "slug"),
                        "a scheme cannot be its own neighbour",
                    )
        peer_slugs = [p.slug for p in self.peers]
        for index, peer in enumerate(self.peers):
            if peer.slug in slugs or peer_slugs.count(peer.slug) > 1:
                raise _located(
                    ("peer", index, "slug"),
                    f"peer slug {peer.slug!r} is already a scheme or peer here",
                )
            if peer.secret_env is not None and peer.public_key is not None:
                raise _located(
                    ("peer", index, "public_key"),
                    "give secret_env or public_key, not both",
                )
            problem = _peer_url_problem(peer)
            if problem is not None:
                raise _located(("peer", index, "url"), problem)
            if peer.secret_env is None and peer.public_key is None:
                raise _located(
                    ("peer", index),
                    "needs secret_env (a shared secret) or public_key (its Ed25519 key)",
                )
        chats: dict[int, str] = {}
        for index, scheme in enumerate(self.schemes):
            for field in ("group_chat_id", "control_room_chat_id"):
                chat = getattr(scheme, field)
                if chat in chats:
                    raise _located(
                        ("scheme", index, field),
                        f"chat {chat} is already used by {chats[chat]}",
                    )
                chats[chat] = f"{scheme.slug}.{field}"
        return self

    def scheme(self, slug: str) -> SchemeConfig:
        for scheme in self.schemes:
            if scheme.slug == slug:
                return scheme
        raise KeyError(slug)


def private_address(host: str) -> bool:
    """An address that is not on the open internet: loopback, private, link-local
    (the clouds' metadata service), reserved, multicast or unspecified."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _peer_url_problem(peer: PeerConfig) -> str | None:
    if peer.allow_private_address:
        return None
    parts = urlsplit(peer.url)
    if parts.scheme != "https":
        return (
            "must be https:// (plain http only for a peer on this machine or a private "
            "network, marked allow_private_address = true)"
        )
    host = parts.hostname or ""
    if private_address(host):  # a name is checked when it is resolved (federation.addresses)
        return (
            f"{host} is not a public address (for a peer on this machine or a private "
            "network, set allow_private_address = true)"
        )
    return None


class _LocatedError(ValueError):
    """A cross-field problem that knows which key of the file it belongs to."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _located(loc: tuple[str | int, ...], message: str) -> _LocatedError:
    return _LocatedError(loc, message)


_INHERITED = (
    "timezone",
    "retention_days",
    "chat_ttl_hours",
    "protect_content",
    "agreement",
    "chat_policy",
    "replace_member_alerts",
    "join_link_hours",
    "escalate_after_minutes",
    "member_actions_per_minute",
)


def _apply_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    defaults = Defaults.model_validate(raw.get("defaults", {}))
    merged = dict(raw)
    schemes = raw.get("scheme", [])
    if isinstance(schemes, list):
        merged["scheme"] = [_inherit(defaults, s) if isinstance(s, dict) else s for s in schemes]
    return merged


def _inherit(defaults: Defaults, scheme: dict[str, Any]) -> dict[str, Any]:
    """The scheme's keys over the defaults'; a scheme's `[scheme.subjects]` table overrides
    the defaults' key by key, not as a whole."""
    merged = {**{k: getattr(defaults, k) for k in _INHERITED}, **scheme}
    own = scheme.get("subjects")
    if isinstance(own, dict):
        merged["subjects"] = {**defaults.subjects.model_dump(), **own}
    else:
        merged.setdefault("subjects", defaults.subjects)
    return merged


def _describe(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def parse_schemes(text: str, source: str = "<schemes>") -> SchemesFile:
    """Validate the text of a schemes file; `source` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        merged = _apply_defaults(raw)
    except ValidationError as exc:
        raise _one_line(exc, text, source, prefix=("defaults",)) from None
    try:
        return SchemesFile.model_validate(merged)
    except ValidationError as exc:
        raise _one_line(exc, text, source) from None


def _one_line(
    exc: ValidationError, text: str, source: str, prefix: tuple[str | int, ...] = ()
) -> ConfigError:
    error = exc.errors()[0]
    loc = prefix + tuple(error["loc"])
    context = error.get("ctx", {}).get("error")
    if isinstance(context, _LocatedError):
        loc, message = context.loc, str(context)
    else:
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is missing"
    line = line_of(text, loc)
    where = f"{source}:{line}" if line else source
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(f"{where}: {_describe(loc)}: {message}{more}")


def load_schemes(path: Path) -> SchemesFile:
    """Read and validate the schemes file named by the settings."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: schemes file not found (copy schemes.example.toml and set "
            "SHOPWATCH_SCHEMES_FILE)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read schemes file: {exc}") from None
    return parse_schemes(text, str(path))
