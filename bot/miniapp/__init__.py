"""The galleries as a Telegram Mini App, served by the bot's own web server (`server.py`)."""

from __future__ import annotations

from bot.miniapp.server import MiniApp, add_miniapp_routes
from broadcast.subjects.service import SubjectService
from broadcast.subjects.viewing import GalleryViewer
from config.settings import Settings
from handlers.context import Services

__all__ = ["MiniApp", "add_miniapp_routes", "miniapp_for"]


def miniapp_for(settings: Settings, services: Services) -> MiniApp | None:
    """The Mini App of this deployment, or None where `miniapp_url` is not set."""
    if settings.miniapp_url is None:
        return None
    subjects = SubjectService(services.schemes, services.store, services.photos)
    return MiniApp(
        miniapp_url=settings.miniapp_url,
        bot_token=settings.require_token(),
        store=services.store,
        photos=services.photos,
        viewer=GalleryViewer(subjects, services.store),
        max_age_seconds=settings.miniapp_max_age_seconds,
        image_seconds=settings.miniapp_image_seconds,
    )
