"""A local Telegram Bot API for tests and the demo.

The unmodified python-telegram-bot client talks to it over HTTP (``base_url`` and
``base_file_url``), while tests drive it as people would::

    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        bot = sandbox.add_bot(token="123:ABC", username="shopwatch_bot")
        alice = sandbox.user(700001, "Alice", username="alice")
        await alice.send(bot, "/start")
        reply = await alice.next_reply(bot)

and can make it fail for a while (`faults.py`)::

        storm = sandbox.faults.storm(FaultKind.SERVER_ERROR, seconds=10, share=0.5)
"""

from sandbox.api.sending import shown_text
from sandbox.errors import ApiError, SandboxTimeoutError, SandboxUsageError
from sandbox.faults import SEND_METHODS, FaultKind, Faults, Storm
from sandbox.harness import BotApiSandbox
from sandbox.limits import SandboxLimits
from sandbox.people import BotHandle, Group, Person
from sandbox.state import CallbackAnswer
from sandbox.views import DocumentView, MessageView

__all__ = [
    "SEND_METHODS",
    "ApiError",
    "BotApiSandbox",
    "BotHandle",
    "CallbackAnswer",
    "DocumentView",
    "FaultKind",
    "Faults",
    "Group",
    "MessageView",
    "Person",
    "SandboxLimits",
    "SandboxTimeoutError",
    "SandboxUsageError",
    "Storm",
    "shown_text",
]
