"""One deployment for a benchmark: the four example schemes, their chats and the bot running."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.runtime import BotRuntime
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings
from sandbox import BotApiSandbox, BotHandle

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SCHEMES = ROOT / "schemes.example.toml"


async def start_bot(
    sandbox: BotApiSandbox,
    directory: Path,
    token: str,
    username: str,
    *,
    rate_limit: bool = True,
) -> tuple[BotRuntime, BotHandle, SchemesFile]:
    """The bot on a SQLite log in `directory`, in every scheme's group and control room."""
    schemes = load_schemes(EXAMPLE_SCHEMES)
    bot = sandbox.add_bot(token, username)
    for scheme in schemes.schemes:
        sandbox.group(scheme.group_chat_id, scheme.name, bots=[bot])
        sandbox.group(scheme.control_room_chat_id, f"{scheme.name} control", bots=[bot])
    settings = Settings(
        _env_file=None,
        bot_token=SecretStr(token),
        telegram_api_url=sandbox.base_url,
        telegram_file_url=sandbox.base_file_url,
        database_url=f"sqlite+aiosqlite:///{directory / 'bench.db'}",
        schemes_file=EXAMPLE_SCHEMES,
        data_dir=directory / "data",
        listen_host="127.0.0.1",
        listen_port=0,
        log_level="WARNING",
        telegram_rate_limit=rate_limit,
    )
    runtime = BotRuntime(settings, schemes)
    await runtime.start()
    return runtime, bot, schemes
