"""The command menu Telegram shows before a person's role is known."""

from __future__ import annotations

BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start or join a scheme"),
    ("help", "How to send an alert"),
    ("report", "A full report, step by step"),
    ("whoami", "Your scheme, role and status"),
    ("search", "Search the log"),
)
