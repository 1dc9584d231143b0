"""Process settings: one validated object, built once at start-up and passed in.

Nothing reads the environment after start-up; secrets stay `SecretStr` so they
cannot end up in a log line or a traceback by accident.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import ConfigError
from config.logs import setup_logging
from config.schemes import ed25519_key_bytes

TELEGRAM_API_URL = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    """Everything the deployment decides, from `SHOPWATCH_*` variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPWATCH_", env_file=".env", extra="ignore", frozen=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = Field(default=TELEGRAM_API_URL, pattern=r"^https?://")
    telegram_file_url: str | None = Field(default=None, pattern=r"^https?://")
    database_url: str = "sqlite+aiosqlite:///./shopwatch.db"
    schemes_file: Path = Path("./schemes.toml")
    data_dir: Path = Path("./data")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: SecretStr | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Off only against a local Bot API for benchmarks: Telegram itself enforces its limits.
    telegram_rate_limit: bool = True
    # This deployment's Ed25519 private key (base64), for peers that know us by public key.
    federation_private_key: SecretStr | None = None
    # The migration window of the first signature format between deployments: up to and
    # including this date (UTC) it is sent beside the new one and taken; after, refused.
    federation_old_signatures_until: date | None = None
    # Processes sending the outbox (`shopwatch run` plus each `shopwatch worker`): they
    # share the bot's 30 messages a second between them.
    outbox_workers: int = Field(default=1, ge=1, le=64)
    # Updates handled at once, of different chats and senders (bot/update_order.py); a
    # crash loses at most this many plus one, each unanswered. 1 handles one at a time.
    concurrent_updates: int = Field(default=8, ge=1, le=256)
    # How long a claimed message is a worker's alone; a dead worker's chats wait this long.
    outbox_lease_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    # Lets a caller elsewhere than this machine read /readyz and /metrics (Authorization:
    # Bearer <token>, e.g. Prometheus); unset, only callers on this machine may.
    metrics_token: SecretStr | None = None
    # Where `shopwatch worker` serves /healthz, /readyz and /metrics (on listen_host);
    # 0 takes any free port, which the worker logs.
    worker_port: int = Field(default=8081, ge=0, le=65535)
    # The Mini App gallery's public HTTPS address (bot/miniapp): the bot serves it at this
    # URL's path and offers it to members; unset, there is no Mini App. Its domain must be
    # the one set with @BotFather (/setdomain) and TLS must end in front of listen_port.
    miniapp_url: str | None = None
    # How old a Telegram `initData` may be before the Mini App refuses it (its auth_date).
    miniapp_max_age_seconds: int = Field(default=3600, ge=60, le=86400)
    # How long an image URL the Mini App hands out works.
    miniapp_image_seconds: int = Field(default=120, ge=1, le=3600)
    # The Opus library the radio loads (a path or a loader name); unset: the system's libopus.
    opus_library: str | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            return value
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        raise ValueError("use a sqlite:// or postgresql:// URL")

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - for secret_token.
        if value is None:
            return None
        raw = value.get_secret_value()
        if not 1 <= len(raw) <= 256 or not all(
            c.isascii() and (c.isalnum() or c in "_-") for c in raw
        ):
            raise ValueError("1-256 characters of letters, digits, _ and -")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("at least 16 characters (`openssl rand -hex 32` makes one)")
        return value

    @field_validator("miniapp_url")
    @classmethod
    def _an_https_page(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https://[^/?#\s]+(/[^?#\s]*)?", value.strip()):
            raise ValueError(
                "an https:// address without query or fragment (Telegram opens only HTTPS "
                "pages), e.g. https://shopwatch.example.org/gallery"
            )
        return value.strip()

    @field_validator("federation_private_key")
    @classmethod
    def _an_ed25519_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            ed25519_key_bytes(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "SHOPWATCH_WEBHOOK_SECRET is required when SHOPWATCH_WEBHOOK_URL is set"
            )
        return self

    @model_validator(mode="after")
    def _one_sqlite_worker(self) -> Settings:
        if self.outbox_workers > 1 and self.database_url.startswith("sqlite"):
            raise ValueError(
                "SQLite is single-process: SHOPWATCH_OUTBOX_WORKERS above 1 needs PostgreSQL "
                "(SHOPWATCH_DATABASE_URL=postgresql://...)"
            )
        return self

    @property
    def file_url(self) -> str:
        """Where files are downloaded: Telegram's `/file/bot`, beside the API URL."""
        if self.telegram_file_url:
            return self.telegram_file_url
        base = self.telegram_api_url.rstrip("/")
        head, _, tail = base.rpartition("/")
        return f"{head}/file/{tail}" if tail.startswith("bot") else f"{base}/file/bot"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    def require_token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError(
                "SHOPWATCH_BOT_TOKEN is not set: get a token from @BotFather "
                "(or run `make demo`, which needs none)"
            )
        return self.bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "settings"
        name = f"SHOPWATCH_{field.upper()}" if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None


def configure_logging(settings: Settings) -> None:
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.bot_token,
            settings.webhook_secret,
            settings.federation_private_key,
            settings.metrics_token,
        )
        if secret is not None
    ]
    setup_logging(settings.log_level, settings.log_format, secrets)
