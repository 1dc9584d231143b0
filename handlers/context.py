"""The typed context every handler receives: repositories arrive here, never as globals.

Follows python-telegram-bot's `contexttypesbot` example. PTB creates `BotData`
itself (with no arguments), so the composition root fills in `services` once
the application is built; a handler that runs before that is a wiring bug.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from broadcast.alerts import AlertService
from broadcast.callbacks import CallbackSigner
from broadcast.metrics import Metrics
from broadcast.outbox import OutboxWorker
from broadcast.subjects.service import SubjectService
from config.schemes import SchemesFile
from config.settings import Settings
from config.vocabulary import MemberStatus, Role
from storage.models import Member, Scheme
from storage.photos import PhotoStore
from storage.store import Store


@dataclass(frozen=True)
class Membership:
    """One scheme a person belongs to, with their row in it."""

    member: Member
    scheme: Scheme


@dataclass(frozen=True)
class Viewer:
    """Who sent this update, as the access check found them (once, before any handler)."""

    user_id: int
    first_name: str
    memberships: tuple[Membership, ...]
    chat_scheme: Scheme | None

    @property
    def active(self) -> tuple[Membership, ...]:
        return tuple(m for m in self.memberships if m.member.status == MemberStatus.ACTIVE)

    def acting_as(
        self, roles: Collection[Role], *, for_scheme: int | None = None
    ) -> Membership | None:
        """The active membership this update acts under, if it holds one of `roles`.

        In a scheme's chat that scheme's membership counts; in a private chat the
        first active membership with a fitting role (admins fit every role). Acting on
        something of one scheme's (a press on a report's copy), that scheme's membership
        counts wherever the press was made: a Norwich alert stays Norwich's to change.
        """
        scheme_id = for_scheme
        if scheme_id is None and self.chat_scheme is not None:
            scheme_id = self.chat_scheme.id
        for membership in self.active:
            if scheme_id is not None and membership.scheme.id != scheme_id:
                continue
            if membership.member.role in roles or membership.member.role == Role.ADMIN:
                return membership
        return None


@dataclass(frozen=True)
class Services:
    """What the handlers may use: the log, the settings, the schemes file, the outbox."""

    settings: Settings
    schemes: SchemesFile
    store: Store
    photos: PhotoStore
    outbox: OutboxWorker
    signer: CallbackSigner
    metrics: Metrics
    alerts: AlertService
    subjects: SubjectService


@dataclass
class BotData:
    services: Services | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class ShopWatchContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """Adds the services and the access check's verdict for this update."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.viewer: Viewer | None = None

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError(
                "services are not wired: build the bot with bot.services and bot.app"
            )
        return services

    @property
    def store(self) -> Store:
        return self.services.store
